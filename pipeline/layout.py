"""The competition layout, read and validated in one place.

A competition folder holds::

    images/000001.jpg … images/0N.jpg   32×32 RGB JPEGs, named by the integers 1…N
    test_case.csv                        id,image1_name,image2_name (names are integers 1…N)
    visualization.npy                    (2k, 32, 32, 3) uint8: k images of dataset A, then k of B

Every reader here raises :class:`~pipeline.errors.InputError` with a message that names the
file (and row or column), what was expected and what was found.
"""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from pipeline.errors import InputError

IMAGE_SHAPE = (32, 32, 3)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
PAIR_COLUMNS = ("id", "image1_name", "image2_name")
_NUMBERED = re.compile(r"^0*(\d+)$")


def competition_files(directory: str | os.PathLike) -> tuple[Path, Path, Path]:
    """Return the paths (images dir, test_case.csv, visualization.npy), checking each exists."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{root}: expected a competition folder (images/, test_case.csv, "
                         f"visualization.npy), found {'a file' if root.exists() else 'nothing'}")
    images, pairs, visualization = root / "images", root / "test_case.csv", root / "visualization.npy"
    for path, what in ((images, "a folder of numbered jpgs"), (pairs, "the pairs CSV"),
                       (visualization, "the visualization array")):
        if not path.exists():
            raise InputError(f"{path}: expected {what}, found nothing")
    return images, pairs, visualization


def image_paths(images_dir: str | os.PathLike) -> list[Path]:
    """List ``images_dir``'s images in numeric order, checking they are named exactly 1…N.

    Zero padding is free (``000001.jpg`` and ``1.jpg`` are both image 1); hidden files are
    ignored; any other file, a duplicate number or a gap in the numbering is an error.
    """
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise InputError(f"{images_dir}: expected a folder of numbered jpgs, found "
                         f"{'a file' if images_dir.exists() else 'nothing'}")
    numbered: dict[int, Path] = {}
    with os.scandir(images_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            match = _NUMBERED.match(path.stem)
            if path.suffix.lower() not in IMAGE_SUFFIXES or match is None or not entry.is_file():
                raise InputError(f"{path}: expected only images named <number>.jpg in "
                                 f"{images_dir}, found '{entry.name}'")
            number = int(match.group(1))
            if number in numbered:
                raise InputError(f"{path}: image number {number} appears twice "
                                 f"(also {numbered[number].name})")
            numbered[number] = path
    if not numbered:
        raise InputError(f"{images_dir}: expected images 000001.jpg … N.jpg, found an empty folder")
    count = len(numbered)
    if min(numbered) != 1 or max(numbered) != count:
        missing = next(i for i in range(1, max(numbered) + 2) if i not in numbered)
        raise InputError(f"{images_dir}: expected images numbered 1…{max(numbered)} without gaps, "
                         f"found no image {missing} (e.g. {missing:06d}.jpg)")
    return [numbered[i] for i in range(1, count + 1)]


def decode_image(path: Path) -> np.ndarray:
    """Decode one image to (32, 32, 3) uint8; grey, palette and RGBA images are converted to RGB."""
    try:
        with Image.open(path) as image:
            image.load()  # force a full decode: a truncated file fails here, not later
            if image.size != IMAGE_SHAPE[1::-1]:
                raise InputError(f"{path}: expected a 32×32 image, found {image.size[0]}×{image.size[1]}")
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{path}: expected a readable image, found a corrupt or truncated file "
                         f"({error})") from None


def decode_images(paths: list[Path], out: np.ndarray | None = None, *, workers: int | None = None,
                  progress: bool = True) -> np.ndarray:
    """Decode ``paths`` into ``out`` (n, 32, 32, 3) uint8, allocated if not given.

    ``out`` may be a memory-mapped array, so a million images never need to sit in RAM.
    Pillow releases the GIL while decoding, so a few threads use every core.
    """
    if out is None:
        out = np.empty((len(paths), *IMAGE_SHAPE), dtype=np.uint8)
    workers = workers or min(8, os.cpu_count() or 1)
    chunk = 4096
    with ThreadPoolExecutor(workers) as pool, tqdm(total=len(paths), desc="decode images", unit="img",
                                                   disable=not progress, file=sys.stderr,
                                                   mininterval=1.0) as bar:
        for start in range(0, len(paths), chunk):
            batch = paths[start:start + chunk]
            for offset, pixels in enumerate(pool.map(decode_image, batch)):
                out[start + offset] = pixels
            bar.update(len(batch))
    return out


def read_pairs(csv_path: str | os.PathLike, image_count: int) -> np.ndarray:
    """Read test_case.csv into (m, 3) int64 rows of (id, image1, image2), image numbers 1-based.

    Tolerated: a UTF-8 byte-order mark, CRLF line ends, extra columns, surrounding spaces.
    Errors name the row (as the line number in the file) and the column.
    """
    csv_path = Path(csv_path)
    try:
        table = pd.read_csv(csv_path, dtype=str, encoding="utf-8-sig", skipinitialspace=True,
                            keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{csv_path}: expected a header {','.join(PAIR_COLUMNS)} and rows, "
                         f"found an empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{csv_path}: expected a CSV file, found unparseable text ({error})") from None
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in PAIR_COLUMNS if column not in table.columns]
    if missing:
        raise InputError(f"{csv_path}: expected columns {','.join(PAIR_COLUMNS)}, found "
                         f"{','.join(table.columns)} (missing {','.join(missing)})")
    if table.empty:
        raise InputError(f"{csv_path}: expected at least one pair after the header, found none")
    pairs = np.empty((len(table), 3), dtype=np.int64)
    for index, column in enumerate(PAIR_COLUMNS):
        text = table[column].str.strip()
        valid = text.str.fullmatch(r"[+]?\d{1,18}")
        if not valid.all():
            row = int(np.argmin(valid.to_numpy()))
            raise InputError(f"{csv_path}: line {row + 2}, column {column}: expected an integer, "
                             f"found '{table[column].iloc[row]}'")
        pairs[:, index] = text.astype(np.int64).to_numpy()
    names = pairs[:, 1:]
    bad = (names < 1) | (names > image_count)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise InputError(f"{csv_path}: line {row + 2}, column {PAIR_COLUMNS[column + 1]}: expected an "
                         f"image number in 1…{image_count}, found {names[row, column]}")
    ids = pairs[:, 0]
    unique, first_index, counts = np.unique(ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        duplicate = unique[counts > 1][0]
        rows = np.flatnonzero(ids == duplicate)[:2] + 2
        raise InputError(f"{csv_path}: column id: expected unique ids, found id {duplicate} on "
                         f"lines {rows[0]} and {rows[1]}")
    return pairs


def read_visualization(path: str | os.PathLike) -> np.ndarray:
    """Load visualization.npy as (2k, 32, 32, 3) uint8: k images of dataset A, then k of B.

    Loaded with ``allow_pickle=False``: a file holding Python objects is refused, never executed.
    """
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False, mmap_mode=None)
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise InputError(f"{path}: expected a plain uint8 array, found pickled Python objects "
                             f"(refused: loading them could run code)") from None
        raise InputError(f"{path}: expected a .npy array, found an unreadable file ({error})") from None
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: expected a .npy array, found an unreadable file ({error})") from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path}: expected a single .npy array, found an archive of arrays")
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE or array.shape[0] < 2 or array.shape[0] % 2:
        raise InputError(f"{path}: expected shape (2k, 32, 32, 3) (5000, 32, 32, 3 on Kaggle), "
                         f"found {array.shape}")
    if array.dtype != np.uint8:
        raise InputError(f"{path}: expected dtype uint8, found {array.dtype}")
    return array


def visualization_truth(count: int) -> np.ndarray:
    """The known labels of visualization.npy: (count,) int8, 0 for the first half, 1 for the second."""
    return np.repeat(np.array([0, 1], dtype=np.int8), count // 2)
