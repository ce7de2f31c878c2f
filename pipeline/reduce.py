"""Stage `reduce`: PCA of the latent codes.

    python -m pipeline.reduce         (params: pca.*, seed)

Reads data/embed/{codes,visualization_codes}.npy; writes data/reduce/components.npy
(n, dims) float32, data/reduce/visualization_components.npy (2k, dims) float32 and
metrics/reduce.json. The PCA is fitted on the images' codes only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pipeline import arrays, clustering
from pipeline.atomic import atomic_path, save_json, save_npy
from pipeline.errors import InputError
from pipeline.stage import load_params, main_guard

EMBED = Path("data/embed")
OUT = Path("data/reduce")
INCREMENTAL_ABOVE_BYTES = 1 << 30  # "auto" streams the PCA once codes pass 1 GiB


def use_incremental(setting, codes: np.ndarray | arrays.NpyFile) -> bool:
    if setting == "auto":
        return codes.nbytes > INCREMENTAL_ABOVE_BYTES
    if isinstance(setting, bool):
        return setting
    raise InputError(f"params.yaml: pca.incremental: expected auto, true or false, found {setting!r}")


def check_params(params: dict) -> None:
    """Types first; pca.dims against the code size and image count is checked by fit_pca."""
    dims = params.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise InputError(f"params.yaml: pca.dims: expected a positive integer (at most the code size "
                         f"embed.code_size and the number of images), found {dims!r}")
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


def main(argv: list[str]) -> None:
    params = load_params("pca")
    check_params(params)
    # Read on demand, in chunks (IncrementalPCA, transform) or whole (PCA), never memory-mapped.
    codes = arrays.NpyFile(EMBED / "codes.npy")
    incremental = use_incremental(params.get("incremental", "auto"), codes)
    clustering.check_dims(params["dims"], *codes.shape)  # the request itself must make sense
    dims = dims_for(params["dims"], len(codes), params.get("min_images_per_dim", 1))
    if dims < params["dims"]:
        print(f"reduce: pca.dims {params['dims']} capped to {dims}: {len(codes)} images, "
              f"pca.min_images_per_dim {params['min_images_per_dim']}")
    with clustering.one_thread():  # see there: threads stall on a shared machine
        pca = clustering.fit_pca(codes, dims, params["whiten"], int(params["seed"]),
                                 incremental=incremental)
        with atomic_path(OUT / "components.npy") as tmp, \
                arrays.NpyWriter(tmp, (len(codes), pca.n_components_), "float32") as components:
            clustering.transform(pca, codes, out=components)
        save_npy(OUT / "visualization_components.npy",
                 clustering.transform(pca, np.load(EMBED / "visualization_codes.npy")))
    explained = 100.0 * float(np.sum(pca.explained_variance_ratio_))
    save_json("metrics/reduce.json", {"dims": int(pca.n_components_), "dims_requested": params["dims"],
                                      "explained_variance_percent": explained})
    print(f"reduce: PCA {codes.shape[1]} → {pca.n_components_} dims"
          f"{' (whitened)' if params['whiten'] else ''}{' (incremental)' if incremental else ''}, "
          f"{explained:.1f} % of the variance kept")


if __name__ == "__main__":
    main_guard(main)
