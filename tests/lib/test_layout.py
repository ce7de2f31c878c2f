"""Unit tests of pipeline/layout.py: every bad input raises InputError naming the culprit
(file, line, column), every tolerated quirk just works, and pixels come out in order as uint8."""

from __future__ import annotations

import io
import os
import pickle
import shlex
import shutil
import zipfile

import numpy as np
import pytest
from conftest import PAIR_HEADER, write_competition
from PIL import Image

from pipeline.lib import layout
from pipeline.lib.errors import InputError


def solid(colour, size=(32, 32), mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def write_csv(tmp_path, text: str | bytes, name: str = "test_case.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


class RunsCode:
    """Unpickling this runs ``touch <marker>``: the payload a hostile .npy would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


# ------------------------------------------------------------------------- competition_files
def test_competition_files_returns_the_three_paths(tmp_path):
    root = write_competition(tmp_path, n_images=3, n_pairs=2, k=1)
    assert layout.competition_files(root) == (root / "images", root / "test_case.csv",
                                               root / "visualization.npy")


def test_competition_folder_missing(tmp_path):
    with pytest.raises(InputError, match=r"nowhere: expected a competition folder.*found nothing"):
        layout.competition_files(tmp_path / "nowhere")


def test_competition_folder_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"file: expected a competition folder.*found a file"):
        layout.competition_files(tmp_path / "file")


def test_a_zip_archive_is_named_with_the_command_that_unpacks_it(tmp_path):
    """Any zip, whatever its name: the folder to use is the one that holds test_case.csv."""
    with zipfile.ZipFile(tmp_path / "download.bin", "w") as archive:
        archive.writestr("hw7/images/000001.jpg", b"x")
        archive.writestr("hw7/test_case.csv", PAIR_HEADER)
    with pytest.raises(InputError) as error:
        layout.competition_files(tmp_path / "download.bin")
    assert str(error.value) == (
        f"{tmp_path}/download.bin: expected a competition folder (images/, test_case.csv, "
        f"visualization.npy), found a zip archive: unpack it first: unzip {tmp_path}/download.bin "
        f"-d {tmp_path}/download.bin.d, then give {tmp_path}/download.bin.d/hw7")
    with pytest.raises(InputError, match=r"then dvc exp run -S data\.dir=\S+/download\.bin\.d/hw7$"):
        layout.competition_files(tmp_path / "download.bin", setting="data.dir")


@pytest.mark.parametrize("part", ["images", "test_case.csv", "visualization.npy"])
def test_competition_part_missing(tmp_path, part):
    root = write_competition(tmp_path, n_images=3, n_pairs=2, k=1)
    target = root / part
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(InputError) as error:
        layout.competition_files(root)
    assert str(error.value).startswith(f"{target}: expected ")
    assert str(error.value).endswith("found nothing")


@pytest.mark.parametrize("part", ["test_case.csv", "visualization.npy"])
def test_competition_file_is_a_folder(tmp_path, part):
    root = write_competition(tmp_path, n_images=3, n_pairs=2, k=1)
    (root / part).unlink()
    (root / part).mkdir()
    with pytest.raises(InputError, match=rf"{part}: expected .*\(a file\), found a folder"):
        layout.competition_files(root)


# ------------------------------------------------------------------------------- image_paths
def test_image_paths_numeric_order_any_padding_hidden_files_ignored(tmp_path):
    names = ["10.jpg", "2.JPG", "000001.jpg", "03.png", "4.jpeg", "5.jpg", "6.jpg", "7.jpg",
             "8.jpg", "9.jpg", "11.jpg"]
    for name in names:
        solid((0, 0, 0)).save(tmp_path / name, format="PNG")
    (tmp_path / ".DS_Store").write_text("hidden")
    paths = layout.image_paths(tmp_path)
    assert [p.name for p in paths] == ["000001.jpg", "2.JPG", "03.png", "4.jpeg", "5.jpg", "6.jpg",
                                       "7.jpg", "8.jpg", "9.jpg", "10.jpg", "11.jpg"]


def make_numbered(directory, numbers):
    directory.mkdir(exist_ok=True)
    for number in numbers:
        solid((1, 2, 3)).save(directory / f"{number:06d}.jpg")
    return directory


@pytest.mark.parametrize("name", ["notes.txt", "cover.jpg", "1a.jpg", "README"])
def test_image_paths_other_file(tmp_path, name):
    images = make_numbered(tmp_path / "images", [1, 2])
    (images / name).write_text("not a numbered image")
    pattern = rf"{name}: expected only images named <number>\.jpg.*found '{name}'"
    with pytest.raises(InputError, match=pattern):
        layout.image_paths(images)


def test_image_paths_subfolder_named_like_an_image(tmp_path):
    images = make_numbered(tmp_path / "images", [1, 2])
    (images / "3.jpg").mkdir()
    with pytest.raises(InputError, match=r"3\.jpg: expected only images"):
        layout.image_paths(images)


@pytest.mark.parametrize("numbers, missing", [([1, 2, 3, 5, 6], 4), ([2, 3, 4], 1), ([1, 3], 2),
                                              ([1, 2, 3, 4, 5, 6, 7, 8, 9, 11], 10)])
def test_image_paths_gap(tmp_path, numbers, missing):
    images = make_numbered(tmp_path / "images", numbers)
    with pytest.raises(InputError) as error:
        layout.image_paths(images)
    message = str(error.value)
    assert message.startswith(f"{images}: expected images numbered 1…{max(numbers)} without gaps")
    assert f"found no image {missing} (e.g. {missing:06d}.jpg)" in message


def test_image_paths_same_number_twice(tmp_path):
    images = make_numbered(tmp_path / "images", [1, 2])
    solid((0, 0, 0)).save(images / "2.jpg")
    with pytest.raises(InputError, match=r"image number 2 appears twice"):
        layout.image_paths(images)


def test_image_paths_empty_folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".hidden").write_text("")
    pattern = r"images: expected images 000001\.jpg … N\.jpg, found an empty folder"
    with pytest.raises(InputError, match=pattern):
        layout.image_paths(tmp_path / "images")


def test_image_paths_missing_folder(tmp_path):
    with pytest.raises(InputError, match=r"images: expected a folder of numbered jpgs, found nothing"):
        layout.image_paths(tmp_path / "images")


# ------------------------------------------------------------------------------ decode_image
def jpeg_bytes(seed=0) -> bytes:
    """A valid 32×32 JPEG of random pixels."""
    buffer = io.BytesIO()
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_decode_image_matches_pillow_and_is_uint8(tmp_path):
    path = tmp_path / "1.jpg"
    path.write_bytes(jpeg_bytes())
    pixels = layout.decode_image(path)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    with Image.open(path) as image:
        np.testing.assert_array_equal(pixels, np.asarray(image.convert("RGB")))
    assert pixels.std() > 50  # random pixels, not a blank decode


def test_decode_grey_image_becomes_three_equal_channels(tmp_path):
    grey = np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) % 256
    path = tmp_path / "1.png"
    Image.fromarray(grey.astype(np.uint8), mode="L").save(path)
    pixels = layout.decode_image(path)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(pixels[..., channel], grey)


def test_decode_grey_jpeg(tmp_path):
    path = tmp_path / "1.jpg"
    solid(128, mode="L").save(path)
    pixels = layout.decode_image(path)
    assert pixels.shape == (32, 32, 3)
    assert np.abs(pixels.astype(int) - 128).max() <= 1


def test_decode_palette_image(tmp_path):
    image = Image.new("P", (32, 32))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 16, 32))  # left half blue, right half red
    path = tmp_path / "1.png"
    image.save(path)
    pixels = layout.decode_image(path)
    np.testing.assert_array_equal(pixels[0, 0], [0, 0, 255])
    np.testing.assert_array_equal(pixels[0, 31], [255, 0, 0])


def test_decode_rgba_image_drops_alpha(tmp_path):
    path = tmp_path / "1.png"
    solid((10, 200, 30, 0), mode="RGBA").save(path)
    pixels = layout.decode_image(path)
    assert pixels.shape == (32, 32, 3)
    np.testing.assert_array_equal(pixels[5, 5], [10, 200, 30])


@pytest.mark.parametrize("size", [(64, 48), (31, 32), (32, 33), (1, 1)])
def test_decode_wrong_size_names_the_size(tmp_path, size):
    path = tmp_path / "000007.jpg"
    solid((1, 1, 1), size=size).save(path)
    with pytest.raises(InputError) as error:
        layout.decode_image(path)
    assert str(error.value) == f"{path}: expected a 32×32 image, found {size[0]}×{size[1]}"


@pytest.mark.parametrize("cut", [0.5, 100, -2])
def test_decode_truncated_jpeg(tmp_path, cut):
    data = jpeg_bytes()
    end = int(len(data) * cut) if isinstance(cut, float) else cut
    path = tmp_path / "000003.jpg"
    path.write_bytes(data[:end])
    with pytest.raises(InputError, match=r"000003\.jpg: expected a readable image, found a corrupt or "
                                         r"truncated file \(.+\)"):
        layout.decode_image(path)


def test_decode_corrupt_jpeg(tmp_path):
    data = bytearray(jpeg_bytes())
    data[400:800] = b"\x55" * 400  # scrambled entropy-coded data, intact headers
    path = tmp_path / "000005.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"000005\.jpg: expected a readable image, found a corrupt"):
        layout.decode_image(path)


@pytest.mark.parametrize("content, found", [(b"", "an empty file"),
                                            (b"just some notes\n", "a file that is not an image"),
                                            (b"\xff\xd8" + b"x" * 50, "a file that is not an image")],
                         ids=["empty", "text", "jpeg-marker-then-junk"])
def test_decode_not_an_image(tmp_path, content, found):
    path = tmp_path / "000002.jpg"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        layout.decode_image(path)
    assert str(error.value) == f"{path}: expected a JPEG image, found {found}"


# ----------------------------------------------------------------------------- decode_images
def test_decode_images_keeps_numeric_order(tmp_path):
    colours = [(i * 20, 255 - i * 20, i) for i in range(12)]
    for number, colour in enumerate(colours, start=1):
        solid(colour).save(tmp_path / f"{number}.png")
    paths = layout.image_paths(tmp_path)
    pixels = layout.decode_images(paths, workers=3, progress=False)
    assert pixels.shape == (12, 32, 32, 3) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels[:, 7, 9], np.array(colours, dtype=np.uint8))


def test_decode_images_into_given_array(tmp_path):
    for number in (1, 2):
        solid((number, 0, 0)).save(tmp_path / f"{number}.png")
    out = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    result = layout.decode_images(layout.image_paths(tmp_path), out=out, progress=False)
    assert result is out
    assert out[1, 0, 0, 0] == 2 and out[0, 31, 31, 0] == 1


def test_decode_images_reports_the_bad_file(tmp_path):
    for number in range(1, 9):
        solid((number, 0, 0)).save(tmp_path / f"{number}.png")
    (tmp_path / "6.png").write_bytes(b"broken")
    with pytest.raises(InputError, match=r"6\.png: expected a JPEG image, found a file that is not an image"):
        layout.decode_images(layout.image_paths(tmp_path), workers=2, progress=False)


# -------------------------------------------------------------------------------- read_pairs
def test_read_pairs_valid(tmp_path):
    path = write_csv(tmp_path, f"{PAIR_HEADER}\n0,1,2\n1,3,3\n7,5,1\n")
    pairs = layout.read_pairs(path, 5)
    assert pairs.dtype == np.int64
    np.testing.assert_array_equal(pairs, [[0, 1, 2], [1, 3, 3], [7, 5, 1]])


@pytest.mark.parametrize("text", [
    "\ufeffid,image1_name,image2_name\r\n0,1,2\r\n1,3,4\r\n",              # BOM + CRLF
    "id , image1_name ,image2_name\n 0, 1 ,2 \n1 ,  3,4\n",                # spaces
    "note,id,image1_name,extra,image2_name\nx,0,1,y,2\n,1,3,,4\n",          # extra columns
    "image2_name,id,image1_name\n2,0,1\n4,1,3\n",                          # other column order
    "\n\nid,image1_name,image2_name\n\n0,1,2\n   \n1,3,4\n\n\n",              # blank lines
    'id,image1_name,image2_name\n"0","1","2"\n1,+3,0004\n',                # quotes, sign, zero padding
    "id,image1_name,image2_name\n0,1,2,\n1,3,4,\n",                        # trailing commas
], ids=["bom-crlf", "spaces", "extra-columns", "column-order", "blank-lines", "quotes-padding",
        "trailing-comma"])
def test_read_pairs_quirks_just_work(tmp_path, text):
    pairs = layout.read_pairs(write_csv(tmp_path, text), 4)
    np.testing.assert_array_equal(pairs, [[0, 1, 2], [1, 3, 4]])


def test_read_pairs_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"test_case\.csv: expected a readable file, found No such file"):
        layout.read_pairs(tmp_path / "test_case.csv", 5)


@pytest.mark.parametrize("text", ["", "\n\n", "  \r\n"], ids=["empty", "newlines", "spaces"])
def test_read_pairs_empty_file(tmp_path, text):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 5)
    assert str(error.value) == (f"{path}: expected a header id,image1_name,image2_name and rows, "
                                f"found an empty file")


@pytest.mark.parametrize("text", [f"{PAIR_HEADER}\n", f"\ufeff{PAIR_HEADER}\r\n\r\n", PAIR_HEADER])
def test_read_pairs_header_only(tmp_path, text):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 5)
    assert str(error.value) == f"{path}: expected at least one pair after the header, found none"


@pytest.mark.parametrize("header, missing", [("id,image1_name", "image2_name"),
                                             ("id,image1,image2", "image1_name,image2_name"),
                                             ("image1_name,image2_name", "id"),
                                             ("0,1,2", "id,image1_name,image2_name")])
def test_read_pairs_missing_column(tmp_path, header, missing):
    path = write_csv(tmp_path, f"{header}\n0,1,2\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 5)
    assert str(error.value) == (f"{path}: expected columns id,image1_name,image2_name, found {header} "
                                f"(missing {missing})")


def csv_with(line: int, column: str, value: str, rows: int = 6) -> str:
    """A valid CSV of ``rows`` pairs (names 1…3) with ``value`` at file line ``line``, ``column``."""
    table = [[str(i), "1", "2"] for i in range(rows)]
    table[line - 2][("id", "image1_name", "image2_name").index(column)] = value
    return PAIR_HEADER + "\n" + "".join(",".join(row) + "\n" for row in table)


@pytest.mark.parametrize("line, column, value", [
    (4, "image1_name", "abc"), (6, "image2_name", "2.5"), (3, "image1_name", ""),
    (2, "image2_name", "1e3"), (5, "id", "x7"), (7, "id", "1.0"), (3, "image2_name", "٣"),
    (4, "image1_name", "1 2"), (2, "id", "12345678901234567890"),
])
def test_read_pairs_not_an_integer(tmp_path, line, column, value):
    path = write_csv(tmp_path, csv_with(line, column, value))
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert str(error.value) == (f"{path}: line {line}, column {column}: expected an integer, "
                                f"found '{value}'")


@pytest.mark.parametrize("line, column, value", [(3, "image1_name", "0"), (7, "image2_name", "4"),
                                                 (5, "image2_name", "-2"), (2, "image1_name", "1000000")])
def test_read_pairs_image_number_out_of_range(tmp_path, line, column, value):
    path = write_csv(tmp_path, csv_with(line, column, value))
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert str(error.value) == (f"{path}: line {line}, column {column}: expected an image number in "
                                f"1…3, found {int(value)}")


def test_read_pairs_line_numbers_count_blank_lines(tmp_path):
    path = write_csv(tmp_path, f"{PAIR_HEADER}\r\n0,1,2\r\n\r\n1,1,2\r\n2,9,1\r\n")
    with pytest.raises(InputError, match=r"line 5, column image1_name: .* found 9$"):
        layout.read_pairs(path, 3)


def test_read_pairs_duplicate_ids(tmp_path):
    path = write_csv(tmp_path, f"{PAIR_HEADER}\n0,1,2\n1,1,2\n2,1,2\n1,2,1\n1,3,3\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert str(error.value) == f"{path}: column id: expected unique ids, found id 1 on lines 3 and 5"


@pytest.mark.parametrize("row, found", [("1,2,3,4", 4), ("1,2", 2), ("1", 1), ("1,2,3,,5", 5)])
def test_read_pairs_wrong_number_of_values(tmp_path, row, found):
    path = write_csv(tmp_path, f"{PAIR_HEADER}\n0,1,2\n5,1,1\n{row}\n")
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert str(error.value) == (f"{path}: line 4: expected 3 values as in the header "
                                f"(id,image1_name,image2_name), found {found}")


def test_read_pairs_never_shifts_columns(tmp_path):
    # Every row one value longer than the header: pandas would silently take the first value as
    # the index and shift the rest left; a wrong submission must never come out of this.
    path = write_csv(tmp_path, f"{PAIR_HEADER}\n0,1,2,3\n1,2,3,1\n")
    with pytest.raises(InputError, match=r"line 2: expected 3 values .* found 4"):
        layout.read_pairs(path, 3)


def test_read_pairs_not_utf8(tmp_path):
    path = write_csv(tmp_path, f"{PAIR_HEADER}\n0,1,2\n1,\xe9,2\n".encode("latin-1"))
    with pytest.raises(InputError) as error:
        layout.read_pairs(path, 3)
    assert str(error.value).startswith(f"{path}: line 3: expected UTF-8 text, found undecodable bytes (")


def test_read_pairs_not_utf8_far_down_names_the_right_line(tmp_path):
    # Past the reader's first 8 KiB chunk: the line must still be the file's, not the chunk's.
    rows = "".join(f"{i},1,2\n" for i in range(5000))
    path = write_csv(tmp_path, (f"{PAIR_HEADER}\n{rows}5000,1,2 caf\xe9\n").encode("latin-1"))
    pattern = r": line 5002: expected UTF-8 text, found undecodable bytes \(.*b'\\xe9'\)"
    with pytest.raises(InputError, match=pattern):
        layout.read_pairs(path, 3)


def test_read_pairs_folder(tmp_path):
    (tmp_path / "test_case.csv").mkdir()
    with pytest.raises(InputError, match=r"test_case\.csv: expected a readable file, found Is a directory"):
        layout.read_pairs(tmp_path / "test_case.csv", 3)


# ------------------------------------------------------------------------- read_visualization
def save(tmp_path, array, **kwargs):
    path = tmp_path / "visualization.npy"
    np.save(path, array, **kwargs)
    return path


def test_read_visualization_valid(tmp_path):
    array = np.random.default_rng(1).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    loaded = layout.read_visualization(save(tmp_path, array))
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, array)


@pytest.mark.parametrize("shape", [(8, 32, 32), (7, 32, 32, 3), (0, 32, 32, 3), (8, 32, 32, 1),
                                   (8, 3, 32, 32), (2, 8, 32, 32, 3), (32, 32, 3)])
def test_read_visualization_wrong_shape(tmp_path, shape):
    path = save(tmp_path, np.zeros(shape, dtype=np.uint8))
    with pytest.raises(InputError) as error:
        layout.read_visualization(path)
    assert str(error.value) == (f"{path}: expected shape (2k, 32, 32, 3) (5000, 32, 32, 3 on Kaggle), "
                                f"found {shape}")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint16", "bool"])
def test_read_visualization_wrong_dtype(tmp_path, dtype):
    path = save(tmp_path, np.zeros((4, 32, 32, 3), dtype=dtype))
    with pytest.raises(InputError) as error:
        layout.read_visualization(path)
    assert str(error.value) == f"{path}: expected dtype uint8, found {dtype}"


def hostile_files(tmp_path, marker):
    """Two files whose loading with pickle allowed would run ``touch marker``."""
    object_array = np.empty(2, dtype=object)
    object_array[:] = [RunsCode(marker), RunsCode(marker)]
    in_npy = tmp_path / "object_array.npy"
    np.save(in_npy, object_array, allow_pickle=True)
    raw = tmp_path / "raw_pickle.npy"
    raw.write_bytes(pickle.dumps(RunsCode(marker)))
    return {"object-array-npy": in_npy, "raw-pickle": raw}


def test_hostile_payload_is_live(tmp_path):
    # The control: with pickles allowed, both files do run code. Without this the test below
    # could pass for the wrong reason (a payload that never worked).
    for name, path in hostile_files(tmp_path, tmp_path / "marker").items():
        (tmp_path / "marker").unlink(missing_ok=True)
        if name == "raw-pickle":
            pickle.loads(path.read_bytes())
        else:
            np.load(path, allow_pickle=True)
        assert (tmp_path / "marker").exists(), name


@pytest.mark.parametrize("name", ["object-array-npy", "raw-pickle"])
def test_read_visualization_refuses_pickles_without_running_them(tmp_path, name):
    marker = tmp_path / "marker"
    path = hostile_files(tmp_path, marker)[name]
    pattern = r"found pickled Python objects \(refused: loading them could run code\)"
    with pytest.raises(InputError, match=pattern):
        layout.read_visualization(path)
    assert not marker.exists()


@pytest.mark.parametrize("content, found", [
    (b"", "found an empty file"),
    (b"hello, this is text\n", "found a file that is not a .npy array (it starts with b'hello,')"),
    (b"PK\x03\x04rest-of-zip", "found a zip archive (.npz?)"),
])
def test_read_visualization_not_npy(tmp_path, content, found):
    path = tmp_path / "visualization.npy"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        layout.read_visualization(path)
    assert str(error.value).startswith(f"{path}: expected a .npy array of uint8 images, {found}")


def test_read_visualization_npz(tmp_path):
    path = tmp_path / "visualization.npy"
    with open(path, "wb") as f:
        np.savez(f, images=np.zeros((2, 32, 32, 3), dtype=np.uint8))
    with pytest.raises(InputError, match=r"found a zip archive"):
        layout.read_visualization(path)


def test_read_visualization_truncated(tmp_path):
    path = save(tmp_path, np.zeros((4, 32, 32, 3), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InputError) as error:
        layout.read_visualization(path)
    assert str(error.value) == (f"{path}: expected 12288 bytes of data after the header for shape "
                                f"(4, 32, 32, 3) of uint8, found 12188 (a truncated file, or a header "
                                f"that claims more than the file holds)")


def test_read_visualization_folder(tmp_path):
    (tmp_path / "visualization.npy").mkdir()
    pattern = r"visualization\.npy: expected a readable \.npy file, found Is a directory"
    with pytest.raises(InputError, match=pattern):
        layout.read_visualization(tmp_path / "visualization.npy")


def test_visualization_truth_halves():
    np.testing.assert_array_equal(layout.visualization_truth(6), [0, 0, 0, 1, 1, 1])
    assert layout.visualization_truth(6).dtype == np.int8
