"""Whitened PCA of the views, each then all side by side: numpy and scikit-learn only.

Shapes: a view (n, d) float32 → its components (n, dims) float32; every fitted PCA is also kept
as plain arrays (:func:`pca_arrays`), which :func:`project` applies to new rows in NumPy, so
pipeline.label projects new images exactly as the run projected its own.

Wherever an array is taken, a :class:`pipeline.lib.arrays.NpyFile` (a .npy file read on demand)
may be given instead: the streaming paths (IncrementalPCA, ``transform``) then read it in chunks
of :data:`CHUNK` rows with plain file reads, so memory stays at a few chunks however many rows;
only the fits that need every row at once (PCA) load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.lib import arrays

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

# scikit-learn (about a second to import) is imported inside the functions that use it, so that
# the stage `reduce`, which only cuts a fitted PCA, imports none.

CHUNK = 65536  # rows per batch when a view is streamed from a file
INCREMENTAL_ABOVE_BYTES = 1 << 30  # a view past 1 GiB is fitted batch by batch (IncrementalPCA)


def incremental_rule(setting="auto"):
    """pca.incremental as a rule, view → whether to fit it batch by batch: ``auto`` when the view
    passes :data:`INCREMENTAL_ABOVE_BYTES`, else the setting (true or false) for every view."""
    if setting == "auto":
        return lambda view: view.nbytes > INCREMENTAL_ABOVE_BYTES
    return lambda view: setting


def fit_pca(codes: np.ndarray | arrays.NpyFile, dims: int, whiten: bool, seed: int, *,
            incremental: bool = False) -> PCA:
    """Fit a PCA of ``codes`` (n, d) to ``dims`` components, whitened if asked.

    ``incremental`` fits batch by batch (IncrementalPCA), for codes that do not fit in memory.
    """
    from sklearn.decomposition import PCA, IncrementalPCA

    if not 1 <= dims <= min(codes.shape):
        raise ValueError(f"dims {dims} out of 1…{min(codes.shape)}: at most the rows' count and width")
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
