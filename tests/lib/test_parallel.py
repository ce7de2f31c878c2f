"""pipeline.lib.parallel: work spread over workers in order and bounded, each piece computed as on
one core; one-thread BLAS for scikit-learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.lib import arrays, parallel


def test_in_workers_keeps_order_bounds_what_waits_and_raises():
    """Results in the items' order, never more than ``workers`` items started ahead of the one
    consumed, and a worker's error raised to the caller with nothing more started."""
    import threading
    import time

    started, lock = [], threading.Lock()

    def slow_square(item):
        with lock:
            started.append(item)
        time.sleep(0.002 * (item % 3))  # later items may finish first
        return item * item

    consumed = []
    for result in parallel.in_workers(slow_square, range(30), workers=3):
        consumed.append(result)
        assert len(started) <= len(consumed) + 3
    assert consumed == [i * i for i in range(30)]
    assert list(parallel.in_workers(slow_square, range(5), workers=1)) == [0, 1, 4, 9, 16]

    def square_but_four(item):
        if item == 4:
            raise ValueError("item 4")
        return slow_square(item)

    started.clear()
    with pytest.raises(ValueError, match="item 4"):
        list(parallel.in_workers(square_but_four, range(100), workers=2))
    assert len(started) < 10


@pytest.mark.usefixtures("blas_rounds_rows_alike")
def test_map_chunks_in_workers_equals_one_worker(tmp_path):
    rows = np.random.default_rng(1).normal(size=(101, 8)).astype(np.float32)
    weights = np.random.default_rng(2).normal(size=(8, 5)).astype(np.float32)
    outs = []
    for workers in (1, 2):
        out = np.empty((101, 5), np.float32)
        parallel.map_chunks(lambda chunk: chunk @ weights, rows, out, chunk=10, label="t", progress=False,
                            workers=workers)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_allclose(outs[0], rows @ weights, rtol=1e-5)
    writer_path = tmp_path / "out.npy"
    with arrays.NpyWriter(writer_path, (101, 5), np.float32) as writer:
        parallel.map_chunks(lambda chunk: chunk @ weights, iter([rows[:50], rows[50:]]), writer, chunk=7,
                            label="t", progress=False, workers=2)
    np.testing.assert_array_equal(np.load(writer_path), outs[0])


def test_worker_count_starts_workers_only_for_many_images_unless_asked():
    assert parallel.worker_count(parallel.PARALLEL_FROM - 1) == 1
    assert parallel.worker_count(parallel.PARALLEL_FROM) == parallel.usable_cpus()
    assert parallel.worker_count(10, 3) == 3  # asked for: the caller's count, however few the images


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every pool has one thread anyway")
def test_one_thread_limits_the_pools_scikit_learn_loads_inside_it():
    # A fresh interpreter: here scikit-learn is loaded already. The stages import it lazily, inside
    # the block, so its OpenMP and BLAS pools must be limited all the same.
    script = ("import json, threadpoolctl\n"
              "from pipeline.lib import parallel\n"
              "with parallel.one_thread():\n"
              "    import sklearn.cluster\n"
              "    print(json.dumps([(pool['internal_api'], pool['num_threads'])"
              " for pool in threadpoolctl.threadpool_info()]))\n")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", parallel.THREADS_ENV)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env=environment, cwd=Path(__file__).resolve().parents[2])
    pools = json.loads(done.stdout.strip().splitlines()[-1])
    assert {api for api, _ in pools} >= {"openmp", "openblas"}
    assert [threads for _, threads in pools] == [1] * len(pools)
