"""Stage `reduce`: the first pca.dims directions of the views' joint PCA.

    python -m pipeline.stages.reduce         (params: pca.*)

Reads data/views/components.npy (n + 2k, joint dims) and data/views/joint/*.npy, the whitened
PCA of the views side by side that the stage `views` fitted to every direction this stage may
keep. Keeps the first ``pca.dims`` (capped by the image count and ``pca.min_images_per_joint_dim``,
the same rule views applied). Writes data/reduce/components.npy (n + 2k, dims) float32,
data/reduce/pca/joint_*.npy (the PCA cut to dims, as arrays, for pipeline.label) and
data/reduce/summary.json. numpy only, streamed in chunks: it fits nothing (a PCA's leading
directions do not depend on how many are kept), so `dvc exp run -S pca.dims=N` is quick.

It reads every pca key, to check pca.dims against the chosen views' sizes before anything is
read; those keys change data/views anyway, so they would rerun it regardless.
"""

from __future__ import annotations

from pipeline.lib import arrays, paths, pca
from pipeline.lib.atomic import atomic_dir, atomic_path, save_json, save_npy
from pipeline.lib.config.params import load
from pipeline.lib.config.pca import PcaConfig
from pipeline.lib.errors import InputError, stage_guard


def main() -> None:
    config = load(PcaConfig)
    joint = arrays.NpyFile(paths.VIEWS_COMPONENTS)  # streamed in chunks, never loaded whole nor mapped
    fitted = {key: arrays.NpyFile(paths.VIEWS_JOINT / f"{key}.npy").read() for key in (
        "joint_mean", "joint_components", "joint_scale", "joint_explained_variance_ratio")}
    for key in ("joint_scale", "joint_explained_variance_ratio"):
        if fitted[key].shape != joint.shape[1:]:
            raise InputError(f"{paths.VIEWS_JOINT / key}.npy: expected shape {joint.shape[1:]}, one value per "
                             f"column of {paths.VIEWS_COMPONENTS}, found {fitted[key].shape}: rerun the stage "
                             f"views (dvc repro)")
    # views kept every direction the image-count cap allows, and no more than the views' width
    dims, note = config.capped(None, len(joint))
    if note:
        print(f"reduce: {note}")
    dims = min(dims, joint.shape[1])
    cut, info = pca.leading_dims(fitted, dims)
    with atomic_path(paths.COMPONENTS) as tmp, \
            arrays.NpyWriter(tmp, (len(joint), dims), "float32") as out:
        for chunk in joint.chunks(pca.CHUNK):
            out.write(chunk[:, :dims])
    with atomic_dir(paths.REDUCE_PCA) as tmp:
        for key, value in cut.items():
            save_npy(tmp / f"{key}.npy", value)
    save_json(paths.REDUCE_SUMMARY, {"dims": info["dims"], "dims_requested": config.dims,
                                     "explained_variance_percent": info["explained_variance_percent"]})
    print(f"reduce: the first {dims} of {joint.shape[1]} joint directions, "
          f"{info['explained_variance_percent']:.1f} % of the variance")


if __name__ == "__main__":
    stage_guard(main)
