"""Stage `reduce`: whitened PCA of each view of the pool, then of all views side by side.

    python -m pipeline.stages.reduce         (params: pca.*, seed)

The views, one row per image of the pool (pipeline.lib.pool): the autoencoder codes
(data/embed/codes.npy), the HOG descriptors (data/hog/descriptors.npy), the patch dictionary's
descriptors (data/patches/descriptors.npy) and the self-trained models' scores
(data/selftrain/features.npy). ``pca.views`` names the views used (all four by default; the
seed report's method: ``[codes]``). Each is reduced to pca.<view>_dims, whitened (``pca.whiten``);
the views are put side by side and reduced, whitened, to pca.dims. Every PCA is fitted on the
whole pool. Writes data/reduce/components.npy (n + 2k, dims) float32, data/reduce/pca/*.npy (the
fitted PCAs as arrays, for pipeline.label) and metrics/reduce.json. numpy and scikit-learn
only: seconds.

Why whitening: it gives every kept direction unit variance, so k-means weighs the direction
that tells the datasets apart like any other instead of drowning it in brightness and colour;
done per view first, no view outweighs another by its scale or width.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib import arrays, clustering
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.errors import InputError, main_guard
from pipeline.lib.params import load_params

VIEWS = {  # view name → (its pca.<key>, the file of its rows)
    "codes": ("code_dims", Path("data/embed/codes.npy")),
    "hog": ("hog_dims", Path("data/hog/descriptors.npy")),
    "patches": ("patch_dims", Path("data/patches/descriptors.npy")),
    "selftrain": ("selftrain_dims", Path("data/selftrain/features.npy")),
}
OUT = Path("data/reduce")


def chosen_views(params: dict) -> list[str]:
    """``pca.views`` checked: the names of the views to use, in :data:`VIEWS` order (the order
    pipeline.label applies the fitted PCAs in). Absent: all of them."""
    names = params.get("views", list(VIEWS))
    if (not isinstance(names, list) or not names or not all(isinstance(n, str) and n in VIEWS for n in names)
            or len(set(names)) != len(names)):
        raise InputError(f"params.yaml: pca.views: expected a non-empty list of {', '.join(VIEWS)} "
                         f"(each at most once), found {names!r}")
    return [name for name in VIEWS if name in names]


def check_params(params: dict) -> None:
    """Types first; each size against its view's width and the image count is checked later."""
    keys = [VIEWS[name][0] for name in chosen_views(params)]
    for key in ("dims", *keys):
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"params.yaml: pca.{key}: expected a positive integer, found {value!r}")
    if params["dims"] > sum(params[key] for key in keys):
        raise InputError(f"params.yaml: pca.dims: expected at most {' + '.join(f'pca.{k}' for k in keys)} = "
                         f"{sum(params[key] for key in keys)} (the views side by side), found {params['dims']}")
    if not isinstance(params.get("whiten"), bool):
        raise InputError(f"params.yaml: pca.whiten: expected true or false, found {params.get('whiten')!r}")
    per_dim = params.get("min_images_per_dim", 1)
    if isinstance(per_dim, bool) or not isinstance(per_dim, int) or per_dim < 1:
        raise InputError(f"params.yaml: pca.min_images_per_dim: expected a positive integer (1: no cap), "
                         f"found {per_dim!r}")
    if params.get("incremental", "auto") not in ("auto", True, False):
        raise InputError(f"params.yaml: pca.incremental: expected auto, true or false, "
                         f"found {params.get('incremental')!r}")


def sizes(params: dict, views: dict) -> tuple[dict[str, int], int]:
    """Each view's PCA size and the joint one, checked against the views' widths and capped by
    the image count and pca.min_images_per_dim (saying so), so the defaults sized for hw7 also
    run on the 200-image demo."""
    images = len(next(iter(views.values())))
    cap = clustering.dims_for(images, images, params.get("min_images_per_dim", 1))

    def capped(key: str) -> int:
        if params[key] > cap:
            print(f"reduce: pca.{key} {params[key]} capped to {cap}: the image count and "
                  f"pca.min_images_per_dim {params.get('min_images_per_dim', 1)} allow no more")
        return min(params[key], cap)

    dims = {}
    for name, view in views.items():
        key, path = VIEWS[name]
        if params[key] > view.shape[1]:
            raise InputError(f"params.yaml: pca.{key}: expected at most {view.shape[1]}, the width of "
                             f"{path}, found {params[key]}")
        dims[name] = capped(key)
    return dims, capped("dims")


def main(argv: list[str]) -> None:
    params = load_params("pca")
    check_params(params)
    # Read on demand, in chunks or whole; never memory-mapped.
    # The views left out are still computed upstream (dvc.yaml's deps stay fixed), just not read.
    views = {name: arrays.NpyFile(VIEWS[name][1]) for name in chosen_views(params)}
    dims, joint_dims = sizes(params, views)
    setting = params.get("incremental", "auto")
    with clustering.one_thread():  # see there: threads stall on a shared machine
        components, fitted, info = clustering.reduce_views(
            views, dims, joint_dims, whiten=params["whiten"], seed=int(params["seed"]),
            incremental=None if setting == "auto" else (lambda view: setting),  # auto: past 1 GiB
            log=lambda line: print(f"reduce: {line}"))
    save_npy(OUT / "components.npy", components)
    # The fitted PCAs as plain .npy arrays (an .npz would carry the time it was written)
    with atomic_dir(OUT / "pca") as tmp:
        for key, value in fitted.items():
            save_npy(tmp / f"{key}.npy", value)
    save_json("metrics/reduce.json", {
        "dims": info["joint"]["dims"], "dims_requested": params["dims"],
        "explained_variance_percent": info["joint"]["explained_variance_percent"],  # of the views side by side
        "views": {name: info[name] for name in views},
    })


if __name__ == "__main__":
    main_guard(main)
