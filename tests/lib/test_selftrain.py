"""pipeline.lib.selftrain: the bootstrap, cross-fitting by content, the linear and CNN views."""

from __future__ import annotations

import numpy as np
import pytest
from configs import section_values

from pipeline.lib import clustering, selftrain
from pipeline.lib.config.selftrain import SelftrainConfig
from pipeline.lib.errors import InputError

DEFAULTS = section_values("selftrain")


def discs_and_stripes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n images, half a bright disc on dark ground, half vertical stripes; (images, kind)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    disc = ((yy - 16) ** 2 + (xx - 16) ** 2 < 100).astype(float)
    stripes = (xx // 4 % 2).astype(float)
    kind = np.arange(n) % 2
    base = np.where(kind[:, None, None] == 0, disc, stripes)
    pixels = 40 + 160 * base[..., None] * rng.uniform(0.6, 1.0, size=(n, 1, 1, 3))
    pixels += rng.normal(0, 12, size=pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8), kind


def test_repository_defaults_are_valid():
    config = SelftrainConfig.from_values(DEFAULTS)
    assert config.folds >= 2 and config.filters and config.learning_rate > 0


@pytest.mark.parametrize("changes, expected", [
    ({"folds": 1}, "selftrain.folds: expected an integer ≥ 2, found 1"),
    ({"epochs": 2.5}, "selftrain.epochs: expected a positive integer, found 2.5"),
    ({"linear_c": 0}, r"selftrain.linear_c: expected a number in \(0, inf\], found 0"),
    ({"filters": []}, "selftrain.filters: expected a list of 1 to 5 positive integers"),
    ({"train_samples": 0}, "selftrain.train_samples: expected a positive integer or null \(all of its folds\), found 0"),
    ({"round": 2}, "selftrain.round: unknown key"),
])
def test_params_are_checked(changes, expected):
    with pytest.raises(InputError, match=expected):
        SelftrainConfig.from_values({**DEFAULTS, **changes})


def test_content_folds_depend_on_the_pixels_alone():
    images, _ = discs_and_stripes(40)
    folds = selftrain.content_folds(images, 3)
    assert folds.shape == (40,) and set(np.unique(folds)) <= {0, 1, 2} and len(np.unique(folds)) == 3
    # a copy of an image, wherever it stands, is in its original's part
    shuffled = np.random.default_rng(1).permutation(40)
    again = selftrain.content_folds(np.concatenate([images, images[shuffled]]), 3)
    assert np.array_equal(again[40:], folds[shuffled])


def test_bootstrap_clusters_the_views():
    images, kind = discs_and_stripes(60)
    rng = np.random.default_rng(0)
    views = {name: np.column_stack([kind * 5.0, rng.normal(size=(60, 5))]).astype(np.float32)
             for name in ("codes", "hog", "patches")}
    config = SelftrainConfig.from_values({**DEFAULTS, "code_dims": 3, "hog_dims": 3, "patch_dims": 3, "dims": 3})
    labels, components, fitted, agreements = selftrain.bootstrap(views, config, seed=0, log=lambda line: None)
    # 60 images allow 60 / 50 → 2 whitened dimensions (reduce caps them the same way)
    assert labels.shape == (60,) and components.shape == (60, 2)
    assert max(np.mean(labels == kind), np.mean(labels != kind)) == 1.0
    assert {"codes_mean", "joint_components"} <= set(fitted)
    assert agreements == {"codes": 1.0, "hog": 1.0, "patches": 1.0}
    assert selftrain.bootstrap_warning(labels, agreements) is None


def test_a_bootstrap_that_splits_a_sub_population_is_told():
    """The views' strongest structure is not the datasets' split but a crop style across both
    (a quarter of each dataset cropped tight): the bootstrap follows it, and the check says so
    in one line, by the split's sizes (a quarter against three, where the datasets are halves)."""
    rng = np.random.default_rng(0)
    n = 400
    dataset, crop = np.arange(n) % 2, (np.arange(n) // 2) % 4 == 0
    views = {name: np.column_stack([rng.normal(size=(n, 4)) + 1.0 * dataset[:, None],
                                    np.outer(crop, np.full(4, 6.0)) + rng.normal(size=(n, 4))]).astype(np.float32)
             for name in ("codes", "hog", "patches")}
    config = SelftrainConfig.from_values({**DEFAULTS, "code_dims": 8, "hog_dims": 8, "patch_dims": 8, "dims": 2})
    labels, components, _, agreements = selftrain.bootstrap(views, config, seed=0, log=lambda line: None)
    assert clustering.agreement(labels, crop.astype(np.int8)) > 0.95  # the wrong split
    warning = selftrain.bootstrap_warning(labels, agreements)
    assert "sub-population" in warning and "smaller cluster holds 25.0% of the pool" in warning
    assert "\n" not in warning
    # split again: the crop becomes one of several parts, merged into the two balanced halves
    resplit = selftrain.balanced_split(components, seed=0)
    assert min(np.mean(resplit == 0), np.mean(resplit == 1)) >= selftrain.SMALLER_SHARE
    assert clustering.agreement(resplit, dataset.astype(np.int8)) > 0.95


def test_balanced_split_keeps_halves_and_refuses_when_none_is_balanced():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [0, 6], [9, 0], [9, 6]], float)
    sizes = [300, 100, 300, 100]  # two groups of 400 at x = 0 and x = 9, each made of two parts
    points = np.concatenate([c + rng.normal(size=(k, 2)) for c, k in zip(centres, sizes)]).astype(np.float32)
    halves = selftrain.balanced_split(points, seed=0)
    assert clustering.agreement(halves, (points[:, 0] > 4.5).astype(np.int8)) == 1.0
    lopsided = np.concatenate([rng.normal(size=(970, 2)), 20 + rng.normal(size=(30, 2))]).astype(np.float32)
    assert selftrain.balanced_split(lopsided, seed=0, clusters=2) is None


def test_a_bootstrap_no_view_agrees_with_is_told():
    labels = np.repeat(np.array([0, 1], np.int8), 50)
    assert clustering.agreement(labels, 1 - labels) == 1.0
    assert clustering.agreement(labels, np.zeros(100, np.int8)) == 0.5
    assert selftrain.bootstrap_warning(labels, {"codes": 0.9, "patches": 0.96}) is None
    warning = selftrain.bootstrap_warning(labels, {"codes": 0.9, "patches": 0.94})
    assert "no view's own two clusters agree with it on 95% of the images (codes 0.900, patches 0.940)" in warning
    assert "smaller cluster" not in warning
    lopsided = np.concatenate([np.zeros(61, np.int8), np.ones(39, np.int8)])
    assert "smaller cluster holds 39.0% of the pool" in selftrain.bootstrap_warning(lopsided, {"codes": 0.99})
    nearly_half = np.concatenate([np.zeros(59, np.int8), np.ones(41, np.int8)])
    assert selftrain.bootstrap_warning(nearly_half, {"codes": 0.99}) is None


def test_linear_scores_are_out_of_fold():
    """An image's score comes from the model of the other part: with a pseudo-label that
    contradicts its features, it still gets the score its features call for."""
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 50)
    components = (truth[:, None] * 4.0 + rng.normal(size=(100, 3))).astype(np.float32)
    labels = truth.copy()
    labels[[3, 60]] = 1 - labels[[3, 60]]  # two wrong pseudo-labels
    folds = (np.arange(100) % 2).astype(np.int8)
    scores, models = selftrain.linear_scores(components, labels, folds, c=1.0, seed=0)
    assert models.shape == (2, 4)
    assert ((scores[[3, 60]] > 0) == truth[[3, 60]]).all()  # both wrong pseudo-labels corrected
    assert np.mean((scores > 0) == truth) >= 0.98
    np.testing.assert_allclose(selftrain.apply_linear(models, components[:5]),
                               np.mean(components[:5].astype(np.float64) @ models[:, :-1].T + models[:, -1], axis=1),
                               rtol=1e-6)


def test_cnn_learns_the_pseudo_labels_out_of_fold():
    from pipeline.lib.autoencoder import make_deterministic

    make_deterministic(0)
    images, kind = discs_and_stripes(240)
    labels = kind.astype(np.int8).copy()
    labels[:12] = 1 - labels[:12]  # 5 % of the pseudo-labels wrong
    config = SelftrainConfig.from_values({**DEFAULTS, "filters": [8, 16], "epochs": 4, "batch_size": 32})
    folds = selftrain.content_folds(images, 2)
    scores, models = selftrain.cnn_scores(images, labels, folds, config, seed=0, verbose=0)
    assert len(models) == 2 and scores.shape == (240,)
    assert np.mean((scores > 0) == kind) >= 0.9
    assert np.mean((scores[:12] > 0) == kind[:12]) >= 0.75  # most wrong pseudo-labels corrected
    mean = np.mean([selftrain.cnn_logits(model, images[:10]) for model in models], axis=0)
    assert mean.shape == (10,) and np.isfinite(mean).all()


def test_cnn_training_dataset_pairs_pixels_with_labels_and_reshuffles():
    images = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 32, 32, 3), np.uint8)
    labels = np.arange(10) % 2
    data = selftrain.training_dataset(images, labels, batch_size=4, seed=3)
    # tf.data's autotuning thread made Keras wait up to 10 s at each epoch's end (training.py)
    assert data.options().autotune.enabled is False
    epochs = [[(x.numpy(), y.numpy()) for x, y in data] for _ in range(2)]
    for batches in epochs:
        assert [len(x) for x, _ in batches] == [4, 4, 2]
        x = np.concatenate([x for x, _ in batches])
        y = np.concatenate([y for _, y in batches])
        assert x.dtype == np.float32 and y.dtype == np.float32
        index = np.rint(x[:, 0, 0, 0] * 255).astype(int)
        assert sorted(index) == list(range(10))  # every image once an epoch, pixels / 255
        np.testing.assert_array_equal(y, labels[index])  # each with its own label
    order = [np.concatenate([np.rint(x[:, 0, 0, 0] * 255) for x, _ in batches]) for batches in epochs]
    assert not np.array_equal(order[0], order[1])  # a new order every epoch
    again = [np.rint(x.numpy()[:, 0, 0, 0] * 255) for x, _ in selftrain.training_dataset(images, labels, 4, seed=3)]
    np.testing.assert_array_equal(np.concatenate(again), order[0])  # from the seed
