"""Stage `reduce`: whitened PCA of the views side by side, to pca.dims.

    python -m pipeline.stages.reduce         (params: pca.*, seed)

Reads data/views/components.npy (n + 2k, d): each view's whitened PCA side by side, written by
the stage `views`. Reduces it to ``pca.dims`` (capped by the image count and
``pca.min_images_per_dim``), whitened (``pca.whiten``), fitted on the whole pool. Writes
data/reduce/components.npy (n + 2k, dims) float32, data/reduce/pca/joint_*.npy (the fitted PCA
as arrays, for pipeline.label) and metrics/reduce.json. numpy and scikit-learn only: about a
second of work, so `dvc exp run -S pca.dims=N` is quick.

It reads every pca key, to check pca.dims against the chosen views' sizes before anything is
read; those keys change data/views/components.npy anyway, so they would rerun it regardless.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib import arrays, clustering
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.errors import main_guard
from pipeline.lib.params import load_params

VIEWS = Path("data/views/components.npy")
OUT = Path("data/reduce")


def main(argv: list[str]) -> None:
    params = load_params("pca")
    clustering.check_pca_params(params)
    joined = arrays.NpyFile(VIEWS)  # read whole for the fit (or in batches: pca.incremental), never mapped
    dims = clustering.capped_dims(params, "dims", len(joined), "reduce")
    incremental = clustering.incremental_rule(params.get("incremental", "auto"))
    with clustering.one_thread():  # see there: threads stall on a shared machine
        components, fitted, info = clustering.reduce_joint(
            joined, dims, whiten=params["whiten"], seed=int(params["seed"]), incremental=incremental(joined),
            log=lambda line: print(f"reduce: {line}"))
    save_npy(OUT / "components.npy", components)
    with atomic_dir(OUT / "pca") as tmp:
        for key, value in fitted.items():
            save_npy(tmp / f"{key}.npy", value)
    save_json("metrics/reduce.json", {"dims": info["dims"], "dims_requested": params["dims"],
                                      "explained_variance_percent": info["explained_variance_percent"]})


if __name__ == "__main__":
    main_guard(main)
