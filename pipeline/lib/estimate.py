"""What Kaggle should score for a submission, read off the visualization images, with its uncertainty.

A pair is labelled right when both images are in their dataset's cluster or both are not (two
wrong make a right "same"/"different"). The visualization images, which take exactly the path of
the competition's images, give each dataset's error rate e_A, e_B; the competition's own mix of
the datasets is read off the cluster sizes, corrected for those errors. From both, the chance that
an image of cluster c is misplaced is w_c = P(other dataset | cluster c), and a pair of clusters
(c1, c2) is right with chance (1 − w_c1)(1 − w_c2) + w_c1·w_c2, averaged over the pairs.

The mix is only known as well as the clustering tells the datasets apart: with every image in one
cluster the sizes say nothing of it. So the share of dataset A is pulled toward one half (the
course's "half and half", loosely: :data:`SHARE_PRIOR_SD`) as much as its own uncertainty
warrants. A clustering that separates the datasets keeps the share its sizes give (a 30/70 set is
read as 30/70); a collapsed one, in either orientation, is scored as the coin it is (about 0.5)
instead of as a set of one dataset (where it would claim 0.998).

The interval comes from the error rates' uncertainty: e_A and e_B drawn from their posteriors
(Beta, uniform prior) given the visualization counts, each draw giving an estimate; 5,000
visualization images with a dozen mistakes bound the pair accuracy to about ±0.15 point.

Shapes: ``labels`` (n,) and ``visualization_labels`` (2k,) in {0, 1}, aligned (cluster 0 holds
most of dataset A, :func:`pipeline.lib.clustering.align`); ``pairs`` (m, 3) rows of (id, image1,
image2), image numbers 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARE_PRIOR_SD = 0.1  # how far from half and half a set's mix is believed to be, before its cluster sizes
INTERVAL = 0.95       # the interval's coverage
DRAWS = 4000          # posterior draws for the interval: its ends move by < 0.0002 between seeds at hw7's size


@dataclass(frozen=True)
class PairEstimate:
    """The expected share of pairs labelled right, and a 95 % interval around it (fractions)."""

    accuracy: float
    low: float
    high: float
    share_a: float  # the share of dataset A among the images, as the estimate takes it

    def describe(self) -> str:
        """``0.9952 (0.9937–0.9965)``: the estimate and its interval, four decimals."""
        return f"{self.accuracy:.4f} ({self.low:.4f}–{self.high:.4f})"


def error_rates(visualization_labels: np.ndarray) -> tuple[float, float]:
    """(e_A, e_B): the share of dataset A's and of dataset B's visualization images put in the
    other dataset's cluster, with cluster 0 matched to A (as :func:`pipeline.lib.clustering.align`
    names them)."""
    wrong_a, wrong_b, half = _mistakes(visualization_labels)
    return wrong_a / half, wrong_b / half


def _mistakes(visualization_labels: np.ndarray) -> tuple[int, int, int]:
    half = len(visualization_labels) // 2
    if half == 0:
        raise ValueError("no visualization images: nothing to estimate the pair accuracy from")
    return (int(np.sum(visualization_labels[:half] != 0)), int(np.sum(visualization_labels[half:] != 1)), half)


def pair_counts(labels: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """(3,) how many pairs have both images in cluster 0, one in each, both in cluster 1."""
    first, second = labels[pairs[:, 1] - 1], labels[pairs[:, 2] - 1]
    ones = first.astype(np.int64) + second
    return np.bincount(ones, minlength=3)[:3]


def share_of_a(share_0: float, e_a, e_b, sd_e_a: float, sd_e_b: float):
    """The share π_A of dataset A: solved from share_0 = π_A (1 − e_A) + (1 − π_A) e_B, then pulled
    toward one half by precision weighting against :data:`SHARE_PRIOR_SD`. Works elementwise on
    arrays of e_A, e_B (the posterior draws); the solved share's uncertainty, by the delta method,
    uses the point rates' ``sd_e_a``, ``sd_e_b``."""
    e_a, e_b = np.asarray(e_a, float), np.asarray(e_b, float)
    separation = 1.0 - e_a - e_b
    informative = separation > 0
    safe = np.where(informative, separation, 1.0)
    solved = np.clip((share_0 - e_b) / safe, 0.0, 1.0)
    variance = (solved ** 2 * sd_e_a ** 2 + (1 - solved) ** 2 * sd_e_b ** 2) / safe ** 2
    weight = np.where(informative, SHARE_PRIOR_SD ** 2 / (SHARE_PRIOR_SD ** 2 + variance), 0.0)
    return weight * solved + (1 - weight) * 0.5


def _accuracy(counts: np.ndarray, share_a, e_a, e_b):
    """The expected pair accuracy for pair ``counts`` (3,), elementwise over share and rates."""
    share_b = 1.0 - share_a
    in_0 = share_a * (1 - e_a) + share_b * e_b  # the share of images that land in cluster 0
    in_1 = share_b * (1 - e_b) + share_a * e_a
    # w_c = P(other dataset | cluster c); a cluster the rates say no image reaches, yet some did,
    # holds images of either dataset at the mix's odds
    w0 = np.where(in_0 > 0, share_b * e_b / np.where(in_0 > 0, in_0, 1.0), share_b)
    w1 = np.where(in_1 > 0, share_a * e_a / np.where(in_1 > 0, in_1, 1.0), share_a)
    right = np.array([(1 - w0) ** 2 + w0 ** 2, (1 - w0) * (1 - w1) + w0 * w1, (1 - w1) ** 2 + w1 ** 2])
    return np.tensordot(counts / counts.sum(), right, axes=1)


def estimate_pair_accuracy(labels: np.ndarray, visualization_labels: np.ndarray, pairs: np.ndarray,
                           *, seed: int = 0) -> PairEstimate:
    """What Kaggle should score for ``pairs``, with a :data:`INTERVAL` interval (module docstring).

    Deterministic: the posterior draws come from a generator seeded with ``seed``.
    """
    wrong_a, wrong_b, half = _mistakes(visualization_labels)
    e_a, e_b = wrong_a / half, wrong_b / half
    if not len(pairs):
        return PairEstimate(1.0, 1.0, 1.0, 0.5)
    counts = pair_counts(labels, pairs)
    share_0 = float(np.mean(labels == 0)) if len(labels) else 0.5
    # the rates' spread, from the posterior (never 0, even with no mistake seen)
    sd_a, sd_b = (float(np.sqrt((w + 1) * (half - w + 1) / ((half + 2) ** 2 * (half + 3)))) for w in (wrong_a, wrong_b))
    share = float(share_of_a(share_0, e_a, e_b, sd_a, sd_b))
    point = float(_accuracy(counts, share, e_a, e_b))
    rng = np.random.default_rng(seed)
    draws_a = rng.beta(wrong_a + 1, half - wrong_a + 1, DRAWS)
    draws_b = rng.beta(wrong_b + 1, half - wrong_b + 1, DRAWS)
    spread = _accuracy(counts, share_of_a(share_0, draws_a, draws_b, sd_a, sd_b), draws_a, draws_b)
    tail = (1 - INTERVAL) / 2
    low, high = (float(v) for v in np.quantile(spread, [tail, 1 - tail]))
    return PairEstimate(point, min(low, point), max(high, point), share)
