"""Stage `demo`: build the embedded default data from real photographs that scikit-image ships.

    python -m pipeline.stages.demo    (params: demo.pairs, seed)

``skimage.data.lfw_subset()`` holds 200 grey 25×25 crops: 100 faces (Labeled Faces in the
Wild) then 100 non-faces, the same face-versus-other split as the homework. They are written
in the competition layout, so the demo goes through exactly the code that real data does:

    data/demo/competition/images/000001.jpg … 000200.jpg   (32×32 RGB, shuffled)
    data/demo/competition/test_case.csv                    (demo.pairs random pairs)
    data/demo/competition/visualization.npy                (the 100 faces, then the 100 others)
    data/demo/faces/0.png … 99.png                          (the 100 faces at 25×25, for eigenfaces)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from pipeline.lib import paths
from pipeline.lib.atomic import atomic_dir
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.demo import DemoConfig
from pipeline.lib.errors import stage_guard


def lfw_crops() -> tuple[np.ndarray, np.ndarray]:
    """Return (faces, others): two (100, 25, 25) uint8 arrays of grey crops."""
    from skimage.data import lfw_subset  # only this stage needs scikit-image

    crops = np.round(lfw_subset() * 255).astype(np.uint8)
    return crops[:100], crops[100:]


def to_competition_jpeg(crop: np.ndarray) -> bytes:
    """A 25×25 grey crop as the homework's image format: a 32×32 RGB JPEG."""
    image = Image.fromarray(crop, mode="L").resize((32, 32), Image.Resampling.BICUBIC).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def write_competition(directory: Path, faces: np.ndarray, others: np.ndarray, pair_count: int,
                      seed: int) -> None:
    """Write ``faces`` and ``others`` to ``directory`` in the competition layout."""
    rng = np.random.default_rng(seed)
    jpegs = [to_competition_jpeg(crop) for crop in np.concatenate([faces, others])]
    order = rng.permutation(len(jpegs))  # image numbers must not give the answer away
    (directory / "images").mkdir(parents=True)
    for number, index in enumerate(order, start=1):
        (directory / "images" / f"{number:06d}.jpg").write_bytes(jpegs[index])
    # The visualization set holds the very pixels a reader decodes, faces first.
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")) for jpeg in jpegs])
    np.save(directory / "visualization.npy", decoded, allow_pickle=False)
    names = rng.integers(1, len(jpegs) + 1, size=(pair_count, 2))
    pd.DataFrame({"id": np.arange(pair_count), "image1_name": names[:, 0],
                  "image2_name": names[:, 1]}).to_csv(directory / "test_case.csv", index=False)


def write_faces(directory: Path, faces: np.ndarray) -> None:
    """Write the face crops as lossless grey PNGs named 0.png … 99.png."""
    for number, crop in enumerate(faces):
        Image.fromarray(crop, mode="L").save(directory / f"{number}.png")


def main() -> None:
    config = load(DemoConfig)
    faces, others = lfw_crops()
    with atomic_dir(paths.DEMO_COMPETITION) as tmp:
        write_competition(tmp, faces, others, config.pairs, load_seed())
    with atomic_dir(paths.DEMO_FACES) as tmp:
        write_faces(tmp, faces)
    print(f"demo: wrote {paths.DEMO_COMPETITION} ({len(faces) + len(others)} images, {config.pairs} pairs) "
          f"and {paths.DEMO_FACES} ({len(faces)} faces)")


if __name__ == "__main__":
    stage_guard(main)
