"""A throw-away copy of the project as its own git + DVC repository, run on tiny params.

Used by the end-to-end, determinism and interruption tests. Never touches the real checkout:
the project's files (tracked, or new and not ignored by git) are copied into a
temporary folder, minus everything dvc.yaml declares as an output and dvc.lock, so every file
a test finds there was written by the run under test.

The first full ``dvc repro`` on the tiny params (about half a minute on 2 cores) is shared:
``baseline()`` runs it once per test session and ``clone()`` gives each test its own copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: stage commands say `python`, and dvc lives here
HOOKS = Path(__file__).resolve().parent / "hooks"  # sitecustomize.py: fault injection, off by default

# Tiny and fast: 200 demo images, a two-block autoencoder trained for 2 epochs, a 16-atom patch
# dictionary, and self-training with a one-block CNN for one epoch.
TINY_PARAMS = {
    "demo": {"pairs": 500},
    "embed": {"epochs": 2, "filters": [8, 16], "code_size": 16},
    "patches": {"atoms": 16, "samples": 2000},
    "selftrain": {"code_dims": 8, "hog_dims": 8, "patch_dims": 8, "dims": 8, "epochs": 1, "filters": [8],
                  "min_images": 1},  # the demo's 400 images train CNNs here (not by default)
    "pca": {"dims": 8, "code_dims": 8, "hog_dims": 8, "patch_dims": 8, "min_images_per_dim": 1,
            "min_images_per_joint_dim": 1},
}

_settings: dict[str, Path] = {}
_baseline: dict[str, object] = {}


def _isolation(tmp_path_factory) -> dict[str, Path]:
    """Folders that keep DVC's site cache and config away from the machine's."""
    if not _settings:
        root = tmp_path_factory.mktemp("dvc-home")
        for name in ("site_cache", "global_config", "system_config"):
            (root / name).mkdir()
            _settings[name] = root / name
    return _settings


def environment(tmp_path_factory=None, extra_path: str | os.PathLike | None = None,
                extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of `dvc` and the stages it runs: this venv first on PATH, no PYTHONPATH
    (the stages import ``pipeline`` from the repository they run in), unless ``extra_path`` is
    given: then PYTHONPATH is that folder alone (e.g. :data:`HOOKS`, whose sitecustomize.py
    injects faults, turned on by variables in ``extra_env``)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", DVC_NO_ANALYTICS="1")
    env.pop("PYTHONPATH", None)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    env.update(extra_env or {})
    if tmp_path_factory is not None or _settings:
        dirs = _isolation(tmp_path_factory)
        env.update(DVC_SITE_CACHE_DIR=str(dirs["site_cache"]),
                   DVC_GLOBAL_CONFIG_DIR=str(dirs["global_config"]),
                   DVC_SYSTEM_CONFIG_DIR=str(dirs["system_config"]))
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


def make_repo(dest: Path, params: dict | None = None) -> Path:
    """Copy the project into ``dest``, apply ``params`` (tiny by default), git init and commit."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in project_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    write_params(dest, TINY_PARAMS if params is None else params)
    return init_repo(dest, "tiny pipeline")


def init_repo(dest: Path, message: str) -> Path:
    """``git init`` in ``dest`` with a test identity, and commit everything there as ``message``."""
    git(dest, "init", "-q")
    git(dest, "config", "user.name", "pipeline tests")
    git(dest, "config", "user.email", "tests@example.invalid")
    git(dest, "config", "commit.gpgsign", "false")
    commit_all(dest, message)
    return dest


def dvc(repo: Path, *args: str, check: bool = True, timeout: float = 300,
        extra_path: str | os.PathLike | None = None, extra_env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess:
    """Run ``dvc ARGS`` in ``repo``; stdout and stderr together in ``.stdout``.

    ``extra_path``, ``extra_env``: see :func:`environment` (fault injection)."""
    result = subprocess.run([str(BIN / "dvc"), *args], cwd=repo,
                            env=environment(extra_path=extra_path, extra_env=extra_env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"`dvc {' '.join(args)}` exited {result.returncode}:\n{result.stdout[-6000:]}")
    return result


def baseline(tmp_path_factory) -> tuple[Path, str]:
    """(repo, output) of one full `dvc repro` on the tiny params, committed; built once per session.

    Tests must not change it: they work on ``clone(...)``.
    """
    if "error" in _baseline:
        raise AssertionError(f"the shared baseline run failed earlier:\n{_baseline['error']}")
    if "repo" not in _baseline:
        environment(tmp_path_factory)  # set up the DVC isolation folders
        repo = make_repo(tmp_path_factory.mktemp("baseline") / "repo")
        try:
            result = dvc(repo, "repro")
        except AssertionError as error:
            _baseline["error"] = str(error)
            raise
        commit_all(repo, "tiny pipeline: outputs")
        _baseline.update(repo=repo, output=result.stdout)
    return _baseline["repo"], _baseline["output"]


def clone(repo: Path, dest: Path) -> Path:
    """A private copy of ``repo`` (working tree, .git and .dvc cache alike)."""
    shutil.copytree(repo, dest, symlinks=True)
    return dest


SIGINT_AS_A_TERMINAL = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                        "os.execv(sys.argv[1], sys.argv[1:])")


class Background:
    """`dvc ARGS` in its own process group, its output collected by a thread.

    ``extra_path``, ``extra_env``: see :func:`environment` (fault injection)."""

    def __init__(self, repo: Path, *args: str, extra_path: str | os.PathLike | None = None,
                 extra_env: dict[str, str] | None = None):
        # `dvc ARGS` through a one-line exec that sets SIGINT back to its default: a test run
        # started in the background by a non-interactive shell (`nohup make test &`) ignores
        # SIGINT, an ignored signal stays ignored across fork and exec, and dvc and its stages
        # would then sit through the Ctrl-C a test sends them (test_interruption did, 60 s).
        self.process = subprocess.Popen([sys.executable, "-c", SIGINT_AS_A_TERMINAL, str(BIN / "dvc"), *args], cwd=repo,
                                        env=environment(extra_path=extra_path, extra_env=extra_env),
                                        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.chunks: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.chunks.append(line)

    @property
    def output(self) -> str:
        return "".join(self.chunks)

    def wait_for(self, text: str, timeout: float) -> bool:
        """Whether ``text`` appears in the output within ``timeout`` seconds."""
        return self.wait_until(lambda: text in self.output, timeout)

    def wait_until(self, condition, timeout: float) -> bool:
        """Whether ``condition()`` comes true within ``timeout`` seconds (False once the process ends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            if self.process.poll() is not None:
                self.reader.join(5)
                return condition()
            time.sleep(0.05)
        return False

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def finish(self, timeout: float = 60) -> int:
        """dvc's exit status once it ends and its output is read; subprocess.TimeoutExpired after
        ``timeout`` seconds, the group left running so the caller can see where it waits (then
        :meth:`kill` it)."""
        code = self.process.wait(timeout)
        self.reader.join(10)
        return code

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
