"""Work spread over the machine's cores, and BLAS held to one thread where threads would stall.

Each piece of work is computed exactly as on one core, so outputs do not depend on the core
count: worker threads each call single-threaded BLAS (:func:`in_workers`), and scikit-learn's
fits run on one thread (:func:`one_thread`). The counts come from the process's CPU affinity
(:func:`usable_cpus`), not the machine's core count.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

THREADS_ENV = "HW7_SKLEARN_THREADS"  # threads for scikit-learn's OpenMP/BLAS in one_thread; default 1


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
    Own pool, not joblib.Parallel(return_as="generator"), measured on AMD EPYC, 2 cores, 5,000 images:
    joblib starts a task when one finishes, not when its result is taken (49 of 50 ran ahead of a
    slow reader), and its loky workers decoded in 2.61 s, 233 MiB peak, against 1.84 s, 162 MiB here
    (HOG 8.34 s against 7.91 s; patches in threads alike; the same bytes).
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


def one_thread():
    """Run scikit-learn's OpenMP and BLAS code on one thread (or $HW7_SKLEARN_THREADS).

    Measured on 2 cores shared with another busy process: KMeans (n_init 10, 15,000 × 56) took
    0.04 s on one thread but 0.3–8.8 s on two, MiniBatchKMeans 0.02 s against 1.5 s: each of the
    thousands of small parallel regions waits at a barrier for a thread the OS has preempted.
    One thread also makes the floating-point sums, hence the outputs, independent of the core
    count. On a dedicated many-core machine with millions of images, more threads may pay.

    scikit-learn is imported first: threadpoolctl limits only the pools already loaded, and
    scikit-learn brings its own (OpenMP, and scipy's OpenBLAS) when imported. Imported later,
    inside the block, its first fit ran on every core, and its outputs depended on the core count.
    """
    import sklearn  # noqa: F401  (loads OpenMP and scipy's OpenBLAS, so that they are limited too)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(max(1, int(os.environ.get(THREADS_ENV, "1"))))
