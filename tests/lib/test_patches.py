"""pipeline.lib.patches: the learned dictionary of colour patches (Coates & Ng), without DVC."""

from __future__ import annotations

import numpy as np
import pytest
from configs import config_of, section_values

from pipeline.lib import patches
from pipeline.lib.arrays import NpyFile
from pipeline.lib.config.patches import PatchesConfig
from pipeline.lib.errors import InputError


def stripes_and_spots(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Half the images vertical stripes, half round spots, in random colours: (images, kind)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    kind = np.arange(n) % 2
    stripes = (xx // 3 % 2).astype(float)
    spots = (((yy % 8) - 4) ** 2 + ((xx % 8) - 4) ** 2 < 6).astype(float)
    base = np.where(kind[:, None, None] == 0, stripes, spots)[..., None] * rng.uniform(80, 200, (n, 1, 1, 3))
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8), kind


CONFIG = config_of(PatchesConfig, size=4, atoms=8, pooling=2, samples=3000, stride=1)


def test_descriptor_shape_and_width():
    images, _ = stripes_and_spots()
    dictionary = patches.learn(images, CONFIG, seed=0)
    assert dictionary.atoms.shape == (8, 4 * 4 * 3) and dictionary.whitening.shape == (48, 48)
    out = patches.encode(dictionary, images[:5])
    assert out.shape == (5, CONFIG.width) == (5, dictionary.width) == (5, 32) and out.dtype == np.float32
    assert (out >= 0).all() and out.any()  # triangle activations: never negative


def test_the_two_kinds_of_images_get_different_descriptors():
    """A linear split of the descriptors (the nearest class mean) tells stripes from spots."""
    images, kind = stripes_and_spots()
    out = patches.encode(patches.learn(images, CONFIG, seed=0), images)
    means = np.stack([out[kind == k].mean(axis=0) for k in (0, 1)])
    nearest = np.argmin(((out[:, None] - means[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == kind).all()


def test_same_seed_same_dictionary_and_file_input_reads_only_samples(tmp_path):
    images, _ = stripes_and_spots()
    np.save(tmp_path / "images.npy", images)
    from_array = patches.learn(images, CONFIG, seed=3)
    from_file = patches.learn(NpyFile(tmp_path / "images.npy"), CONFIG, seed=3)
    for key, value in from_array.arrays().items():
        np.testing.assert_array_equal(value, from_file.arrays()[key])
    assert not np.array_equal(from_array.atoms, patches.learn(images, CONFIG, seed=4).atoms)


def test_saved_arrays_give_the_same_descriptors():
    images, _ = stripes_and_spots()
    dictionary = patches.learn(images, CONFIG, seed=0)
    again = patches.Dictionary.from_arrays(dictionary.arrays())
    np.testing.assert_array_equal(patches.encode(again, images), patches.encode(dictionary, images))


def test_chunked_descriptors_equal_one_batch(tmp_path, monkeypatch):
    images, _ = stripes_and_spots(n=40)
    dictionary = patches.learn(images, CONFIG, seed=0)
    monkeypatch.setattr(patches, "CHUNK", 7)
    out = np.empty((40, CONFIG.width), np.float32)
    patches.descriptors(dictionary, images, out, progress=False)
    np.testing.assert_allclose(out, patches.encode(dictionary, images), rtol=1e-5, atol=1e-4)


@pytest.mark.usefixtures("blas_rounds_rows_alike")
def test_descriptors_are_the_same_bytes_whatever_the_worker_count(monkeypatch):
    """Chunks described in threads (BLAS on one thread each) come back in order and equal the
    one-worker result byte for byte: the submission must not depend on the core count."""
    images, _ = stripes_and_spots(n=40)
    dictionary = patches.learn(images, CONFIG, seed=0)
    monkeypatch.setattr(patches, "CHUNK", 3)
    results = []
    for workers in (1, 2, 4):
        out = np.empty((40, CONFIG.width), np.float32)
        patches.descriptors(dictionary, images, out, progress=False, workers=workers)
        results.append(out)
    assert all(np.array_equal(results[0], other) for other in results[1:])
    assert not np.array_equal(results[0][:3], results[0][3:6])  # the chunks differ: order was checked


@pytest.mark.usefixtures("blas_rounds_rows_alike")
def test_encode_block_size_does_not_change_the_bytes(monkeypatch):
    """encode works a few images at a time (to stay in the CPU's cache); blocks that split the
    batch unevenly give every image the bytes that one block of all of them gives."""
    images, _ = stripes_and_spots(n=20)
    dictionary = patches.learn(images, CONFIG, seed=0)
    results = []
    for block in (20, 3, 1):
        monkeypatch.setattr(patches, "BLOCK", block)
        results.append(patches.encode(dictionary, images))
    assert all(np.array_equal(results[0], other) for other in results[1:])
    assert len({row.tobytes() for row in results[0]}) == 20  # every row its own: none copied over


def test_encode_is_the_plain_formula():
    """The in-place, fused encoding equals the textbook one: normalise, whiten, distances,
    triangle activation, sum over the pooling regions."""
    images, _ = stripes_and_spots(n=4)
    d = patches.learn(stripes_and_spots()[0], CONFIG, seed=0)
    s, side = CONFIG.size, 32 - CONFIG.size + 1
    rows = []
    for image in images.astype(np.float64):
        windows = np.array([image[r:r + s, c:c + s].ravel() for r in range(side) for c in range(side)])
        windows = (windows - windows.mean(1, keepdims=True)) / np.sqrt(windows.var(1, keepdims=True) + 10.0)
        white = (windows - d.mean) @ d.whitening
        distance = np.linalg.norm(white[:, None] - d.atoms[None], axis=2)
        active = np.maximum(distance.mean(1, keepdims=True) - distance, 0).reshape(side, side, -1)
        cell = side // CONFIG.pooling
        rows.append(np.concatenate([active[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell].sum((0, 1))
                                    for i in range(2) for j in range(2)]))
    np.testing.assert_allclose(patches.encode(d, images), np.array(rows), rtol=1e-3, atol=1e-2)


@pytest.mark.parametrize("values, expected", [
    ({"size": 1}, "patches.size: expected 2 to 16 pixels, found 1"),
    ({"size": 8, "pooling": 26}, "patches.pooling: expected at most 25"),
    ({"atoms": 1}, "patches.atoms: expected an integer ≥ 2, found 1"),
    ({"samples": "all"}, "patches.samples: expected a positive integer, found 'all'"),
    ({"strides": 2}, "patches.strides: unknown key"),
    ({"stride": 0}, "patches.stride: expected a positive integer, found 0"),
])
def test_params_are_checked(values, expected):
    with pytest.raises(InputError, match=expected.replace("(", r"\(")):
        PatchesConfig.from_values({**section_values("patches"), **values})


def test_stride_describes_every_other_patch():
    images, _ = stripes_and_spots(n=6)
    config = config_of(PatchesConfig, size=4, atoms=8, pooling=2, samples=3000, stride=2)
    dictionary = patches.learn(stripes_and_spots()[0], config, seed=0)
    assert dictionary.stride == 2 and patches.Dictionary.from_arrays(dictionary.arrays()).stride == 2
    dense = patches.Dictionary(4, 1, 1, dictionary.mean, dictionary.whitening, dictionary.atoms)
    sparse = patches.Dictionary(4, 1, 2, dictionary.mean, dictionary.whitening, dictionary.atoms)
    # one pooling region: the sum over all positions, or over every other row and column of them
    assert patches.encode(sparse, images).shape == patches.encode(dense, images).shape == (6, 8)
    few, many = patches.encode(sparse, images), patches.encode(dense, images)
    assert (few <= many + 1e-3).all() and (few < many).any()
