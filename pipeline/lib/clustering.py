"""Reduce latent codes and split them into two clusters: numpy and scikit-learn only.

Shapes: ``codes`` (n, d) float32 → ``components`` (n, dims) float32 → ``labels`` (n,) int8.

Wherever an array is taken, a :class:`pipeline.lib.arrays.NpyFile` (a .npy file read on demand)
may be given instead: the streaming paths (IncrementalPCA, ``transform``, ``predict``) then read
it in chunks of :data:`CHUNK` rows with plain file reads, so memory stays at a few chunks however
many rows; only the fits that need every row at once (PCA, KMeans, the Gaussian mixture) load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.lib import arrays
from pipeline.lib.errors import InputError

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

# scikit-learn (about a second to import) is imported inside the functions that use it, so that
# the stages that import this module for its checks and arrays alone (predict, plot) start faster.

METHODS = ("kmeans", "gmm", "coordinates")
CHUNK = 65536  # rows per batch when codes are streamed from a file
INCREMENTAL_ABOVE_BYTES = 1 << 30  # a view past 1 GiB is fitted batch by batch (IncrementalPCA)


# pca.views: each view → the pca key of its PCA size, in the order the views are put side by side
VIEW_DIMS = {"codes": "code_dims", "hog": "hog_dims", "patches": "patch_dims", "selftrain": "selftrain_dims"}


def chosen_views(params: dict) -> list[str]:
    """``pca.views`` checked: the names of the views to use, in :data:`VIEW_DIMS` order (the order
    pipeline.label applies the fitted PCAs in). Absent: all of them."""
    names = params.get("views", list(VIEW_DIMS))
    if (not isinstance(names, list) or not names or not all(isinstance(n, str) and n in VIEW_DIMS for n in names)
            or len(set(names)) != len(names)):
        raise InputError(f"params.yaml: pca.views: expected a non-empty list of {', '.join(VIEW_DIMS)} "
                         f"(each at most once), found {names!r}")
    return [name for name in VIEW_DIMS if name in names]


def check_pca_params(params: dict, *, joint: bool = True) -> None:
    """The ``pca`` section's types and, with ``joint``, pca.dims and the one rule between the keys
    (the joint size is at most the chosen views' sizes added up), before anything is read. The
    stage `views` checks without ``joint``: it does not read pca.dims, so changing it never
    reruns that stage. Each size against its view's width and the image count is checked where
    the views are read."""
    keys = [VIEW_DIMS[name] for name in chosen_views(params)]
    for key in ("dims", *keys) if joint else keys:
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"params.yaml: pca.{key}: expected a positive integer, found {value!r}")
    if joint and params["dims"] > sum(params[key] for key in keys):
        raise InputError(f"params.yaml: pca.dims: expected at most {' + '.join(f'pca.{k}' for k in keys)} = "
                         f"{sum(params[key] for key in keys)} (the views side by side), found {params['dims']}")
    if not isinstance(params.get("whiten"), bool):
        raise InputError(f"params.yaml: pca.whiten: expected true or false, found {params.get('whiten')!r}")
    for key in ("min_images_per_dim", "min_images_per_joint_dim"):
        per_dim = params.get(key, 1)
        if isinstance(per_dim, bool) or not isinstance(per_dim, int) or per_dim < 1:
            raise InputError(f"params.yaml: pca.{key}: expected a positive integer (1: no cap), "
                             f"found {per_dim!r}")
    view_weights(params)
    if params.get("incremental", "auto") not in ("auto", True, False):
        raise InputError(f"params.yaml: pca.incremental: expected auto, true or false, "
                         f"found {params.get('incremental')!r}")


def view_weights(params: dict) -> dict[str, float]:
    """``pca.weights`` checked: view name → the positive number its whitened block is multiplied
    by before the joint PCA. Absent (or a view not named): 1."""
    weights = params.get("weights") or {}
    if not isinstance(weights, dict):
        raise InputError(f"params.yaml: pca.weights: expected a mapping of view names to numbers "
                         f"(e.g. {{selftrain: 1.5}}), found {weights!r}")
    for name, value in weights.items():
        if name not in VIEW_DIMS:
            raise InputError(f"params.yaml: pca.weights: expected view names among {', '.join(VIEW_DIMS)}, "
                             f"found {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise InputError(f"params.yaml: pca.weights.{name}: expected a positive number, found {value!r}")
    return {name: float(value) for name, value in weights.items()}


def capped_dims(params: dict, key: str, images: int, stage: str) -> int:
    """pca.<key>, capped by the image count and pca.min_images_per_dim (pca.dims: by
    :func:`joint_per_dim`), saying so, so the defaults sized for hw7 also run on the 200-image demo."""
    per_key = _per_dim_key(params, joint=key == "dims")
    per_dim = params.get(per_key, 1)
    cap = dims_for(images, images, per_dim)
    if params[key] > cap:
        print(f"{stage}: pca.{key} {params[key]} capped to {cap}: the image count and "
              f"pca.{per_key} {per_dim} allow no more")
    return min(params[key], cap)


def joint_per_dim(params: dict) -> int:
    """Images per direction of the joint PCA, the space k-means works in: pca.min_images_per_joint_dim
    (absent: pca.min_images_per_dim, the views' own rule).

    Stricter than the views' rule because k-means weighs every whitened direction alike, so on a
    small pool each direction kept past the few that separate the datasets is noise as large as
    the signal. The 200-image demo (400 rows) over seeds 0-5: 5 joint directions put 86.5-99.5 %
    of its visualization images in the right cluster (mean 95.8), the 8 the views' rule allows
    59.5-98.5 % (mean 84.3). hw7 and the holdout (19,674-20,000 rows) are capped at 262 or more,
    above pca.dims, and label every image as with the views' rule (BENCHMARKS.md, levers #56)."""
    return params.get(_per_dim_key(params, joint=True), 1)


def _per_dim_key(params: dict, *, joint: bool) -> str:
    return "min_images_per_joint_dim" if joint and "min_images_per_joint_dim" in params else "min_images_per_dim"


def incremental_rule(setting="auto"):
    """pca.incremental as a rule, view → whether to fit it batch by batch: ``auto`` when the view
    passes :data:`INCREMENTAL_ABOVE_BYTES`, else the setting (true or false) for every view."""
    if setting == "auto":
        return lambda view: view.nbytes > INCREMENTAL_ABOVE_BYTES
    return lambda view: setting


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
    # covariance_eigh: the eigenvectors of the d × d covariance, exact like a full SVD and several
    # times faster when there are many more rows than columns (HOG: 20,000 × 1,764 in 2 s, not 7)
    solver = "covariance_eigh" if len(codes) >= codes.shape[1] else "full"
    return PCA(n_components=dims, whiten=whiten, svd_solver=solver, random_state=seed).fit(
        arrays.load(codes, np.float32))


def transform(pca: PCA, codes: np.ndarray | arrays.NpyFile, out=None):
    """Project ``codes`` (n, d) with ``pca`` into ``out`` (n, dims) float32, chunk by chunk.

    ``out``: an array, or a writer with ``write(chunk)`` (:class:`pipeline.lib.arrays.NpyWriter`)
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
            f"{prefix}_components": np.ascontiguousarray(pca.components_, np.float64),  # rows readable in chunks
            f"{prefix}_scale": np.asarray(scale, np.float64)}


def project(arrays: dict, prefix: str, rows: np.ndarray) -> np.ndarray:
    """What ``transform`` of the PCA saved by :func:`pca_arrays` gives: (n, d) → (n, dims) float32."""
    centred = np.asarray(rows, np.float64) - arrays[f"{prefix}_mean"]
    return (centred @ arrays[f"{prefix}_components"].T / arrays[f"{prefix}_scale"]).astype(np.float32)


def dims_for(requested: int, images: int, min_images_per_dim: int) -> int:
    """The PCA size to use: ``requested``, capped so each dimension has ``min_images_per_dim``
    images (at least 2 dimensions). Whitening scales every kept direction to unit variance, so
    on a small set it would blow sampling noise up to the size of real structure."""
    return min(requested, max(2, images // min_images_per_dim))


def reduce_each(views: dict, dims: dict[str, int], *, whiten: bool, seed: int, incremental=None,
                weights: dict[str, float] | None = None, log=print) -> tuple[np.ndarray, dict, dict]:
    """PCA of each view to ``dims[name]`` (whitened if asked), times ``weights[name]`` (default
    1), the results side by side.

    ``views``: name → (N, d_name) array or :class:`pipeline.lib.arrays.NpyFile`, the same N rows in
    each. ``incremental(view)`` says whether to fit that view batch by batch (default: when it
    passes :data:`INCREMENTAL_ABOVE_BYTES`, so a million images' HOG, 7 GB, is never loaded
    whole). Returns the views' components side by side (N, Σ dims) float32; each fitted PCA as
    plain arrays (name_mean, name_components, name_scale: :func:`project` applies them to new
    rows; the weight is folded into name_scale); and per view its size, the share of its
    variance kept (%) and its weight.

    A weight scales a view's whole block, so it changes nothing within the view, only how much
    the view counts in the joint PCA that follows: the top joint directions (what a small joint
    size keeps) are where the weighted views vary most together.
    """
    incremental = incremental or incremental_rule()
    weights = weights or {}
    parts, fitted, info = [], {}, {}
    for name, view in views.items():
        pca = fit_pca(view, dims[name], whiten, seed, incremental=incremental(view))
        weight = float(weights.get(name, 1.0))
        part = transform(pca, view)
        if weight != 1.0:
            part *= np.float32(weight)
        parts.append(part)
        saved = pca_arrays(pca, name)
        saved[f"{name}_scale"] = saved[f"{name}_scale"] / weight  # project() then gives the weighted block
        fitted.update(saved)
        info[name] = {"dims": int(pca.n_components_),
                      "explained_variance_percent": 100.0 * float(np.sum(pca.explained_variance_ratio_)),
                      "weight": weight}
        log(f"{name}: PCA {view.shape[1]} → {pca.n_components_} dims, "
            f"{info[name]['explained_variance_percent']:.1f} % of the variance kept"
            + (f", weighted ×{weight:g}" if weight != 1.0 else ""))
    return np.hstack(parts), fitted, info


def reduce_joint(joined, joint_dims: int, *, whiten: bool, seed: int, incremental: bool = False,
                 log=print) -> tuple[np.ndarray, dict, dict]:
    """PCA of the views side by side (N, d) (an array or :class:`pipeline.lib.arrays.NpyFile`) to
    ``joint_dims`` (at most d): the components (N, ≤ joint_dims) float32, the fitted PCA as
    plain arrays (joint_*, and joint_explained_variance_ratio: each direction's share of the
    whole variance, a fraction), and its size and the share of variance kept (%)."""
    if not incremental:  # read a file once, for the fit and the projection both
        joined = arrays.load(joined, np.float32)
    pca = fit_pca(joined, min(joint_dims, joined.shape[1]), whiten, seed, incremental=incremental)
    info = {"dims": int(pca.n_components_),
            "explained_variance_percent": 100.0 * float(np.sum(pca.explained_variance_ratio_))}
    log(f"all views side by side: {joined.shape[1]} → {pca.n_components_} dims"
        f"{' (whitened)' if whiten else ''}")
    fitted = {**pca_arrays(pca, "joint"),
              "joint_explained_variance_ratio": np.asarray(pca.explained_variance_ratio_, np.float64)}
    return transform(pca, joined), fitted, info


def leading_dims(fitted: dict, dims: int) -> tuple[dict, dict]:
    """The joint PCA of :func:`reduce_joint` cut to its first ``dims`` directions: (the arrays
    :func:`project` needs, joint_mean (d,), joint_components (dims, d), joint_scale (dims,); its
    size and the share of variance kept (%)).

    A PCA's leading directions do not depend on how many are kept (the stage `views` fits every
    direction `reduce` may ask for, with the exact covariance solver; IncrementalPCA, for views
    past 1 GiB, nearly so), so its first ``dims`` directions are the PCA to ``dims``, and the
    first ``dims`` columns of its projection are that PCA's: `dvc exp run -S pca.dims=N` cuts,
    it fits nothing and needs no scikit-learn."""
    if not 1 <= dims <= len(fitted["joint_scale"]):
        raise ValueError(f"dims {dims} out of 1…{len(fitted['joint_scale'])}")
    cut = {"joint_mean": fitted["joint_mean"], "joint_components": fitted["joint_components"][:dims],
           "joint_scale": fitted["joint_scale"][:dims]}
    info = {"dims": int(dims),
            "explained_variance_percent": 100.0 * float(np.sum(fitted["joint_explained_variance_ratio"][:dims]))}
    return cut, info


def reduce_views(views: dict, dims: dict[str, int], joint_dims: int, *, whiten: bool, seed: int,
                 incremental=None, weights: dict[str, float] | None = None,
                 log=print) -> tuple[np.ndarray, dict, dict, np.ndarray]:
    """:func:`reduce_each`, then :func:`reduce_joint`, in one call (the stages `views` and
    `reduce` make the two steps; selftrain's bootstrap makes both at once). Returns the joint
    components (N, ≤ joint_dims) float32, every fitted PCA as plain arrays, the info of each
    view and of the joint PCA (key ``joint``), and the views' own components side by side
    (N, Σ dims) float32, in ``views``' order."""
    joined, fitted, info = reduce_each(views, dims, whiten=whiten, seed=seed, incremental=incremental,
                                       weights=weights, log=log)
    components, joint, info["joint"] = reduce_joint(joined, joint_dims, whiten=whiten, seed=seed, log=log)
    del joint["joint_explained_variance_ratio"]  # the shares of a cut (leading_dims) only
    return components, {**fitted, **joint}, info, joined


def project_views(fitted: dict, views: dict) -> np.ndarray:
    """What :func:`reduce_views` gives for new rows, from its fitted arrays: (N, joint_dims) float32.

    ``views`` in the order they were fitted in; a view the PCAs were not fitted on (left out by
    ``pca.views``) is skipped."""
    return project(fitted, "joint", np.hstack([project(fitted, name, view) for name, view in views.items()
                                               if f"{name}_mean" in fitted]))


class TwoClusters:
    """Two clusters behind one small interface: ``fit(features)``, then ``predict(features)``.

    method
        ``kmeans``: k-means, k = 2 (MiniBatchKMeans when ``minibatch``).
        ``gmm``: a two-component Gaussian mixture with full covariances.
        ``coordinates``: the seed report's "method II": take the first two PCA coordinates and
        label each point by which one is larger; nothing is fitted.

    scikit-learn fits; the fitted model is kept as plain arrays (:meth:`arrays`), and labels are
    computed from those in NumPy, by the stage and by pipeline.label alike (:meth:`from_arrays`),
    so a saved model labels new images exactly as the run labelled its own.
    """

    def __init__(self, method: str, seed: int = 0, *, n_init: int = 10, minibatch: bool = False):
        if method not in METHODS:
            raise InputError(f"params.yaml: cluster.method: expected one of {', '.join(METHODS)}, "
                             f"found {method!r}")
        self.method, self.seed, self.n_init, self.minibatch = method, seed, n_init, minibatch
        self.fitted: dict[str, np.ndarray] = {}

    def fit(self, features) -> "TwoClusters":
        if self.method == "coordinates":  # nothing to fit: the features are not even read
            if np.shape(features)[1] < 2:
                raise InputError("params.yaml: pca.dims: the coordinates method needs at least 2 "
                                 f"dimensions, found {np.shape(features)[1]}")
        elif self.method == "kmeans":
            from sklearn.cluster import KMeans, MiniBatchKMeans

            features = arrays.load(features, np.float32)
            kmeans = MiniBatchKMeans if self.minibatch else KMeans
            model = kmeans(n_clusters=2, n_init=self.n_init, random_state=self.seed).fit(features)
            self.fitted = {"centres": np.asarray(model.cluster_centers_, np.float64)}
        else:
            from sklearn.mixture import GaussianMixture

            # float64: EM ran a third faster than on float32 (hw7, 20,000 × 256, one thread:
            # 2.9–4.1 s against 4.2–6.0 s over three runs), for twice the memory of the copy
            features = arrays.load(features, np.float64)
            # tol 1e-2, not scikit-learn's 1e-3: the bound it compares is the mean log-likelihood
            # per image, hundreds in 256 dimensions, so 1e-2 is still a change of ~1e-5 of it.
            # On the accuracy runs (hw7 and holdout, seeds 0–2) EM took 4–10 iterations
            # instead of 7–16 (13–53 % less time) for the same accuracy: 97.86 against 97.83 %
            # on hw7 (each run within ±0.22), identical on the holdout
            model = GaussianMixture(n_components=2, covariance_type="full", n_init=1, tol=1e-2,
                                    reg_covar=1e-4, random_state=self.seed).fit(features)
            self.fitted = {"weights": model.weights_, "means": model.means_,
                           "precisions_cholesky": model.precisions_cholesky_}
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """The fitted model as plain arrays (no pickle): k-means' two centres (2, d); the
        mixture's weights (2,), means (2, d) and precision Cholesky factors (2, d, d); nothing
        for ``coordinates``."""
        return dict(self.fitted)

    @classmethod
    def from_arrays(cls, method: str, fitted: dict[str, np.ndarray]) -> "TwoClusters":
        """A model that predicts as the one whose :meth:`arrays` gave ``fitted``."""
        model = cls(method)
        model.fitted = {key: np.asarray(value, np.float64) for key, value in fitted.items()}
        return model

    def _labels(self, batch: np.ndarray) -> np.ndarray:
        if self.method == "coordinates":
            return batch[:, 0] > batch[:, 1]
        batch = batch.astype(np.float64)
        if self.method == "kmeans":  # the nearest centre
            return np.argmin(((batch[:, None, :] - self.fitted["centres"][None]) ** 2).sum(axis=2), axis=1)
        # the component of the highest weighted log-likelihood (the shared constant dropped)
        scores = []
        for weight, mean, factor in zip(self.fitted["weights"], self.fitted["means"],
                                        self.fitted["precisions_cholesky"]):
            whitened = (batch - mean) @ factor
            scores.append(np.log(weight) + np.sum(np.log(np.diag(factor))) - 0.5 * np.sum(whitened ** 2, axis=1))
        return np.argmax(np.stack(scores, axis=1), axis=1)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n, dims) features → (n,) int8 cluster labels in {0, 1}."""
        labels = np.empty(len(features), dtype=np.int8)
        start = 0
        for batch in arrays.iter_chunks(features, CHUNK):
            labels[start:start + len(batch)] = self._labels(np.asarray(batch, dtype=np.float32))
            start += len(batch)
        return labels


def align(labels: np.ndarray, visualization_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap cluster names, if needed, so that the cluster holding most of visualization's first
    half (dataset A) is 0. Returns both label arrays, aligned."""
    first_half = visualization_labels[: len(visualization_labels) // 2]
    if first_half.mean() > 0.5:
        return (1 - labels).astype(np.int8), (1 - visualization_labels).astype(np.int8)
    return labels, visualization_labels


def align_pool(labels: np.ndarray, rows) -> np.ndarray:
    """:func:`align` for a pool's labels (n + 2k,), named after its visualization rows
    (``rows``: :class:`pipeline.lib.pool.Rows`)."""
    visualization = rows.visualization_part(labels)
    if visualization[: len(visualization) // 2].mean() > 0.5:
        return (1 - labels).astype(np.int8)
    return labels.astype(np.int8)


def summarize_pool(labels: np.ndarray, rows) -> dict:
    """:func:`summarize` of a pool's labels: the cluster sizes of the competition images, the
    accuracy and confusion of the visualization images."""
    return summarize(rows.competition_part(labels), rows.visualization_part(labels))


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
