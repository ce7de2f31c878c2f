"""The project as a throw-away git + DVC repository (devtools/scratch_repo.py), run on tiny params.

Used by the end-to-end, determinism and interruption tests. Never touches the real checkout:
the copy holds no output of dvc.yaml and no dvc.lock, so every file a test finds there was
written by the run under test.

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

from devtools import scratch_repo
from devtools.scratch_repo import (  # noqa: F401 (the tests' API)
    BIN, PROJECT, commit_all, declared_outputs, git, init_repo, project_files, write_params)

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

_dvc_home: list[Path] = []  # the session's folder for DVC's site cache and config, once made
_baseline: dict[str, object] = {}


def environment(tmp_path_factory=None, extra_path: str | os.PathLike | None = None,
                extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """:func:`devtools.scratch_repo.environment`, with DVC's site cache and config in one folder
    of the test session (made by the first call that passes ``tmp_path_factory``)."""
    if tmp_path_factory is not None and not _dvc_home:
        _dvc_home.append(tmp_path_factory.mktemp("dvc-home"))
    return scratch_repo.environment(extra_path, extra_env, dvc_home=_dvc_home[0] if _dvc_home else None)


def make_repo(dest: Path, params: dict | None = None) -> Path:
    """Copy the project into ``dest``, apply ``params`` (tiny by default), git init and commit."""
    return scratch_repo.make_repo(dest, TINY_PARAMS if params is None else params)


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
