"""Fault injection for the tests, loaded by Python at start-up when this folder is on PYTHONPATH.

Nothing here is imported by the pipeline: a test puts this folder first on the PYTHONPATH of the
processes it starts (tiny_repo's ``extra_path``, conftest's ``run_stage_in(extra_path=...)``) and
turns faults on with environment variables. Without them this file does nothing.

PIPELINE_TEST_BLOCK_FIT=<marker file>
    Once the first epoch of the first ``keras.Model.fit`` of the process ends (or, in the
    ``patches`` stage, once its dictionary's ``MiniBatchKMeans.fit`` returns), write the marker
    (its text: the stage module that trains, e.g. ``embed``) and block until a signal ends the
    process: the test waits for the marker, then sends SIGINT or SIGKILL, so the signal always
    lands mid-training however fast or slow the machine is. Keras and scikit-learn's clustering
    are patched when they are first imported (never imported here: DVC and the stages that do
    not train stay untouched; reduce's and cluster's k-means is not training and is left alone).
    After PIPELINE_TEST_BLOCK_SECONDS (default 300) without a signal the process exits with
    status 97, so a broken test fails instead of hanging.

    Each Python process then writes its threads' stacks to ``<marker>.<pid>.stacks`` on SIGUSR1.

PIPELINE_TEST_ENOSPC=<glob>
    Every write to a file whose name matches the glob (e.g. ``.codes.npy.*``, the temporary file
    pipeline.lib.atomic writes ``codes.npy`` to) fails with OSError(ENOSPC), as on a full disk.
"""

from __future__ import annotations

import builtins
import errno
import fnmatch
import importlib.abc
import importlib.util
import io
import os
import sys
import time

_MARKER = os.environ.get("PIPELINE_TEST_BLOCK_FIT")
_FULL = os.environ.get("PIPELINE_TEST_ENOSPC")


# ------------------------------------------------------------------------ block after one epoch
def _stage_name() -> str:
    return os.path.splitext(os.path.basename(sys.argv[0] or "python"))[0]


def _block_mid_training() -> None:
    tmp = f"{_MARKER}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_stage_name())
    os.replace(tmp, _MARKER)  # whole or absent: the test never reads half a name
    deadline = time.monotonic() + float(os.environ.get("PIPELINE_TEST_BLOCK_SECONDS", "300"))
    while time.monotonic() < deadline:
        time.sleep(0.05)  # SIGINT raises KeyboardInterrupt here, in the training loop's thread
    print("sitecustomize: blocked in fit and no signal came", file=sys.stderr)
    os._exit(97)


def _patch_keras(keras) -> None:
    original_fit = keras.Model.fit
    blocked = []

    class BlockAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not blocked:
                blocked.append(epoch)
                _block_mid_training()

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = [*(callbacks or []), BlockAfterFirstEpoch()]
        return original_fit(self, *args, callbacks=callbacks, **kwargs)

    keras.Model.fit = fit


def _patch_sklearn_cluster(module) -> None:
    if _stage_name() != "patches":  # the patch dictionary is learned; other stages' k-means is not training
        return
    original_fit = module.MiniBatchKMeans.fit

    def fit(self, *args, **kwargs):
        fitted = original_fit(self, *args, **kwargs)
        _block_mid_training()  # learned, not yet written
        return fitted

    module.MiniBatchKMeans.fit = fit


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the real finder load module ``name``, then calls ``patch`` on it.

    It stays in place until the module is actually executed: TensorFlow looks keras up
    (find_spec) before it imports it, and a spec that is only looked at must not use up the patch.
    """

    def __init__(self, name: str, patch):
        self.name, self.patch, self.busy = name, patch, False

    def find_spec(self, name, path, target=None):
        if name != self.name or self.busy:
            return None
        self.busy = True  # the lookup below must reach the real finders, not this one
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            self.patch(module)

        spec.loader.exec_module = exec_module
        return spec


# ------------------------------------------------------------------------------- a full disk
class _FullDisk(io.RawIOBase):
    """A file on a disk with no room left: every write fails with ENOSPC.

    Not an io.FileIO (which numpy would write to through its file descriptor): np.save falls back
    to ``write``, which fails as a real full disk would.
    """

    def __init__(self, name: str):
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


_real_open = builtins.open


def _open(file, mode="r", *args, **kwargs):
    handle = _real_open(file, mode, *args, **kwargs)
    if not isinstance(file, (str, bytes, os.PathLike)) or not any(c in mode for c in "wax+"):
        return handle
    if not fnmatch.fnmatch(os.fsdecode(os.path.basename(os.fspath(file))), _FULL):
        return handle
    handle.close()  # created (the name still fits on a full disk), never written
    full = _FullDisk(os.fsdecode(file))
    if "b" in mode:
        return full  # the first write fails
    return io.TextIOWrapper(io.BufferedWriter(full), encoding="utf-8")  # fails when flushed


if _MARKER:
    sys.meta_path[:0] = [_PatchOnImport("keras", _patch_keras), _PatchOnImport("sklearn.cluster", _patch_sklearn_cluster)]
    # SIGUSR1 writes every thread's Python stack to <marker>.<pid>.stacks: a test whose process
    # outlives the signal it sent shows where each process of the group waits
    import faulthandler
    import signal

    _stacks = _real_open(f"{_MARKER}.{os.getpid()}.stacks", "w")  # noqa: SIM115 (open for the process's life)
    _stacks.write(" ".join(sys.argv) + "\n")
    _stacks.flush()
    faulthandler.register(signal.SIGUSR1, file=_stacks, all_threads=True)
if _FULL:
    builtins.open = io.open = _open
