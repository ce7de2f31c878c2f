"""Stage `reduce`: PCA of the latent codes.

    python -m pipeline.reduce         (params: pca.dims, pca.whiten, pca.incremental, seed)

Reads data/embed/{codes,visualization_codes}.npy; writes data/reduce/components.npy
(n, dims) float32, data/reduce/visualization_components.npy (2k, dims) float32 and
metrics/reduce.json. The PCA is fitted on the images' codes only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from pipeline import clustering
from pipeline.atomic import atomic_path, save_json, save_npy
from pipeline.errors import InputError
from pipeline.stage import load_params, main_guard

EMBED = Path("data/embed")
OUT = Path("data/reduce")
INCREMENTAL_ABOVE_BYTES = 1 << 30  # "auto" streams the PCA once codes pass 1 GiB


def use_incremental(setting, codes: np.ndarray) -> bool:
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


def main(argv: list[str]) -> None:
    params = load_params("pca")
    check_params(params)
    codes = np.load(EMBED / "codes.npy", mmap_mode="r")
    incremental = use_incremental(params.get("incremental", "auto"), codes)
    pca = clustering.fit_pca(codes, params["dims"], params["whiten"], int(params["seed"]),
                             incremental=incremental)
    with atomic_path(OUT / "components.npy") as tmp:
        components = open_memmap(tmp, mode="w+", dtype="float32", shape=(len(codes), pca.n_components_))
        clustering.transform(pca, codes, out=components)
        components.flush()
        del components
    save_npy(OUT / "visualization_components.npy",
             clustering.transform(pca, np.load(EMBED / "visualization_codes.npy")))
    explained = 100.0 * float(np.sum(pca.explained_variance_ratio_))
    save_json("metrics/reduce.json", {"dims": int(pca.n_components_),
                                      "explained_variance_percent": explained})
    print(f"reduce: PCA {codes.shape[1]} → {pca.n_components_} dims"
          f"{' (whitened)' if params['whiten'] else ''}{' (incremental)' if incremental else ''}, "
          f"{explained:.1f} % of the variance kept")


if __name__ == "__main__":
    main_guard(main)
