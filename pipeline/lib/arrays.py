"""Large .npy arrays written and read in row chunks with plain file I/O, never memory-mapped.

Why not ``np.load(..., mmap_mode="r")`` or ``open_memmap``: every page of a memory map that a
process touches counts in its resident memory (RSS) until the map is closed, so streaming a
million images (3 GB of uint8) through one map ends with 3 GB resident, although only one chunk
is in use at a time. Here each chunk is read with ``file.readinto`` (or written with
``file.write``) into an ordinary array that is freed when the next one replaces it: resident
memory stays at about one chunk, whatever the file's size. The page cache still holds the file,
but that memory belongs to the kernel, not to the process.

    with atomic_path("codes.npy") as tmp, NpyWriter(tmp, (n, 128), np.float32) as out:
        for chunk in produce():            # any number of (k, 128) chunks, n rows in all
            out.write(chunk)

    for chunk in iter_npy_chunks("codes.npy", 65536):   # (≤ 65536, 128) arrays, in order
        ...

The files are ordinary .npy files, byte for byte what ``np.save`` writes for the same array.
"""

from __future__ import annotations

import math
import os
import struct
import tokenize
import warnings
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from pipeline.lib.errors import InputError, one_line, printable

__all__ = [
    "NpyFile",
    "NpyHeader",
    "NpyWriter",
    "check_npy_length",
    "iter_chunks",
    "iter_npy_chunks",
    "load",
    "parse_npy_header",
    "read_npy_header",
    "read_rows",
]


class NpyHeader(NamedTuple):
    """What a .npy file's header claims, and how long the file really is (bytes)."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int      # where the data begins
    file_size: int

    @property
    def data_bytes(self) -> int:
        """What the header's shape and dtype take, in exact integers (no int64 overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize


MAX_HEADER = 10_000  # bytes of header text: numpy refuses longer ones as unsafe to parse


def parse_npy_header(path: str | os.PathLike) -> NpyHeader:
    """The header of the .npy file at ``path``, as it claims; nothing checked against the data.

    Reads at most the header, never the data, and checks the header's own length field first:
    numpy would otherwise allocate whatever a (version 2.0, 4-byte) length claims before finding
    the file short. Raises InputError for a file that is not a .npy file of format 1.0 or 2.0
    or whose header does not parse. A dtype holding Python objects is returned, not refused:
    callers decide.
    """
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            version = npy_format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f".npy format version {version} is not supported")
            length_format = "<H" if version == (1, 0) else "<I"
            field = f.read(struct.calcsize(length_format))
            if len(field) < struct.calcsize(length_format):
                raise ValueError("the file ends inside the header")
            (length,) = struct.unpack(length_format, field)
            if length > min(MAX_HEADER, file_size - f.tell()):
                raise ValueError(f"a header length of {length} bytes (at most {MAX_HEADER}, and "
                                 f"{file_size - f.tell()} are left in the file)")
            f.seek(-len(field), os.SEEK_CUR)
            read_header = npy_format.read_array_header_1_0 if version == (1, 0) \
                else npy_format.read_array_header_2_0
            with warnings.catch_warnings():  # numpy warns (a second line) about a Python 2 header
                warnings.simplefilter("ignore")
                shape, fortran_order, dtype = read_header(f, max_header_size=MAX_HEADER)
            if any(d < 0 for d in shape):
                raise ValueError(f"negative dimension in shape {shape}")
            offset = f.tell()
    # numpy's answers to a bad header (RecursionError: a literal nested thousands deep;
    # TokenError: its fallback parser for headers written by Python 2)
    except (ValueError, SyntaxError, RecursionError, OverflowError, tokenize.TokenError) as error:
        raise InputError(f"{printable(path)}: expected a .npy array, found an unreadable file "
                         f"({printable(one_line(error), limit=200)})") from None
    return NpyHeader(tuple(int(d) for d in shape), bool(fortran_order), dtype, offset, file_size)


def check_npy_length(path: str | os.PathLike, header: NpyHeader) -> None:
    """Raise InputError unless the file holds exactly the data its header claims.

    Called before anything is allocated from the header: a header that claims (10⁹, 32, 32, 3)
    on a file of a few kilobytes must not cost 2.79 TiB of memory first.
    """
    need, have = header.data_bytes, header.file_size - header.offset
    if have != need:
        why = ("a truncated file, or a header that claims more than the file holds" if have < need
               else "more data than the header's shape holds: the header does not describe the file")
        raise InputError(f"{printable(path)}: expected {need} bytes of data after the header for shape "
                         f"{header.shape} of {header.dtype}, found {have} ({why})")


def read_npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, offset of the data) of a C-ordered, pickle-free .npy file.

    Raises InputError for anything else, and for a file whose length is not what its header
    claims (truncated, or lying): every reader here trusts the shape only after this check.
    """
    header = parse_npy_header(path)
    if header.fortran_order:
        raise InputError(f"{printable(path)}: expected a C-ordered array, found a Fortran-ordered one "
                         f"(it cannot be read in row chunks)")
    if header.dtype.hasobject:
        raise InputError(f"{printable(path)}: expected a plain array, found pickled Python objects "
                         f"(refused: loading them could run code)")
    check_npy_length(path, header)
    return header.shape, header.dtype, header.offset


class NpyWriter:
    """Write a .npy file of a known ``shape`` and ``dtype`` as a sequence of row chunks.

    The header goes first; :meth:`write` appends C-ordered rows; :meth:`close` checks that
    exactly ``shape[0]`` rows were written (a short file is an error, never a silent .npy with
    garbage at the end). Use it inside :func:`pipeline.lib.atomic.atomic_path` so an interrupted
    writer leaves nothing under the final name.
    """

    def __init__(self, path: str | os.PathLike, shape: tuple[int, ...], dtype):
        self.path = Path(path)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        if not self.shape:
            raise ValueError("NpyWriter writes arrays of one or more dimensions")
        self.rows = 0
        self._file = open(self.path, "wb")
        header = {"descr": npy_format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": self.shape}
        try:  # what np.save does: version 1.0 unless the header needs more room
            npy_format.write_array_header_1_0(self._file, header)
        except ValueError:
            npy_format.write_array_header_2_0(self._file, header)

    def __len__(self) -> int:
        return self.shape[0]

    def write(self, chunk) -> None:
        """Append ``chunk`` (k, *shape[1:]) rows, cast to the writer's dtype if needed."""
        chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
        if chunk.shape[1:] != self.shape[1:]:
            raise ValueError(f"{self.path}: rows of shape {self.shape[1:]} expected, found {chunk.shape[1:]}")
        if self.rows + len(chunk) > self.shape[0]:
            raise ValueError(f"{self.path}: {self.rows + len(chunk)} rows written, "
                             f"the array has {self.shape[0]}")
        self._file.write(memoryview(chunk).cast("B"))
        self.rows += len(chunk)

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.close()
        if self.rows != self.shape[0]:
            raise ValueError(f"{self.path}: {self.rows} rows written, expected {self.shape[0]}")

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self._file.close()  # the caller's error wins; atomic_path throws the file away


def iter_npy_chunks(path: str | os.PathLike, rows: int, start: int = 0,
                    stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield rows ``start`` to ``stop`` of the .npy file at ``path`` as arrays of ≤ ``rows`` rows.

    Each chunk is a fresh array read from the file; once the caller drops it, its memory is
    gone (no memory map keeps the pages resident).
    """
    shape, dtype, offset = read_npy_header(path)
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    stop = shape[0] if stop is None else min(int(stop), shape[0])
    rows = max(1, int(rows))
    with open(path, "rb", buffering=0) as f:
        f.seek(offset + start * row_bytes)
        for begin in range(start, stop, rows):
            count = min(rows, stop - begin)
            chunk = np.empty((count, *shape[1:]), dtype=dtype)
            view = memoryview(chunk).cast("B") if chunk.nbytes else None
            got = 0
            while view is not None and got < chunk.nbytes:
                n = f.readinto(view[got:])
                if not n:  # the file shrank since its header was checked
                    raise InputError(f"{printable(path)}: the file ends before row "
                                     f"{begin + got // row_bytes} of {shape[0]} (truncated?)")
                got += n
            yield chunk


def read_rows(path: str | os.PathLike, indices) -> np.ndarray:
    """Rows ``indices`` (any order, repeats allowed) of the .npy file at ``path``, as one array.

    Read with plain file reads, one per run of consecutive rows: unlike ``np.load(path,
    mmap_mode="r")[indices]``, nothing stays mapped. (Through a memory map the kernel maps the
    pages around each row it faults in, 64 KiB or more, and they all count as resident: 20,000
    rows sampled from a 3 GB images.npy left 2.5 GB of it in the process's RSS.)
    """
    shape, dtype, offset = read_npy_header(path)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= shape[0]):
        raise IndexError(f"{path}: row {indices.min() if indices.min() < 0 else indices.max()} "
                         f"out of range for {shape[0]} rows")
    order = np.argsort(indices, kind="stable")
    rows = indices[order]
    found = np.empty((len(rows), *shape[1:]), dtype=dtype)
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    if found.nbytes:
        view = memoryview(found).cast("B")
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        with open(path, "rb", buffering=0) as f:
            for first, end in zip([0, *breaks.tolist()], [*breaks.tolist(), len(rows)]):
                f.seek(offset + int(rows[first]) * row_bytes)
                got, want = first * row_bytes, end * row_bytes
                while got < want:
                    n = f.readinto(view[got:want])
                    if not n:  # the file shrank since its header was checked
                        raise InputError(f"{printable(path)}: the file ends before row {rows[end - 1]} "
                                         f"(truncated?)")
                    got += n
    if np.all(order[:-1] < order[1:]):  # already in order
        return found
    out = np.empty_like(found)
    out[order] = found
    return out


class NpyFile:
    """A .npy file on disk, read on demand: ``shape``, ``dtype``, ``len()``, ``nbytes`` come
    from its header; :meth:`chunks` streams rows; :meth:`read` loads it all (no memory map).

    Accepted wherever :mod:`pipeline.lib.pca` or :mod:`pipeline.lib.clustering` takes an array, so a stage can hand over a
    file of any size and let the consumer decide whether to load or to stream it.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.shape, self.dtype, self.offset = read_npy_header(self.path)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def chunks(self, rows: int, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        return iter_npy_chunks(self.path, rows, start, stop)

    def read(self) -> np.ndarray:
        """The whole array, read into ordinary memory."""
        return np.load(self.path, allow_pickle=False)

    def __repr__(self) -> str:
        return f"NpyFile({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def iter_chunks(source, rows: int) -> Iterator[np.ndarray]:
    """Row chunks of ``source``: an :class:`NpyFile` (read from disk) or anything sliceable."""
    if isinstance(source, NpyFile):
        yield from source.chunks(rows)
        return
    for start in range(0, len(source), rows):
        yield source[start:start + rows]


def load(source, dtype=None) -> np.ndarray:
    """``source`` as an in-memory array (an :class:`NpyFile` is read whole), cast to ``dtype``."""
    array = source.read() if isinstance(source, NpyFile) else source
    return np.asarray(array, dtype=dtype)
