"""Stage `hog`: histograms of oriented gradients, a hand-made view of every image of the pool.

    python -m pipeline.stages.hog            (params: hog.*)

Reads data/prepared/images.npy (the pool: pipeline.lib.pool); writes data/hog/descriptors.npy
(n + 2k, size) float32. No TensorFlow: it runs beside `embed`.
"""

from __future__ import annotations

from pipeline.lib import paths
from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks
from pipeline.lib.atomic import atomic_path
from pipeline.lib.config.params import load
from pipeline.lib.config.hog import HogConfig
from pipeline.lib.descriptors import descriptor_size, hog_descriptors
from pipeline.lib.errors import stage_guard


def main() -> None:
    config = load(HogConfig)
    size = descriptor_size(config)
    count = len(NpyFile(paths.IMAGES))  # from its header
    with atomic_path(paths.HOG_DESCRIPTORS) as tmp, NpyWriter(tmp, (count, size), "float32") as out:
        hog_descriptors(iter_npy_chunks(paths.IMAGES, 4096), config, out, label="hog")
    print(f"hog: {count} images → {size} numbers each ({config.orientations} orientations, "
          f"{config.cell}-px cells, {config.block}×{config.block}-cell blocks)")


if __name__ == "__main__":
    stage_guard(main)
