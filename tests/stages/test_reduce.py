"""The stages views and reduce: their PCA size rule (pca.<view>_dims and pca.dims, capped by
pca.min_images_per_dim), and that the two steps give what one call of both gives."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.lib.clustering import dims_for

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("requested, images, per_dim, expected", [
    (128, 15000, 50, 128),  # hw7: no cap
    (128, 200, 50, 4),      # the demo: 200 / 50
    (128, 60, 50, 2),       # never below 2 (the coordinates method needs two)
    (3, 200, 50, 3),        # a smaller request stands
    (128, 200, 1, 128),     # 1: no cap
])
def test_dims_for(requested, images, per_dim, expected):
    assert dims_for(requested, images, per_dim) == expected


def run_stage(tmp_path, stage):
    return subprocess.run([sys.executable, "-m", f"pipeline.stages.{stage}"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def run_reduce(tmp_path, n, d, pca):
    """views, then reduce, on fake views of a pool of ``n`` images: codes (n, d), HOG and patches
    (n, 2d), self-trained scores (n, 2). Returns the result of the first that fails, else of
    reduce, with both stages' output."""
    rng = np.random.default_rng(0)
    for folder, name, width in (("embed", "codes", d), ("hog", "descriptors", 2 * d),
                                ("patches", "descriptors", 2 * d), ("selftrain", "features", 2)):
        (tmp_path / "data" / folder).mkdir(parents=True)
        np.save(tmp_path / "data" / folder / f"{name}.npy", rng.normal(size=(n, width)).astype(np.float32))
    pca = {"code_dims": min(d, n), "hog_dims": min(d, n), "patch_dims": min(d, n), "selftrain_dims": 2, **pca}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 0, "pca": pca}))
    views = run_stage(tmp_path, "views")
    if views.returncode:
        return views
    result = run_stage(tmp_path, "reduce")
    result.stdout = views.stdout + result.stdout
    return result


def test_stage_caps_and_records_both_sizes(tmp_path):
    result = run_reduce(tmp_path, 200, 16, {"dims": 12, "whiten": True, "min_images_per_dim": 50})
    assert result.returncode == 0, result.stderr
    assert "pca.dims 12 capped to 4" in result.stdout
    metrics = json.loads((tmp_path / "metrics/reduce.json").read_text())
    assert (metrics["dims"], metrics["dims_requested"]) == (4, 12)
    assert np.load(tmp_path / "data/reduce/components.npy").shape == (200, 4)


def test_request_beyond_the_images_is_capped(tmp_path):
    result = run_reduce(tmp_path, 6, 16, {"dims": 10, "whiten": True, "min_images_per_dim": 1})
    assert result.returncode == 0, result.stderr
    assert "pca.dims 10 capped to 6" in result.stdout
    assert np.load(tmp_path / "data/reduce/components.npy").shape == (6, 6)


def test_the_repository_defaults_run_on_the_demo_size(tmp_path):
    """params.yaml is sized for hw7 (256 joint dims); `make run` feeds it a pool of 400 demo images."""
    defaults = yaml.safe_load((REPO / "params.yaml").read_text())["pca"]
    result = run_reduce(tmp_path, 400, 128, defaults)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "metrics/reduce.json").read_text())["dims"] == 8  # 400 / 50 each
    views = json.loads((tmp_path / "metrics/views.json").read_text())
    assert views["views"]["hog"]["dims"] == 8 and views["dims"] == 8 + 8 + 8 + 1


def test_bad_cap_is_named(tmp_path):
    result = run_reduce(tmp_path, 200, 16, {"dims": 4, "whiten": True, "min_images_per_dim": 0})
    assert result.returncode == 2
    assert "pca.min_images_per_dim" in result.stderr and "found 0" in result.stderr


def test_the_two_stages_give_what_one_call_of_both_gives(tmp_path):
    """views then reduce (two processes, an .npy between them) write the components and the
    fitted arrays that clustering.reduce_views gives in one call (selftrain's bootstrap), byte
    for byte, and pca.dims reaches reduce only: views' params never name it."""
    from pipeline.lib import clustering

    weights = {"selftrain": 1.5, "hog": 0.5}
    result = run_reduce(tmp_path, 300, 12, {"dims": 5, "whiten": True, "min_images_per_dim": 1, "weights": weights})
    assert result.returncode == 0, result.stderr
    views = {name: np.load(tmp_path / "data" / folder / f"{file}.npy") for name, folder, file in (
        ("codes", "embed", "codes"), ("hog", "hog", "descriptors"), ("patches", "patches", "descriptors"),
        ("selftrain", "selftrain", "features"))}
    components, fitted, _ = clustering.reduce_views(views, {"codes": 12, "hog": 12, "patches": 12, "selftrain": 2},
                                                    5, whiten=True, seed=0, weights=weights, log=lambda line: None)
    assert np.array_equal(np.load(tmp_path / "data/reduce/components.npy"), components)
    written = {p.stem: np.load(p) for folder in ("views", "reduce") for p in (tmp_path / "data" / folder / "pca").glob("*.npy")}
    assert written.keys() == fitted.keys() and all(np.array_equal(written[key], fitted[key]) for key in fitted)
    assert {p.stem for p in (tmp_path / "data/reduce/pca").glob("*.npy")} == {"joint_mean", "joint_components", "joint_scale"}
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert "pca.dims" not in dvc["views"]["params"] and "pca" in dvc["reduce"]["params"]
