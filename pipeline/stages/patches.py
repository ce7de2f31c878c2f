"""Stage `patches`: learn a dictionary of colour patches from the pool and describe every image by it.

    python -m pipeline.stages.patches        (params: patches.*, seed)

Reads data/prepared/images.npy (the pool: pipeline.lib.pool). Learns the dictionary (k-means on
whitened patches, no labels: pipeline.lib.patches) and writes data/patches/descriptors.npy
(n + 2k, atoms · pooling²) float32 and data/patches/dictionary/*.npy (the whitening and the
atoms, for pipeline.label). NumPy and scikit-learn: it runs beside `embed` and `hog`.
"""

from __future__ import annotations

import time

from pipeline.lib import paths, patches
from pipeline.lib.arrays import NpyFile, NpyWriter, iter_npy_chunks
from pipeline.lib.atomic import atomic_dir, atomic_path, save_npy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.patches import PatchesConfig
from pipeline.lib.errors import stage_guard
from pipeline.lib.parallel import one_thread


def main() -> None:
    config = load(PatchesConfig)
    started = time.perf_counter()
    images = NpyFile(paths.IMAGES)
    with one_thread():  # k-means: see pipeline.lib.parallel.one_thread
        dictionary = patches.learn(images, config, load_seed())
    print(f"patches: {config.atoms} atoms learned from {config.samples} patches of {config.size}×{config.size} "
          f"px ({time.perf_counter() - started:.1f} s)")
    with atomic_dir(paths.PATCH_DICTIONARY) as tmp:
        for key, value in dictionary.arrays().items():
            save_npy(tmp / f"{key}.npy", value)
    with atomic_path(paths.PATCH_DESCRIPTORS) as tmp, NpyWriter(tmp, (len(images), config.width), "float32") as out:
        patches.descriptors(dictionary, iter_npy_chunks(paths.IMAGES, 4096), out)
    print(f"patches: {len(images)} images → {config.width} numbers each ({config.pooling}×{config.pooling} "
          f"regions × {config.atoms} atoms) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    stage_guard(main)
