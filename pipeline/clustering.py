"""Reduce latent codes and split them into two clusters: numpy and scikit-learn only.

Shapes: ``codes`` (n, d) float32 → ``components`` (n, dims) float32 → ``labels`` (n,) int8.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.mixture import GaussianMixture

from pipeline.errors import InputError

METHODS = ("kmeans", "gmm", "coordinates")
CHUNK = 65536  # rows per batch when codes are streamed from a memory map


def fit_pca(codes: np.ndarray, dims: int, whiten: bool, seed: int, *, incremental: bool = False) -> PCA:
    """Fit a PCA of ``codes`` (n, d) to ``dims`` components, whitened if asked.

    ``incremental`` fits batch by batch (IncrementalPCA), for codes that do not fit in memory.
    """
    n, d = codes.shape
    if not 1 <= dims <= min(n, d):
        raise InputError(f"params.yaml: pca.dims: expected 1…{min(n, d)} (at most the code size {d} "
                         f"set by embed.code_size, and the number of images {n}), found {dims}")
    if incremental:
        pca = IncrementalPCA(n_components=dims, whiten=whiten, batch_size=max(CHUNK, dims))
        for start in range(0, n, CHUNK):
            batch = np.asarray(codes[start:start + CHUNK], dtype=np.float32)
            if len(batch) >= dims:
                pca.partial_fit(batch)
        return pca
    return PCA(n_components=dims, whiten=whiten, svd_solver="full", random_state=seed).fit(
        np.asarray(codes, dtype=np.float32))


def transform(pca: PCA, codes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Project ``codes`` (n, d) with ``pca`` into ``out`` (n, dims) float32, chunk by chunk."""
    if out is None:
        out = np.empty((len(codes), pca.n_components_), dtype=np.float32)
    for start in range(0, len(codes), CHUNK):
        out[start:start + CHUNK] = pca.transform(np.asarray(codes[start:start + CHUNK], dtype=np.float32))
    return out


class TwoClusters:
    """Two clusters behind one small interface: ``fit(features)``, then ``predict(features)``.

    method
        ``kmeans``: k-means, k = 2 (MiniBatchKMeans when ``minibatch``).
        ``gmm``: a two-component Gaussian mixture with full covariances.
        ``coordinates``: the seed report's "method II": take the first two PCA coordinates and
        label each point by which one is larger; nothing is fitted.
    """

    def __init__(self, method: str, seed: int = 0, *, n_init: int = 10, minibatch: bool = False):
        if method not in METHODS:
            raise InputError(f"params.yaml: cluster.method: expected one of {', '.join(METHODS)}, "
                             f"found {method!r}")
        self.method, self.seed, self.n_init, self.minibatch = method, seed, n_init, minibatch
        self.model = None

    def fit(self, features: np.ndarray) -> "TwoClusters":
        features = np.asarray(features, dtype=np.float32)
        if self.method == "coordinates":
            if features.shape[1] < 2:
                raise InputError("params.yaml: pca.dims: the coordinates method needs at least 2 "
                                 f"dimensions, found {features.shape[1]}")
        elif self.method == "kmeans":
            kmeans = MiniBatchKMeans if self.minibatch else KMeans
            self.model = kmeans(n_clusters=2, n_init=self.n_init, random_state=self.seed).fit(features)
        else:
            self.model = GaussianMixture(n_components=2, covariance_type="full", n_init=2,
                                         reg_covar=1e-4, random_state=self.seed).fit(features)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n, dims) features → (n,) int8 cluster labels in {0, 1}."""
        labels = np.empty(len(features), dtype=np.int8)
        for start in range(0, len(features), CHUNK):
            batch = np.asarray(features[start:start + CHUNK], dtype=np.float32)
            if self.method == "coordinates":
                labels[start:start + CHUNK] = batch[:, 0] > batch[:, 1]
            else:
                labels[start:start + CHUNK] = self.model.predict(batch)
        return labels


def align(labels: np.ndarray, visualization_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap cluster names, if needed, so that the cluster holding most of visualization's first
    half (dataset A) is 0. Returns both label arrays, aligned."""
    first_half = visualization_labels[: len(visualization_labels) // 2]
    if first_half.mean() > 0.5:
        return (1 - labels).astype(np.int8), (1 - visualization_labels).astype(np.int8)
    return labels, visualization_labels


def visualization_accuracy(visualization_labels: np.ndarray) -> float:
    """Share of visualization images in the right cluster, whichever cluster is called A."""
    truth = np.repeat(np.array([0, 1], dtype=np.int8), len(visualization_labels) // 2)
    agreement = float(np.mean(visualization_labels == truth))
    return max(agreement, 1.0 - agreement)


def summarize(labels: np.ndarray, visualization_labels: np.ndarray) -> dict:
    """The clustering metrics: accuracy on visualization, cluster sizes, and where each half went."""
    half = len(visualization_labels) // 2
    return {
        "visualization_accuracy": visualization_accuracy(visualization_labels),
        "cluster_sizes": {str(c): int(np.sum(labels == c)) for c in (0, 1)},
        "visualization_confusion": {
            name: {str(c): int(np.sum(part == c)) for c in (0, 1)}
            for name, part in (("A", visualization_labels[:half]), ("B", visualization_labels[half:]))
        },
    }
