"""Stage `views`: whitened PCA of each view of the pool, the results side by side.

    python -m pipeline.stages.views          (params: pca.* but pca.dims, seed)

The views, one row per image of the pool (pipeline.lib.pool): the autoencoder codes
(data/embed/codes.npy), the HOG descriptors (data/hog/descriptors.npy), the patch dictionary's
descriptors (data/patches/descriptors.npy) and the self-trained models' scores
(data/selftrain/features.npy). ``pca.views`` names the views used (all four by default; the
seed report's method: ``[codes]``). Each is reduced to pca.<view>_dims, whitened
(``pca.whiten``) and multiplied by its ``pca.weights`` entry (default 1); then the results side
by side get one more PCA, whitened too, to every direction `reduce` may keep (Σ dims, capped by
``pca.min_images_per_joint_dim``). Every PCA is fitted on the whole pool. Writes
data/views/components.npy (n + 2k, joint dims) float32, the joint PCA's components, best first;
data/views/pca/*.npy (the views' fitted PCAs as arrays, for pipeline.label);
data/views/joint/*.npy (the joint PCA as arrays, with each direction's share of the variance);
and data/views/summary.json. `reduce` keeps the first pca.dims of them: it fits nothing, so `dvc exp
run -S pca.dims=N` refits no PCA and imports no scikit-learn.

Why whitening: it gives every kept direction unit variance, so k-means weighs the direction
that tells the datasets apart like any other instead of drowning it in brightness and colour;
done per view first, no view outweighs another by its scale or width. Why weights: the joint
PCA's top directions are where the views vary together most, each whitened view counting
alike; the self-trained scores, one direction that already separates the datasets best, count
for more with a weight above 1, which is what a small pca.dims keeps (BENCHMARKS.md, accuracy).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib import arrays, clustering, parallel
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.errors import InputError, stage_guard
from pipeline.lib.params import load_params

FILES = {  # view name → the file of its rows
    "codes": Path("data/embed/codes.npy"),
    "hog": Path("data/hog/descriptors.npy"),
    "patches": Path("data/patches/descriptors.npy"),
    "selftrain": Path("data/selftrain/features.npy"),
}
OUT = Path("data/views")


def sizes(params: dict, views: dict) -> dict[str, int]:
    """Each view's PCA size, checked against the view's width and capped by the image count."""
    images = len(next(iter(views.values())))
    dims = {}
    for name, view in views.items():
        key = clustering.VIEW_DIMS[name]
        if params[key] > view.shape[1]:
            raise InputError(f"params.yaml: pca.{key}: expected at most {view.shape[1]}, the width of "
                             f"{FILES[name]}, found {params[key]}")
        dims[name] = clustering.capped_dims(params, key, images, "views")
    return dims


def main(argv: list[str]) -> None:
    params = load_params("pca")
    clustering.check_pca_params(params, joint=False)
    # Read on demand, in chunks or whole; never memory-mapped.
    # The views left out are still computed upstream (dvc.yaml's deps stay fixed), just not read.
    views = {name: arrays.NpyFile(FILES[name]) for name in clustering.chosen_views(params)}
    incremental = clustering.incremental_rule(params.get("incremental", "auto"))
    log = lambda line: print(f"views: {line}")  # noqa: E731
    with parallel.one_thread():  # see there: threads stall on a shared machine
        joined, fitted, info = clustering.reduce_each(
            views, sizes(params, views), whiten=params["whiten"], seed=int(params["seed"]),
            incremental=incremental, weights=clustering.view_weights(params), log=log)
        # every direction reduce may keep: pca.dims is capped by the same image-count rule
        joint_dims = clustering.dims_for(joined.shape[1], len(joined), clustering.joint_per_dim(params))
        components, joint, joint_info = clustering.reduce_joint(
            joined, joint_dims, whiten=params["whiten"], seed=int(params["seed"]),
            incremental=incremental(joined), log=log)
    save_npy(OUT / "components.npy", components)
    # The fitted PCAs as plain .npy arrays (an .npz would carry the time it was written)
    for folder, arrays_of in (("pca", fitted), ("joint", joint)):
        with atomic_dir(OUT / folder) as tmp:
            for key, value in arrays_of.items():
                save_npy(tmp / f"{key}.npy", value)
    save_json(OUT / "summary.json", {"dims": int(joined.shape[1]), "views": info, "joint": joint_info})


if __name__ == "__main__":
    stage_guard(main)
