"""Histograms of oriented gradients (HOG): a second, hand-made view of each image.

The autoencoder's codes are dominated by colour and layout (what a pixel-wise loss rewards);
HOG describes local edge directions, cell by cell, normalised per block, so it is blind to
brightness and tint. The two views err on different images (on hw7, 25 of ~100 mistakes in
common), which is what lets the joint PCA of the views (stages views, reduce) combine them.

Shapes: images (n, 32, 32, 3) uint8 → descriptors (n, descriptor_size(...)) float32.
"""

from __future__ import annotations

import numpy as np

from pipeline.lib.config.hog import HogConfig

CHUNK = 4096  # images per chunk: progress granularity, and all that is held in memory at once
WORKER_CHUNK = 1024  # images per task when worker processes share the work (~7 MB each way)


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
