"""The course's scripts at the repository root, run as the course ran them: `bash pca.sh …`,
`bash cluster.sh …`, from another folder, with relative paths.

They run in a clone of the tiny trained run (tests/tiny_repo.py), whose .venv is this one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_eigenfaces import make_folder
from tiny_repo import baseline, clone, environment

VENV = Path(sys.executable).parent.parent


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path_factory.mktemp("course") / "repo")
    (repo / ".venv").symlink_to(VENV)  # the scripts use the repository's .venv
    return repo


@pytest.fixture()
def caller(tmp_path) -> Path:
    """The folder the user runs the scripts from, outside the repository."""
    folder = tmp_path / "caller"
    folder.mkdir()
    return folder


def bash(repo: Path, script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = environment()
    env["PATH"] = "/usr/bin:/bin"  # nothing of the venv on PATH: the script finds it itself
    return subprocess.run(["bash", str(repo / script), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(word in lines[0] for word in words), (words, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------------- pca.sh
def test_pca_sh_rebuilds_a_face_like_the_module(repo: Path, caller: Path):
    make_folder(caller / "faces")
    result = bash(repo, "pca.sh", "faces", "3.png", "out/rebuilt.png", cwd=caller)  # as the course gave it
    assert result.returncode == 0, result.stderr
    direct = subprocess.run([sys.executable, "-m", "pipeline.eigenfaces", str(caller / "faces"), "3.png",
                             str(caller / "direct.png")], cwd=repo, env=environment(), capture_output=True,
                            text=True, timeout=120)
    assert direct.returncode == 0, direct.stderr
    assert (caller / "out/rebuilt.png").read_bytes() == (caller / "direct.png").read_bytes()
    # the input image as a path from the caller's folder works too
    result = bash(repo, "pca.sh", "faces", "faces/3.png", "again.png", cwd=caller)
    assert result.returncode == 0, result.stderr
    assert (caller / "again.png").read_bytes() == (caller / "direct.png").read_bytes()


def test_pca_sh_passes_the_modules_errors_through(repo: Path, caller: Path):
    make_folder(caller / "faces")
    one_line_error(bash(repo, "pca.sh", "faces", "3.png", cwd=caller), "expected 3 arguments, found 2")
    one_line_error(bash(repo, "pca.sh", "missing", "3.png", "o.png", cwd=caller), str(caller / "missing"))
    one_line_error(bash(repo, "pca.sh", "faces", "99.png", "o.png", cwd=caller), "99.png",
                   "expected the name of an image inside")
    one_line_error(bash(repo, "pca.sh", "faces", "3.png", "o.unknown", cwd=caller), "o.unknown")
    assert not list(caller.glob("o.*"))


# ------------------------------------------------------------------------------ cluster.sh
def competition_copy(repo: Path, caller: Path) -> Path:
    """The tiny run's own competition folder, minus visualization.npy (the course's test had none)."""
    folder = caller / "hw7"
    shutil.copytree(repo / "data/demo/competition/images", folder / "images")
    shutil.copy2(repo / "data/demo/competition/test_case.csv", folder / "test_case.csv")
    return folder


def test_cluster_sh_labels_the_pairs_with_the_trained_run(repo: Path, caller: Path):
    competition_copy(repo, caller)
    started = time.perf_counter()
    result = bash(repo, "cluster.sh", "hw7/images", "hw7/test_case.csv", "prediction.csv", cwd=caller)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert seconds < 60, seconds  # the course allowed minutes on hw7; this is 200 images
    direct = subprocess.run([sys.executable, "-m", "pipeline.label", str(caller / "hw7/images"),
                             str(caller / "hw7/test_case.csv"), str(caller / "direct.csv")],
                            cwd=repo, env=environment(), capture_output=True, text=True, timeout=300)
    assert direct.returncode == 0, direct.stderr
    assert (caller / "prediction.csv").read_bytes() == (caller / "direct.csv").read_bytes()
    lines = (caller / "prediction.csv").read_text().splitlines()
    assert lines[0] == "id,label" and len(lines) == 1 + 500  # the tiny run's 500 pairs


@pytest.mark.parametrize("args", [["hw7/images", "hw7/test_case.csv"], ["hw7", "out.csv"],
                                  ["hw7/images", "hw7/test_case.csv", "out.csv", "extra"], []])
def test_cluster_sh_needs_exactly_three_arguments(repo: Path, caller: Path, args: list[str]):
    competition_copy(repo, caller)
    line = one_line_error(bash(repo, "cluster.sh", *args, cwd=caller), f"expected 3 arguments, found {len(args)}")
    assert line.endswith("usage: bash cluster.sh IMAGES_DIR TEST_CASE_CSV PREDICTION_CSV")
    assert not list(caller.glob("*.csv"))


def test_cluster_sh_bad_input_is_one_line(repo: Path, caller: Path):
    folder = competition_copy(repo, caller)
    one_line_error(bash(repo, "cluster.sh", "nowhere", "hw7/test_case.csv", "p.csv", cwd=caller),
                   f"{caller}/nowhere: expected a folder of numbered jpgs")
    (folder / "bad.csv").write_text("id,image1_name,image2_name\n0,1,2\n1,abc,3\n")
    one_line_error(bash(repo, "cluster.sh", "hw7/images", "hw7/bad.csv", "p.csv", cwd=caller),
                   f"{folder}/bad.csv: line 3, column image1_name: expected an integer, found 'abc'")
    one_line_error(bash(repo, "cluster.sh", "hw7/images", "hw7/none.csv", "p.csv", cwd=caller),
                   f"{folder}/none.csv: expected the pairs CSV, found nothing")
    assert not (caller / "p.csv").exists()


def test_cluster_sh_odd_output_names(repo: Path, caller: Path):
    competition_copy(repo, caller)
    inputs = ("hw7/images", "hw7/test_case.csv")
    one_line_error(bash(repo, "cluster.sh", *inputs, "prediction.txt", cwd=caller),
                   "expected the name of the CSV file to write (….csv), found 'prediction.txt'")
    one_line_error(bash(repo, "cluster.sh", *inputs, "hw7", cwd=caller), f"{caller}/hw7: expected the name of the CSV")
    one_line_error(bash(repo, "cluster.sh", *inputs, "", cwd=caller), f"error: {caller}: expected the name of the CSV",
                   "found a folder")  # an empty name is the caller's folder
    # under a file: caught before the minute of labelling (pipeline.label would fail only at the end)
    line = one_line_error(bash(repo, "cluster.sh", *inputs, "hw7/test_case.csv/p.csv", cwd=caller))
    assert line == ("error: hw7/test_case.csv/p.csv: expected a folder to write it in, found the file "
                    f"{caller}/hw7/test_case.csv")
    # a name with a line break and an escape stays on one line, as in the Python errors
    line = one_line_error(bash(repo, "cluster.sh", *inputs, "hw7/test_case.csv/a\nb\x1b.csv", cwd=caller))
    assert "a?b?.csv" in line
    # a missing folder is made, as pipeline.label does for its output
    assert bash(repo, "cluster.sh", *inputs, "new/folder/p.csv", cwd=caller).returncode == 0
    assert (caller / "new/folder/p.csv").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder: no read-only folder to test with")
def test_cluster_sh_read_only_folder(repo: Path, caller: Path):
    competition_copy(repo, caller)
    (caller / "locked").mkdir(mode=0o555)
    line = one_line_error(bash(repo, "cluster.sh", "hw7/images", "hw7/test_case.csv", "locked/p.csv", cwd=caller))
    assert line == f"error: locked/p.csv: expected a folder you may write in, found {caller}/locked read-only"


def test_scripts_fall_back_to_python3_without_a_venv(tmp_path: Path):
    """No .venv in the repository: the scripts run `python3` from PATH (here a stand-in)."""
    root = tmp_path / "checkout"
    root.mkdir()
    for script in ("pca.sh", "cluster.sh"):
        shutil.copy2(Path(__file__).resolve().parents[2] / script, root / script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text('#!/bin/sh\necho "python3 in $(pwd): $*"\n')
    (bin_dir / "python3").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}

    def run(script: str, *args: str) -> str:
        result = subprocess.run(["bash", str(root / script), *args], cwd=tmp_path, env=env, text=True,
                                capture_output=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    # relative paths are the caller's, absolute ones stay; the module runs in the repository
    assert run("pca.sh", "a", "b/c", "/d.png") == f"python3 in {root}: -m pipeline.eigenfaces {tmp_path}/a {tmp_path}/b/c /d.png\n"
    assert run("cluster.sh", "a", "b/c", "/d.csv") == f"python3 in {root}: -m pipeline.label {tmp_path}/a {tmp_path}/b/c /d.csv\n"
    # pca.sh's input image may be a bare name inside the images folder, as the course gave it
    assert run("pca.sh", "a", "1.jpg", "o.png") == f"python3 in {root}: -m pipeline.eigenfaces {tmp_path}/a 1.jpg {tmp_path}/o.png\n"
