"""The Makefile's own targets: `make clean` removes what a run wrote and nothing else; a Python
other than 3.11 is refused with one line before a venv is made. (`make help`: test_help.py; the
Kaggle targets: test_kaggle.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_repo import PROJECT, declared_outputs, git, init_repo

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def project(dest: Path) -> Path:
    """A git repository of the files make reads (and a source file): none of a run's outputs."""
    for name in ("Makefile", "dvc.yaml", "params.yaml", "requirements.lock", "pipeline/label.py"):
        shutil.copy2(PROJECT / name, touch(dest / name))
    return init_repo(dest, "the project")


def make(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=repo, env=env, text=True,
                          capture_output=True, timeout=120)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    return path


def test_clean_removes_every_output_and_keeps_the_rest(tmp_path):
    repo = project(tmp_path / "repo")
    touch(repo / "plots/notes/kept.md")  # a file git tracks inside an output folder
    git(repo, "add", "-f", "plots/notes/kept.md")
    git(repo, "commit", "-q", "-m", "a tracked file among the outputs")
    outputs = declared_outputs(repo / "dvc.yaml")
    written = []
    for out in outputs:  # each output as a file, or as a folder with a file in it
        written.append(touch(repo / out if Path(out).suffix else repo / out / "part.npy"))
    written += [touch(repo / name) for name in ("dvc.lock", "dvc_plots/index.html", "data/.gitignore",
                                                 "dvclive/embed/metrics.json")]
    kept = [touch(repo / name) for name in (".venv/bin/python", ".dvc/cache/files/md5/ab/cdef",
                                            "data/ml2019spring-hw7/test_case.csv",  # a user's data folder
                                            "submissions/kaggle_scores.csv")]
    kept += [repo / name for name in ("plots/notes/kept.md", "params.yaml", "Makefile", "pipeline/label.py")]

    result = make(repo, "clean")
    assert result.returncode == 0, result.stderr
    assert [path for path in written if path.exists()] == []
    assert [path for path in kept if not path.is_file()] == []
    shown = result.stdout.splitlines()
    assert {"Removing metrics/", "Removing dvc.lock", "Removing data/embed/"} <= set(shown), shown
    assert git_status(repo) == ["?? .dvc/", "?? .venv/", "?? data/", "?? submissions/"]
    assert make(repo, "clean").stdout == ""  # nothing left to remove


def git_status(repo: Path) -> list[str]:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=normal"], cwd=repo, text=True,
                          capture_output=True, check=True).stdout.splitlines()


def test_a_python_other_than_3_11_is_refused_in_one_line(tmp_path):
    repo = project(tmp_path / "repo")
    log = tmp_path / "calls.log"
    fake = touch(tmp_path / "bin/python3.12")
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\necho 3.12\n')
    fake.chmod(0o755)
    for target in ("run", "test"):
        result = make(repo, target, f"PYTHON={fake}")
        assert result.returncode != 0 and result.stdout == ""
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"{fake}: expected Python 3.11" in result.stderr, result.stderr
        assert "found 3.12" in result.stderr
        assert "make PYTHON=/path/to/python3.11" in result.stderr
    assert not (repo / ".venv").exists()
    assert "-m venv" not in log.read_text()  # asked its version, never to make the venv
    missing = make(repo, "run", f"PYTHON={tmp_path / 'nowhere/python'}")
    assert missing.returncode != 0 and "found no Python there" in missing.stderr
    # the control: Python 3.11 passes the check (dry run: the venv's commands are printed, not run)
    assert sys.version_info[:2] == (3, 11)
    accepted = make(repo, "-n", "run", f"PYTHON={sys.executable}")
    assert accepted.returncode == 0 and f"{sys.executable}' -m venv .venv" in accepted.stdout, accepted.stderr
