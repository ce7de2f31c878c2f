"""Stage `prepare`: decode and validate a competition folder once.

    python -m pipeline.stages.prepare        (params: data.dir)

Writes data/prepared/images.npy (n + 2k, 32, 32, 3) uint8: the n competition images (image
number i in row i − 1), then the 2k visualization images (k of dataset A, then k of B);
data/prepared/rows.json ({"competition": n, "visualization": 2k}); pairs.npy (m, 3) int64 rows of
(id, image1, image2); and data/prepared/summary.json (the counts, for the report).

Why one array: every later stage treats all its rows alike (trains on them without labels,
reduces and clusters them), so the visualization images, whose labels are known, take exactly
the path of the competition's images, and the accuracy measured on them is the submission's.
Only the metrics look at the last 2k rows apart, and only predict at the first n.
"""

from __future__ import annotations

import contextlib
import time

from pipeline.lib import layout, paths
from pipeline.lib.arrays import NpyWriter
from pipeline.lib.atomic import atomic_path, save_json, save_npy
from pipeline.lib.config.params import load
from pipeline.lib.config.data import DataConfig
from pipeline.lib.errors import stage_guard
from pipeline.lib.pool import Rows

OUT = paths.PREPARED


def main() -> None:
    config = load(DataConfig)
    started = time.perf_counter()
    images_dir, pairs_csv, visualization_npy = layout.competition_files(config.dir, setting="data.dir")
    # Cheap checks first, so a bad CSV fails in a second, not after decoding 40,000 images.
    images = layout.image_paths(images_dir)
    pairs = layout.read_pairs(pairs_csv, len(images))
    visualization = layout.read_visualization(visualization_npy)
    print(f"prepare: {len(images)} images, {len(pairs)} pairs, {len(visualization)} visualization "
          f"images from {config.dir}")
    created = [folder for folder in (OUT, *OUT.parents) if not folder.exists()]  # deepest first
    try:
        # Decoded chunk by chunk and appended to the file with plain writes, not through a
        # memory map (whose touched pages would all count as this process's memory): resident
        # memory stays at a few chunks however many images (see pipeline.lib.arrays).
        decoding = time.perf_counter()
        rows = len(images) + len(visualization)
        with atomic_path(paths.IMAGES) as tmp, NpyWriter(tmp, (rows, *layout.IMAGE_SHAPE), "uint8") as pool:
            for pixels in layout.decode_chunks(images):
                pool.write(pixels)
            pool.write(visualization)
        decoded = time.perf_counter() - decoding
    except BaseException:
        # A corrupt image is found while decoding: leave no trace, not even an empty folder.
        for folder in created:
            with contextlib.suppress(OSError):  # not empty: someone else's files, keep it
                folder.rmdir()
        raise
    save_npy(paths.PAIRS, pairs)
    save_json(paths.ROWS, Rows(len(images), len(visualization)).as_json())
    save_json(paths.PREPARED_SUMMARY, {"images": len(images), "pairs": len(pairs),
                                     "visualization_images": len(visualization)})
    rate = len(images) / max(decoded, 1e-9)
    print(f"prepare: decoded {len(images)} images in {decoded:.2f} s ({rate:.0f}/s); "
          f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    stage_guard(main)
