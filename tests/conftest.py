"""Shared test helpers: a tiny competition folder and a way to run one stage script.

Both are plain functions (importable as ``from conftest import write_competition, run_stage_in``)
and fixtures (``make_competition``, ``run_stage``) that return those functions, so a test can
ask for them by name::

    def test_something(tmp_path, make_competition, run_stage):
        folder = make_competition(tmp_path, n_images=12, n_pairs=10)
        result = run_stage("prepare", tmp_path / "work", {"data": {"dir": str(folder)}})
        assert result.returncode == 0, result.stderr
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]  # the checkout holding pipeline/
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `import pipeline` works however pytest was started

PAIR_HEADER = "id,image1_name,image2_name"

# Tiny params for every stage: a whole run would take seconds. Tests copy and adjust them. Every
# section is the committed one with these keys changed (a stage needs every key of its section).
_TINY_CHANGES = {
    "seed": 0,
    "data": {"dir": "competition"},
    "embed": {"filters": [8, 16], "code_size": 8, "epochs": 1, "batch_size": 8,
              "learning_rate": 0.001, "flip": True, "train_samples": None},
    "pca": {"dims": 4, "code_dims": 4, "hog_dims": 4, "patch_dims": 4, "selftrain_dims": 1, "whiten": True,
            "incremental": "auto", "weights": None, "min_images_per_dim": 1, "min_images_per_joint_dim": 1},
    "cluster": {"method": "kmeans", "alternative": "coordinates", "n_init": 2, "minibatch": False},
}
_COMMITTED = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
TINY_PARAMS = {section: {**values, **_TINY_CHANGES.get(section, {})} if isinstance(values, dict)
               else _TINY_CHANGES.get(section, values) for section, values in _COMMITTED.items()}


def params_with(**sections) -> dict:
    """TINY_PARAMS with some keys replaced: ``params_with(embed={"epochs": 0})``; None deletes."""
    params = copy.deepcopy(TINY_PARAMS)
    for section, values in sections.items():
        if not isinstance(values, dict):
            params[section] = values
            continue
        for key, value in values.items():
            params[section][key] = value
    return params


def snapshot(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (hidden ones too), as relative paths."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def write_competition(tmp_path: str | os.PathLike, n_images: int = 12, n_pairs: int = 10, k: int = 4,
                      *, seed: int = 0, name: str = "competition") -> Path:
    """Write a tiny valid competition folder at ``tmp_path / name`` and return its path.

    The folder holds what pipeline.lib.layout expects:

    * ``images/000001.jpg`` … ``images/<n_images>.jpg`` (zero-padded to 6 digits): random
      32×32 RGB JPEGs (quality 95);
    * ``test_case.csv``: header ``id,image1_name,image2_name``, then ``n_pairs`` rows with ids
      0 … n_pairs-1 (line ``i + 2`` of the file holds id ``i``) and random image numbers in
      1 … n_images, LF line ends;
    * ``visualization.npy``: ``(2k, 32, 32, 3)`` uint8 random pixels (k of "dataset A", then k of B).

    Everything is drawn from ``numpy.random.default_rng(seed)``: same arguments, same bytes.
    Tests break the folder afterwards (delete, truncate, rewrite a file) to make bad input.
    """
    root = Path(tmp_path) / name
    images = root / "images"
    images.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for number in range(1, n_images + 1):
        pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{number:06d}.jpg", quality=95)
    names = rng.integers(1, n_images + 1, size=(n_pairs, 2))
    rows = [f"{i},{a},{b}" for i, (a, b) in enumerate(names)]
    (root / "test_case.csv").write_text("\n".join([PAIR_HEADER, *rows]) + "\n", encoding="utf-8")
    np.save(root / "visualization.npy", rng.integers(0, 256, size=(2 * k, 32, 32, 3), dtype=np.uint8))
    return root


def stage_environment(extra_path: str | os.PathLike | None = None,
                      extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a stage script runs in: PYTHONPATH = the repo (after ``extra_path``),
    plus ``extra_env``."""
    env = dict(os.environ)
    paths = [str(extra_path)] if extra_path else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(REPO)])
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra_env or {})
    return env


def run_stage_in(stage: str, cwd: str | os.PathLike, params: dict | str | None, *,
                 timeout: float = 120, extra_path: str | os.PathLike | None = None,
                 extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m pipeline.stages.<stage>`` in ``cwd`` (created if needed); return the finished process.

    ``params`` is written to ``cwd/params.yaml`` first: a dict is dumped as YAML, a str is
    written as is (to test broken YAML), None leaves any existing params.yaml alone.
    The script runs with this interpreter, PYTHONPATH = the repository root (so ``pipeline``
    is imported from this checkout, not from ``cwd``), text-mode stdout/stderr captured.
    ``extra_path`` is put before the repo on PYTHONPATH (e.g. stub packages, or tests/hooks with
    its fault injection, turned on by a variable in ``extra_env``).
    """
    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    if isinstance(params, dict):
        (cwd / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    elif isinstance(params, str):
        (cwd / "params.yaml").write_text(params, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", f"pipeline.stages.{stage}"], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=stage_environment(extra_path, extra_env))


@pytest.fixture
def make_competition():
    """The factory :func:`write_competition`: ``make_competition(tmp_path, n_images=…, n_pairs=…)``."""
    return write_competition


@pytest.fixture
def run_stage():
    """The runner :func:`run_stage_in`: ``run_stage(stage, cwd, params)`` → CompletedProcess."""
    return run_stage_in


@pytest.fixture
def blas_rounds_rows_alike():
    """Skip unless NumPy's BLAS gives a row of a float32 product the same bytes however many rows
    share the call. OpenBLAS did on an AVX-512 AMD EPYC (family 25 model 17); on an AVX2-only one
    (model 1, OpenBLAS's Haswell kernels) a row computed alone came out in other bytes, so there
    the bytes depend on the chunking (the same chunking, so the same params on the same machine,
    still gives the same bytes)."""
    rows = np.random.default_rng(1).normal(size=(101, 8)).astype(np.float32)
    weights = np.random.default_rng(2).normal(size=(8, 5)).astype(np.float32)
    whole = rows @ weights
    chunked = (np.concatenate([rows[i:i + size] @ weights for i in range(0, len(rows), size)])
               for size in (1, 3, 7))
    if not all(np.array_equal(whole, rows_in_chunks) for rows_in_chunks in chunked):
        from threadpoolctl import threadpool_info
        kernels = sorted({str(pool.get("architecture")) for pool in threadpool_info()
                          if pool.get("user_api") == "blas"})
        pytest.skip(f"this CPU's BLAS kernel ({', '.join(kernels)}) rounds a row by the rows in its call, "
                    "so bytes that must not depend on the chunking cannot be compared here")
