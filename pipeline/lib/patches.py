"""A learned dictionary of colour patches: single-layer unsupervised features (Coates & Ng, 2011).

A third view of every image, learned from the pool itself without labels, in NumPy and
scikit-learn (no TensorFlow):

1. ``samples`` random ``size``×``size`` colour patches are cut from the pool, each brightness-
   and contrast-normalised (its own mean removed, divided by its standard deviation), then
   ZCA-whitened (decorrelated, every direction at unit variance, so edges and colour contrasts
   weigh alike);
2. k-means on them learns ``atoms`` centroids: the dictionary (edges, corners, colour blobs —
   for faces also eyes, hair lines, skin);
3. every patch of every image (every ``stride`` pixels) is compared with every atom: the "triangle" activation
   max(0, mean distance − distance) keeps the atoms closer than average; the activations are
   summed over each of ``pooling``×``pooling`` regions of the image, so the descriptor says which
   parts appear where, roughly.

Where HOG sees only grey edge directions and the autoencoder mostly colour and layout, the
dictionary sees small coloured parts: on hw7 the three views side by side let k-means alone
reach 99.6 % (BENCHMARKS.md, levers). Coates, Ng, Lee, "An analysis of single-layer networks in
unsupervised feature learning", AISTATS 2011.

Shapes: images (n, 32, 32, 3) uint8 → descriptors (n, atoms · pooling²) float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.lib.config.patches import PatchesConfig

CHUNK = 256  # images a worker takes at a time (a unit of work and of progress)
# images encoded at once within a chunk: 8 × 729 patches × 256 atoms × 4 B ≈ 6 MB of activations,
# which stay in the CPU's cache through the seven passes over them; a whole chunk's 190 MB did
# not, and took twice as long (2,048 hw7 images, one thread: 4.1 s in blocks of 256, 2.1 s in 8)
BLOCK = 8
NORM_EPSILON = 10.0  # added to each patch's variance (pixel units²): flat patches are not blown up
ZCA_EPSILON = 0.1    # added to the eigenvalues before whitening: noise directions stay small
MAX_WORKERS = 4      # chunks described at once (threads), each with its own small work arrays


@dataclass(frozen=True)
class Dictionary:
    """A learned dictionary: the whitening (mean (d,), matrix (d, d)) and the atoms (k, d), with
    d = size² · 3, all float32. :meth:`arrays` / :meth:`from_arrays` save and load it as .npy."""

    size: int
    pooling: int
    stride: int
    mean: np.ndarray
    whitening: np.ndarray
    atoms: np.ndarray

    @property
    def width(self) -> int:
        """Numbers per image: atoms × pooling²."""
        return len(self.atoms) * self.pooling * self.pooling

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "whitening": self.whitening, "atoms": self.atoms,
                "shape": np.array([self.size, self.pooling, self.stride])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Dictionary":
        size, pooling, stride = (int(v) for v in arrays["shape"])
        return cls(size, pooling, stride, arrays["mean"], arrays["whitening"], arrays["atoms"])


def _normalise(patches: np.ndarray) -> np.ndarray:
    """Each row (a flattened patch) minus its mean, over its standard deviation (float32)."""
    patches = patches - patches.mean(axis=1, keepdims=True)
    return patches / np.sqrt(patches.var(axis=1, keepdims=True) + NORM_EPSILON)


def sample_patches(images, config: PatchesConfig, seed: int) -> np.ndarray:
    """(samples, size² · 3) float32 patches cut at random (``seed``) from (n, 32, 32, 3) images."""
    from pipeline.lib.arrays import NpyFile, read_rows

    rng = np.random.default_rng(seed)
    count, last = len(images), 32 - config.size
    which = rng.integers(0, count, config.samples)
    rows, cols = rng.integers(0, last + 1, (2, config.samples))
    chosen, position = np.unique(which, return_inverse=True)
    # only the sampled images are read (plain reads, no memory map)
    pixels = read_rows(images.path, chosen) if isinstance(images, NpyFile) else np.asarray(images)[chosen]
    pixels = pixels.astype(np.float32)
    s = config.size
    return np.stack([pixels[i, r:r + s, c:c + s].reshape(-1) for i, r, c in zip(position, rows, cols)])


def learn(images, config: PatchesConfig, seed: int) -> Dictionary:
    """Learn the dictionary from patches of ``images`` (n, 32, 32, 3) uint8 (an array, or an
    :class:`pipeline.lib.arrays.NpyFile`: only the sampled rows are read)."""
    from sklearn.cluster import MiniBatchKMeans

    patches = _normalise(sample_patches(images, config, seed))
    mean = patches.mean(axis=0)
    eigenvalues, vectors = np.linalg.eigh(np.cov(patches - mean, rowvar=False))
    whitening = (vectors / np.sqrt(eigenvalues + ZCA_EPSILON)) @ vectors.T
    whitened = (patches - mean) @ whitening
    kmeans = MiniBatchKMeans(config.atoms, batch_size=4096, n_init=3, random_state=seed).fit(whitened)
    return Dictionary(config.size, config.pooling, config.stride, mean.astype(np.float32), whitening.astype(np.float32),
                      kmeans.cluster_centers_.astype(np.float32))


def encode(dictionary: Dictionary, images: np.ndarray) -> np.ndarray:
    """The descriptors of (b, 32, 32, 3) uint8 ``images``: (b, atoms · pooling²) float32,
    :data:`BLOCK` images at a time (no number of one image depends on another, so the block size
    does not change the bytes: checked against blocks of 256 on 2,048 hw7 images)."""
    images = np.asarray(images)
    out = np.empty((len(images), dictionary.width), dtype=np.float32)
    for start in range(0, len(images), BLOCK):
        out[start:start + BLOCK] = _encode_block(dictionary, images[start:start + BLOCK])
    return out


def _encode_block(dictionary: Dictionary, images: np.ndarray) -> np.ndarray:
    """:func:`encode` of a few images. Written for speed: the large arrays are updated in place,
    and the mean is taken out of the whitening as one bias row."""
    s, k, pooling, stride = dictionary.size, len(dictionary.atoms), dictionary.pooling, dictionary.stride
    windows = sliding_window_view(np.asarray(images, dtype=np.float32), (s, s, 3), axis=(1, 2, 3))
    windows = windows[:, ::stride, ::stride]
    side = windows.shape[1]
    patches = windows.reshape(-1, s * s * 3)  # a copy: the windows overlap
    patches -= patches.mean(axis=1, keepdims=True)
    patches /= np.sqrt(np.einsum("ij,ij->i", patches, patches)[:, None] / patches.shape[1] + NORM_EPSILON)
    patches = patches @ dictionary.whitening
    patches -= dictionary.mean @ dictionary.whitening
    # distances² = |p|² − 2 p·a + |a|², then distances, then the triangle activation, in place
    distances = patches @ (-2 * dictionary.atoms.T)
    distances += np.einsum("ij,ij->i", patches, patches)[:, None]
    distances += np.einsum("ij,ij->i", dictionary.atoms, dictionary.atoms)
    np.maximum(distances, 0, out=distances)
    np.sqrt(distances, out=distances)
    np.subtract(distances.mean(axis=1, keepdims=True), distances, out=distances)
    np.maximum(distances, 0, out=distances)
    active = distances.reshape(-1, side, side, k)
    cell = side // pooling  # a leftover row and column of patch positions is left out
    pooled = active[:, :cell * pooling, :cell * pooling].reshape(-1, pooling, cell, pooling, cell, k).sum(axis=(2, 4))
    return pooled.reshape(len(pooled), -1)


def descriptors(dictionary: Dictionary, images, out, *, progress: bool = True, label: str = "patches",
                workers: int | None = None):
    """:func:`encode` over ``images`` (an array or an iterable of chunks), into ``out`` (an
    (n, width) array or :class:`pipeline.lib.arrays.NpyWriter`), chunk by chunk, ``workers`` chunks
    at a time (default: one per usable core, at most :data:`MAX_WORKERS`). Returns ``out``, the
    same bytes whatever the worker count."""
    from pipeline.lib.parallel import map_chunks, usable_cpus

    return map_chunks(lambda chunk: encode(dictionary, chunk), images, out, chunk=CHUNK, label=label,
                      done_as="images described", progress=progress,
                      workers=min(MAX_WORKERS, usable_cpus()) if workers is None else workers)
