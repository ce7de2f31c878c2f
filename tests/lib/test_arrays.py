"""Chunked .npy I/O (pipeline.lib.arrays) and the stages' streaming paths built on it: the same
bytes as np.save, the same results as the in-memory paths, and memory that does not grow
with the file (plain reads, no memory map)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from configs import config_of
from conftest import write_competition

from pipeline.lib import arrays, clustering, layout, pca
from pipeline.lib.atomic import atomic_path
from pipeline.lib.config.embed import EmbedConfig
from pipeline.lib.errors import InputError


def test_writer_writes_what_np_save_writes(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (100, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "a.npy", data)
    with arrays.NpyWriter(tmp_path / "b.npy", data.shape, np.uint8) as writer:
        for start in range(0, 100, 33):
            writer.write(data[start:start + 33])
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()


def test_writer_casts_and_refuses_wrong_rows(tmp_path):
    with arrays.NpyWriter(tmp_path / "c.npy", (3, 2), np.float32) as writer:
        writer.write(np.arange(6, dtype=np.float64).reshape(3, 2))
    assert np.load(tmp_path / "c.npy").dtype == np.float32
    with pytest.raises(ValueError, match="rows of shape"):
        with arrays.NpyWriter(tmp_path / "d.npy", (3, 2), np.float32) as writer:
            writer.write(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="2 rows written, expected 3"):
        with arrays.NpyWriter(tmp_path / "e.npy", (3, 2), np.float32) as writer:
            writer.write(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="4 rows written, the array has 3"):
        with arrays.NpyWriter(tmp_path / "f.npy", (3, 2), np.float32) as writer:
            writer.write(np.zeros((4, 2)))


def test_writer_inside_atomic_path_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "g.npy") as tmp, arrays.NpyWriter(tmp, (4, 2), np.int8) as writer:
            writer.write(np.zeros((2, 2)))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rows,start,stop", [(7, 0, None), (100, 0, None), (1, 3, 9), (4, 10, 50)])
def test_chunks_read_back_the_rows(tmp_path, rows, start, stop):
    data = np.random.default_rng(1).normal(size=(40, 5)).astype(np.float32)
    np.save(tmp_path / "h.npy", data)
    chunks = list(arrays.iter_npy_chunks(tmp_path / "h.npy", rows, start, stop))
    assert all(len(c) <= rows for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), data[start:stop])


@pytest.mark.parametrize("indices", [[0, 1, 2, 7, 8, 39], [39, 0, 5, 5, 6, 1], [], [12]])
def test_read_rows_equals_fancy_indexing(tmp_path, indices):
    data = np.random.default_rng(5).integers(0, 256, (40, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "r.npy", data)
    rows = arrays.read_rows(tmp_path / "r.npy", np.array(indices, dtype=np.int64))
    assert rows.shape == (len(indices), 4, 3) and rows.dtype == np.uint8
    np.testing.assert_array_equal(rows, data[np.array(indices, dtype=np.int64)])
    with pytest.raises(IndexError):
        arrays.read_rows(tmp_path / "r.npy", [3, 40])


def test_npy_file_header_and_truncation(tmp_path):
    np.save(tmp_path / "i.npy", np.zeros((10, 4), dtype=np.int16))
    source = arrays.NpyFile(tmp_path / "i.npy")
    assert (source.shape, source.dtype, len(source), source.nbytes) == ((10, 4), np.int16, 10, 80)
    np.testing.assert_array_equal(arrays.load(source, np.float32), np.zeros((10, 4), np.float32))
    with open(tmp_path / "i.npy", "r+b") as f:
        f.truncate(source.offset + 40)
    with pytest.raises(InputError, match="truncated"):  # the header is checked against the length
        list(source.chunks(3))
    with pytest.raises(FileNotFoundError):
        arrays.NpyFile(tmp_path / "missing.npy")


def test_streaming_clustering_equals_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(pca, "CHUNK", 64)
    monkeypatch.setattr(clustering, "CHUNK", 64)
    rng = np.random.default_rng(2)
    codes = np.concatenate([rng.normal(size=(150, 8)), 6 + rng.normal(size=(150, 8))]).astype(np.float32)
    np.save(tmp_path / "codes.npy", codes)
    source = arrays.NpyFile(tmp_path / "codes.npy")
    for incremental in (False, True):
        in_memory = pca.fit_pca(codes, 4, True, 0, incremental=incremental)
        streamed = pca.fit_pca(source, 4, True, 0, incremental=incremental)
        np.testing.assert_allclose(streamed.components_, in_memory.components_, rtol=1e-5, atol=1e-6)
    with atomic_path(tmp_path / "components.npy") as tmp, arrays.NpyWriter(tmp, (300, 4), "float32") as out:
        pca.transform(in_memory, source, out=out)
    components = np.load(tmp_path / "components.npy")
    np.testing.assert_allclose(components, pca.transform(in_memory, codes), rtol=1e-5, atol=1e-5)
    features = arrays.NpyFile(tmp_path / "components.npy")
    for method in ("kmeans", "coordinates"):
        a = clustering.TwoClusters(method, 0, n_init=2).fit(features).predict(features)
        b = clustering.TwoClusters(method, 0, n_init=2).fit(components).predict(components)
        assert np.array_equal(a, b)


def test_decode_chunks_in_worker_processes_keeps_order_and_errors(tmp_path):
    folder = write_competition(tmp_path, n_images=30, n_pairs=1)
    paths = layout.image_paths(folder / "images")
    serial = layout.decode_images(paths, workers=1, progress=False)
    chunks = list(layout.decode_chunks(paths, workers=2, batch=7, progress=False))
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(np.concatenate(chunks), serial)
    (folder / "images" / "000017.jpg").write_bytes(b"not a jpeg")
    (folder / "images" / "000025.jpg").write_bytes(b"")
    with pytest.raises(InputError, match=r"000017\.jpg: expected a JPEG image, found a file that is not"):
        list(layout.decode_chunks(paths, workers=2, batch=4, progress=False))


def test_distribution_param():
    assert config_of(EmbedConfig).distribution == "auto"
    for name in ("auto", "none", "mirrored"):
        assert config_of(EmbedConfig, distribution=name).distribution == name
    for bad in ("multi", None, True, ["mirrored"]):
        with pytest.raises(InputError, match=r"params.yaml: embed.distribution: expected one of auto"):
            config_of(EmbedConfig, distribution=bad)


def test_distribution_strategy_on_this_machine():
    pytest.importorskip("tensorflow")
    from pipeline.lib.distribute import distribution_strategy, visible_gpus

    assert distribution_strategy("none").num_replicas_in_sync == 1
    auto = distribution_strategy("auto")
    assert (type(auto).__name__ == "MirroredStrategy") == (len(visible_gpus()) > 1)
    assert type(distribution_strategy("mirrored")).__name__ == "MirroredStrategy"
    with pytest.raises(ValueError, match="'tpu' is not one of auto, none, mirrored"):
        distribution_strategy("tpu")


def test_encode_from_chunks_into_writer(tmp_path):
    ae = pytest.importorskip("pipeline.lib.autoencoder")
    ae.make_deterministic(0)
    _, encoder = ae.build_autoencoder(config_of(EmbedConfig, filters=(4,), code_size=3))
    images = np.random.default_rng(4).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    expected = np.full((20, 3), np.nan, dtype=np.float32)
    ae.encode(encoder, images, expected, progress=False)
    with arrays.NpyWriter(tmp_path / "codes.npy", (20, 3), np.float32) as writer:
        ae.encode(encoder, arrays.iter_npy_chunks(tmp_path / "images.npy", 6), writer, progress=False)
    np.testing.assert_allclose(np.load(tmp_path / "codes.npy"), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="12 images encoded, expected 20"):
        ae.encode(encoder, arrays.iter_npy_chunks(tmp_path / "images.npy", 6, stop=12),
                  np.empty((20, 3), np.float32), progress=False)


def test_stage_memory_does_not_grow_with_the_file(tmp_path):
    """Streaming 400 MB through iter_npy_chunks keeps resident memory near one chunk
    (a memory map read end to end would add the whole file to RSS)."""
    psutil = pytest.importorskip("psutil")
    path = tmp_path / "big.npy"
    rows = 100_000
    with arrays.NpyWriter(path, (rows, 1024), np.float32) as writer:
        for _ in range(0, rows, 10_000):
            writer.write(np.ones((10_000, 1024), np.float32))
    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    total = 0.0
    for chunk in arrays.iter_npy_chunks(path, 10_000):
        total += float(chunk[:, 0].sum())
    grown = process.memory_info().rss - before
    assert total == rows
    assert grown < 120 * 2**20, f"RSS grew by {grown / 2**20:.0f} MiB"
