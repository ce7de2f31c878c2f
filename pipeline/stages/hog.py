"""Stage `hog`: histograms of oriented gradients, the second view of every image.

    python -m pipeline.hog            (params: hog.*)

Reads data/prepared/{images,visualization}.npy; writes data/hog/descriptors.npy (n, size)
float32 and data/hog/visualization_descriptors.npy (2k, size) float32. No TensorFlow: it runs
beside `embed`, and `refine` joins the two views.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks
from pipeline.lib.atomic import atomic_path, save_npy
from pipeline.lib.descriptors import HogConfig, descriptor_size, hog_descriptors
from pipeline.lib.errors import main_guard
from pipeline.lib.params import load_params

PREPARED = Path("data/prepared")
OUT = Path("data/hog")


def main(argv: list[str]) -> None:
    config = HogConfig.from_params(load_params("hog"))
    size = descriptor_size(config)
    count = len(NpyFile(PREPARED / "images.npy"))  # from its header
    with atomic_path(OUT / "descriptors.npy") as tmp, NpyWriter(tmp, (count, size), "float32") as out:
        hog_descriptors(iter_npy_chunks(PREPARED / "images.npy", 4096), config, out, label="hog images")
    save_npy(OUT / "visualization_descriptors.npy",
             hog_descriptors(np.load(PREPARED / "visualization.npy"), config, label="hog visualization"))
    print(f"hog: {count} images → {size} numbers each ({config.orientations} orientations, "
          f"{config.cell}-px cells, {config.block}×{config.block}-cell blocks)")


if __name__ == "__main__":
    main_guard(main)
