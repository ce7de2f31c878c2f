"""The second view and self-training: HOG descriptors, the refine stage, its CNN."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.lib.descriptors import HogConfig, descriptor_size, hog_descriptors
from pipeline.lib.errors import InputError
from pipeline.stages import refine
from pipeline.stages.refine import check_params

REPO = Path(__file__).resolve().parents[1]

REFINE = {"rounds": 3, "folds": 2, "filters": [32, 64, 128], "epochs": 20, "batch_size": 128,
          "learning_rate": 0.001, "linear_c": 0.01, "min_images": 2000}


def faces_and_stripes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n images, half of them a bright disc on dark ground, half vertical stripes; (images, kind)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    disc = ((yy - 16) ** 2 + (xx - 16) ** 2 < 100).astype(float)
    stripes = (xx // 4 % 2).astype(float)
    kind = np.arange(n) % 2
    base = np.where(kind[:, None, None] == 0, disc, stripes)
    pixels = 40 + 160 * base[..., None] * rng.uniform(0.6, 1.0, size=(n, 1, 1, 3))
    pixels += rng.normal(0, 12, size=pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8), kind


# ----------------------------------------------------------------------------- HOG descriptors
def test_descriptor_size_is_what_skimage_returns():
    images, _ = faces_and_stripes(3)
    for config in (HogConfig(), HogConfig(orientations=6, cell=8, block=1), HogConfig(cell=8, block=3)):
        assert hog_descriptors(images, config, progress=False).shape == (3, descriptor_size(config))
    assert descriptor_size(HogConfig()) == 1764  # 7 × 7 blocks × 2 × 2 cells × 9 orientations


def test_hog_ignores_brightness_but_sees_shape():
    images, _ = faces_and_stripes(2)
    darker = (images.astype(float) * 0.5).astype(np.uint8)
    plain, dim = (hog_descriptors(batch, HogConfig(), progress=False) for batch in (images, darker))
    cosine = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cosine(plain[0], dim[0]) > 0.97  # the disc, half as bright
    assert cosine(plain[0], plain[1]) < 0.6  # the disc against the stripes


def test_hog_chunks_and_writer_give_the_same_rows():
    images, _ = faces_and_stripes(10)
    whole = hog_descriptors(images, HogConfig(), progress=False)
    written = []

    class Writer:
        def __len__(self):
            return 10

        def write(self, chunk):
            written.append(chunk)

    hog_descriptors((images[i:i + 4] for i in range(0, 10, 4)), HogConfig(), Writer(), progress=False)
    np.testing.assert_array_equal(np.vstack(written), whole)


@pytest.mark.parametrize("params, expected", [
    ({"cell": 0}, "hog.cell: expected a positive integer, found 0"),
    ({"orientations": "nine"}, "hog.orientations: expected a positive integer, found 'nine'"),
    ({"block": True}, "hog.block: expected a positive integer, found True"),
    ({"cell": 16, "block": 3}, "hog.block: expected at most 2"),
    ({"cells": 4}, "hog.cells: unknown key"),
])
def test_hog_params_are_checked(params, expected):
    with pytest.raises(InputError, match=expected):
        HogConfig.from_params(params)


# ----------------------------------------------------------------------------------- refine params
@pytest.mark.parametrize("changes, expected", [
    ({"rounds": -1}, "refine.rounds: expected an integer ≥ 0, found -1"),
    ({"folds": 0}, "refine.folds: expected an integer ≥ 1, found 0"),
    ({"epochs": 2.5}, "refine.epochs: expected an integer ≥ 1, found 2.5"),
    ({"batch_size": None}, "refine.batch_size: expected an integer ≥ 1, found None"),
    ({"linear_c": -1}, "refine.linear_c: expected a number > 0, found -1"),
    ({"filters": []}, "refine.filters: expected a list of 1 to 5 positive integers"),
    ({"filters": [8, "wide"]}, r"refine.filters: .*found \[8, 'wide'\]"),
    ({"learning_rate": 0}, r"refine.learning_rate: expected a number in \(0, 1\], found 0"),
    ({"round": 2}, "refine.round: unknown key"),
])
def test_refine_params_are_checked(changes, expected):
    with pytest.raises(InputError, match=expected):
        check_params({**REFINE, **changes})


def test_refine_defaults_pass():
    check_params(REFINE)


# ---------------------------------------------------------------------------------- self-training
def test_cross_fitted_classifier_learns_the_pseudo_labels():
    from pipeline.lib import autoencoder, selftrain

    autoencoder.make_deterministic(0)
    images, kind = faces_and_stripes(192)
    shown, shown_kind = faces_and_stripes(20, seed=1)
    noisy = kind.copy()
    noisy[:8] = 1 - noisy[:8]  # a few wrong pseudo-labels
    scores, shown_scores, models = selftrain.cross_fit_scores(
        images, noisy, shown, filters=[8], folds=2, epochs=6, batch_size=16, learning_rate=0.01, seed=0)
    assert scores.shape == (192,) and shown_scores.shape == (20,) and scores.dtype == np.float32
    assert np.mean((scores > 0) == kind) >= 0.95
    # out-of-fold: each image is scored by a model that did not see its (wrong) label
    assert np.mean((scores[:8] > 0) == kind[:8]) >= 0.75
    assert np.mean((shown_scores > 0) == shown_kind) >= 0.95
    assert len(models) == 2  # new images are scored by the mean of the fold models, as visualization is
    np.testing.assert_allclose(np.mean([selftrain.score(m, shown) for m in models], axis=0), shown_scores,
                               rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------ the linear view
def test_linear_scores_separate_what_the_labels_separate():
    rng = np.random.default_rng(0)
    kind = np.arange(400) % 2
    components = rng.normal(size=(400, 5)) + 3 * kind[:, None] * np.eye(5)[0]
    noisy = kind.copy()
    noisy[:20] = 1 - noisy[:20]  # 5 % wrong labels: a linear model overrules most of them
    scores, shown, model = refine.linear_scores(components, noisy, components[:10], c=0.01, seed=0)
    assert scores.shape == (400,) and shown.shape == (10,) and scores.dtype == np.float32
    np.testing.assert_allclose(components @ model[:-1] + model[-1], scores, rtol=1e-4, atol=1e-4)
    assert np.mean((scores > 0) == kind) > 0.9
    assert np.mean((scores[:20] > 0) == kind[:20]) > 0.7


def test_linear_scores_of_a_single_cluster_are_zero():
    scores, shown, model = refine.linear_scores(np.ones((6, 2)), np.zeros(6, np.int8), np.ones((2, 2)), 0.01, 0)
    assert not scores.any() and not shown.any() and model.shape == (3,) and not model.any()


def test_scores_are_summed_in_units_of_their_spread():
    from pipeline.lib import selftrain

    linear = np.array([-2.0, 2.0])
    scales = (selftrain.spread(linear), 1.0, 1.0)  # 2; the CNN's unit 1
    assert selftrain.combine(linear, np.zeros(2), scales).tolist() == [-1.0, 1.0]
    assert selftrain.combine(np.array([4.0]), np.zeros(1), scales).tolist() == [2.0]  # in the same unit
    assert selftrain.spread(np.zeros(3)) == 1.0  # no spread: unchanged
    assert selftrain.combine(np.zeros(3), np.zeros(3), (selftrain.spread(np.zeros(3)), 1.0, 1.0)).tolist() == [0.0] * 3
    # both views weigh alike in their own units, and the sign follows the cluster names
    assert selftrain.combine(np.array([4.0]), np.array([-8.0]), (2.0, 4.0, 1.0)).tolist() == [0.0]
    assert selftrain.combine(np.array([4.0]), np.array([4.0]), (2.0, 4.0, -1.0)).tolist() == [-3.0]


@pytest.mark.parametrize("changes", [{"rounds": 0}, {"rounds": 3, "min_images": 6}],
                         ids=["rounds-0", "fewer-images-than-min_images"])
def test_clusters_pass_through_without_tensorflow(tmp_path, changes):
    labels = np.array([0, 1, 1, 0, 1], dtype=np.int8)
    shown = np.array([0, 0, 1, 1], dtype=np.int8)
    (tmp_path / "data/cluster").mkdir(parents=True)
    np.save(tmp_path / "data/cluster/labels.npy", labels)
    np.save(tmp_path / "data/cluster/visualization_labels.npy", shown)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 0, "refine": {**REFINE, **changes}}))
    code = ("import sys, runpy; sys.argv = ['refine']; "
            "from pipeline.stages import refine; refine.main([]); print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("False")  # TensorFlow never loaded
    np.testing.assert_array_equal(np.load(tmp_path / "data/refine/labels.npy"), labels)
    np.testing.assert_array_equal(np.load(tmp_path / "data/refine/visualization_labels.npy"), shown)
    metrics = yaml.safe_load((tmp_path / "metrics/refine.json").read_text())
    assert metrics["visualization_accuracy"] == 1.0 and metrics["relabelled"] == {}
