"""Eigenfaces: PCA of a folder of same-sized colour face images (HW7 part 1), numpy only.

Conventions used throughout:

* ``faces`` is a ``(n, h, w, 3)`` uint8 array: n images, h rows, w columns, RGB, pixel values 0-255.
* Each image is flattened to a row of ``d = h * w * 3`` values; ``X`` is the ``(n, d)`` data matrix
  and ``Xc = X - mean`` the mean-subtracted one (the mean face is always subtracted first).
* ``Xc = V diag(s) Uᵀ``: ``s`` are the n singular values (pixel units, largest first), the columns
  of ``V`` (n, n) are the eigenvectors of the Gram matrix ``Xc Xcᵀ`` and the columns of ``U``
  (d, n) are the eigenfaces (unit length, float64).

The eigenfaces are found from the small n×n Gram matrix instead of an SVD of the tall data matrix:
``Xc Xcᵀ = V diag(s²) Vᵀ`` and ``U = Xcᵀ V / s``. Both products are computed over chunks of pixel
columns taken straight from the uint8 array and centred on the fly, so memory stays at the uint8
data (n·d bytes) plus one float64 chunk per worker thread, never the n·d·8 bytes of a float64
copy. The chunks are shared over a few threads that each run single-threaded BLAS (through
threadpoolctl when it is installed), which stays fast on a small machine shared with other work.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.lib.errors import InputError, one_line, printable
from pipeline.lib.layout import open_image
from pipeline.lib.parallel import usable_cpus

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
CHUNK_BYTES = 16 * 2**20  # size of one float64 chunk of columns in the Gram and eigenface passes
MAX_WORKERS = 4  # threads working on chunks of columns at once (each holds one chunk)
_INTEGER = re.compile(r"[0-9]+")
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE  # per image: 48 MiB as RGB, and each eigenface 384 MiB as float64
MAX_FILE_BYTES = 8 * MAX_PIXELS  # 128 MiB: such an image as 16-bit RGBA, uncompressed


# --------------------------------------------------------------------------------------- loading
def list_face_files(directory: str | Path) -> list[Path]:
    """Return the image files of ``directory``, in the order the analysis uses.

    Files are sorted by their numeric stem when every stem is an integer (``2.jpg`` before
    ``10.jpg``), otherwise by name. Hidden files (``.name``) and sub-folders are skipped; any other
    file must end in .jpg/.jpeg/.png/.bmp (any case). Raises InputError for a missing or empty
    folder or a file that is not an image.
    """
    directory = Path(directory)
    if not directory.is_dir():
        found = "a file" if directory.exists() else "nothing"
        raise InputError(f"{printable(directory)}: expected a folder of face images, found {found}")
    files = []
    for path in directory.iterdir():
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            raise InputError(
                f"{printable(path)}: not an image: expected a file ending in {'/'.join(IMAGE_EXTENSIONS)} "
                f"(any case), found '{printable(path.suffix or 'no extension')}'"
            )
        files.append(path)
    if not files:
        raise InputError(f"{printable(directory)}: expected at least one face image "
                         f"({'/'.join(IMAGE_EXTENSIONS)}), found an empty folder")
    if all(_INTEGER.fullmatch(p.stem) for p in files):
        return sorted(files, key=lambda p: (int(p.stem), p.name))
    return sorted(files, key=lambda p: p.name)


def _decode_error(path: Path, error: Exception) -> InputError:
    return InputError(f"{printable(path)}: expected a readable image, found a file that cannot be decoded "
                      f"({printable(one_line(error), limit=200)})")


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header alone: nothing is decoded."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # see read_rgb
            with Image.open(path) as img:
                return img.size
    except Image.DecompressionBombError as error:  # over 179 million pixels: Pillow refuses to open it
        raise InputError(f"{printable(path)}: expected a face image of at most {MAX_PIXELS} pixels "
                         f"({MAX_SIDE}x{MAX_SIDE}), found a header that claims a huge one "
                         f"({printable(one_line(error), limit=200)})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _decode_error(path, error) from None


def read_rgb(path: str | Path) -> np.ndarray:
    """Read one image file fully and return it as an ``(h, w, 3)`` uint8 RGB array.

    Grey, grey+alpha, RGBA, palette and CMYK images become 3-channel RGB (alpha is dropped);
    16-bit grey is scaled to 0-255. The size in the header is checked first: over
    :data:`MAX_PIXELS` pixels is refused before anything is decoded (a tiny file whose header
    claims a huge image costs nothing), and so is a file over :data:`MAX_FILE_BYTES`. A file
    that cannot be decoded to the end (corrupt or truncated) raises InputError naming it.
    """
    path = Path(path)
    width, height = image_size(path)
    if width * height > MAX_PIXELS:
        raise InputError(f"{printable(path)}: expected a face image of at most {MAX_PIXELS} pixels "
                         f"({MAX_SIDE}x{MAX_SIDE}), found {width}x{height}: resize the images first")
    try:
        with open_image(path, MAX_FILE_BYTES, "a face image file") as img:
            if img.size != (width, height):  # the file changed since its header was read
                raise OSError(f"its size changed from {width}x{height} to "
                              f"{img.size[0]}x{img.size[1]}")
            img.load()  # force the full decode: a truncated file fails here, not later
            if img.mode.startswith("I;16"):
                grey = np.asarray(img, dtype=np.uint32)
                grey = ((grey * 255 + 32767) // 65535).astype(np.uint8)
                return np.repeat(grey[:, :, None], 3, axis=2)
            if img.mode == "P" and "transparency" in img.info:
                img = img.convert("RGBA")
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise _decode_error(path, error) from None
    return rgb


def load_faces(paths: list[Path]) -> np.ndarray:
    """Read the given files into one ``(n, h, w, 3)`` uint8 array; all must have the first one's size.

    Raises InputError naming the first file whose size differs (its size and the expected one),
    found from its header before it is decoded. Memory: the (n, h, w, 3) array, allocated once
    from the first image's size; a folder too large for memory is an InputError, not a crash.
    """
    if not paths:
        raise InputError("no face images given: expected at least one file")
    first = read_rgb(paths[0])
    h, w = first.shape[:2]
    try:
        faces = np.empty((len(paths), *first.shape), dtype=np.uint8)
    except MemoryError:
        size = len(paths) * first.nbytes / 2**30
        raise InputError(f"{printable(paths[0].parent)}: expected face images that fit in memory, found "
                         f"{len(paths)} images of {w}x{h} ({size:.1f} GiB)") from None
    faces[0] = first
    for i, path in enumerate(paths[1:], start=1):
        size = image_size(path)
        if size == (w, h):
            image = read_rgb(path)
            size = image.shape[1::-1]
        if size != (w, h):
            raise InputError(
                f"{printable(path)}: expected {w}x{h} pixels (width x height) like the first image "
                f"{printable(paths[0].name)}, found {size[0]}x{size[1]}"
            )
        faces[i] = image
    return faces


def load_face_folder(directory: str | Path) -> tuple[list[str], np.ndarray]:
    """Read every face image of a folder: ``(file names, faces (n, h, w, 3) uint8)``.

    Order and errors as in ``list_face_files`` and ``load_faces``.
    """
    paths = list_face_files(directory)
    return [p.name for p in paths], load_faces(paths)


# ------------------------------------------------------------------------------------ computing
def _column_chunks(d: int, n: int, chunk_bytes: int = CHUNK_BYTES) -> list[slice]:
    step = max(1, chunk_bytes // (8 * max(n, 1)))
    return [slice(start, min(start + step, d)) for start in range(0, d, step)]


@contextlib.contextmanager
def _blas_one_thread():
    """Run BLAS single-threaded inside the block; yield how many of our own threads to use instead.

    OpenBLAS threads spin while they wait for each other, so on a small machine shared with other
    busy processes a 2-thread product can run tens of times slower than a 1-thread one. Splitting
    the columns over our own threads, each calling single-threaded BLAS, uses the cores without
    that failure. Without threadpoolctl BLAS keeps its own threads and we use one.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield 1
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield max(1, min(usable_cpus(), MAX_WORKERS))


def _over_chunks(work, chunks: list[slice], workers: int) -> list:
    """Apply ``work(list of column slices)`` to ``workers`` interleaved shares of ``chunks``, in threads.

    The shares are fixed (chunks[i::workers]), so results do not depend on thread timing.
    """
    workers = max(1, min(workers, len(chunks)))
    if workers == 1:
        return [work(chunks)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, [chunks[i::workers] for i in range(workers)]))


def mean_face(faces: np.ndarray) -> np.ndarray:
    """Mean of ``faces`` (n, h, w, 3) over the images: ``(h, w, 3)`` float64, pixel units 0-255."""
    flat = faces.reshape(len(faces), -1)
    mean = np.empty(flat.shape[1], dtype=np.float64)
    for cols in _column_chunks(flat.shape[1], len(faces)):
        mean[cols] = flat[:, cols].mean(axis=0, dtype=np.float64)
    return mean.reshape(faces.shape[1:])


def gram_matrix(faces: np.ndarray, mean: np.ndarray, chunk_bytes: int = CHUNK_BYTES) -> np.ndarray:
    """``Xc Xcᵀ`` of the mean-subtracted faces: ``(n, n)`` float64, in squared pixel units.

    Built over chunks of pixel columns from the uint8 data, accumulated in float64.
    """
    n = len(faces)
    flat, mean = faces.reshape(n, -1), mean.reshape(-1)

    def part(chunks: list[slice]) -> np.ndarray:
        gram = np.zeros((n, n), dtype=np.float64)
        for cols in chunks:
            chunk = flat[:, cols].astype(np.float64)
            chunk -= mean[cols]
            gram += chunk @ chunk.T  # numpy runs a @ a.T as a symmetric rank-k update (syrk)
        return gram

    with _blas_one_thread() as workers:
        gram = sum(_over_chunks(part, _column_chunks(flat.shape[1], n, chunk_bytes), workers))
    return np.triu(gram) + np.triu(gram, 1).T  # exactly symmetric


def share_percent(singular_values: np.ndarray) -> np.ndarray:
    """The course's share of each component: ``s_i / Σ s × 100`` (Σ over all singular values)."""
    s = np.asarray(singular_values, dtype=np.float64)
    total = s.sum()
    return s / total * 100.0 if total > 0 else np.zeros_like(s)


def variance_percent(singular_values: np.ndarray) -> np.ndarray:
    """Share of the variance of each component: ``s_i² / Σ s² × 100`` (Σ over all singular values)."""
    s2 = np.asarray(singular_values, dtype=np.float64) ** 2
    total = s2.sum()
    return s2 / total * 100.0 if total > 0 else np.zeros_like(s2)


@dataclass
class Eigenfaces:
    """Result of ``compute_eigenfaces``.

    mean: (h, w, 3) float64 mean face, 0-255.
    eigenfaces: (k, d) float64, unit-length rows (d = h·w·3), largest singular value first; a row is
        all zeros for a component whose singular value is numerically zero.
    singular_values: (n,) float64, all n of them, descending, pixel units; those too small for the
        Gram route to resolve (≤ s_max·10·sqrt(n·eps), including the last, which is 0 after
        mean subtraction) are exactly 0.
    coefficients: (n, k) float64, the weights of each input image on each eigenface (= V·s).
    """

    mean: np.ndarray
    eigenfaces: np.ndarray
    singular_values: np.ndarray
    coefficients: np.ndarray

    @property
    def k(self) -> int:
        return len(self.eigenfaces)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.mean.shape

    @property
    def share_percent(self) -> np.ndarray:
        return share_percent(self.singular_values)

    @property
    def variance_percent(self) -> np.ndarray:
        return variance_percent(self.singular_values)

    def eigenface_image(self, i: int) -> np.ndarray:
        """Eigenface ``i`` (0-based) as an (h, w, 3) float64 array (unit length, signed)."""
        return self.eigenfaces[i].reshape(self.shape)


def compute_eigenfaces(faces: np.ndarray, k: int, source: str | Path = "the faces",
                       chunk_bytes: int = CHUNK_BYTES) -> Eigenfaces:
    """Top-``k`` eigenfaces of ``faces`` (n, h, w, 3) uint8 via the n×n Gram matrix.

    Exact up to rounding: singular values and eigenfaces agree with
    ``np.linalg.svd(Xc, full_matrices=False)`` (eigenfaces up to sign). The sign of each eigenface
    is fixed so that its entry of largest magnitude is positive. Raises InputError (naming
    ``source``, k and the image count) unless 1 ≤ k ≤ n.
    """
    n = len(faces)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise InputError(f"{source}: expected k between 1 and the number of images ({n}), found k={k!r}")
    mean = mean_face(faces)
    gram = gram_matrix(faces, mean, chunk_bytes)
    with _blas_one_thread():
        eigenvalues, vectors = np.linalg.eigh(gram)
    eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
    s = np.sqrt(np.clip(eigenvalues, 0.0, None))

    # A Gram eigenvalue is only known to about eps·λmax·n, so a singular value below this is zero
    # (there is always one: the mean-subtracted data has rank ≤ n-1). Setting it to exactly 0 keeps
    # rounding noise out of the shares and the eigenfaces.
    tolerance = s[0] * np.sqrt(np.finfo(np.float64).eps * n) * 10
    s[s <= tolerance] = 0.0
    scale = np.divide(1.0, s[:k], out=np.zeros(k), where=s[:k] > 0)
    v = vectors[:, :k] * scale  # U = Xcᵀ V / s

    flat, mean_flat = faces.reshape(n, -1), mean.reshape(-1)
    eigenfaces = np.empty((k, flat.shape[1]), dtype=np.float64)

    def part(chunks: list[slice]) -> None:
        for cols in chunks:
            chunk = flat[:, cols].astype(np.float64)
            chunk -= mean_flat[cols]
            eigenfaces[:, cols] = v.T @ chunk

    with _blas_one_thread() as workers:
        _over_chunks(part, _column_chunks(flat.shape[1], n, chunk_bytes), workers)

    signs = np.sign(eigenfaces[np.arange(k), np.abs(eigenfaces).argmax(axis=1)])
    signs[signs == 0] = 1.0
    eigenfaces *= signs[:, None]
    coefficients = vectors[:, :k] * signs * s[:k]
    return Eigenfaces(mean=mean, eigenfaces=eigenfaces, singular_values=s, coefficients=coefficients)


def project(model: Eigenfaces, images: np.ndarray) -> np.ndarray:
    """Weights of ``images`` (m, h, w, 3) on the model's eigenfaces: (m, k) float64."""
    images = np.asarray(images)
    centred = images.reshape(len(images), -1).astype(np.float64) - model.mean.reshape(-1)
    with _blas_one_thread():
        return centred @ model.eigenfaces.T


def reconstruct(model: Eigenfaces, images: np.ndarray) -> np.ndarray:
    """Rebuild ``images`` (m, h, w, 3) from the top-k eigenfaces: mean + projection.

    Returns (m, h, w, 3) uint8, rounded and clipped to 0-255 for display or saving.
    """
    weights = project(model, images)
    with _blas_one_thread():
        rebuilt = model.mean.reshape(-1) + weights @ model.eigenfaces
    return np.clip(np.rint(rebuilt), 0, 255).astype(np.uint8).reshape(len(images), *model.shape)


def rmse(original: np.ndarray, rebuilt: np.ndarray) -> float:
    """Root-mean-square difference of two same-shaped images, in 0-255 pixel units."""
    diff = np.asarray(original, dtype=np.float64) - np.asarray(rebuilt, dtype=np.float64)
    return float(np.sqrt(np.mean(diff**2)))


def display_transform(eigenface: np.ndarray) -> np.ndarray:
    """The course's display of an eigenface: ``M -= M.min(); M /= M.max(); (M*255).astype(uint8)``.

    Same shape, uint8. A constant array (e.g. a zero eigenface) becomes all zeros.
    """
    m = np.array(eigenface, dtype=np.float64)
    m -= m.min()
    top = m.max()
    if top > 0:
        m /= top
    return (m * 255).astype(np.uint8)
