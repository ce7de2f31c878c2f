"""The stages views and reduce: their PCA size rule (pca.<view>_dims and pca.dims, capped by
pca.min_images_per_dim), and that the two steps give what one call of both gives."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.lib import paths
from pipeline.lib.config.pca import dims_for
from pipeline.lib.paths import VIEW_FILES

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
    # every key params.yaml must hold; the joint cap, unless given, the views' own
    pca = {"views": list(VIEW_FILES), "code_dims": min(d, n), "hog_dims": min(d, n), "patch_dims": min(d, n),
           "selftrain_dims": 2, "weights": None, "incremental": "auto",
           "min_images_per_joint_dim": pca.get("min_images_per_dim"), **pca}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 0, "pca": pca}))
    views = run_stage(tmp_path, "views")
    if views.returncode:
        return views
    result = run_stage(tmp_path, "reduce")
    result.stdout = views.stdout + result.stdout
    return result


def read_views(tmp_path) -> dict:
    """The four views run_reduce wrote, read back from where the stage views reads them."""
    return {name: np.load(tmp_path / path) for name, path in VIEW_FILES.items()}


def test_stage_caps_and_records_both_sizes(tmp_path):
    result = run_reduce(tmp_path, 200, 16, {"dims": 12, "whiten": True, "min_images_per_dim": 50})
    assert result.returncode == 0, result.stderr
    assert "pca.dims 12 capped to 4" in result.stdout
    metrics = json.loads((tmp_path / paths.REDUCE_SUMMARY).read_text())
    assert (metrics["dims"], metrics["dims_requested"]) == (4, 12)
    assert np.load(tmp_path / paths.COMPONENTS).shape == (200, 4)


def test_request_beyond_the_images_is_capped(tmp_path):
    result = run_reduce(tmp_path, 6, 16, {"dims": 10, "whiten": True, "min_images_per_dim": 1})
    assert result.returncode == 0, result.stderr
    assert "pca.dims 10 capped to 6" in result.stdout
    assert np.load(tmp_path / paths.COMPONENTS).shape == (6, 6)


def test_the_repository_defaults_run_on_the_demo_size(tmp_path):
    """params.yaml is sized for hw7 (256 joint dims); `make run` feeds it a pool of 400 demo images."""
    defaults = yaml.safe_load((REPO / "params.yaml").read_text())["pca"]
    result = run_reduce(tmp_path, 400, 128, defaults)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / paths.REDUCE_SUMMARY).read_text())["dims"] == 5  # 400 / 75
    views = json.loads((tmp_path / paths.VIEWS_SUMMARY).read_text())
    assert views["views"]["hog"]["dims"] == 8 and views["dims"] == 8 + 8 + 8 + 1  # 400 / 50 each
    assert views["joint"]["dims"] == 5


def test_the_joint_cap_has_its_own_rule(tmp_path):
    """pca.min_images_per_joint_dim caps the joint PCA (views fits no more, reduce keeps no more)
    and leaves each view's size to pca.min_images_per_dim."""
    result = run_reduce(tmp_path, 300, 16, {"dims": 12, "whiten": True, "min_images_per_dim": 30,
                                            "min_images_per_joint_dim": 100})
    assert result.returncode == 0, result.stderr
    assert "pca.dims 12 capped to 3: the image count and pca.min_images_per_joint_dim 100" in result.stdout
    views = json.loads((tmp_path / paths.VIEWS_SUMMARY).read_text())
    assert views["views"]["hog"]["dims"] == 10 and views["joint"]["dims"] == 3
    assert np.load(tmp_path / paths.VIEWS_COMPONENTS).shape == (300, 3)
    assert np.load(tmp_path / paths.COMPONENTS).shape == (300, 3)


@pytest.mark.parametrize("key", ["min_images_per_dim", "min_images_per_joint_dim"])
def test_bad_cap_is_named(tmp_path, key):
    result = run_reduce(tmp_path, 200, 16, {"dims": 4, "whiten": True, "min_images_per_dim": 1, key: 0})
    assert result.returncode == 2
    assert f"pca.{key}: expected a positive integer" in result.stderr and "found 0" in result.stderr


def test_the_two_stages_give_what_one_call_of_both_gives(tmp_path):
    """views then reduce (two processes, an .npy between them) write the fitted arrays that
    pca.reduce_views gives in one call (selftrain's bootstrap), byte for byte, and its
    components (to float32 rounding: views projects onto every joint direction at once, a
    matrix product of another width); pca.dims reaches reduce only: views' params never name it."""
    from pipeline.lib import pca

    weights = {"selftrain": 1.5, "hog": 0.5}
    result = run_reduce(tmp_path, 300, 12, {"dims": 5, "whiten": True, "min_images_per_dim": 1, "weights": weights})
    assert result.returncode == 0, result.stderr
    views = read_views(tmp_path)
    components, fitted, _, _ = pca.reduce_views(views, {"codes": 12, "hog": 12, "patches": 12, "selftrain": 2},
                                                    5, whiten=True, seed=0, weights=weights, log=lambda line: None)
    written_components = np.load(tmp_path / paths.COMPONENTS)
    assert written_components.shape == components.shape == (300, 5)
    np.testing.assert_allclose(written_components, components, rtol=1e-5, atol=1e-5)
    assert np.array_equal(written_components, np.load(tmp_path / paths.VIEWS_COMPONENTS)[:, :5])
    written = {p.stem: np.load(p) for folder in ("views", "reduce") for p in (tmp_path / "data" / folder / "pca").glob("*.npy")}
    assert written.keys() == fitted.keys() and all(np.array_equal(written[key], fitted[key]) for key in fitted)
    assert {p.stem for p in (tmp_path / paths.REDUCE_PCA).glob("*.npy")} == {"joint_mean", "joint_components", "joint_scale"}
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert "pca.dims" not in dvc["views"]["params"] and "pca" in dvc["reduce"]["params"]


def test_views_keeps_every_direction_reduce_may_ask_for_and_reduce_cuts(tmp_path):
    """views fits the joint PCA to the views' width capped by the image count (here 300 / 10 =
    30 of 12 + 12 + 12 + 2 = 38); reduce keeps the first pca.dims columns and the same cut of the
    PCA, so pipeline.label's projection of the pool gives reduce's components."""
    from pipeline.lib import pca

    result = run_reduce(tmp_path, 300, 12, {"dims": 7, "whiten": True, "min_images_per_dim": 10})
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / paths.VIEWS_COMPONENTS).shape == (300, 30)
    metrics = json.loads((tmp_path / paths.VIEWS_SUMMARY).read_text())
    assert (metrics["dims"], metrics["joint"]["dims"]) == (38, 30)
    ratio = np.load(tmp_path / "data/views/joint/joint_explained_variance_ratio.npy")
    assert ratio.shape == (30,) and np.all(np.diff(ratio) <= 0)
    reduced = json.loads((tmp_path / paths.REDUCE_SUMMARY).read_text())
    assert reduced["dims"] == 7 and reduced["explained_variance_percent"] == pytest.approx(100 * ratio[:7].sum())
    components = np.load(tmp_path / paths.COMPONENTS)
    assert components.shape == (300, 7)
    fitted = {p.stem: np.load(p) for folder in ("views/pca", "reduce/pca") for p in (tmp_path / "data" / folder).glob("*.npy")}
    views = read_views(tmp_path)
    np.testing.assert_allclose(pca.project_views(fitted, views), components, rtol=1e-4, atol=1e-4)
    assert np.allclose(components.std(axis=0, ddof=1), 1, atol=1e-4)  # whitened


def test_reduce_rejects_a_joint_pca_of_another_width(tmp_path):
    result = run_reduce(tmp_path, 60, 4, {"dims": 3, "whiten": True, "min_images_per_dim": 1})
    assert result.returncode == 0, result.stderr
    np.save(tmp_path / "data/views/joint/joint_scale.npy", np.ones(3))
    again = run_stage(tmp_path, "reduce")
    assert again.returncode == 2
    assert "data/views/joint/joint_scale.npy: expected shape (14,)" in again.stderr and "found (3,)" in again.stderr


def test_reduce_imports_neither_scikit_learn_nor_tensorflow(tmp_path):
    """pca.dims experiments run reduce: it cuts, so it should not pay scikit-learn's second of
    imports (nor, downstream of all learning, TensorFlow's)."""
    result = run_reduce(tmp_path, 60, 4, {"dims": 3, "whiten": True, "min_images_per_dim": 1})
    assert result.returncode == 0, result.stderr
    probe = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print('loaded:', sorted({m.split('.')[0] for m in sys.modules}"
             " & {'sklearn', 'scipy', 'tensorflow', 'keras'})))\n"
             "sys.argv = ['reduce']\n"
             "runpy.run_module('pipeline.stages.reduce', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "reduce: the first 3 of" in done.stdout
    assert "loaded: []" in done.stdout
