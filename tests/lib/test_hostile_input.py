"""Hostile input, round two: headers that lie, values that carry control characters.

Every reader of the competition folder and of the face folder (and the chunked .npy readers
the stages use) is fed a file whose header claims something the file does not hold. Each must
answer with InputError (one line: file, what was expected, what was found) and cost no more
memory than the file itself could legitimately need, measured (see bounds.py), never what the
header claims. Values from the input that reach a message are shown with control characters
escaped (pipeline.lib.errors.printable), so a NUL or an ESC in a file never reaches a terminal.
"""

from __future__ import annotations

import os
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import PAIR_HEADER
from hostile import (
    MiB,
    image_bytes,
    jpeg_claiming,
    lying_npy,
    peak_virtual_growth,
    png_claiming,
    png_with_idat_claiming,
    traced_peak,
)
from PIL import Image

from pipeline.lib import arrays, faces, layout
from pipeline.lib.errors import InputError, main_guard, printable

LINUX = sys.platform.startswith("linux")


def test_the_hostile_images_do_claim_their_size(tmp_path):
    """The control: Pillow reads the lying sizes from the headers (so the tests below test them)."""
    for name, data, size in [("a.jpg", jpeg_claiming(9000, 9000), (9000, 9000)),
                             ("b.png", png_claiming(9000, 7000), (9000, 7000))]:
        (tmp_path / name).write_bytes(data)
        with Image.open(tmp_path / name) as image:
            assert image.size == size


# ----------------------------------------------------------------------------- printable
@pytest.mark.parametrize("value, shown", [
    ("202", "202"),
    ("\x00202", "\\x00202"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("del\x7f c1\x85", "del\\x7f c1\\x85"),
    ("abc\u202egpj.exe", "abc\\u202egpj.exe"),  # a right-to-left override: shows as "exe.jpg"
    ("line\u2028sep", "line\\u2028sep"),
    ("/data/競賽 資料 (copy)", "/data/競賽 資料 (copy)"),
    (os.fsdecode(b"caf\xe9.jpg"), "caf\\xe9.jpg"),  # a Latin-1 file name: the byte itself
    (Path("a\x00b"), "a\\x00b"),
])
def test_printable_escapes_what_a_terminal_would_act_on(value, shown):
    assert printable(value) == shown
    assert printable(printable(value)) == shown  # escaping twice changes nothing
    assert printable(value).isprintable()


def test_printable_cuts_long_values():
    assert printable("x" * 100, limit=10) == "x" * 10 + "…"
    assert printable("\x00" * 100, limit=3) == "\\x00" * 3 + "…"
    assert printable("short", limit=10) == "short"


def test_main_guard_escapes_a_message_built_without_printable(capsys, monkeypatch):
    """The safety net: any InputError reaches stderr escaped, on one line."""
    def main(argv):
        raise InputError("data/x.csv: expected an integer, found '\x1b]0;pwned\x07'")
    monkeypatch.setattr(sys, "argv", ["stage"])
    with pytest.raises(SystemExit) as exit_:
        main_guard(main)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == "error: data/x.csv: expected an integer, found '\\x1b]0;pwned\\x07'\n"


# ------------------------------------------------------------- control characters in messages
def write_pairs(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test_case.csv"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_nul_in_a_csv_value_is_shown_escaped(tmp_path):
    path = write_pairs(tmp_path, f"{PAIR_HEADER}\n0,1,2\n1,\x00202,3\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 300)
    assert str(error.value) == (f"{path}: line 3, column image1_name: expected an integer, "
                                f"found '\\x00202'")


def test_control_characters_in_the_csv_header_are_shown_escaped(tmp_path):
    path = write_pairs(tmp_path, "id,image1_name,\x1b[2Jimage2_name\n0,1,2\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert "found id,image1_name,\\x1b[2Jimage2_name (missing image2_name)" in str(error.value)
    assert str(error.value).isprintable()


def test_a_huge_value_is_shown_cut(tmp_path):
    path = write_pairs(tmp_path, f"{PAIR_HEADER}\n0,{'9' * 5000}x,2\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    message = str(error.value)
    assert message.endswith(f"found '{'9' * layout.SHOWN}…'") and len(message) < 300 + len(str(path))


@pytest.mark.parametrize("name, shown", [
    ("1\x1b[31m.jpg", "1\\x1b[31m.jpg"),
    ("notes\n.jpg", "notes\\n.jpg"),
    (os.fsdecode(b"\xff\xfe.jpg"), "\\xff\\xfe.jpg"),
])
def test_stray_file_names_are_shown_escaped(tmp_path, name, shown):
    images = tmp_path / "images"
    images.mkdir()
    (images / "1.jpg").write_bytes(image_bytes("JPEG"))
    (images / name).write_bytes(b"x")
    with pytest.raises(InputError) as error:
        layout.image_paths(images)
    assert str(error.value) == (f"{images}/{shown}: expected only images named <number>.jpg in {images}, "
                                f"found '{shown}'")


def test_control_characters_in_a_competition_path_are_shown_escaped(tmp_path):
    root = tmp_path / "comp\x1b[1m"
    with pytest.raises(InputError) as error:
        layout.competition_files(root)
    assert str(error.value).startswith(f"{tmp_path}/comp\\x1b[1m: expected a competition folder")


def test_face_file_names_are_shown_escaped(tmp_path):
    (tmp_path / "0.jpg").write_bytes(image_bytes("JPEG"))
    (tmp_path / "face\x07.t\x01t").write_bytes(b"x")  # (a NUL cannot be in a file name)
    with pytest.raises(InputError) as error:
        faces.list_face_files(tmp_path)
    assert str(error.value) == (f"{tmp_path}/face\\x07.t\\x01t: not an image: expected a file ending in "
                                f".jpg/.jpeg/.png/.bmp (any case), found '.t\\x01t'")


# ------------------------------------------------------- visualization.npy: headers that lie
FOUR_IMAGES = bytes(4 * 32 * 32 * 3)


def test_npy_header_claiming_a_billion_images_costs_nothing(tmp_path):
    """The issue's case: numpy would try to allocate 2.79 TiB before finding the file short."""
    path = lying_npy(tmp_path / "visualization.npy", (10**9, 32, 32, 3), FOUR_IMAGES)
    peak, error = traced_peak(layout.read_visualization, path)
    assert isinstance(error, InputError)
    assert str(error) == (f"{path}: expected 3072000000000 bytes of data after the header for shape "
                          f"(1000000000, 32, 32, 3) of uint8, found 12288 (a truncated file, or a header "
                          f"that claims more than the file holds)")
    assert peak < MiB


def test_npy_header_claiming_fewer_images_than_the_data(tmp_path):
    path = lying_npy(tmp_path / "visualization.npy", (2, 32, 32, 3), FOUR_IMAGES)
    with pytest.raises(InputError, match=r"expected 6144 bytes of data after the header for shape "
                                         r"\(2, 32, 32, 3\) of uint8, found 12288 \(more data than"):
        layout.read_visualization(path)


@pytest.mark.parametrize("shape", [(2**62, 32, 32, 3), (2**64 + 2, 32, 32, 3)])
def test_npy_header_beyond_int64_does_not_overflow(tmp_path, shape):
    path = lying_npy(tmp_path / "visualization.npy", shape, FOUR_IMAGES)
    peak, error = traced_peak(layout.read_visualization, path)
    assert isinstance(error, InputError) and "found 12288" in str(error)
    assert peak < MiB


@pytest.mark.parametrize("shape", [(4, 32, 32, 3 * 10**9), (4, -32, -32, 3), (-4, 32, 32, 3)])
def test_npy_header_with_impossible_image_sizes(tmp_path, shape):
    path = lying_npy(tmp_path / "visualization.npy", shape, FOUR_IMAGES)
    peak, error = traced_peak(layout.read_visualization, path)
    assert isinstance(error, InputError), error
    assert peak < MiB


def test_npy_header_claiming_huge_items(tmp_path):
    """A dtype of 10⁹-byte items: refused as a dtype, not allocated."""
    path = lying_npy(tmp_path / "visualization.npy", (4, 32, 32, 3), FOUR_IMAGES, descr="|V1000000000")
    peak, error = traced_peak(layout.read_visualization, path)
    assert isinstance(error, InputError) and "expected dtype uint8, found |V1000000000" in str(error)
    assert peak < MiB


def test_npy_header_nested_too_deep(tmp_path):
    """A header numpy's parser gives up on with RecursionError, not ValueError."""
    path = tmp_path / "visualization.npy"
    text = ("{'descr': '|u1', 'fortran_order': False, 'shape': (" + "-" * 5000 + "1,), }").encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + FOUR_IMAGES)
    with pytest.raises(InputError, match=r"expected a \.npy array, found an unreadable file"):
        layout.read_visualization(path)


def test_npy_header_length_field_claiming_4_gib(tmp_path):
    """Found by test_fuzz: numpy reads as many header bytes as a version 2.0 header's 4-byte
    length claims, allocating them before it finds the file short (662 MB for a 12 KB file)."""
    path = tmp_path / "visualization.npy"
    path.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**32 - 1) + b"{'descr': '|u1'" + FOUR_IMAGES)
    peak, error = traced_peak(layout.read_visualization, path)
    assert isinstance(error, InputError)
    assert str(error) == (f"{path}: expected a .npy array, found an unreadable file (a header length of "
                          f"4294967295 bytes (at most 10000, and 12303 are left in the file))")
    assert peak < MiB


def test_npy_header_unparseable_even_as_python_2(tmp_path):
    """Found by test_fuzz: numpy's fallback parser for Python 2 headers raises tokenize.TokenError
    (not a ValueError) for an unclosed bracket, and warns (a second line) on its way."""
    path = tmp_path / "visualization.npy"
    text = b"{'descr': '|u1', 'fortran_order': False, 'shape': (4, 32,"
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + FOUR_IMAGES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=r"found an unreadable file \(\('EOF in multi-line statement'"):
            layout.read_visualization(path)


def test_fortran_ordered_visualization_still_reads(tmp_path):
    """What np.save writes for a Fortran-ordered array is valid: read as np.load reads it."""
    array = np.asfortranarray(np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    np.save(tmp_path / "visualization.npy", array)
    np.testing.assert_array_equal(layout.read_visualization(tmp_path / "visualization.npy"), array)


# ------------------------------------------------------- pipeline.lib.arrays: the same checks
@pytest.mark.parametrize("reader", ["read_npy_header", "NpyFile", "iter_npy_chunks", "read_rows"])
def test_chunked_readers_check_the_header_against_the_length(tmp_path, reader):
    path = lying_npy(tmp_path / "codes.npy", (10**9, 1024), bytes(4 * 1024 * 4), descr="<f4")
    call = {"read_npy_header": lambda: arrays.read_npy_header(path),
            "NpyFile": lambda: arrays.NpyFile(path).read(),
            "iter_npy_chunks": lambda: list(arrays.iter_npy_chunks(path, 65536)),
            "read_rows": lambda: arrays.read_rows(path, [0, 1, 2, 3])}[reader]
    peak, error = traced_peak(call)
    assert isinstance(error, InputError)
    assert str(error) == (f"{path}: expected 4096000000000 bytes of data after the header for shape "
                          f"(1000000000, 1024) of float32, found 16384 (a truncated file, or a header "
                          f"that claims more than the file holds)")
    assert peak < MiB


def test_chunked_readers_refuse_trailing_data(tmp_path):
    path = lying_npy(tmp_path / "codes.npy", (2, 1024), bytes(4 * 1024 * 4), descr="<f4")
    with pytest.raises(InputError, match=r"found 16384 \(more data than the header's shape holds"):
        arrays.NpyFile(path)


def test_chunked_readers_refuse_pickles_and_fortran_order(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="found pickled Python objects"):
        arrays.read_npy_header(tmp_path / "objects.npy")
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.zeros((3, 4))))
    with pytest.raises(InputError, match="found a Fortran-ordered one"):
        arrays.read_npy_header(tmp_path / "fortran.npy")


# ------------------------------------------------------------------ test_case.csv: endless lines
def test_csv_that_is_one_endless_line(tmp_path):
    path = tmp_path / "test_case.csv"
    path.write_bytes(b"1," * (8 * MiB))  # 16 MiB, no line end
    peak, error = traced_peak(layout.read_pairs, path, 10)
    assert isinstance(error, InputError)
    assert str(error) == (f"{path}: line 1: expected a line of at most {layout.MAX_LINE} characters "
                          f"(a few numbers separated by commas), found a longer one")
    assert peak < 2 * MiB


def test_csv_with_an_endless_line_further_down(tmp_path):
    path = tmp_path / "test_case.csv"
    path.write_bytes(f"{PAIR_HEADER}\n0,1,2\n".encode() + b"7" * (4 * MiB) + b"\n1,2,3\n")
    peak, error = traced_peak(layout.read_pairs, path, 10)
    assert isinstance(error, InputError) and ": line 3: expected a line of at most" in str(error)
    assert peak < 2 * MiB


def test_csv_with_a_huge_quoted_field(tmp_path):
    """A quoted field may span lines: the csv module's field limit bounds it."""
    path = tmp_path / "test_case.csv"
    path.write_bytes(f'{PAIR_HEADER}\n0,"'.encode() + b"12345\n" * (MiB // 2) + b'",2\n')
    peak, error = traced_peak(layout.read_pairs, path, 10)
    assert isinstance(error, InputError)
    assert "expected a CSV file, found unparseable text (field larger than field limit" in str(error)
    assert peak < 2 * MiB


def test_csv_memory_is_a_small_multiple_of_the_file(tmp_path):
    """20,000 valid pairs: parsed into integers row by row (4.1× the file measured; the former
    reader kept every value as a string until the end: 20×)."""
    rng = np.random.default_rng(0)
    names = rng.integers(1, 40001, size=(20_000, 2))
    rows = (f"{i},{a},{b}" for i, (a, b) in enumerate(names))
    path = write_pairs(tmp_path, "\n".join([PAIR_HEADER, *rows]))
    peak, pairs = traced_peak(layout.read_pairs, path, 40000)
    np.testing.assert_array_equal(pairs[:, 1:], names)
    size = path.stat().st_size
    assert peak < 6 * size, f"peak {peak / MiB:.2f} MiB for a {size / MiB:.2f} MiB file"


def test_csv_not_utf8_far_into_the_file(tmp_path):
    """Found again in 64 KiB pieces: the line is right across pieces."""
    path = tmp_path / "test_case.csv"
    rows = "".join(f"{i},1,2\n" for i in range(30_000))
    path.write_bytes(f"{PAIR_HEADER}\n{rows}".encode() + "30000,\u00e9,2\n".encode("latin-1"))
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 10)
    assert str(error.value) == (f"{path}: line 30002: expected UTF-8 text, found undecodable bytes "
                                f"(invalid continuation byte: b'\\xe9')")


# ------------------------------------------------- images: a header that claims a huge size
HOSTILE_IMAGES = {
    "jpeg-9000x9000": (jpeg_claiming(9000, 9000), "expected a 32×32 image, found 9000×9000"),
    "png-10000x10000": (png_claiming(10000, 10000), "expected a 32×32 image, found 10000×10000"),
    "png-60000x60000": (png_claiming(60000, 60000),
                        "expected a 32×32 image, found a header that claims a huge one (Image size "),
}


@pytest.mark.parametrize("case", list(HOSTILE_IMAGES))
def test_decode_image_refuses_a_huge_header_before_decoding(tmp_path, case):
    data, expected = HOSTILE_IMAGES[case]
    path = tmp_path / "000001.jpg"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning would be a second line
        with pytest.raises(InputError) as error:
            layout.decode_image(path)
    assert str(error.value).startswith(f"{path}: {expected}")


@pytest.mark.skipif(not LINUX, reason="measures VmPeak in /proc/self/status")
@pytest.mark.parametrize("call", ["layout.decode_image(Path({path!r}))", "faces.read_rgb({path!r})"],
                         ids=["decode_image", "read_rgb"])
def test_image_data_chunk_claiming_2_gib(tmp_path, call):
    """Found by test_fuzz: Pillow reads the rest of a PNG's IDAT chunk in one piece, as long as
    it claims; from a file that was 2 GiB for a 3 KB image. Decoded from memory, it is not."""
    path = tmp_path / "000001.jpg"
    path.write_bytes(png_with_idat_claiming(2**31 - 16))
    growth, outcome = peak_virtual_growth("from pipeline.lib import faces, layout\nfrom pathlib import Path",
                                          call.format(path=str(path)))
    assert outcome == "ok" or outcome.startswith("InputError: "), outcome
    assert growth < 16 * MiB, f"{growth / MiB:.0f} MiB for a {path.stat().st_size}-byte file"


def test_image_file_too_large_for_a_32x32_image(tmp_path):
    path = tmp_path / "000001.jpg"
    path.write_bytes(image_bytes("JPEG") + bytes(layout.MAX_IMAGE_BYTES))  # trailing junk
    size = path.stat().st_size
    peak, error = traced_peak(layout.decode_image, path)
    assert str(error) == (f"{path}: expected a 32×32 image of at most {layout.MAX_IMAGE_BYTES} bytes, "
                          f"found a file of {size} bytes")
    assert peak < 64 * 1024


def test_face_file_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(faces, "MAX_FILE_BYTES", 1000)
    folder = face_folder(tmp_path, image_bytes("PNG"))
    with pytest.raises(InputError) as error:
        faces.load_face_folder(folder)
    assert str(error.value) == (f"{folder}/0.jpg: expected a face image file of at most 1000 bytes, found a "
                                f"file of {len(image_bytes('PNG'))} bytes")


@pytest.mark.parametrize("reader", ["decode_image", "read_rgb"])
def test_image_readers_do_not_pass_on_pillows_warnings(tmp_path, reader):
    """Found by test_fuzz: a TIFF with corrupt EXIF data makes Pillow warn (a second stderr line)."""
    path = tmp_path / "000001.jpg"
    path.write_bytes(b"II\x00*\x00\x00\x00\x01")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError):
            layout.decode_image(path) if reader == "decode_image" else faces.read_rgb(path)


@pytest.mark.skipif(not LINUX, reason="measures VmPeak in /proc/self/status")
@pytest.mark.parametrize("case", list(HOSTILE_IMAGES))
def test_decode_image_memory_with_a_huge_header(tmp_path, case):
    path = tmp_path / "000001.jpg"
    path.write_bytes(HOSTILE_IMAGES[case][0])
    growth, outcome = peak_virtual_growth("from pipeline.lib import layout\nfrom pathlib import Path",
                                          f"layout.decode_image(Path({str(path)!r}))")
    assert outcome.startswith("InputError: "), outcome
    assert growth < 16 * MiB, f"{growth / MiB:.0f} MiB"


# ------------------------------------------------------- the face folder: a huge header
def face_folder(tmp_path: Path, *files: bytes) -> Path:
    folder = tmp_path / "faces"
    folder.mkdir()
    for number, data in enumerate(files):
        (folder / f"{number}.jpg").write_bytes(data)
    return folder


def test_face_larger_than_the_first_is_refused_from_its_header(tmp_path):
    folder = face_folder(tmp_path, image_bytes("JPEG"), image_bytes("JPEG"), jpeg_claiming(9000, 9000))
    with pytest.raises(InputError) as error:
        faces.load_face_folder(folder)
    assert str(error.value) == (f"{folder}/2.jpg: expected 32x32 pixels (width x height) like the first "
                                f"image 0.jpg, found 9000x9000")


@pytest.mark.parametrize("data, found", [
    (jpeg_claiming(9000, 9000), "found 9000x9000: resize the images first"),
    (png_claiming(60000, 60000), "found a header that claims a huge one (Image size (3600000000 pixels)"),
], ids=["jpeg-9000x9000", "png-60000x60000"])
def test_first_face_with_a_huge_header_is_refused(tmp_path, data, found):
    folder = face_folder(tmp_path, data, image_bytes("JPEG"))
    with pytest.raises(InputError) as error:
        faces.load_face_folder(folder)
    limit = f"{faces.MAX_PIXELS} pixels ({faces.MAX_SIDE}x{faces.MAX_SIDE})"
    assert str(error.value).startswith(f"{folder}/0.jpg: expected a face image of at most {limit}, {found}")


@pytest.mark.skipif(not LINUX, reason="measures VmPeak in /proc/self/status")
@pytest.mark.parametrize("position", [0, 2])
def test_face_folder_memory_with_a_huge_header(tmp_path, position):
    files = [image_bytes("JPEG")] * 3
    files[position] = jpeg_claiming(9000, 9000)
    folder = face_folder(tmp_path, *files)
    growth, outcome = peak_virtual_growth("from pipeline.lib import faces",
                                          f"faces.load_face_folder({str(folder)!r})")
    assert outcome.startswith("InputError: "), outcome
    assert growth < 16 * MiB, f"{growth / MiB:.0f} MiB (a decoded 9000×9000 image is 232 MiB)"


def test_face_folder_too_large_for_memory(tmp_path, monkeypatch):
    """n × h × w × 3 bytes that cannot be allocated: one line, not numpy's traceback."""
    folder = face_folder(tmp_path, image_bytes("JPEG"), image_bytes("JPEG"))
    real_empty = np.empty

    def empty(shape, *args, **kwargs):  # the allocation of the whole stack fails, as on a small machine
        if len(shape) == 4:
            raise MemoryError
        return real_empty(shape, *args, **kwargs)

    monkeypatch.setattr(faces.np, "empty", empty)
    with pytest.raises(InputError) as error:
        faces.load_face_folder(folder)
    assert str(error.value) == (f"{folder}: expected face images that fit in memory, found 2 images of "
                                f"32x32 (0.0 GiB)")
