"""What every stage that trains a Keras model shares: how it reports progress, a quiet stderr,
and input pipelines that do not stall between epochs.

Keras's ``verbose=1`` draws a live bar by rewriting one line; in a log file (``dvc repro``
piped to a file, CI) that becomes thousands of updates per epoch on one line. On a terminal
the bar is kept; elsewhere Keras prints one line per epoch (``verbose=2``).
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

import numpy as np


def keras_verbosity(stream=None) -> int:
    """1 (a live progress bar) when ``stream`` (default stdout, where Keras writes) is a
    terminal, else 2 (one line per epoch)."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return 1 if isatty is not None and isatty() else 2


# TensorFlow's C++ runtime writes notices straight to file descriptor 2 before (and despite) any
# logging setting — TF_CPP_MIN_LOG_LEVEL does not reach them. They read as errors to a user
# ("E0000 … NodeDef mentions attribute use_unbounded_threadpool" is a tf.data graph attribute
# this runtime ignores) and say nothing actionable, so these exact ones are dropped; every
# other byte written to stderr passes through unchanged and at once.
HARMLESS = (
    b"All log messages before absl::InitializeLog() is called are written to STDERR",
    b"oneDNN custom operations are on",
    b"This TensorFlow binary is optimized to use available CPU instructions",
    b"To enable the following instructions:",
    b"NodeDef mentions attribute use_unbounded_threadpool",
)
_LOG_START = re.compile(rb"^(WARNING: All log|[IWE]\d{4} |To enable the)")  # lines held until known
_installed: list = []


def shuffled_batches(tensors, batch_size: int, seed: int, prepare):
    """The input pipeline of every model we train, for ``model.fit``: the rows of ``tensors``
    (an array, or a tuple of arrays of one length) reshuffled with ``seed`` every epoch, in
    batches of ``batch_size``, each batch passed through ``prepare`` (TensorFlow ops: batch →
    the model's inputs and targets), one batch prefetched ahead.

    tf.data's autotuning is off. With it on (tf.data's default, and what Keras builds from NumPy
    arrays), each iterator starts a thread that re-tunes the pipeline every period, the period
    doubling up to 10 s; destroying the iterator waits for that thread's current period to end,
    and Keras destroys one at the end of every epoch. TensorFlow 2.21 on 2 cores: the
    autoencoder's training sat idle ~9 s after most epochs (4 epochs: 74.8 s with autotuning,
    46.5 s without, the same losses). This pipeline is fixed: nothing to tune.
    """
    import tensorflow as tf

    rows = len(tensors[0]) if isinstance(tensors, tuple) else len(tensors)
    data = tf.data.Dataset.from_tensor_slices(tensors)
    data = data.shuffle(rows, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.map(prepare).prefetch(2).with_options(options)


def predict_batches(model, pixels, batch_size: int) -> np.ndarray:
    """``model``'s outputs for ``pixels`` (n ≥ 1, …), ``batch_size`` rows a call, as one NumPy array.

    Keras's ``predict`` builds a tf.data pipeline with autotuning on for every call, and waits
    for its tuning thread at the end (see :func:`shuffled_batches`): 1.37–1.69 s for the CNN's
    10,000 images in chunks of 8,192, against 1.21–1.29 s batch by batch, the same numbers.
    """
    return np.concatenate([np.asarray(model.predict_on_batch(pixels[start:start + batch_size]))
                           for start in range(0, len(pixels), batch_size)])


def _forward(source: int, target: int) -> None:
    """Copy ``source`` to ``target`` until end of file, leaving out the HARMLESS lines."""
    pending = b""  # the start of a line that may turn out to be harmless
    while chunk := os.read(source, 65536):
        data = pending + chunk
        lines = data.split(b"\n")
        pending = lines.pop()
        out = [line + b"\n" for line in lines if not any(notice in line for notice in HARMLESS)]
        if pending and not _LOG_START.match(pending[:20]):  # a progress bar or a partial line
            out.append(pending)
            pending = b""
        if out:
            os.write(target, b"".join(out))
    if pending and not any(notice in pending for notice in HARMLESS):
        os.write(target, pending)


def quiet_tensorflow() -> None:
    """Filter TensorFlow's harmless start-up notices out of this process's stderr (see HARMLESS).

    Call before importing TensorFlow. File descriptor 2 becomes a pipe read by a thread that
    forwards to the real stderr; at exit the pipe is closed and the thread drained, so nothing
    written before the end (a traceback included) is lost. Once per process.
    """
    if _installed or os.environ.get("PIPELINE_TF_NOTICES"):  # set to see everything
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    real = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    thread = threading.Thread(target=_forward, args=(read_end, real), name="stderr-filter", daemon=True)
    thread.start()
    _installed.append(thread)

    def drain() -> None:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end: the thread reads to the end
        thread.join(timeout=5)

    atexit.register(drain)
