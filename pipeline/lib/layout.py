"""The competition layout, read and validated in one place.

A competition folder holds::

    images/000001.jpg … images/0N.jpg   32×32 RGB JPEGs, named by the integers 1…N
    test_case.csv                        id,image1_name,image2_name (names are integers 1…N)
    visualization.npy                    (2k, 32, 32, 3) uint8: k images of dataset A, then k of B

Every reader here raises :class:`~pipeline.errors.InputError` with a message that names the
file (and row or column), what was expected and what was found.
"""

from __future__ import annotations

import array
import contextlib
import csv
import io
import os
import re
import shlex
import warnings
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.lib import arrays, parallel
from pipeline.lib.errors import InputError, one_line, printable
from pipeline.lib.progress import Progress

IMAGE_SHAPE = (32, 32, 3)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MAX_IMAGE_BYTES = 2**20  # a 32×32 competition image is 1-3 KB; a larger file is something else
PAIR_COLUMNS = ("id", "image1_name", "image2_name")
_NUMBERED = re.compile(r"^0*(\d+)$")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")  # ASCII digits only; 18 digits always fit int64


def competition_files(directory: str | os.PathLike, *, setting: str | None = None) -> tuple[Path, Path, Path]:
    """Return the paths (images dir, test_case.csv, visualization.npy), checking each exists.

    A zip archive (the competition's download, not unpacked) is named as one, with the command
    that unpacks it (:func:`unpack_first`); ``setting`` is the params key the path came from
    (``data.dir``), so that the answer ends with the `dvc exp run` that uses the unpacked folder.
    """
    root = Path(directory)
    if root.is_file() and zipfile.is_zipfile(root):
        raise InputError(unpack_first(root, setting))
    if not root.is_dir():
        raise InputError(f"{printable(root)}: expected a competition folder (images/, test_case.csv, "
                         f"visualization.npy), found {'a file' if root.exists() else 'nothing'}")
    images, pairs, visualization = root / "images", root / "test_case.csv", root / "visualization.npy"
    for path, what in ((images, "a folder of numbered jpgs"), (pairs, "the pairs CSV"),
                       (visualization, "the visualization array")):
        if not path.exists():
            raise InputError(f"{printable(path)}: expected {what}, found nothing")
        if path is not images and not path.is_file():
            raise InputError(f"{printable(path)}: expected {what} (a file), found a folder")
    return images, pairs, visualization


def unpack_first(archive: Path, setting: str | None = None) -> str:
    """One line for a zip archive given where its unpacked folder is expected: the archive named,
    then ``unzip ARCHIVE -d FOLDER`` (FOLDER beside it, named after it) and the folder to use:
    ``dvc exp run -S SETTING=FOLDER`` with ``setting``, else the folder's path. The folder to use
    is the one inside the archive that holds test_case.csv (a top folder, when the archive has one).
    """
    zipped = archive.suffix.lower() == ".zip"
    folder = archive.with_suffix("") if zipped else archive.with_name(f"{archive.name}.d")
    target = folder / _folder_holding(archive, "test_case.csv")
    use = (f"dvc exp run -S {shlex.quote(f'{setting}={target}')}" if setting
           else f"give {shlex.quote(str(target))}")
    return (f"{printable(archive)}: expected a competition folder (images/, test_case.csv, "
            f"visualization.npy), found a zip archive: unpack it first: unzip {shlex.quote(str(archive))} "
            f"-d {shlex.quote(str(folder))}, then {use}")


def _folder_holding(archive: Path, name: str) -> str:
    """The member folder of zip ``archive`` that holds ``name`` nearest the top ('' for the top or none)."""
    try:
        with zipfile.ZipFile(archive) as opened:
            folders = [os.path.dirname(member.rstrip("/")) for member in opened.namelist()
                       if os.path.basename(member.rstrip("/")) == name]
    except (OSError, zipfile.BadZipFile):
        return ""
    return min(folders, key=lambda folder: (folder.count("/"), folder), default="")


def image_paths(images_dir: str | os.PathLike) -> list[Path]:
    """List ``images_dir``'s images in numeric order, checking they are named exactly 1…N.

    Zero padding is free (``000001.jpg`` and ``1.jpg`` are both image 1); hidden files are
    ignored; any other file, a duplicate number or a gap in the numbering is an error.
    """
    images_dir = Path(images_dir)
    shown = printable(images_dir)
    if not images_dir.is_dir():
        raise InputError(f"{shown}: expected a folder of numbered jpgs, found "
                         f"{'a file' if images_dir.exists() else 'nothing'}")
    numbered: dict[int, Path] = {}
    with os.scandir(images_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            match = _NUMBERED.match(path.stem)
            if path.suffix.lower() not in IMAGE_SUFFIXES or match is None or not entry.is_file():
                raise InputError(f"{printable(path)}: expected only images named <number>.jpg in "
                                 f"{shown}, found '{printable(entry.name)}'")
            number = int(match.group(1))
            if number in numbered:
                raise InputError(f"{printable(path)}: image number {number} appears twice "
                                 f"(also {printable(numbered[number].name)})")
            numbered[number] = path
    if not numbered:
        raise InputError(f"{shown}: expected images 000001.jpg … N.jpg, found an empty folder")
    count = len(numbered)
    if min(numbered) != 1 or max(numbered) != count:
        missing = next(i for i in range(1, max(numbered) + 2) if i not in numbered)
        raise InputError(f"{shown}: expected images numbered 1…{max(numbered)} without gaps, "
                         f"found no image {missing} (e.g. {missing:06d}.jpg)")
    return [numbered[i] for i in range(1, count + 1)]


@contextlib.contextmanager
def open_image(path: Path, max_bytes: int, what: str) -> Iterator[Image.Image]:
    """Open the image file at ``path`` with Pillow, from memory, with Pillow's warnings silenced.

    Memory is bounded by the file, itself at most ``max_bytes`` (else InputError: "<path>:
    expected <what> of at most <max_bytes> bytes, found a file of <n> bytes"): read from memory,
    no length that a header claims is allocated beyond the file's end (from a file, Pillow reads
    the rest of a PNG's IDAT chunk in one piece, as long as it claims: 2 GiB for a 3 KB file).
    Pillow warns about what it tolerates (a header claiming over 89 million pixels, corrupt
    EXIF data); each warning would be one more line on stderr, and the file is either decoded
    all the same or refused with one line of the caller's own. Pillow's errors pass through.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise InputError(f"{printable(path)}: expected {what} of at most {max_bytes} bytes, "
                             f"found a file of {size} bytes")
        data = f.read(size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(data)) as image:
            yield image


def decode_image(path: Path) -> np.ndarray:
    """Decode one image to (32, 32, 3) uint8; grey, palette and RGBA images are converted to RGB.

    The size in the header is checked before anything is decoded (a header claiming a huge image
    costs nothing), and memory is bounded by the file, at most :data:`MAX_IMAGE_BYTES` (see
    :func:`open_image`).
    """
    try:
        with open_image(path, MAX_IMAGE_BYTES, "a 32×32 image") as image:
            if image.size != IMAGE_SHAPE[1::-1]:
                raise InputError(f"{printable(path)}: expected a 32×32 image, found "
                                 f"{image.size[0]}×{image.size[1]}")
            image.load()  # force a full decode: a truncated file fails here, not later
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        found = "an empty file" if path.stat().st_size == 0 else "a file that is not an image"
        raise InputError(f"{printable(path)}: expected a JPEG image, found {found}") from None
    except Image.DecompressionBombError as error:  # over 179 million pixels: Pillow refuses to open it
        raise InputError(f"{printable(path)}: expected a 32×32 image, found a header that claims a huge "
                         f"one ({printable(one_line(error), limit=200)})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{printable(path)}: expected a readable image, found a corrupt or truncated "
                         f"file ({printable(one_line(error), limit=200)})") from None


def _decode_batch(paths: list[str]) -> np.ndarray:
    """Decode ``paths`` (as text: cheap to send to a worker process) into one uint8 array."""
    out = np.empty((len(paths), *IMAGE_SHAPE), dtype=np.uint8)
    for index, path in enumerate(paths):
        out[index] = decode_image(Path(path))
    return out


BATCH = 2048          # images per task sent to a worker process


def decode_chunks(paths: list[Path], *, workers: int | None = None, progress: bool = True,
                  batch: int | None = None) -> Iterator[np.ndarray]:
    """Decode ``paths`` in order, yielding (≤ ``batch``, 32, 32, 3) uint8 arrays, one after another.

    A 32×32 JPEG takes ~0.13 ms, mostly Python-side work in Pillow that holds the GIL, so threads
    do not help (two threads measured 2× slower than one). ``workers`` processes (default:
    :func:`pipeline.lib.parallel.worker_count`, the usable cores from 4,096 images on, else this
    process alone) decode batches while this one collects them, in order, with a few batches in
    flight, so memory stays at a few batches whatever the count.
    Errors are the same as one by one: the first bad image in numeric order is the one reported.
    The workers are started with "spawn" (nothing inherited, so their memory is their own): as
    with any such pool, a script that calls this must guard its top level with
    ``if __name__ == "__main__":`` (the stage scripts do), or pass ``workers=1``.
    """
    batch = batch or BATCH
    workers = parallel.worker_count(len(paths), workers)
    batches = ([str(p) for p in paths[start:start + batch]] for start in range(0, len(paths), batch))
    with Progress(len(paths), "decode images", "img", enabled=progress) as bar:
        # with workers: a clean process each (spawn: no inherited memory), a few batches in flight
        for pixels in parallel.in_workers(_decode_batch, batches, workers, processes=True, ahead=2 * workers):
            bar.update(len(pixels))
            yield pixels


def decode_images(paths: list[Path], out: np.ndarray | None = None, *, workers: int | None = None,
                  progress: bool = True) -> np.ndarray:
    """Decode ``paths`` into ``out`` (n, 32, 32, 3) uint8, allocated if not given.

    For more images than fit in memory, write :func:`decode_chunks` to a file instead
    (the stage ``prepare`` does, with :class:`pipeline.lib.arrays.NpyWriter`).
    """
    if out is None:
        out = np.empty((len(paths), *IMAGE_SHAPE), dtype=np.uint8)
    start = 0
    for pixels in decode_chunks(paths, workers=workers, progress=progress):
        out[start:start + len(pixels)] = pixels
        start += len(pixels)
    return out


MAX_LINE = 65536  # characters in one line of test_case.csv; a real one has about 20
SHOWN = 60        # characters of a bad value echoed in a message (then "…")


def _bounded_lines(f, csv_path: Path) -> Iterator[str]:
    """The lines of text file ``f``, each read with a bound: memory never holds more than
    :data:`MAX_LINE` characters of one line, however long the file's lines are."""
    number = 0
    while line := f.readline(MAX_LINE + 2):  # room for the line end ("\r\n")
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE:
            raise InputError(f"{printable(csv_path)}: line {number}: expected a line of at most {MAX_LINE} "
                             f"characters (a few numbers separated by commas), found a longer one")
        yield line


def _undecodable(csv_path: Path) -> InputError:
    """The error for a file that is not UTF-8: the line and the bytes of the first bad sequence.

    Decoded again in pieces of 64 KiB (the csv reader's offsets say nothing about where).
    """
    line, pending = 1, b""
    with open(csv_path, "rb") as f:
        while True:
            piece = f.read(1 << 16)
            data = pending + piece
            try:
                data.decode("utf-8")
                pending = b""
            except UnicodeDecodeError as error:
                if piece and error.end == len(data) and error.reason == "unexpected end of data":
                    pending = data[error.start:]  # a character cut by the piece's end: read on
                    data = data[:error.start]
                else:
                    line += data.count(b"\n", 0, error.start)
                    return InputError(f"{printable(csv_path)}: line {line}: expected UTF-8 text, found "
                                      f"undecodable bytes ({error.reason}: {data[error.start:error.end]!r})")
            if not piece:
                return InputError(f"{printable(csv_path)}: expected UTF-8 text, found a file that changed "
                                  f"while it was read")
            line += data.count(b"\n")


def read_pairs(csv_path: str | os.PathLike, image_count: int) -> np.ndarray:
    """Read test_case.csv into (m, 3) int64 rows of (id, image1, image2), image numbers 1-based.

    Tolerated: a UTF-8 byte-order mark, CRLF line ends, extra columns, spaces around values and
    names, blank lines. Errors name the line of the file (1 is the header) and the column.
    A row with more values than the header has columns is an error, never silently shifted.
    Memory: each row becomes four int64 (its values and its line number) as it is read, and no
    line longer than :data:`MAX_LINE` characters is ever held, so an endless line or a huge
    field fails after reading that much, and a large file costs a small multiple of its size.
    Our reader, not pandas.read_csv: on hw7's 1,000,000 pairs pandas took 0.6 s and 114 MiB
    against 4.3 s and 95 MiB here (AMD EPYC), but its error names no line nor column (``invalid
    literal for int() with base 10: 'x'``) and its C parser holds an endless line whole.
    """
    csv_path = Path(csv_path)
    shown = printable(csv_path)
    values, lines = _pair_values(csv_path, shown)
    if not lines:
        raise InputError(f"{shown}: expected at least one pair after the header, found none")
    pairs = np.frombuffer(values, dtype=np.int64).reshape(-1, 3)  # no copy: the array's own buffer
    _check_pairs(pairs, np.frombuffer(lines, dtype=np.int64), image_count, shown)
    return pairs


def _pair_values(csv_path: Path, shown: str) -> tuple[array.array, array.array]:
    """The (id, image1, image2) integers of every row, flat, and each row's line number."""
    header_text = ",".join(PAIR_COLUMNS)
    values, lines = array.array("q"), array.array("q")
    reader = None
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(_bounded_lines(f, csv_path), skipinitialspace=True)
            header = next((fields for fields in reader if any(v.strip() for v in fields)), None)
            if header is None:
                raise InputError(f"{shown}: expected a header {header_text} and rows, found an empty file")
            header = [name.strip() for name in header]
            header_shown = printable(",".join(header), limit=200)
            missing = [column for column in PAIR_COLUMNS if column not in header]
            if missing:
                raise InputError(f"{shown}: expected columns {header_text}, found "
                                 f"{header_shown} (missing {','.join(missing)})")
            where = [header.index(column) for column in PAIR_COLUMNS]
            needed = max(where) + 1
            for fields in reader:
                if len(fields) < needed or any(v.strip() for v in fields[len(header):]):
                    if not any(v.strip() for v in fields):
                        continue  # a blank line
                    raise InputError(f"{shown}: line {reader.line_num}: expected {len(header)} values "
                                     f"as in the header ({header_shown}), found {len(fields)}")
                for column, index in zip(PAIR_COLUMNS, where):
                    text = fields[index].strip()
                    if _INTEGER.fullmatch(text) is None:
                        raise InputError(f"{shown}: line {reader.line_num}, column {column}: expected an "
                                         f"integer, found '{printable(fields[index], limit=SHOWN)}'")
                    values.append(int(text))
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise _undecodable(csv_path) from None
    except csv.Error as error:
        line = f" line {reader.line_num}:" if reader is not None else ""
        raise InputError(f"{shown}:{line} expected a CSV file, found unparseable text "
                         f"({printable(error, limit=200)})") from None
    except OSError as error:
        raise InputError(f"{shown}: expected a readable file, found {error.strerror or error}") from None
    return values, lines


def _check_pairs(pairs: np.ndarray, line_numbers: np.ndarray, image_count: int, shown: str) -> None:
    """Image numbers within 1…image_count and unique ids, the culprit named by its line."""
    names = pairs[:, 1:]
    bad = (names < 1) | (names > image_count)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise InputError(f"{shown}: line {line_numbers[row]}, column {PAIR_COLUMNS[column + 1]}: expected "
                         f"an image number in 1…{image_count}, found {names[row, column]}")
    ids = pairs[:, 0]
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        duplicate = unique[counts > 1][0]
        first, second = line_numbers[np.flatnonzero(ids == duplicate)[:2]]
        raise InputError(f"{shown}: column id: expected unique ids, found id {duplicate} on "
                         f"lines {first} and {second}")


def read_visualization(path: str | os.PathLike) -> np.ndarray:
    """Load visualization.npy as (2k, 32, 32, 3) uint8: k images of dataset A, then k of B.

    Never unpickled: a file holding Python objects is refused, never executed. Memory is bounded
    by the file: the header's shape and dtype are checked against the format, and the data they
    claim against the file's length, before the array is allocated.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as error:
        raise InputError(f"{printable(path)}: expected a readable .npy file, found "
                         f"{error.strerror or error}") from None
    if magic != b"\x93NUMPY":
        # Anything else numpy would hand to pickle: name what it is instead, and never unpickle it.
        if not magic:
            found = "an empty file"
        elif magic[:1] == b"\x80":
            found = "pickled Python objects (refused: loading them could run code)"
        elif magic[:4] == b"PK\x03\x04":
            found = "a zip archive (.npz?); save the array alone with numpy.save"
        else:
            found = f"a file that is not a .npy array (it starts with {magic!r})"
        raise InputError(f"{printable(path)}: expected a .npy array of uint8 images, found {found}")
    header = arrays.parse_npy_header(path)
    if header.dtype.hasobject:
        raise InputError(f"{printable(path)}: expected a plain uint8 array, found pickled Python objects "
                         f"(refused: loading them could run code)")
    shape = header.shape
    if len(shape) != 4 or shape[1:] != IMAGE_SHAPE or shape[0] < 2 or shape[0] % 2:
        raise InputError(f"{printable(path)}: expected shape (2k, 32, 32, 3) (5000, 32, 32, 3 on Kaggle), "
                         f"found {shape}")
    if header.dtype != np.uint8:
        raise InputError(f"{printable(path)}: expected dtype uint8, found {header.dtype}")
    arrays.check_npy_length(path, header)  # 2k × 3,072 bytes, exactly: a header may lie
    with open(path, "rb") as f:
        f.seek(header.offset)
        data = np.fromfile(f, dtype=np.uint8, count=header.data_bytes)
    if data.size != header.data_bytes:  # the file shrank since its length was checked
        arrays.check_npy_length(path, header._replace(file_size=header.offset + data.size))
    if header.fortran_order:  # what np.save writes for a Fortran-ordered array: the transpose's bytes
        return np.ascontiguousarray(data.reshape(shape[::-1]).transpose())
    return data.reshape(shape)


def visualization_truth(count: int) -> np.ndarray:
    """The known labels of visualization.npy: (count,) int8, 0 for the first half, 1 for the second."""
    return np.repeat(np.array([0, 1], dtype=np.int8), count // 2)
