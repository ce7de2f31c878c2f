"""Atomic writes: every output is written to a temporary file beside it, then renamed.

A killed or failing stage therefore never leaves a half-written file under the final name,
which DVC or a user could mistake for a finished output. A disk that fills up on the way is
reported under the final name (an OSError whose ``filename`` is the output, not the hidden
temporary file): :func:`pipeline.lib.errors.main_guard` makes that one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.lib.errors import NO_SPACE


@contextlib.contextmanager
def _named_if_full(path: Path) -> Iterator[None]:
    """Re-raise a disk-full OSError met while writing ``path`` as one that names ``path``.

    Only when the error names no file, or the hidden temporary one (``.<name>.<random>``): a
    final name already given by an inner atomic_path is the more precise one and stays.
    """
    try:
        yield
    except OSError as error:
        if error.errno not in NO_SPACE or (error.filename is not None
                                           and f".{path.name}." not in str(error.filename)):
            raise
        raise OSError(error.errno, error.strerror or os.strerror(error.errno), str(path)) from error


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    ``suffix`` defaults to the final path's own suffix, so libraries that pick a format from
    the extension (matplotlib, Keras) still do the right thing.
    """
    path = Path(path)
    with _named_if_full(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=path.parent
        )
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.chmod(tmp_path, 0o644)
            os.replace(tmp_path, path)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; swap it in for ``path`` if the block succeeds."""
    path = Path(path)
    with _named_if_full(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            yield tmp_path
            os.chmod(tmp_path, 0o755)
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp_path, path)
        except BaseException:
            shutil.rmtree(tmp_path, ignore_errors=True)
            raise


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as .npy (no pickles) atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array), allow_pickle=False)


def save_json(path: str | os.PathLike, obj: object) -> None:
    """Write ``obj`` as indented JSON with a trailing newline, atomically.

    Floats are written by ``json`` with ``repr`` precision, so equal values give equal bytes.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def save_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_figure(path: str | os.PathLike, figure) -> None:
    """Save a matplotlib figure atomically, with no timestamp in the PNG metadata."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=figure.dpi, metadata={"Software": None})
