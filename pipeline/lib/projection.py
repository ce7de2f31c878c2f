"""Two-dimensional projections of feature vectors for the scatter plot (homework 2b: "PCA, t-SNE, etc.").

`plot.projection` chooses the method: ``separation`` (the line between the two clusters' means,
and the main direction of what is left), or scikit-learn's PCA or t-SNE. Same features and seed give the
same bytes: PCA is solved exactly (no randomized solver); t-SNE starts from PCA, its random_state
is the seed, and it runs on one OpenMP thread whatever the machine (see TSNE_THREADS).
"""

from __future__ import annotations

import numpy as np

from pipeline.lib.config.plot import PROJECTIONS as METHODS

# t-SNE settings, measured at 5,000 points of 32 dimensions on this project's 2 cores (Xeon, shared
# with other jobs): scikit-learn's defaults (perplexity 30, 1,000 iterations, angle 0.5) take about
# 30 s of CPU; these take about 10 s, with the same 10-nearest-neighbour agreement of the two
# datasets in 2-D (0.94) as in the features. Most of the time goes to the 250 fixed
# early-exaggeration iterations, which no setting shortens.
TSNE_PERPLEXITY = 20.0  # neighbours per point: 3 × perplexity
TSNE_MAX_ITER = 500  # 250 early-exaggeration iterations, then 250 more
TSNE_ANGLE = 0.8  # Barnes-Hut coarseness (scikit-learn: 0.5): faster; KL and layout measured the same
# One OpenMP thread: the Barnes-Hut gradient sums its terms per thread, so another thread count
# would change the last bits; and on cores shared with other jobs, two threads were slower
# (their barriers wait on each other), 20–30 s instead of 10.
TSNE_THREADS = 1


def check_method(method) -> str:
    """``method`` if it is one of :data:`METHODS` (plot.projection's choices), else a ValueError."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"project_2d: expected a method among {', '.join(METHODS)}, "
                         f"found {method!r}")
    return method


def project_2d(features: np.ndarray, method: str, seed: int, clusters: np.ndarray | None = None) -> np.ndarray:
    """Project (n, d) ``features`` (n ≥ 2, d ≥ 2) to (n, 2) float64 coordinates.

    ``method``: "separation" (x along the line joining the means of the two ``clusters``, y
    along the main direction of what is left: the view that shows two clusters apart even in
    whitened features, where every direction has the same variance and PCA's pick is arbitrary),
    "pca" (the first two principal components) or "tsne" (Barnes-Hut t-SNE,
    initialised with PCA, perplexity :data:`TSNE_PERPLEXITY` or less for small n). Units are
    the method's own: PCA's are the features', t-SNE's are arbitrary; only the layout means anything.
    """
    check_method(method)
    features = np.asarray(features)
    if features.ndim != 2 or len(features) < 2 or features.shape[1] < 2:
        raise ValueError(f"project_2d: expected features of shape (n ≥ 2, d ≥ 2), found {features.shape}")
    if method == "separation":
        if clusters is None:
            raise ValueError("project_2d: the separation projection needs the clusters")
        return separation_axes(features, clusters)
    if method == "pca":
        from sklearn.decomposition import PCA

        # covariance_eigh: exact and deterministic (svd_flip fixes the signs); d is small here
        pca = PCA(n_components=2, svd_solver="covariance_eigh", random_state=seed)
        return pca.fit_transform(features.astype(np.float64)).astype(np.float64)

    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    # scikit-learn needs perplexity < n; 3 × perplexity neighbours must exist
    perplexity = min(TSNE_PERPLEXITY, max(1.0, (len(features) - 1) / 3))
    tsne = TSNE(n_components=2, perplexity=perplexity, max_iter=TSNE_MAX_ITER, angle=TSNE_ANGLE,
                init="pca", learning_rate="auto", random_state=seed, method="barnes_hut")
    with threadpool_limits(limits=TSNE_THREADS, user_api="openmp"):
        return tsne.fit_transform(features.astype(np.float32)).astype(np.float64)


def separation_axes(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A 2-D view of (n, d) ``points`` that shows two clusters apart: (n, 2) float64.

    x runs along the line joining the two cluster means; y along the main direction of
    what is left. For d = 2 the points are returned as they are.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape[1] <= 2:
        return np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    centred = points - points.mean(axis=0)
    between = centred[labels == 1].mean(axis=0) - centred[labels == 0].mean(axis=0) \
        if np.any(labels == 1) and np.any(labels == 0) else np.zeros(points.shape[1])
    if not np.linalg.norm(between):
        between = np.linalg.svd(centred, full_matrices=False)[2][0]
    x_axis = between / np.linalg.norm(between)
    residual = centred - np.outer(centred @ x_axis, x_axis)
    y_axis = np.linalg.svd(residual, full_matrices=False)[2][0]
    y_axis *= np.sign(y_axis[np.argmax(np.abs(y_axis))])
    return np.column_stack([centred @ x_axis, centred @ y_axis])
