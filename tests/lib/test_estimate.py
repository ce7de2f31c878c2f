"""The pair-accuracy estimate: what Kaggle should score, read off the visualization images."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.lib import clustering
from pipeline.lib.estimate import PairEstimate, error_rates, estimate_pair_accuracy


def pairs_of(n: int, m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([np.arange(m), rng.integers(1, n + 1, (2, m)).T])


def true_score(labels: np.ndarray, truth: np.ndarray, pairs: np.ndarray) -> float:
    """What Kaggle scores: the share of pairs whose same/different label is right."""
    first, second = pairs[:, 1] - 1, pairs[:, 2] - 1
    return float(np.mean((labels[first] == labels[second]) == (truth[first] == truth[second])))


def misplace(truth: np.ndarray, e_a: float, e_b: float, seed: int) -> np.ndarray:
    """``truth`` with exactly round(e · count) of each dataset's images put in the other cluster."""
    rng = np.random.default_rng(seed)
    labels = truth.copy()
    for dataset, rate in ((0, e_a), (1, e_b)):
        members = np.flatnonzero(truth == dataset)
        wrong = rng.choice(members, int(round(rate * len(members))), replace=False)
        labels[wrong] = 1 - dataset
    return labels.astype(np.int8)


def test_exact_when_nothing_is_wrong():
    labels = np.array([0, 0, 1, 1, 1], dtype=np.int8)
    pairs = np.array([[0, 1, 2], [1, 1, 3], [2, 3, 5]])
    estimate = estimate_pair_accuracy(labels, np.array([0, 0, 1, 1], np.int8), pairs)
    assert estimate.accuracy == 1.0 and estimate.high == 1.0
    assert estimate.low < 0.9  # two visualization images a dataset prove little


def test_matches_a_simulation():
    """Images misplaced at the visualization's rates, in an unbalanced set: the estimate is
    what random pairs of it score, within sampling error."""
    rng = np.random.default_rng(0)
    n, e_a, e_b = 200_000, 0.02, 0.005
    truth = (rng.random(n) < 0.7).astype(np.int8)  # 30 % dataset A, 70 % B
    flip = np.where(truth == 0, rng.random(n) < e_a, rng.random(n) < e_b)
    labels = np.where(flip, 1 - truth, truth).astype(np.int8)
    k = 20_000
    visualization = np.concatenate([(rng.random(k) < e_a), 1 - (rng.random(k) < e_b)]).astype(np.int8)
    pairs = pairs_of(n, 300_000, seed=1)
    estimate = estimate_pair_accuracy(labels, visualization, pairs)
    right = true_score(labels, truth, pairs)
    assert abs(estimate.accuracy - right) < 0.001
    assert estimate.low <= right <= estimate.high
    # the mix is read off the cluster sizes, not assumed half and half
    assert abs(estimate.share_a - 0.3) < 0.005
    naive = 1 - 2 * (e_a + e_b) / 2
    assert abs(estimate.accuracy - naive) > 0.002


def test_error_rates_by_dataset():
    assert error_rates(np.array([0, 1, 0, 0, 1, 1, 1, 0], np.int8)) == (0.25, 0.25)


def test_no_visualization_images_is_refused():
    with pytest.raises(ValueError, match="no visualization images"):
        estimate_pair_accuracy(np.zeros(4, np.int8), np.zeros(0, np.int8), pairs_of(4, 10))


@pytest.mark.parametrize("visualization_cluster, images_cluster", itertools.product((0, 1), (0, 1)))
def test_a_collapsed_clustering_is_scored_as_a_coin_in_every_orientation(visualization_cluster, images_cluster):
    """Every image in one cluster: every pair is labelled "same", which scores about 0.5 on a
    half-and-half set. The cluster sizes then say nothing of the mix, so the estimate may not
    read them as "all one dataset" (it claimed 0.996–0.998 that way)."""
    n, k = 20_000, 2_500
    truth = np.repeat(np.array([0, 1], np.int8), n // 2)
    labels, visualization = clustering.align(np.full(n, images_cluster, np.int8),
                                             np.full(2 * k, visualization_cluster, np.int8))
    pairs = pairs_of(n, 100_000)
    estimate = estimate_pair_accuracy(labels, visualization, pairs)
    assert abs(estimate.accuracy - true_score(labels, truth, pairs)) < 0.01
    assert estimate.low <= 0.51


@pytest.mark.parametrize("swap", (False, True))
@pytest.mark.parametrize("share_a", (0.5, 0.49))
@pytest.mark.parametrize("e_a, e_b", [(0.0, 0.0), (0.002, 0.003), (0.0, 0.5), (0.5, 0.0), (0.2, 0.3),
                                      (0.3, 0.6), (0.0, 0.9), (0.001, 0.999), (0.0, 0.9996),
                                      (0.0008, 0.9988), (0.4, 1.0), (0.5, 0.5)])
def test_the_estimate_is_what_a_labelling_scores(e_a, e_b, share_a, swap):
    """Synthetic labellings, good, half-collapsed and collapsed, either way round, on sets of the
    course's mix and the holdout's: the estimate lands within a point of the score, and the
    score within its interval (widened by the set's own sampling of its pairs)."""
    n, k = 20_000, 2_500
    truth = (np.arange(n) >= round(share_a * n)).astype(np.int8)
    labels = misplace(truth, e_a, e_b, seed=1)
    visualization = misplace(np.repeat(np.array([0, 1], np.int8), k), e_a, e_b, seed=2)
    if swap:
        labels, visualization = 1 - labels, 1 - visualization
    labels, visualization = clustering.align(labels, visualization)
    pairs = pairs_of(n, 200_000, seed=3)
    score = true_score(labels, truth, pairs)
    estimate = estimate_pair_accuracy(labels, visualization, pairs)
    assert abs(estimate.accuracy - score) < 0.01
    assert estimate.low - 0.005 <= score <= estimate.high + 0.005


def test_a_dozen_mistakes_give_an_interval_of_a_few_tenths_of_a_point():
    """5,000 visualization images with 12 mistakes: the interval holds the score and spans
    tenths of a point, not hundredths."""
    n = 15_000
    truth = np.repeat(np.array([0, 1], np.int8), n // 2)
    labels = misplace(truth, 0.0024, 0.0024, seed=4)
    visualization = misplace(np.repeat(np.array([0, 1], np.int8), 2_500), 0.0024, 0.0024, seed=5)
    pairs = pairs_of(n, 1_000_000, seed=6)
    estimate = estimate_pair_accuracy(labels, visualization, pairs)
    assert estimate.low < true_score(labels, truth, pairs) < estimate.high
    assert 0.002 < estimate.high - estimate.low < 0.01


def test_deterministic_and_described():
    n = 2_000
    truth = np.repeat(np.array([0, 1], np.int8), n // 2)
    labels = misplace(truth, 0.01, 0.02, seed=0)
    visualization = misplace(np.repeat(np.array([0, 1], np.int8), 500), 0.01, 0.02, seed=1)
    pairs = pairs_of(n, 5_000)
    first, second = (estimate_pair_accuracy(labels, visualization, pairs) for _ in range(2))
    assert first == second
    text = PairEstimate(0.99523, 0.99371, 0.99652, 0.5).describe()
    assert text == "0.9952 (0.9937–0.9965)"


@pytest.mark.parametrize("swap", (False, True))
@pytest.mark.parametrize("images_rates, visualization_rates", [
    ((0.0, 0.9999), (0.0, 0.9996)), ((0.0, 0.999), (0.0, 0.9996)), ((0.0004, 0.9992), (0.0, 0.9992)),
    ((0.0, 1.0), (0.0004, 0.9992)), ((0.001, 0.998), (0.0004, 0.9988))])
def test_a_near_collapse_is_a_coin_even_when_the_sizes_disagree(images_rates, visualization_rates, swap):
    """Nearly every image in one cluster, the competition's images a little apart from the
    visualization's (as two samples are): solving the sizes for the mix then gives "all one
    dataset", which the estimate may not believe, since the clustering hardly separates them."""
    n, k = 15_000, 2_500
    truth = np.repeat(np.array([0, 1], np.int8), n // 2)
    labels = misplace(truth, *images_rates, seed=1)
    visualization = misplace(np.repeat(np.array([0, 1], np.int8), k), *visualization_rates, seed=2)
    if swap:
        labels, visualization = 1 - labels, 1 - visualization
    labels, visualization = clustering.align(labels, visualization)
    pairs = pairs_of(n, 200_000, seed=3)
    assert abs(estimate_pair_accuracy(labels, visualization, pairs).accuracy - true_score(labels, truth, pairs)) < 0.01
