"""Stage `reduce`: whitened PCA of each view of the images, then of both views side by side.

    python -m pipeline.reduce         (params: pca.*, seed)

The two views: the autoencoder codes (data/embed/codes.npy, (n, code_size)) and the HOG
descriptors (data/hog/descriptors.npy, (n, 1764)). Each is reduced to pca.code_dims /
pca.hog_dims, whitened; the two are put side by side and reduced, whitened, to pca.dims. Every
PCA is fitted on the images only. Writes data/reduce/components.npy (n, dims) float32,
data/reduce/visualization_components.npy (2k, dims) float32, data/reduce/pca/*.npy (the
fitted PCAs as arrays, for pipeline.label) and metrics/reduce.json.

Why whitening: it gives every kept direction unit variance, so k-means weighs the direction
that tells the datasets apart like any other instead of drowning it in brightness and colour;
done per view first, neither view outweighs the other by its scale or width.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.lib import arrays, clustering
from pipeline.lib.atomic import save_json, save_npy
from pipeline.lib.errors import InputError, main_guard
from pipeline.lib.params import load_params

VIEWS = {  # view name → (its pca.<name>_dims key, the images' file, visualization's file)
    "codes": ("code_dims", Path("data/embed/codes.npy"), Path("data/embed/visualization_codes.npy")),
    "hog": ("hog_dims", Path("data/hog/descriptors.npy"), Path("data/hog/visualization_descriptors.npy")),
}
OUT = Path("data/reduce")
INCREMENTAL_ABOVE_BYTES = 1 << 30  # "auto" streams a view's PCA once it passes 1 GiB


def use_incremental(setting, codes: np.ndarray | arrays.NpyFile) -> bool:
    if setting == "auto":
        return codes.nbytes > INCREMENTAL_ABOVE_BYTES
    if isinstance(setting, bool):
        return setting
    raise InputError(f"params.yaml: pca.incremental: expected auto, true or false, found {setting!r}")


def check_params(params: dict) -> None:
    """Types first; each size against its view's width and the image count is checked later."""
    for key in ("dims", "code_dims", "hog_dims"):
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"params.yaml: pca.{key}: expected a positive integer, found {value!r}")
    if params["dims"] > params["code_dims"] + params["hog_dims"]:
        raise InputError(f"params.yaml: pca.dims: expected at most pca.code_dims + pca.hog_dims = "
                         f"{params['code_dims'] + params['hog_dims']} (the two views side by side), "
                         f"found {params['dims']}")
    if not isinstance(params.get("whiten"), bool):
        raise InputError(f"params.yaml: pca.whiten: expected true or false, found {params.get('whiten')!r}")
    per_dim = params.get("min_images_per_dim", 1)
    if isinstance(per_dim, bool) or not isinstance(per_dim, int) or per_dim < 1:
        raise InputError(f"params.yaml: pca.min_images_per_dim: expected a positive integer (1: no cap), "
                         f"found {per_dim!r}")


def dims_for(requested: int, images: int, min_images_per_dim: int) -> int:
    """The PCA size to use: ``requested``, capped so each dimension has ``min_images_per_dim``
    images (at least 2 dimensions). Whitening scales every kept direction to unit variance, so
    on a small set it would blow sampling noise up to the size of real structure."""
    return min(requested, max(2, images // min_images_per_dim))


def capped(key: str, params: dict, cap: int) -> int:
    """pca.<key>, capped at ``cap`` (saying so)."""
    if params[key] > cap:
        print(f"reduce: pca.{key} {params[key]} capped to {cap}: the image count and "
              f"pca.min_images_per_dim {params.get('min_images_per_dim', 1)} allow no more")
    return min(params[key], cap)


def reduce_view(name: str, params: dict, cap: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """One view, reduced: (n, d) and (2k, d) float32, and what was done, for the metrics."""
    key, images_file, visualization_file = VIEWS[name]
    view = arrays.NpyFile(images_file)  # read on demand, in chunks or whole; never memory-mapped
    width = view.shape[1]
    if params[key] > width:
        raise InputError(f"params.yaml: pca.{key}: expected at most {width}, the width of {images_file}, "
                         f"found {params[key]}")
    dims = capped(key, params, cap)
    pca = clustering.fit_pca(view, dims, params["whiten"], int(params["seed"]),
                             incremental=use_incremental(params.get("incremental", "auto"), view))
    explained = 100.0 * float(np.sum(pca.explained_variance_ratio_))
    print(f"reduce: {name}: PCA {width} → {dims} dims, {explained:.1f} % of the variance kept")
    return (clustering.transform(pca, view), clustering.transform(pca, np.load(visualization_file)),
            {"dims": dims, "explained_variance_percent": explained}, clustering.pca_arrays(pca, name))


def main(argv: list[str]) -> None:
    params = load_params("pca")
    check_params(params)
    images = len(arrays.NpyFile(VIEWS["codes"][1]))
    # No PCA keeps more directions than there are images, nor, whitened, more than
    # pca.min_images_per_dim allows: sizes beyond either are capped (saying so), so the
    # defaults sized for hw7 also run on the 200-image demo.
    cap = dims_for(images, images, params.get("min_images_per_dim", 1))  # never more than images
    with clustering.one_thread():  # see there: threads stall on a shared machine
        parts = {name: reduce_view(name, params, cap) for name in VIEWS}
        joined = np.hstack([part[0] for part in parts.values()])
        dims = min(capped("dims", params, cap), joined.shape[1])
        pca = clustering.fit_pca(joined, dims, params["whiten"], int(params["seed"]))
        save_npy(OUT / "components.npy", clustering.transform(pca, joined))
        # The fitted PCAs as plain .npy arrays (an .npz would carry the time it was written),
        # for labelling new images later (pipeline.label)
        fitted = {key: value for part in parts.values() for key, value in part[3].items()}
        for key, value in {**fitted, **clustering.pca_arrays(pca, "joint")}.items():
            save_npy(OUT / "pca" / f"{key}.npy", value)
        save_npy(OUT / "visualization_components.npy",
                 clustering.transform(pca, np.hstack([part[1] for part in parts.values()])))
    save_json("metrics/reduce.json", {
        "dims": int(pca.n_components_), "dims_requested": params["dims"],
        # of the two reduced views side by side
        "explained_variance_percent": 100.0 * float(np.sum(pca.explained_variance_ratio_)),
        "views": {name: part[2] for name, part in parts.items()},
    })
    print(f"reduce: both views side by side, {joined.shape[1]} → {pca.n_components_} dims"
          f"{' (whitened)' if params['whiten'] else ''}")


if __name__ == "__main__":
    main_guard(main)
