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


def _as_written(error: BaseException, path: Path, tmp: Path | None) -> OSError | None:
    """For a full disk met while writing ``path`` (through ``tmp``): an OSError naming ``path``,
    or ``path/<file>`` for a file written inside a temporary folder, never the hidden temporary
    name. None for anything else (re-raise it as it is), including a full disk while writing
    some other file that the error names. ``tmp`` None: while creating the temporary file."""
    if not isinstance(error, OSError) or error.errno not in NO_SPACE:
        return None
    name = path
    if error.filename is not None and tmp is not None:
        written = Path(os.fsdecode(error.filename))
        if not written.is_relative_to(tmp):
            return None
        name = path / written.relative_to(tmp)
    return OSError(error.errno, error.strerror or os.strerror(error.errno), str(name))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    ``suffix`` defaults to the final path's own suffix, so libraries that pick a format from
    the extension (matplotlib, Keras) still do the right thing.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=path.parent
        )
    except OSError as error:
        if (shown := _as_written(error, path, None)) is None:
            raise
        raise shown from error
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException as error:
        tmp_path.unlink(missing_ok=True)
        if (shown := _as_written(error, path, tmp_path)) is None:
            raise
        raise shown from error


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; swap it in for ``path`` if the block succeeds."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        if (shown := _as_written(error, path, None)) is None:
            raise
        raise shown from error
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o755)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp_path, path)
    except BaseException as error:
        shutil.rmtree(tmp_path, ignore_errors=True)
        if (shown := _as_written(error, path, tmp_path)) is None:
            raise
        raise shown from error


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
