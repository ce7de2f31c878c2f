"""Reduce latent codes and split them into two clusters: numpy and scikit-learn only.

Shapes: ``codes`` (n, d) float32 → ``components`` (n, dims) float32 → ``labels`` (n,) int8.

Wherever an array is taken, a :class:`pipeline.arrays.NpyFile` (a .npy file read on demand)
may be given instead: the streaming paths (IncrementalPCA, ``transform``, ``predict``) then read
it in chunks of :data:`CHUNK` rows with plain file reads, so memory stays at a few chunks however
many rows; only the fits that need every row at once (PCA, KMeans, the Gaussian mixture) load it.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

import numpy as np

from pipeline.lib import arrays
from pipeline.lib.errors import InputError

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

# scikit-learn is imported inside the functions that use it: the reduce stage then loads only
# sklearn.decomposition and the cluster stage only sklearn.cluster (each stage starts faster).

METHODS = ("kmeans", "gmm", "coordinates")
CHUNK = 65536  # rows per batch when codes are streamed from a file
THREADS_ENV = "HW7_SKLEARN_THREADS"  # threads for scikit-learn's OpenMP/BLAS here; default 1


def one_thread():
    """Run scikit-learn's OpenMP and BLAS code on one thread (or $HW7_SKLEARN_THREADS).

    Measured on 2 cores shared with another busy process: KMeans (n_init 10, 15,000 × 56) took
    0.04 s on one thread but 0.3–8.8 s on two, MiniBatchKMeans 0.02 s against 1.5 s: each of the
    thousands of small parallel regions waits at a barrier for a thread the OS has preempted.
    One thread also makes the floating-point sums, hence the outputs, independent of the core
    count. On a dedicated many-core machine with millions of images, more threads may pay.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover (a scikit-learn dependency)
        return contextlib.nullcontext()
    return threadpool_limits(max(1, int(os.environ.get(THREADS_ENV, "1"))))


def check_dims(dims: int, images: int, code_size: int) -> None:
    """pca.dims must lie in 1…min(images, code_size)."""
    if not 1 <= dims <= min(images, code_size):
        raise InputError(f"params.yaml: pca.dims: expected 1…{min(images, code_size)} (at most the width "
                         f"of the input, {code_size}, and the number of images {images}), "
                         f"found {dims}")


def fit_pca(codes: np.ndarray | arrays.NpyFile, dims: int, whiten: bool, seed: int, *,
            incremental: bool = False) -> PCA:
    """Fit a PCA of ``codes`` (n, d) to ``dims`` components, whitened if asked.

    ``incremental`` fits batch by batch (IncrementalPCA), for codes that do not fit in memory.
    """
    from sklearn.decomposition import PCA, IncrementalPCA

    check_dims(dims, *codes.shape)
    if incremental:
        pca = IncrementalPCA(n_components=dims, whiten=whiten, batch_size=max(CHUNK, dims))
        for batch in arrays.iter_chunks(codes, CHUNK):
            if len(batch) >= dims:
                pca.partial_fit(np.asarray(batch, dtype=np.float32))
        return pca
    return PCA(n_components=dims, whiten=whiten, svd_solver="full", random_state=seed).fit(
        arrays.load(codes, np.float32))


def transform(pca: PCA, codes: np.ndarray | arrays.NpyFile, out=None):
    """Project ``codes`` (n, d) with ``pca`` into ``out`` (n, dims) float32, chunk by chunk.

    ``out``: an array, or a writer with ``write(chunk)`` (:class:`pipeline.arrays.NpyWriter`)
    that receives the chunks in order; allocated as an array if not given. Returns ``out``.
    """
    if out is None:
        out = np.empty((len(codes), pca.n_components_), dtype=np.float32)
    write, start = getattr(out, "write", None), 0
    for batch in arrays.iter_chunks(codes, CHUNK):
        components = pca.transform(np.asarray(batch, dtype=np.float32)).astype(np.float32, copy=False)
        if write is not None:
            write(components)
        else:
            out[start:start + len(components)] = components
        start += len(components)
    return out


def pca_arrays(pca: PCA, prefix: str) -> dict[str, np.ndarray]:
    """A fitted PCA as plain arrays (for np.savez: no pickle), keys prefixed ``prefix_``:
    its mean (d,), components (dims, d) and the scale each coordinate is divided by (dims,)."""
    scale = np.sqrt(pca.explained_variance_) if pca.whiten else np.ones(pca.n_components_)
    return {f"{prefix}_mean": np.asarray(pca.mean_, np.float64),
            f"{prefix}_components": np.asarray(pca.components_, np.float64),
            f"{prefix}_scale": np.asarray(scale, np.float64)}


def project(arrays: dict, prefix: str, rows: np.ndarray) -> np.ndarray:
    """What ``transform`` of the PCA saved by :func:`pca_arrays` gives: (n, d) → (n, dims) float32."""
    centred = np.asarray(rows, np.float64) - arrays[f"{prefix}_mean"]
    return (centred @ arrays[f"{prefix}_components"].T / arrays[f"{prefix}_scale"]).astype(np.float32)


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

    def fit(self, features) -> "TwoClusters":
        if self.method == "coordinates":  # nothing to fit: the features are not even read
            if np.shape(features)[1] < 2:
                raise InputError("params.yaml: pca.dims: the coordinates method needs at least 2 "
                                 f"dimensions, found {np.shape(features)[1]}")
        elif self.method == "kmeans":
            from sklearn.cluster import KMeans, MiniBatchKMeans

            features = arrays.load(features, np.float32)
            kmeans = MiniBatchKMeans if self.minibatch else KMeans
            self.model = kmeans(n_clusters=2, n_init=self.n_init, random_state=self.seed).fit(features)
        else:
            from sklearn.mixture import GaussianMixture

            features = arrays.load(features, np.float32)
            self.model = GaussianMixture(n_components=2, covariance_type="full", n_init=2,
                                         reg_covar=1e-4, random_state=self.seed).fit(features)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n, dims) features → (n,) int8 cluster labels in {0, 1}."""
        labels = np.empty(len(features), dtype=np.int8)
        start = 0
        for batch in arrays.iter_chunks(features, CHUNK):
            batch = np.asarray(batch, dtype=np.float32)
            if self.method == "coordinates":
                labels[start:start + len(batch)] = batch[:, 0] > batch[:, 1]
            else:
                labels[start:start + len(batch)] = self.model.predict(batch)
            start += len(batch)
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
