"""pipeline.lib.clustering without DVC: the two-cluster methods, alignment and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
from configs import section_values

from pipeline.lib import clustering
from pipeline.lib.config.cluster import ClusterConfig
from pipeline.lib.errors import InputError


def blobs(n_per: int = 100, d: int = 6, distance: float = 20.0,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs, the first ``n_per`` rows from blob 0; (features, truth)."""
    rng = np.random.default_rng(seed)
    centre = np.zeros(d)
    centre[0] = distance
    features = np.concatenate([rng.normal(size=(n_per, d)), centre + rng.normal(size=(n_per, d))])
    return features.astype(np.float32), np.repeat([0, 1], n_per)



# --- TwoClusters -----------------------------------------------------------------------------

@pytest.mark.parametrize("method,minibatch", [("kmeans", False), ("kmeans", True), ("gmm", False)])
def test_fitted_methods_separate_two_blobs_perfectly(method, minibatch):
    features, truth = blobs()
    model = clustering.TwoClusters(method, seed=0, n_init=3, minibatch=minibatch).fit(features)
    labels = model.predict(features)
    assert labels.dtype == np.int8 and set(np.unique(labels)) == {0, 1}
    assert np.all(labels == truth) or np.all(labels == 1 - truth)


def test_fitted_methods_predict_unseen_points():
    features, truth = blobs(seed=0)
    unseen, unseen_truth = blobs(n_per=20, seed=1)
    model = clustering.TwoClusters("kmeans", seed=0).fit(features)
    flip = model.predict(features)[0]  # the name kmeans gave blob 0
    assert np.all(model.predict(unseen) == (unseen_truth ^ flip))


def test_coordinates_labels_x_greater_than_y():
    features = np.array([[2, 1, 9], [1, 2, 9], [0, 0, 9], [-1, -3, 9], [0.5, 0.25, -9]], dtype=np.float32)
    model = clustering.TwoClusters("coordinates").fit(features)
    assert model.predict(features).tolist() == [1, 0, 0, 1, 1]


def test_coordinates_needs_two_dimensions():
    with pytest.raises(InputError, match="^params.yaml: pca.dims: expected at least 2 dimensions for the "
                                         "coordinates method, found 1$"):
        ClusterConfig.check_dims("coordinates", 1)
    ClusterConfig.check_dims("kmeans", 1)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        clustering.TwoClusters("coordinates").fit(np.zeros((4, 1)))


def test_unknown_method_names_the_key():
    with pytest.raises(InputError, match=r"cluster\.method.*'dbscan'"):
        ClusterConfig.from_values({**section_values("cluster"), "method": "dbscan"})
    with pytest.raises(ValueError, match="'dbscan'"):
        clustering.TwoClusters("dbscan")


def test_predict_in_chunks_equals_one_batch(monkeypatch):
    features, _ = blobs()
    model = clustering.TwoClusters("kmeans", seed=0, n_init=2).fit(features)
    whole = model.predict(features)
    monkeypatch.setattr(clustering, "CHUNK", 9)
    assert np.array_equal(model.predict(features), whole)


def test_same_seed_same_labels():
    features, _ = blobs(distance=1.0)  # overlapping: the answer depends on the initialisation
    runs = [clustering.TwoClusters(m, seed=3, n_init=2).fit(features).predict(features)
            for m in ("kmeans", "kmeans", "gmm", "gmm")]
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[2], runs[3])


# --- align / visualization_accuracy / summarize ----------------------------------------------

def test_align_makes_the_cluster_of_the_first_half_zero():
    visualization = np.array([1, 1, 1, 0, 0, 0, 0, 1], dtype=np.int8)  # first half mostly 1
    labels = np.array([1, 0, 0, 1, 1], dtype=np.int8)
    aligned_labels, aligned_visualization = clustering.align(labels, visualization)
    assert aligned_visualization.tolist() == [0, 0, 0, 1, 1, 1, 1, 0]
    assert aligned_labels.tolist() == [0, 1, 1, 0, 0]
    assert aligned_labels.dtype == np.int8 and aligned_visualization.dtype == np.int8


def test_align_keeps_names_already_right():
    visualization = np.array([0, 0, 1, 1, 1, 1], dtype=np.int8)
    labels = np.array([1, 0, 1], dtype=np.int8)
    aligned_labels, aligned_visualization = clustering.align(labels, visualization)
    assert aligned_labels.tolist() == [1, 0, 1] and aligned_visualization.tolist() == [0, 0, 1, 1, 1, 1]


def test_visualization_accuracy_is_permutation_invariant():
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 0], dtype=np.int8)  # 6 of 8 right
    assert clustering.visualization_accuracy(labels) == 0.75
    assert clustering.visualization_accuracy(1 - labels) == 0.75
    assert clustering.visualization_accuracy(np.array([0, 0, 1, 1])) == 1.0
    assert clustering.visualization_accuracy(np.array([1, 1, 0, 0])) == 1.0
    assert clustering.visualization_accuracy(np.array([0, 1, 0, 1])) == 0.5
    assert clustering.visualization_accuracy(np.zeros(10, dtype=np.int8)) == 0.5


def test_summarize_counts():
    labels = np.array([0, 1, 1, 1, 0, 1], dtype=np.int8)
    visualization = np.array([0, 0, 1, 1, 1, 0], dtype=np.int8)
    assert clustering.summarize(labels, visualization) == {
        "visualization_accuracy": 4 / 6,
        "cluster_sizes": {"0": 2, "1": 4},
        "visualization_confusion": {"A": {"0": 2, "1": 1}, "B": {"0": 1, "1": 2}},
    }


@pytest.mark.parametrize("method", ["kmeans", "gmm", "coordinates"])
def test_clusters_saved_as_arrays_predict_the_same(method):
    features, _ = blobs(n_per=150, d=3, distance=3.0)
    model = clustering.TwoClusters(method, 0).fit(features)
    again = clustering.TwoClusters.from_arrays(method, model.arrays())
    assert np.array_equal(again.predict(features), model.predict(features))


def test_kmeans_labels_are_scikit_learns():
    from sklearn.cluster import KMeans

    features, _ = blobs(n_per=200, d=4, distance=2.0)
    ours = clustering.TwoClusters("kmeans", 3).fit(features).predict(features)
    theirs = KMeans(2, n_init=10, random_state=3).fit(features).predict(features)
    assert np.array_equal(ours, theirs)


def test_the_final_split_is_checked_against_the_self_trained_scores():
    labels = np.repeat(np.array([0, 1], np.int8), 50)
    scores = np.where(labels == 1, -2.0, 3.0)  # the same split, named the other way round
    assert clustering.split_check(labels, scores) == (1.0, None)
    scores[:9] *= -1  # 91 % alike: still trusted
    assert clustering.split_check(labels, scores)[1] is None
    scores[9:11] *= -1  # 89 %
    share, warning = clustering.split_check(labels, scores)
    assert share == 0.89 and "agree with the self-trained scores' split on 89.0% of the images, below 90%" in warning
    assert "\n" not in warning and "pca.weights.selftrain" in warning


def four_corners(long: float = 10.5, short: float = 10.0, n_per: int = 60) -> np.ndarray:
    """Four tight blobs at (±long, ±short) in 2-D: k-means has two stable splits, along x (the lower
    inertia) and along y; (4·n_per, 2) float32, blob by blob (+x+y, +x−y, −x+y, −x−y)."""
    rng = np.random.default_rng(0)
    corners = [(long, short), (long, -short), (-long, short), (-long, -short)]
    return np.concatenate([np.array(c) + 0.3 * rng.normal(size=(n_per, 2)) for c in corners]).astype(np.float32)


@pytest.mark.parametrize("minibatch", [False, True])
def test_kmeans_keeps_the_start_of_lower_inertia_and_says_when_the_restarts_disagree(minibatch):
    features = four_corners()
    along_x = (features[:, 0] < 0).astype(np.int8)
    along_y = (features[:, 1] < 0).astype(np.int8)
    outcomes = []
    for seed in range(12):  # single restarts: some end in the y split
        plain = clustering.TwoClusters("kmeans", seed, n_init=1, minibatch=minibatch).fit(features)
        started = clustering.TwoClusters("kmeans", seed, n_init=1, minibatch=minibatch).fit(features, start=along_x)
        assert clustering.agreement(started.predict(features), along_x) == 1.0
        assert started.kept == "start"
        in_y = clustering.agreement(plain.predict(features), along_y) == 1.0
        outcomes.append(in_y)
        # the check: the restarts' split against the start's
        assert started.restarts_agreement == pytest.approx(0.5 if in_y else 1.0)
    assert any(outcomes) and not all(outcomes), "single restarts did not end in both splits: the case is not tested"


@pytest.mark.parametrize("minibatch", [False, True])
def test_kmeans_keeps_the_restarts_split_when_the_start_is_worse(minibatch):
    features = four_corners()
    along_y = (features[:, 1] < 0).astype(np.int8)
    model = clustering.TwoClusters("kmeans", 0, n_init=10, minibatch=minibatch).fit(features, start=along_y)
    assert model.kept == "restarts" and model.restarts_agreement == pytest.approx(0.5)
    assert clustering.agreement(model.predict(features), (features[:, 0] < 0).astype(np.int8)) == 1.0


def test_kmeans_restarts_on_a_sample_only_when_a_start_guards_them(monkeypatch):
    """Past RESTART_ROWS the restarts that check a start see a sample, their split refitted on
    every row, and a start in the same split is kept as it is. Without a start nothing would
    catch a sample's sub-population split: the restarts see every row and are the fit."""
    from sklearn.cluster import KMeans

    monkeypatch.setattr(clustering, "RESTART_ROWS", 100)
    fitted_rows = []
    fit = KMeans.fit
    monkeypatch.setattr(KMeans, "fit", lambda self, X, *a, **k: fitted_rows.append((self.n_init, len(X))) or fit(self, X, *a, **k))
    features = four_corners(n_per=100)  # 400 rows
    along_x = (features[:, 0] < 0).astype(np.int8)
    plain = clustering.TwoClusters("kmeans", 0, n_init=10).fit(features)
    assert plain.kept == "restarts" and plain.restarts_agreement is None and plain.restart_rows == 400
    assert clustering.agreement(plain.predict(features), along_x) == 1.0
    started = clustering.TwoClusters("kmeans", 0, n_init=10).fit(features, start=along_x)
    assert started.kept == "start" and started.restarts_agreement == 1.0 and started.restart_rows == 100
    # unstarted: the restarts on all 400 rows; started: the fit from the start's centres on all
    # 400, the restarts on 100, their split refitted on all 400
    assert fitted_rows == [(10, 400), (1, 400), (10, 100), (1, 400)]
    np.testing.assert_allclose(np.sort(started.fitted["centres"], axis=0), np.sort(plain.fitted["centres"], axis=0),
                               atol=1e-5)


def test_the_mixture_starts_from_the_kmeans_partition():
    """EM starts where k-means ended: on two blobs it keeps k-means' split, and a start in the
    worse split does not survive the restarts' check."""
    features = four_corners()
    along_x = (features[:, 0] < 0).astype(np.int8)
    along_y = (features[:, 1] < 0).astype(np.int8)
    model = clustering.TwoClusters("gmm", 0, n_init=10).fit(features, start=along_y)
    assert model.kept == "restarts"
    assert clustering.agreement(model.predict(features), along_x) == 1.0


def test_the_mixture_is_fitted_on_a_sample_of_a_large_pool_and_labels_every_row(monkeypatch):
    """Past MIXTURE_ROWS, EM sees a random sample (the same rows for the same seed); the fitted
    mixture still labels every row, and a side the sample would miss makes EM see every row."""
    from sklearn.mixture import GaussianMixture

    monkeypatch.setattr(clustering, "MIXTURE_ROWS", 100)
    fitted_rows = []
    fit = GaussianMixture.fit
    monkeypatch.setattr(GaussianMixture, "fit", lambda self, X, *a, **k: fitted_rows.append(len(X)) or fit(self, X, *a, **k))
    features = four_corners(n_per=100)  # 400 rows
    along_x = (features[:, 0] < 0).astype(np.int8)
    model = clustering.TwoClusters("gmm", 0).fit(features, start=along_x)
    assert fitted_rows == [100]
    assert clustering.agreement(model.predict(features), along_x) == 1.0
    again = clustering.TwoClusters("gmm", 0).fit(features, start=along_x)
    np.testing.assert_array_equal(again.fitted["means"], model.fitted["means"])
    # one far point k-means sets apart: a sample of 100 rows would hold at most it alone
    lonely = np.concatenate([features, [[1000.0, 1000.0]]]).astype(np.float32)
    clustering.TwoClusters("gmm", 0).fit(lonely, start=(np.arange(len(lonely)) == len(lonely) - 1).astype(np.int8))
    assert fitted_rows[-1] == len(lonely)
