"""pipeline.lib.descriptors: HOG rows, the same in worker processes as in this one."""

from __future__ import annotations

import numpy as np
from configs import config_of

from pipeline.lib import arrays, descriptors
from pipeline.lib.config.hog import HogConfig
from pipeline.lib.descriptors import descriptor_size, hog_descriptors


def test_hog_in_worker_processes_equals_in_process(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    config = config_of(HogConfig)
    here = hog_descriptors(images, config, progress=False)
    assert here.shape == (50, descriptor_size(config)) == (50, 1764) and here.dtype == np.float32
    assert not np.array_equal(here[0], here[1])
    monkeypatch.setattr(descriptors, "WORKER_CHUNK", 7)  # several tasks, finishing in any order
    np.testing.assert_array_equal(hog_descriptors(images, config, progress=False, workers=2), here)
    with arrays.NpyWriter(tmp_path / "hog.npy", here.shape, np.float32) as writer:
        hog_descriptors(iter([images[:20], images[20:]]), config, writer, progress=False, workers=2)
    np.testing.assert_array_equal(np.load(tmp_path / "hog.npy"), here)
