"""Build a competition folder of the real competition's size whose faces come in two croppings.

    .venv/bin/python -m bench._mixed_set OUT [--images 40000] [--pairs 1000000] [--seed 0]

hw7's images (CelebA faces aligned as the course's, and CIFAR-10) and the holdout's (UTKFace
faces cropped tight, and CIFAR-10) side by side, filled up to ``--images`` with mirrored copies of
hw7 images drawn with ``--seed`` (JPEG quality 95); about half faces, half objects. The
visualization set takes the first 1,250 of each dataset from each folder (2,500 faces, then 2,500
objects); the pairs are drawn uniformly (with ``--seed`` + 1). No image is made up: every one is a real photograph of
../shared/data (SOURCES.md there), and OUT is written outside the repository. BENCHMARKS.md's
40,000-image sections ran on `bench._mixed_set ../../tmp/big40k`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def build(out: Path, images: int, pairs: int, seed: int) -> None:
    hw7, holdout = SHARED / "hw7", SHARED / "holdout"
    hw7_files = sorted((hw7 / "images").glob("*.jpg"))
    files = hw7_files + sorted((holdout / "images").glob("*.jpg"))
    if images < len(files):
        raise SystemExit(f"error: --images: expected at least {len(files)} (hw7's and the holdout's), found {images}")
    (out / "images").mkdir(parents=True)
    for number, source in enumerate(files, start=1):
        shutil.copyfile(source, out / "images" / f"{number:06d}.jpg")
    rng = np.random.default_rng(seed)
    for number, index in enumerate(rng.choice(len(hw7_files), images - len(files), replace=False) + 1,
                                   start=len(files) + 1):
        mirrored = Image.open(hw7 / "images" / f"{index:06d}.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        mirrored.save(out / "images" / f"{number:06d}.jpg", quality=95)
    a, b = np.load(hw7 / "visualization.npy"), np.load(holdout / "visualization.npy")
    np.save(out / "visualization.npy", np.concatenate([a[:1250], b[:1250], a[2500:3750], b[2500:3750]]))
    drawn = np.random.default_rng(seed + 1).integers(1, images + 1, (pairs, 2))  # image numbers, as hw7's
    with open(out / "test_case.csv", "w", encoding="utf-8") as f:
        f.write("id,image1_name,image2_name\n")
        f.writelines(f"{i},{p},{q}\n" for i, (p, q) in enumerate(drawn))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to write (must not exist)")
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out.exists():
        print(f"error: {args.out}: expected a folder to create, found one already there", file=sys.stderr)
        return 2
    build(args.out, args.images, args.pairs, args.seed)
    print(f"wrote {args.out}: {args.images} images, {args.pairs} pairs, 5000 visualization images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
