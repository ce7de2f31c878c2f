"""Histograms of oriented gradients (HOG): a second, hand-made view of each image.

The autoencoder's codes are dominated by colour and layout (what a pixel-wise loss rewards);
HOG describes local edge directions, cell by cell, normalised per block, so it is blind to
brightness and tint. The two views err on different images (on hw7, 25 of ~100 mistakes in
common), which is what lets the joint PCA of the views (stages views, reduce) combine them.

Shapes: images (n, 32, 32, 3) uint8 → descriptors (n, descriptor_size(...)) float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.lib.errors import InputError

CHUNK = 4096  # images per chunk: progress granularity, and all that is held in memory at once
WORKER_CHUNK = 1024  # images per task when worker processes share the work (~7 MB each way)


@dataclass(frozen=True)
class HogConfig:
    """The `hog:` section of params.yaml (see skimage.feature.hog)."""

    orientations: int = 9  # gradient direction bins over 0–180°
    cell: int = 4          # pixels per cell side: 32×32 → 8×8 cells
    block: int = 2         # cells per normalisation block side

    @classmethod
    def from_params(cls, params: dict) -> "HogConfig":
        known = ("orientations", "cell", "block")
        for key in params:
            if key not in known and key != "seed":
                raise InputError(f"params.yaml: hog.{key}: unknown key, expected one of {', '.join(known)}")
        values = {key: params[key] for key in known if key in params}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"params.yaml: hog.{key}: expected a positive integer, found {value!r}")
        config = cls(**values)
        if 32 // config.cell < config.block:
            raise InputError(f"params.yaml: hog.block: expected at most {32 // config.cell} "
                             f"(32 px / hog.cell {config.cell} cells per side), found {config.block}")
        return config


def descriptor_size(config: HogConfig, side: int = 32) -> int:
    """Length of one image's HOG vector: blocks × cells per block × orientations."""
    blocks = side // config.cell - config.block + 1
    return blocks * blocks * config.block * config.block * config.orientations


def hog_descriptors(images, config: HogConfig, out=None, *, progress: bool = True,
                    label: str = "hog", workers: int | None = None) -> np.ndarray:
    """HOG of the grey level of each of ``images`` (n, 32, 32, 3) uint8, as float32 rows.

    ``images`` may also be an iterable of (k, 32, 32, 3) chunks (a file read in pieces);
    ``out`` an (n, size) array or a writer with ``write(chunk)`` and ``len()``
    (:class:`pipeline.lib.arrays.NpyWriter`). Chunks are described in ``workers`` processes
    (default: :func:`pipeline.lib.parallel.worker_count`, the usable cores from 4,096 rows on;
    skimage's HOG holds the GIL, so threads would not help): the same rows, in the same order.
    Returns ``out``.
    """
    from functools import partial

    from pipeline.lib.parallel import map_chunks, worker_count

    if out is None:
        out = np.empty((len(images), descriptor_size(config)), dtype=np.float32)
    workers = worker_count(len(out), workers)
    return map_chunks(partial(describe, config=config), images, out, chunk=CHUNK if workers <= 1 else WORKER_CHUNK,
                      label=label, done_as="images described", progress=progress, workers=workers,
                      processes=True)


def describe(chunk: np.ndarray, config: HogConfig) -> np.ndarray:
    """The HOG rows of one chunk of (k, 32, 32, 3) uint8 images: (k, descriptor_size) float32."""
    from skimage.color import rgb2gray
    from skimage.feature import hog

    rows = np.empty((len(chunk), descriptor_size(config)), dtype=np.float32)
    for index, image in enumerate(np.asarray(chunk)):
        rows[index] = hog(rgb2gray(image), orientations=config.orientations,
                          pixels_per_cell=(config.cell, config.cell),
                          cells_per_block=(config.block, config.block))
    return rows
