"""Fuzzing the competition readers (hypothesis): random bytes, and random mutations of valid files.

The property, for layout.read_pairs, layout.read_visualization and layout.decode_image: each
call either succeeds or raises InputError, never any other exception (which would be a
traceback instead of one line) nor a warning (a second line on stderr), and its peak of traced
allocations (tracemalloc, see hostile.py) stays within a small multiple of the file's own size
plus a constant: what a legitimate file of that size could need, never what a header claims.
For the image decoder tracemalloc does not see Pillow's own buffers: test_hostile_input
measures those (VmPeak) for the huge-header cases.

The examples are few (FUZZ_EXAMPLES, default 200 per test) and derandomized, so a run takes
seconds and fails the same way every time; for a longer search, e.g.
``FUZZ_EXAMPLES=5000 pytest tests/lib/test_fuzz.py`` (then hypothesis also explores new examples).
"""

from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
import pytest
from conftest import PAIR_HEADER
from hostile import MiB, image_bytes, traced_peak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy_format
from PIL import Image, ImageFile

from pipeline.lib import layout
from pipeline.lib.errors import InputError

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 1000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
IMAGE_COUNT = 40


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One folder for the whole module: hypothesis runs many examples per test function.

    Pillow imports its ~40 format plugins the first time a file is not a JPEG or PNG: a one-time
    cost (1.4 MB traced) that is no part of what a file costs, so it is paid here, unmeasured.
    """
    Image.init()
    return tmp_path_factory.mktemp("fuzz")


def answer(function, path, *args) -> tuple[int, object]:
    """(peak traced bytes, result or InputError); any other exception, or a warning (one more
    line on stderr), fails the test here."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        peak, outcome = traced_peak(function, path, *args)
    assert not caught, [str(warning.message) for warning in caught]
    if isinstance(outcome, InputError):
        message = str(outcome)
        assert "\n" not in message and message.startswith(str(path)), message
    return peak, outcome


# ------------------------------------------------------------------------------- mutations
# Bytes that mean something to one of the formats: line ends, quotes, NUL, a BOM, invalid UTF-8,
# long digit runs, JPEG markers, PNG chunk names, .npy header syntax.
MEANINGFUL = [b"\n", b"\r\n", b"\r", b",", b'"', b"\x00", b"\xef\xbb\xbf", b"\xff", b"\xc3", b"-",
              b"9" * 25, b" ", b"\xff\xd8", b"\xff\xc0", b"\xff\xda", b"\xff\xd9", b"IHDR", b"IDAT",
              b"IEND", b"(", b")", b"[", b"{", b"'shape': (", b"'descr': '", b"\x93NUMPY"]


@st.composite
def mutated(draw, valid: bytes, focus: int | None = None) -> bytes:
    """``valid`` after 1 to 8 random edits; with ``focus``, positions favour its first bytes."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 8))):
        end = len(data) if focus is None or draw(st.booleans()) else min(focus, len(data))
        at = draw(st.integers(0, end))
        edit = draw(st.sampled_from(["set", "insert", "delete", "repeat", "truncate"]))
        if edit == "set" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from(MEANINGFUL) | st.binary(min_size=1, max_size=32))
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 200))
        elif edit == "truncate":
            del data[at:]
    return bytes(data)


def write(scratch, name: str, data: bytes):
    path = scratch / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------- test_case.csv
def valid_pairs() -> bytes:
    rng = np.random.default_rng(0)
    rows = [f"{i},{a},{b}" for i, (a, b) in enumerate(rng.integers(1, IMAGE_COUNT + 1, (30, 2)))]
    return ("\n".join([PAIR_HEADER, *rows]) + "\n").encode()


def check_pairs(scratch, data: bytes) -> None:
    path = write(scratch, "test_case.csv", data)
    peak, outcome = answer(layout.read_pairs, path, IMAGE_COUNT)
    if not isinstance(outcome, InputError):
        assert outcome.dtype == np.int64 and outcome.ndim == 2 and outcome.shape[1] == 3
        assert ((outcome[:, 1:] >= 1) & (outcome[:, 1:] <= IMAGE_COUNT)).all()
    assert peak <= 8 * len(data) + MiB, f"{peak} bytes for a {len(data)}-byte file"


@FUZZ
@given(data=st.binary(max_size=4096))
def test_read_pairs_random_bytes(scratch, data):
    check_pairs(scratch, data)


@FUZZ
@given(data=mutated(valid_pairs()))
def test_read_pairs_mutated(scratch, data):
    check_pairs(scratch, data)


def test_read_pairs_control_the_valid_file_reads(scratch):
    """The control: unmutated, the base file is accepted (so the mutations start from valid)."""
    assert layout.read_pairs(write(scratch, "test_case.csv", valid_pairs()), IMAGE_COUNT).shape == (30, 3)


# --------------------------------------------------------------------------- visualization.npy
def valid_npy() -> bytes:
    out = io.BytesIO()
    np.save(out, np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    return out.getvalue()


DESCRS = ["|u1", "<u1", "<f4", "<i8", "|b1", "|O", "<U8", "|V3", "|V1000000000", "|S0", "<M8[s]",
          ("|u1", (32, 32, 3)), [("a", "|u1")], [("a", "|O")], "x", 7]
dimension = st.one_of(st.integers(-3, 8), st.sampled_from([32, 3, 2**31, 2**63, 10**9]),
                      st.integers(-(2**70), 2**70))


@st.composite
def npy_with_any_header(draw) -> bytes:
    """A header written as numpy writes one, claiming any shape and dtype, then any data."""
    header = io.BytesIO()
    shape = tuple(draw(st.lists(dimension, max_size=6)))
    fields = {"descr": draw(st.sampled_from(DESCRS)), "fortran_order": draw(st.booleans()), "shape": shape}
    try:
        npy_format.write_array_header_1_0(header, fields)
    except ValueError:  # too long for version 1.0
        npy_format.write_array_header_2_0(header, fields)
    length = draw(st.sampled_from([0, 3072, 4 * 3072, 4 * 3072 + 1, 4 * 3072 - 1]) | st.integers(0, 20000))
    return header.getvalue() + bytes(length)


def check_visualization(scratch, data: bytes) -> None:
    path = write(scratch, "visualization.npy", data)
    peak, outcome = answer(layout.read_visualization, path)
    if not isinstance(outcome, InputError):
        assert outcome.dtype == np.uint8 and outcome.shape[1:] == (32, 32, 3) and len(outcome) % 2 == 0
        assert outcome.nbytes <= len(data)
    assert peak <= 2 * len(data) + MiB, f"{peak} bytes for a {len(data)}-byte file"


@FUZZ
@given(data=st.binary(max_size=4096) | st.binary(max_size=200).map(lambda tail: b"\x93NUMPY" + tail))
def test_read_visualization_random_bytes(scratch, data):
    check_visualization(scratch, data)


@FUZZ
@given(data=mutated(valid_npy(), focus=128))
def test_read_visualization_mutated(scratch, data):
    check_visualization(scratch, data)


@FUZZ
@given(data=npy_with_any_header())
def test_read_visualization_any_header(scratch, data):
    check_visualization(scratch, data)


# ------------------------------------------------------------------------------- images
def grey_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (32, 32), 90).save(out, format="PNG")
    return out.getvalue()


IMAGES = {"jpeg": image_bytes("JPEG"), "png": image_bytes("PNG"), "grey-png": grey_png()}


def with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a JPEG or PNG) with the size fields of its header set (a PNG's CRC left wrong)."""
    out = bytearray(data)
    if data.startswith(b"\xff\xd8"):
        sof = out.index(b"\xff\xc0")
        out[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    else:
        ihdr = out.index(b"IHDR")
        out[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    return bytes(out)


def check_image(scratch, data: bytes) -> None:
    path = write(scratch, "000001.jpg", data)
    peak, outcome = answer(layout.decode_image, path)
    if not isinstance(outcome, InputError):
        assert outcome.shape == (32, 32, 3) and outcome.dtype == np.uint8
    # Pillow reads a length a header claims in one piece up to ImageFile.SAFEBLOCK (1 MiB), and
    # in pieces of that size beyond: a constant, found by this test (1.05 MB for an 18-byte BMP).
    assert peak <= 4 * len(data) + ImageFile.SAFEBLOCK + MiB, f"{peak} bytes for a {len(data)}-byte file"


@FUZZ
@given(data=st.binary(max_size=4096) | st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a",
                                                         b"BM", b"II*\x00", b"P6\n"]).flatmap(
    lambda magic: st.binary(max_size=512).map(lambda tail: magic + tail)))
def test_decode_image_random_bytes(scratch, data):
    check_image(scratch, data)


@FUZZ
@given(data=st.sampled_from(sorted(IMAGES)).flatmap(lambda name: mutated(IMAGES[name], focus=200)))
def test_decode_image_mutated(scratch, data):
    check_image(scratch, data)


@FUZZ
@given(name=st.sampled_from(["jpeg", "png"]), width=st.integers(0, 65535), height=st.integers(0, 65535))
def test_decode_image_any_claimed_size(scratch, name, width, height):
    check_image(scratch, with_size(IMAGES[name], width, height))


def test_decode_image_control_the_valid_files_decode(scratch):
    for name, data in IMAGES.items():
        assert layout.decode_image(write(scratch, f"{name}.jpg", data)).shape == (32, 32, 3), name
