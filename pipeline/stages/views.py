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

from pipeline.lib import arrays, paths, pca, parallel
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.pca import PcaConfig, dims_for
from pipeline.lib.errors import stage_guard


def sizes(config: PcaConfig, views: dict) -> dict[str, int]:
    """Each view's PCA size, checked against the view's width and capped by the image count."""
    images = len(next(iter(views.values())))
    dims = {}
    for name, view in views.items():
        config.check_width(name, view.shape[1], paths.VIEW_FILES[name])
        dims[name], note = config.capped(name, images)
        if note:
            print(f"views: {note}")
    return dims


def main() -> None:
    config = load(PcaConfig, joint=False)
    seed = load_seed()
    # Read on demand, in chunks or whole; never memory-mapped.
    # The views left out are still computed upstream (dvc.yaml's deps stay fixed), just not read.
    views = {name: arrays.NpyFile(paths.VIEW_FILES[name]) for name in config.views}
    incremental = pca.incremental_rule(config.incremental)
    log = lambda line: print(f"views: {line}")  # noqa: E731
    with parallel.one_thread():  # see there: threads stall on a shared machine
        joined, fitted, info = pca.reduce_each(
            views, sizes(config, views), whiten=config.whiten, seed=seed,
            incremental=incremental, weights=config.weights, log=log)
        # every direction reduce may keep: pca.dims is capped by the same image-count rule
        joint_dims = dims_for(joined.shape[1], len(joined), config.min_images_per_joint_dim)
        components, joint, joint_info = pca.reduce_joint(
            joined, joint_dims, whiten=config.whiten, seed=seed, incremental=incremental(joined), log=log)
    save_npy(paths.VIEWS_COMPONENTS, components)
    # The fitted PCAs as plain .npy arrays (an .npz would carry the time it was written)
    for folder, arrays_of in ((paths.VIEWS_PCA, fitted), (paths.VIEWS_JOINT, joint)):
        with atomic_dir(folder) as tmp:
            for key, value in arrays_of.items():
                save_npy(tmp / f"{key}.npy", value)
    save_json(paths.VIEWS_SUMMARY, {"dims": int(joined.shape[1]), "views": info, "joint": joint_info})


if __name__ == "__main__":
    stage_guard(main)
