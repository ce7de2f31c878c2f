"""Faults mid-run: the disk fills up (ENOSPC) while a stage writes an output.

Expected: one line on stderr naming the output (`error: <file>: expected free disk space to
write it, found the disk full (No space left on device); …`), exit status 1, no traceback, no
partial file under the output's name and no temporary file beside it; once there is room again,
`dvc repro` completes.

The fault is injected from outside the pipeline: in process by raising the OSError a full disk
raises, and in real stage processes by tests/hooks/sitecustomize.py (PIPELINE_TEST_ENOSPC=<glob>:
every write to a matching file name fails with ENOSPC), put first on their PYTHONPATH.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import params_with, run_stage_in, snapshot, write_competition
from tiny_repo import HOOKS, baseline, clone, dvc

from pipeline.lib import paths
from pipeline.lib.atomic import atomic_dir, atomic_path, save_json, save_npy
from pipeline.lib.errors import main_guard

NO_SPACE = "expected free disk space to write it, found the disk full (No space left on device)"


def fill_the_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# -------------------------------------------------------------------- pipeline.lib.atomic, unit
@pytest.mark.parametrize("writer", ["save_npy", "save_json", "atomic_dir"])
def test_disk_full_names_the_output_and_leaves_nothing(tmp_path, monkeypatch, writer):
    target = tmp_path / "out" / {"save_npy": "codes.npy", "save_json": "m.json", "atomic_dir": "hog"}[writer]
    with pytest.raises(OSError) as error:
        if writer == "save_npy":
            monkeypatch.setattr(np, "save", fill_the_disk)
            save_npy(target, np.zeros(3))
        elif writer == "save_json":
            monkeypatch.setattr(Path, "write_text", fill_the_disk)
            save_json(target, {"a": 1})
        else:
            with atomic_dir(target) as tmp:
                (tmp / "part.npy").write_bytes(b"x")
                fill_the_disk()
    assert error.value.errno == errno.ENOSPC
    assert error.value.filename == str(target)  # the output, not the hidden temporary file
    assert list(target.parent.iterdir()) == []


def test_disk_full_on_the_temporary_file_is_named_after_the_output(tmp_path):
    target = tmp_path / "codes.npy"
    with pytest.raises(OSError) as error:
        with atomic_path(target) as tmp:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    assert error.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_inside_a_temporary_folder_names_the_file_in_the_output(tmp_path):
    with pytest.raises(OSError) as error:
        with atomic_dir(tmp_path / "embed") as folder, atomic_path(folder / "codes.npy"):
            fill_the_disk()
    assert error.value.filename == str(tmp_path / "embed" / "codes.npy")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_creating_the_temporary_file(tmp_path, monkeypatch):
    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / ".codes.npy.x1y2.npy"))
    monkeypatch.setattr("tempfile.mkstemp", no_room)
    with pytest.raises(OSError) as error:
        with atomic_path(tmp_path / "codes.npy"):
            pass
    assert error.value.filename == str(tmp_path / "codes.npy")


def test_other_os_errors_pass_unchanged(tmp_path):
    with pytest.raises(PermissionError) as error:
        with atomic_path(tmp_path / "a.npy"):
            raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/else")
    assert error.value.filename == "/somewhere/else"


@pytest.mark.parametrize("filename, shown", [("data/embed/codes.npy", "data/embed/codes.npy"),
                                             (None, "an output")])
def test_main_guard_disk_full_is_one_line(capsys, monkeypatch, filename, shown):
    def main(argv):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([filename] if filename else []))
    monkeypatch.setattr(sys, "argv", ["stage"])
    with pytest.raises(SystemExit) as exit_:
        main_guard(main)
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (f"error: {shown}: {NO_SPACE}; nothing of it was kept: free some "
                                       f"space and run dvc repro again\n")


# -------------------------------------------------------------------- a real stage, ENOSPC
@pytest.mark.parametrize("output", ["data/prepared/images.npy", "data/prepared/pairs.npy",
                                    "data/prepared/summary.json"])
def test_prepare_on_a_full_disk(tmp_path, output):
    """Binary chunks (images.npy via NpyWriter), np.save (pairs.npy) and text (the summary)."""
    root = write_competition(tmp_path, n_images=12, n_pairs=10, k=4)
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(data={"dir": str(root)})))
    before = snapshot(workdir)
    name = Path(output).name
    result = run_stage_in("prepare", workdir, None, extra_path=HOOKS,
                          extra_env={"PIPELINE_TEST_ENOSPC": f".{name}.*"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"error: {output}: {NO_SPACE}; nothing of it was kept: free "
                                          f"some space and run dvc repro again"]
    assert not (workdir / output).exists()
    left = snapshot(workdir) - before
    assert not [p for p in left if Path(p).name.startswith(".")], f"temporary files left: {sorted(left)}"
    if output == "data/prepared/images.npy":  # the first output: the stage leaves no trace at all
        assert left == set()

    # The control: the same run without the fault succeeds (the hook alone changes nothing).
    result = run_stage_in("prepare", workdir, None, extra_path=HOOKS)
    assert result.returncode == 0, result.stderr
    assert (workdir / output).is_file()


def test_dvc_repro_after_a_full_disk_completes(tmp_path_factory, tmp_path):
    """`reduce` hits a full disk under DVC; after space is freed a plain `dvc repro` completes."""
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    failed = dvc(repo, "repro", "--force", "--single-item", "reduce", check=False, extra_path=HOOKS,
                 extra_env={"PIPELINE_TEST_ENOSPC": ".components.npy.*"})
    assert failed.returncode != 0, failed.stdout
    errors = [line for line in failed.stdout.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: data/reduce/components.npy: {NO_SPACE}; nothing of it was kept: free "
                      f"some space and run dvc repro again"], failed.stdout
    assert "Traceback" not in failed.stdout
    assert not (repo / paths.COMPONENTS).exists()
    assert not list((repo / paths.REDUCE).glob(".*")), "a temporary file was left in data/reduce"
    assert "reduce:" in dvc(repo, "status").stdout

    # Space freed (no fault): a plain `dvc repro` completes (DVC may restore `reduce` from its
    # run cache), and the stage itself, forced to run again, now succeeds.
    rerun = dvc(repo, "repro").stdout
    assert ("Running stage 'reduce'" in rerun or "Stage 'reduce' is cached" in rerun), rerun
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")
    components = "data/reduce/components.npy"
    assert (repo / components).read_bytes() == (base / components).read_bytes()
    forced = dvc(repo, "repro", "--force", "--single-item", "reduce").stdout
    assert "Running stage 'reduce'" in forced and "error:" not in forced
    assert (repo / components).read_bytes() == (base / components).read_bytes()
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")
