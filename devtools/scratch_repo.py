"""A throw-away copy of the project as its own git + DVC repository, for the tests and the benchmarks.

Never the checkout itself (`dvc repro` there would overwrite its outputs): the project's files
(tracked, or new and not ignored by git) are copied into another folder, minus tests/, dvc.lock
and everything dvc.yaml declares as an output, so every file found there was written by the run
under test or measurement. tests/tiny_repo.py adds the tests' tiny params and their shared run;
bench/_repo.py the benchmarks' timing and data folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: stage commands say `python`, and dvc lives here
DVC_DIRS = ("site_cache", "global_config", "system_config")  # DVC's own folders outside a repository


def environment(extra_path: str | os.PathLike | None = None, extra_env: dict[str, str] | None = None,
                dvc_home: Path | None = None) -> dict[str, str]:
    """The environment of `dvc` and the stages it runs: this venv first on PATH, no PYTHONPATH
    (the stages import ``pipeline`` from the repository they run in), unless ``extra_path`` is
    given: then PYTHONPATH is that folder alone (e.g. tests/hooks, whose sitecustomize.py injects
    faults, turned on by variables in ``extra_env``). ``dvc_home``: DVC's site cache and global
    and system config in folders under it, away from the machine's."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", DVC_NO_ANALYTICS="1")
    env.pop("PYTHONPATH", None)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    env.update(extra_env or {})
    if dvc_home is not None:
        for name in DVC_DIRS:
            (dvc_home / name).mkdir(parents=True, exist_ok=True)
            env[f"DVC_{name.upper()}_DIR"] = str(dvc_home / name)
    return env


def declared_outputs(dvc_yaml: Path, stage: str | None = None) -> list[str]:
    """Every path that dvc.yaml names under outs, metrics or plots (stage-level and top-level),
    or only those of ``stage``."""
    spec = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) or {}
    paths = []

    def names(entries):
        for entry in entries or []:
            yield from (entry if isinstance(entry, dict) else {entry: None})

    for name, entries in (spec.get("stages") or {}).items():
        if stage is None or name == stage:
            for key in ("outs", "metrics", "plots"):
                paths.extend(names(entries.get(key)))
    if stage is None:
        paths.extend(names(spec.get("plots")))
    return [p.rstrip("/") for p in paths if "${" not in p]


def project_files() -> list[str]:
    # tracked files, and new ones git does not ignore (work in progress is tested as it is)
    listed = subprocess.run(["git", "-C", str(PROJECT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], check=True, capture_output=True).stdout.decode()
    files = {f for f in listed.split("\0") if f}
    outputs = declared_outputs(PROJECT / "dvc.yaml")
    return sorted(
        f for f in files
        if (PROJECT / f).is_file() and f != "dvc.lock" and not f.startswith("tests/")
        and not any(f == out or f.startswith(out + "/") for out in outputs)
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def write_params(repo: Path, overrides: dict) -> None:
    """Merge ``overrides`` (section → {key: value}) into repo/params.yaml."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section, values in overrides.items():
        if isinstance(values, dict):
            params.setdefault(section, {}).update(values)
        else:
            params[section] = values
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def make_repo(dest: Path, params: dict) -> Path:
    """Copy the project into ``dest``, merge ``params`` into its params.yaml, git init and commit."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in project_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    write_params(dest, params)
    return init_repo(dest, "tiny pipeline")


def init_repo(dest: Path, message: str) -> Path:
    """``git init`` in ``dest`` with a test identity, and commit everything there as ``message``."""
    git(dest, "init", "-q")
    git(dest, "config", "user.name", "pipeline tests")
    git(dest, "config", "user.email", "tests@example.invalid")
    git(dest, "config", "commit.gpgsign", "false")
    commit_all(dest, message)
    return dest
