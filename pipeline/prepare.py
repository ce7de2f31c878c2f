"""Stage `prepare`: decode and validate a competition folder once.

    python -m pipeline.prepare        (params: data.dir)

Writes data/prepared/images.npy (n, 32, 32, 3) uint8, pairs.npy (m, 3) int64 rows of
(id, image1, image2), visualization.npy (2k, 32, 32, 3) uint8, and metrics/prepare.json.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from numpy.lib.format import open_memmap

from pipeline import layout
from pipeline.atomic import atomic_path, save_json, save_npy
from pipeline.errors import InputError
from pipeline.stage import load_params, main_guard

OUT = Path("data/prepared")


def main(argv: list[str]) -> None:
    params = load_params("data")
    if not isinstance(params.get("dir"), str) or not params["dir"].strip():
        raise InputError(f"params.yaml: data.dir: expected the path of a competition folder, "
                         f"found {params.get('dir')!r}")
    started = time.perf_counter()
    images_dir, pairs_csv, visualization_npy = layout.competition_files(params["dir"])
    # Cheap checks first, so a bad CSV fails in a second, not after decoding 40,000 images.
    paths = layout.image_paths(images_dir)
    pairs = layout.read_pairs(pairs_csv, len(paths))
    visualization = layout.read_visualization(visualization_npy)
    print(f"prepare: {len(paths)} images, {len(pairs)} pairs, {len(visualization)} visualization "
          f"images from {params['dir']}")
    created = [folder for folder in (OUT, *OUT.parents) if not folder.exists()]  # deepest first
    try:
        with atomic_path(OUT / "images.npy") as tmp:
            # Decode straight into a memory-mapped .npy: memory stays flat however many images.
            images = open_memmap(tmp, mode="w+", dtype="uint8", shape=(len(paths), *layout.IMAGE_SHAPE))
            layout.decode_images(paths, out=images)
            images.flush()
            del images
    except BaseException:
        # A corrupt image is found while decoding: leave no trace, not even an empty folder.
        for folder in created:
            with contextlib.suppress(OSError):  # not empty: someone else's files, keep it
                folder.rmdir()
        raise
    save_npy(OUT / "pairs.npy", pairs)
    save_npy(OUT / "visualization.npy", visualization)
    save_json("metrics/prepare.json", {"images": len(paths), "pairs": len(pairs),
                                       "visualization_images": len(visualization)})
    print(f"prepare: done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main_guard(main)
