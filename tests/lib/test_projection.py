"""pipeline.lib.projection: the 2-D projection for the scatter plot (separation, PCA or t-SNE)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.lib.config.plot import PlotConfig
from pipeline.lib.errors import InputError
from pipeline.lib.projection import METHODS, project_2d


def blobs(per_blob: int = 100, dims: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs (unit spread) whose centres are 20 apart: features (2·per_blob, dims), labels."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], per_blob)
    centres = np.zeros((2, dims))
    centres[1] = 20 / np.sqrt(dims)
    features = centres[labels] + rng.normal(size=(2 * per_blob, dims))
    return features.astype(np.float32), labels


@pytest.mark.parametrize("method", METHODS)
def test_shape_and_dtype(method):
    features, labels = blobs(per_blob=30)
    points = project_2d(features, method, seed=0, clusters=labels)
    assert points.shape == (60, 2) and points.dtype == np.float64
    assert np.isfinite(points).all()


@pytest.mark.parametrize("method", METHODS)
def test_same_input_same_seed_same_bytes(method):
    features, labels = blobs()
    first = project_2d(features, method, seed=3, clusters=labels)
    assert project_2d(features.copy(), method, seed=3, clusters=labels.copy()).tobytes() == first.tobytes()


@pytest.mark.parametrize("method", METHODS)
def test_two_separated_blobs_stay_separated(method):
    features, labels = blobs()
    points = project_2d(features, method, seed=0, clusters=labels)
    # every point's nearest neighbour in the plane is from its own blob
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.array_equal(labels[distances.argmin(axis=1)], labels)
    # and the blobs' centres lie further apart than either blob's spread
    centres = np.array([points[labels == k].mean(axis=0) for k in (0, 1)])
    spread = max(np.linalg.norm(points[labels == k] - centres[k], axis=1).max() for k in (0, 1))
    assert np.linalg.norm(centres[0] - centres[1]) > spread


def test_pca_is_the_first_two_principal_components():
    rng = np.random.default_rng(1)
    features = (rng.normal(size=(500, 3)) * [5.0, 2.0, 0.1]).astype(np.float32)
    points = project_2d(features, "pca", seed=0)
    centred = features.astype(np.float64) - features.mean(axis=0, dtype=np.float64)
    _, vectors = np.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
    expected = centred @ vectors[:, [2, 1]]
    signs = np.sign(np.sum(points * expected, axis=0))  # an axis's sign is a convention
    np.testing.assert_allclose(points, expected * signs, atol=1e-6)


def test_small_inputs():
    """t-SNE's perplexity shrinks with n (scikit-learn needs perplexity < n)."""
    features = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    for method in METHODS:
        assert project_2d(features, method, seed=0, clusters=np.array([0, 0, 1, 1])).shape == (4, 2)


@pytest.mark.parametrize("method", ["PCA", "umap", "", None, 2])
def test_unknown_method_is_one_line_naming_the_param(method):
    features, _ = blobs(per_blob=5)
    with pytest.raises(InputError) as error:
        PlotConfig.from_values({"projection": method})
    assert str(error.value) == f"params.yaml: plot.projection: expected one of separation, pca, tsne, found {method!r}"
    with pytest.raises(ValueError, match="project_2d: expected a method among separation, pca, tsne"):
        project_2d(features, method, seed=0)


def test_separation_runs_x_along_the_clusters_and_needs_them():
    """x is the line between the cluster means: the clusters lie apart along x, and their means
    differ in x alone (y is what is left)."""
    features, labels = blobs()
    points = project_2d(features, "separation", seed=0, clusters=labels)
    assert points[labels == 1, 0].min() > points[labels == 0, 0].max()
    assert abs(points[labels == 1, 1].mean() - points[labels == 0, 1].mean()) < 1e-9
    with pytest.raises(ValueError, match="needs the clusters"):
        project_2d(features, "separation", seed=0)


def test_separation_with_one_cluster_falls_back_to_the_main_direction():
    features, _ = blobs(per_blob=20)
    points = project_2d(features, "separation", seed=0, clusters=np.zeros(40, dtype=np.int8))
    assert np.isfinite(points).all() and points[:, 0].std() > points[:, 1].std()
