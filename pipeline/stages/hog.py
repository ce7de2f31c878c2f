"""Stage `hog`: histograms of oriented gradients, a hand-made view of every image of the pool.

    python -m pipeline.stages.hog            (params: hog.*)

Reads data/prepared/images.npy (the pool: pipeline.lib.pool); writes data/hog/descriptors.npy
(n + 2k, size) float32. No TensorFlow: it runs beside `embed`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks
from pipeline.lib.atomic import atomic_path
from pipeline.lib.descriptors import HogConfig, descriptor_size, hog_descriptors
from pipeline.lib.errors import stage_guard
from pipeline.lib.params import load_params

IMAGES = Path("data/prepared/images.npy")
OUT = Path("data/hog")


def main(argv: list[str]) -> None:
    config = HogConfig.from_params(load_params("hog"))
    size = descriptor_size(config)
    count = len(NpyFile(IMAGES))  # from its header
    with atomic_path(OUT / "descriptors.npy") as tmp, NpyWriter(tmp, (count, size), "float32") as out:
        hog_descriptors(iter_npy_chunks(IMAGES, 4096), config, out, label="hog")
    print(f"hog: {count} images → {size} numbers each ({config.orientations} orientations, "
          f"{config.cell}-px cells, {config.block}×{config.block}-cell blocks)")


if __name__ == "__main__":
    stage_guard(main)
