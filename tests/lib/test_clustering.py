"""pipeline.lib.clustering without DVC: PCA, the two-cluster methods, alignment and the metrics."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.lib import clustering
from pipeline.lib.errors import InputError


def blobs(n_per: int = 100, d: int = 6, distance: float = 20.0,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs, the first ``n_per`` rows from blob 0; (features, truth)."""
    rng = np.random.default_rng(seed)
    centre = np.zeros(d)
    centre[0] = distance
    features = np.concatenate([rng.normal(size=(n_per, d)), centre + rng.normal(size=(n_per, d))])
    return features.astype(np.float32), np.repeat([0, 1], n_per)


def correlated_codes(n: int = 400, d: int = 12, seed: int = 0) -> np.ndarray:
    """Codes with four strong directions (clear gaps between them) and weak noise, not axis-aligned."""
    rng = np.random.default_rng(seed)
    scales = np.concatenate([[10, 6, 4, 2.5], np.linspace(0.3, 0.1, d - 4)])
    mixing = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return ((rng.normal(size=(n, d)) * scales) @ mixing + 3.0).astype(np.float32)


# --- fit_pca / transform ---------------------------------------------------------------------

@pytest.mark.parametrize("dims", [0, -1, 13, 1000])
def test_fit_pca_dims_out_of_range_names_the_key(dims):
    with pytest.raises(InputError, match=r"pca\.dims.*found " + str(dims)):
        clustering.fit_pca(correlated_codes(), dims, whiten=True, seed=0)


def test_fit_pca_dims_bounded_by_image_count():
    with pytest.raises(InputError, match="pca.dims"):
        clustering.fit_pca(correlated_codes(n=5), 6, whiten=False, seed=0)
    assert clustering.fit_pca(correlated_codes(n=5), 5, whiten=False, seed=0).n_components_ == 5


def test_whitening_gives_unit_variance_and_no_correlation():
    codes = correlated_codes()
    pca = clustering.fit_pca(codes, 5, whiten=True, seed=0)
    components = clustering.transform(pca, codes)
    assert components.shape == (400, 5) and components.dtype == np.float32
    np.testing.assert_allclose(components.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(np.cov(components, rowvar=False), np.eye(5), atol=1e-3)


def test_without_whitening_variance_is_the_explained_variance():
    codes = correlated_codes()
    pca = clustering.fit_pca(codes, 3, whiten=False, seed=0)
    components = clustering.transform(pca, codes)
    np.testing.assert_allclose(components.var(axis=0, ddof=1), pca.explained_variance_, rtol=1e-3)
    assert np.all(np.diff(components.var(axis=0)) < 0)  # decreasing: first component first


def test_incremental_pca_matches_full_pca(monkeypatch):
    monkeypatch.setattr(clustering, "CHUNK", 100)  # four partial fits over 400 rows
    codes = correlated_codes()
    full = clustering.fit_pca(codes, 4, whiten=True, seed=0)
    incremental = clustering.fit_pca(codes, 4, whiten=True, seed=0, incremental=True)
    assert type(incremental).__name__ == "IncrementalPCA"
    np.testing.assert_allclose(incremental.explained_variance_, full.explained_variance_, rtol=1e-3)
    a, b = clustering.transform(full, codes), clustering.transform(incremental, codes)
    signs = np.sign(np.sum(a * b, axis=0))  # each component is defined up to its sign
    np.testing.assert_allclose(a, b * signs, atol=1e-2)


def test_transform_writes_into_out_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr(clustering, "CHUNK", 7)
    codes = correlated_codes(n=50)
    pca = clustering.fit_pca(codes, 3, whiten=False, seed=0)
    out = np.full((50, 3), np.nan, dtype=np.float32)
    assert clustering.transform(pca, codes, out=out) is out
    np.testing.assert_allclose(out, pca.transform(codes), rtol=1e-5, atol=1e-5)


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
    with pytest.raises(InputError, match="pca.dims"):
        clustering.TwoClusters("coordinates").fit(np.zeros((4, 1)))


def test_unknown_method_names_the_key():
    with pytest.raises(InputError, match=r"cluster\.method.*'dbscan'"):
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


@pytest.mark.parametrize("whiten", [True, False])
def test_saved_pca_arrays_project_like_the_pca(whiten):
    """pca_arrays → project is the fitted PCA's transform (pipeline.label relies on it)."""
    from pipeline.lib.clustering import fit_pca, pca_arrays, project

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, 6)) * np.arange(1, 7) + 3
    pca = fit_pca(rows.astype(np.float32), 4, whiten, seed=0)
    arrays = pca_arrays(pca, "view")
    assert sorted(arrays) == ["view_components", "view_mean", "view_scale"]
    new = rng.normal(size=(10, 6))
    np.testing.assert_allclose(project(arrays, "view", new), pca.transform(new.astype(np.float32)),
                               rtol=1e-4, atol=1e-4)


# --- several views, and fitted models as arrays (what pipeline.label applies) --------------------

def test_reduce_views_then_project_views_agree():
    codes, hog = correlated_codes(seed=1), correlated_codes(d=20, seed=2)
    views = {"codes": codes, "hog": hog}
    components, fitted, info, _ = clustering.reduce_views(views, {"codes": 4, "hog": 6}, 5, whiten=True, seed=0,
                                                       log=lambda line: None)
    assert components.shape == (400, 5) and info["joint"]["dims"] == 5 and info["hog"]["dims"] == 6
    np.testing.assert_allclose(clustering.project_views(fitted, views), components, atol=1e-4)
    np.testing.assert_allclose(np.cov(components, rowvar=False), np.eye(5), atol=1e-3)  # whitened


def test_a_view_weight_scales_its_block_only_and_new_rows_get_it_too():
    codes, hog = correlated_codes(seed=1), correlated_codes(d=20, seed=2)
    views, dims = {"codes": codes, "hog": hog}, {"codes": 4, "hog": 6}
    plain, _, _ = clustering.reduce_each(views, dims, whiten=True, seed=0, log=lambda line: None)
    weighted, fitted, info = clustering.reduce_each(views, dims, whiten=True, seed=0, weights={"hog": 2.5},
                                                    log=lambda line: None)
    assert np.array_equal(weighted[:, :4], plain[:, :4])  # codes: weight 1, untouched
    np.testing.assert_allclose(weighted[:, 4:], 2.5 * plain[:, 4:], rtol=1e-6)
    assert info["hog"]["weight"] == 2.5 and info["codes"]["weight"] == 1.0
    np.testing.assert_allclose(np.hstack([clustering.project(fitted, name, view) for name, view in views.items()]),
                               weighted, atol=1e-4)
    # it moves the joint PCA's top direction towards the weighted view
    top = lambda joined: clustering.fit_pca(joined, 1, True, 0).components_[0]
    assert np.sum(top(weighted)[4:] ** 2) > np.sum(top(plain)[4:] ** 2)


@pytest.mark.parametrize("weights, found", [(2, "found 2"), ({"pixels": 2}, "found 'pixels'"),
                                            ({"hog": 0}, "found 0"), ({"hog": "heavy"}, "found 'heavy'"),
                                            ({"hog": float("nan")}, "found nan"), ({"hog": True}, "found True")])
def test_view_weights_are_checked(weights, found):
    with pytest.raises(InputError, match="params.yaml: pca.weights") as error:
        clustering.view_weights({"weights": weights})
    assert found in str(error.value)


def test_view_weights_default_to_one():
    assert clustering.view_weights({}) == {} and clustering.view_weights({"weights": None}) == {}
    assert clustering.view_weights({"weights": {"selftrain": 2}}) == {"selftrain": 2.0}


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
