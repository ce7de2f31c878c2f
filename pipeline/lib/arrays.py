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

import contextlib
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
    "PARALLEL_FROM",
    "check_npy_length",
    "ignore_interrupt",
    "in_workers",
    "iter_chunks",
    "iter_npy_chunks",
    "load",
    "map_chunks",
    "parse_npy_header",
    "read_npy_header",
    "read_rows",
    "usable_cpus",
    "worker_count",
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

    Accepted wherever :mod:`pipeline.clustering` takes an array, so a stage can hand over a
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


def map_chunks(function, rows, out, *, chunk: int, label: str, unit: str = "img", done_as: str = "rows done",
               progress: bool = True, workers: int = 1, processes: bool = False):
    """Apply ``function`` to ``rows`` ``chunk`` rows at a time and put the results in ``out``, in order.

    ``rows``: an array, or an iterable of arrays (a file read in pieces: :func:`iter_npy_chunks`),
    each split again into pieces of at most ``chunk`` rows. ``function`` maps (k, ...) to (k, d).
    ``out``: an (n, d) array filled in place, or a writer with ``write(chunk)`` and ``len()``
    (:class:`NpyWriter`), so only ``workers`` pieces are in memory at a time. Progress on stderr says
    ``label`` (:class:`pipeline.lib.progress.Progress`); a count that does not reach ``len(out)`` is an error ("<k> <done_as>, expected <n>").
    ``workers`` > 1: that many pieces at once, in threads (``function``'s work is NumPy that
    releases the GIL) or ``processes`` (see :func:`in_workers`).
    Returns ``out``.
    """
    from pipeline.lib.progress import Progress

    pieces = (rows,) if isinstance(rows, np.ndarray) else rows
    small = (piece[start:start + chunk] for piece in pieces for start in range(0, len(piece), chunk))
    write, done = getattr(out, "write", None), 0
    with Progress(len(out), label, unit, enabled=progress) as bar:
        for result in in_workers(function, small, workers, processes=processes):
            result = np.asarray(result, dtype=np.float32)
            if write is not None:
                write(result)
            else:
                out[done:done + len(result)] = result
            done += len(result)
            bar.update(len(result))
    if done != len(out):
        raise ValueError(f"{label}: {done} {done_as}, expected {len(out)}")
    return out


def usable_cpus() -> int:
    """The cores this process may run on (its CPU affinity), the default count of workers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


PARALLEL_FROM = 4096  # fewer images are worked on in this process: starting workers (~1 s) would cost more


def worker_count(items: int, workers: int | None = None) -> int:
    """Processes to spread ``items`` images over: ``workers`` when given, else the usable cores
    from :data:`PARALLEL_FROM` items on, and below that 1 (this process, no workers)."""
    if workers:
        return workers
    return usable_cpus() if items >= PARALLEL_FROM else 1


def ignore_interrupt() -> None:
    """Worker start-up: Ctrl-C is the parent's to handle (one message, not one per worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def in_workers(function, items, workers: int, *, processes: bool = False, ahead: int | None = None):
    """``function(item)`` for each of ``items``, yielded in order, computed ``workers`` at a time.

    Threads (the default) suit NumPy work, which releases the GIL; BLAS then runs on one thread
    per call (threadpoolctl), so each piece is computed exactly as on one core: the bytes do not
    depend on the worker count, and the threads do not oversubscribe the cores. Measured on 2
    cores (Xeon, patches.encode of 4,096 images): 12.3 s with NumPy's default BLAS threads, 8.7 s
    on one thread, 5.0 s in 2 workers. ``processes``: worker processes instead, for Python-level
    work that holds the GIL (skimage's HOG: two threads were 2× slower than one); ``function``
    and the items must then pickle, and they start with "spawn" (nothing inherited), so a script
    that calls this must guard its top level with ``if __name__ == "__main__":``. At most
    ``ahead`` items (default ``workers``) are in flight or wait in memory.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    if processes:  # spawned: nothing inherited, this process's BLAS setting included
        import multiprocessing

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=ignore_interrupt)
        limits = contextlib.nullcontext()
    else:
        pool, limits = ThreadPoolExecutor(workers), threadpool_limits(1)
    with limits, pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= (ahead or workers):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # an error or an abandoned generator: start nothing more
            for future in pending:
                future.cancel()
