"""Bad input through the real stage scripts: one `error:` line naming the culprit, exit status 2,
no traceback, and nothing written by the failing stage (no outputs, no temp files, no folders).

Each case runs ``python -m pipeline.stages.<stage>`` in a fresh working folder (see conftest.run_stage_in):
`prepare` for the competition data, `embed` for the autoencoder params (TensorFlow replaced by a
stub that records being imported: the check must come before it), `reduce` for pca.dims on small
fake codes, `cluster` for an unknown method. The many smaller variants of pca.* and cluster.* run
the same stage main under the same main_guard in process (scikit-learn is imported once, not
once per case: a subprocess each would cost ~2 s).
"""

from __future__ import annotations

import json
import importlib
import os
import pickle
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import PAIR_HEADER, TINY_PARAMS, params_with, run_stage_in, snapshot, write_competition
from hostile import jpeg_claiming, lying_npy, png_claiming
from PIL import Image

from pipeline.lib import paths
from pipeline.lib.errors import main_guard

N_IMAGES, N_PAIRS, K = 12, 10, 4


def assert_clean_failure(result, workdir: Path, before: set[str], *expected: str) -> str:
    """Exit 2, stderr exactly one `error: …` line holding every ``expected`` text, no new files."""
    assert result.returncode == 2, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, found {len(lines)}:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert line.isprintable(), f"a control character reached the terminal: {line!r}"
    for text in expected:
        assert text in line, f"{text!r} not in {line!r}"
    assert snapshot(workdir) == before, f"left behind: {sorted(snapshot(workdir) - before)}"
    return line


def run_in_process(stage: str, workdir: Path, monkeypatch, capsys) -> subprocess.CompletedProcess:
    """Run stage ``stage``'s main under main_guard in this process (cwd = ``workdir``).

    For the many small param variants of reduce and cluster: scikit-learn is imported once,
    not once per case. The headline cases of every stage still run as real subprocesses.
    """
    module = importlib.import_module(f"pipeline.stages.{stage}")
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "argv", [f"pipeline.stages.{stage}"])
    capsys.readouterr()
    code = 0
    try:
        main_guard(lambda argv: module.main())  # a stage takes no arguments
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return subprocess.CompletedProcess([stage], code, captured.out, captured.err)


class RunsCode:
    """Unpickling this runs ``touch <marker>``: what a hostile visualization.npy would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


# ============================================================================ prepare: the data
def replace_line(root: Path, line: int, text: str) -> None:
    """Set line ``line`` (1 = header) of test_case.csv to ``text``."""
    path = root / "test_case.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_value(line: int, column: str, value: str):
    def mutate(root: Path) -> None:
        path = root / "test_case.csv"
        rows = [row.split(",") for row in path.read_text(encoding="utf-8").splitlines()]
        rows[line - 1][rows[0].index(column)] = value
        path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    return mutate


def truncate(name: str, keep):
    def mutate(root: Path) -> None:
        path = root / "images" / name
        data = path.read_bytes()
        path.write_bytes(data[:keep(len(data))])
    return mutate


def scramble(name: str):
    def mutate(root: Path) -> None:
        path = root / "images" / name
        data = bytearray(path.read_bytes())
        data[400:800] = b"\x55" * 400  # headers intact, entropy-coded data scrambled
        path.write_bytes(bytes(data))
    return mutate


def write(relative: str, content: bytes):
    def mutate(root: Path) -> None:
        (root / relative).write_bytes(content)
    return mutate


def remove(relative: str):
    def mutate(root: Path) -> None:
        path = root / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return mutate


def resize(name: str, size):
    def mutate(root: Path) -> None:
        Image.new("RGB", size, (9, 9, 9)).save(root / "images" / name)
    return mutate


def empty_images(root: Path) -> None:
    shutil.rmtree(root / "images")
    (root / "images").mkdir()


def images_is_a_file(root: Path) -> None:
    shutil.rmtree(root / "images")
    (root / "images").write_text("not a folder")


def csv_is_a_folder(root: Path) -> None:
    (root / "test_case.csv").unlink()
    (root / "test_case.csv").mkdir()


def duplicate_number(root: Path) -> None:
    shutil.copy(root / "images" / "000002.jpg", root / "images" / "2.jpg")


def save_visualization(array_or_bytes):
    def mutate(root: Path) -> None:
        if isinstance(array_or_bytes, bytes):
            (root / "visualization.npy").write_bytes(array_or_bytes)
        else:
            np.save(root / "visualization.npy", array_or_bytes)
    return mutate


def object_array_npy(root: Path) -> None:
    array = np.empty(2, dtype=object)
    array[:] = [RunsCode(root.parent / "PWNED"), RunsCode(root.parent / "PWNED")]
    np.save(root / "visualization.npy", array, allow_pickle=True)


def raw_pickle(root: Path) -> None:
    (root / "visualization.npy").write_bytes(pickle.dumps(RunsCode(root.parent / "PWNED")))


def truncated_npy(root: Path) -> None:
    path = root / "visualization.npy"
    path.write_bytes(path.read_bytes()[:-500])


def npy_claiming(shape):
    """visualization.npy keeps its 2K images of data, under a header that claims ``shape``."""
    def mutate(root: Path) -> None:
        lying_npy(root / "visualization.npy", shape, bytes(2 * K * 32 * 32 * 3))
    return mutate


PREPARE_CASES = {
    # images/
    "jpg-truncated-half": (truncate("000003.jpg", lambda n: n // 2),
                           ["000003.jpg", "expected a readable image", "corrupt or truncated"]),
    "jpg-truncated-in-header": (truncate("000009.jpg", lambda n: 100),
                                ["000009.jpg", "corrupt or truncated"]),
    "jpg-last-bytes-missing": (truncate("000012.jpg", lambda n: n - 2), ["000012.jpg", "truncated"]),
    "jpg-corrupt": (scramble("000005.jpg"), ["000005.jpg", "expected a readable image", "corrupt"]),
    "jpg-empty": (write("images/000002.jpg", b""),
                  ["000002.jpg", "expected a JPEG image, found an empty file"]),
    "jpg-holding-text": (write("images/000007.jpg", b"these are notes, not pixels\n"),
                         ["000007.jpg", "found a file that is not an image"]),
    "notes-txt-in-images": (write("images/notes.txt", b"hello"),
                            ["notes.txt", "expected only images named <number>.jpg", "found 'notes.txt'"]),
    "image-64x48": (resize("000004.jpg", (64, 48)), ["000004.jpg", "expected a 32×32 image, found 64×48"]),
    "image-31x32": (resize("000011.jpg", (31, 32)), ["000011.jpg", "found 31×32"]),
    "numbering-gap": (remove("images/000005.jpg"),
                      ["images", "without gaps", "found no image 5 (e.g. 000005.jpg)"]),
    "numbering-without-1": (remove("images/000001.jpg"), ["found no image 1 (e.g. 000001.jpg)"]),
    "number-twice": (duplicate_number, ["2.jpg", "image number 2 appears twice"]),
    "images-empty": (empty_images, ["images: expected images 000001.jpg … N.jpg, found an empty folder"]),
    "images-missing": (remove("images"), ["images: expected a folder of numbered jpgs, found nothing"]),
    "images-is-a-file": (images_is_a_file, ["images: expected a folder of numbered jpgs, found a file"]),
    # test_case.csv
    "csv-missing": (remove("test_case.csv"), ["test_case.csv: expected the pairs CSV, found nothing"]),
    "csv-is-a-folder": (csv_is_a_folder, ["test_case.csv", "found a folder"]),
    "csv-empty": (write("test_case.csv", b""), ["test_case.csv", "found an empty file"]),
    "csv-header-only": (write("test_case.csv", f"{PAIR_HEADER}\n".encode()),
                        ["test_case.csv", "expected at least one pair after the header, found none"]),
    "csv-missing-column": (lambda root: replace_line(root, 1, "id,image1_name,name2"),
                           ["test_case.csv", "found id,image1_name,name2", "(missing image2_name)"]),
    "csv-no-header": (lambda root: replace_line(root, 1, "0,1,1"), ["test_case.csv", "missing id"]),
    "csv-name-not-integer": (set_value(4, "image1_name", "abc"),
                             ["test_case.csv", "line 4, column image1_name",
                              "expected an integer, found 'abc'"]),
    "csv-name-float": (set_value(6, "image2_name", "2.5"), ["line 6, column image2_name", "found '2.5'"]),
    "csv-name-blank": (set_value(3, "image1_name", ""), ["line 3, column image1_name", "found ''"]),
    "csv-id-not-integer": (set_value(11, "id", "x7"), ["line 11, column id", "found 'x7'"]),
    "csv-name-zero": (set_value(3, "image1_name", "0"),
                      ["line 3, column image1_name", f"expected an image number in 1…{N_IMAGES}, found 0"]),
    "csv-name-too-large": (set_value(11, "image2_name", str(N_IMAGES + 1)),
                           ["line 11, column image2_name", f"found {N_IMAGES + 1}"]),
    "csv-name-negative": (set_value(5, "image2_name", "-2"), ["line 5, column image2_name", "found -2"]),
    "csv-duplicate-ids": (set_value(8, "id", "1"),
                          ["test_case.csv", "column id", "found id 1 on lines 3 and 8"]),
    "csv-too-many-values": (lambda root: replace_line(root, 4, "2,1,2,3"),
                            ["test_case.csv", "line 4", "expected 3 values", "found 4"]),
    "csv-too-few-values": (lambda root: replace_line(root, 5, "3,1"), ["line 5", "found 2"]),
    "csv-not-utf8": (write("test_case.csv", f"{PAIR_HEADER}\n0,1,\xe9\n".encode("latin-1")),
                     ["test_case.csv", "line 2: expected UTF-8 text", "found undecodable bytes"]),
    # visualization.npy
    "npy-missing": (remove("visualization.npy"), ["visualization.npy", "found nothing"]),
    "npy-three-dims": (save_visualization(np.zeros((8, 32, 32), np.uint8)),
                       ["visualization.npy", "expected shape (2k, 32, 32, 3)", "found (8, 32, 32)"]),
    "npy-odd-count": (save_visualization(np.zeros((7, 32, 32, 3), np.uint8)), ["found (7, 32, 32, 3)"]),
    "npy-one-channel": (save_visualization(np.zeros((8, 32, 32, 1), np.uint8)), ["found (8, 32, 32, 1)"]),
    "npy-float32": (save_visualization(np.zeros((8, 32, 32, 3), np.float32)),
                    ["visualization.npy", "expected dtype uint8, found float32"]),
    "npy-int64": (save_visualization(np.zeros((8, 32, 32, 3), np.int64)), ["found int64"]),
    "npy-pickled-object-array": (object_array_npy,
                                 ["visualization.npy", "pickled Python objects", "refused"]),
    "npy-raw-pickle": (raw_pickle, ["visualization.npy", "pickled Python objects", "refused"]),
    "npy-empty": (save_visualization(b""), ["visualization.npy", "found an empty file"]),
    "npy-text": (save_visualization(b"1,2,3\n"), ["visualization.npy", "not a .npy array"]),
    # headers that lie: one line, and no memory spent on what they claim
    "npy-header-claims-a-billion-images": (
        npy_claiming((10**9, 32, 32, 3)),
        ["visualization.npy", "expected 3072000000000 bytes of data after the header for shape "
                              "(1000000000, 32, 32, 3) of uint8, found 24576"]),
    "npy-header-claims-fewer-images": (
        npy_claiming((2, 32, 32, 3)), ["visualization.npy", "found 24576 (more data than the header"]),
    "jpg-header-claims-9000x9000": (write("images/000006.jpg", jpeg_claiming(9000, 9000)),
                                    ["000006.jpg", "expected a 32×32 image, found 9000×9000"]),
    "png-header-claims-10000x10000": (write("images/000006.jpg", png_claiming(10000, 10000)),
                                      ["000006.jpg", "found 10000×10000"]),  # and no Pillow warning
    "png-header-claims-60000x60000": (write("images/000006.jpg", png_claiming(60000, 60000)),
                                      ["000006.jpg", "found a header that claims a huge one"]),
    "csv-one-endless-line": (write("test_case.csv", b"1," * 2**20),
                             ["test_case.csv: line 1: expected a line of at most 65536 characters"]),
    "csv-endless-line-after-the-header": (write("test_case.csv", f"{PAIR_HEADER}\n".encode() + b"9" * 2**20),
                                          ["test_case.csv: line 2: expected a line of at most"]),
    # control characters from the input, shown escaped
    "csv-nul-in-a-value": (set_value(4, "image1_name", "\x00202"),
                           ["line 4, column image1_name: expected an integer, found '\\x00202'"]),
    "csv-escape-in-the-header": (lambda root: replace_line(root, 1, "id,image1_name,\x1b[2Jimage2_name"),
                                 ["found id,image1_name,\\x1b[2Jimage2_name (missing image2_name)"]),
    "image-name-with-escape": (write("images/7\x1b]0;owned\x07.jpg", b"x"),
                               ["found '7\\x1b]0;owned\\x07.jpg'"]),
    "npy-truncated": (truncated_npy, ["visualization.npy", "expected 24576 bytes of data after the header",
                                      "found 24076 (a truncated file"]),
}


@pytest.mark.parametrize("case", list(PREPARE_CASES))
def test_prepare_bad_data(tmp_path, case):
    mutate, expected = PREPARE_CASES[case]
    root = write_competition(tmp_path, n_images=N_IMAGES, n_pairs=N_PAIRS, k=K)
    mutate(root)
    workdir = tmp_path / "work"
    workdir.mkdir()
    params = params_with(data={"dir": str(root)})
    (workdir / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    before = snapshot(workdir)
    result = run_stage_in("prepare", workdir, None)
    assert_clean_failure(result, workdir, before, *expected)
    assert not (tmp_path / "PWNED").exists(), "a pickle in visualization.npy was executed"


PREPARE_PARAM_CASES = {
    "data-dir-nowhere": (params_with(data={"dir": "no/such/folder"}),
                         ["no/such/folder: expected a competition folder", "found nothing"]),
    "data-dir-null": (params_with(data={"dir": None}), ["params.yaml: data.dir", "found None"]),
    "data-section-missing": ({"seed": 0}, ["params.yaml: expected a section 'data:'"]),
    "seed-negative": (params_with(seed=-1), ["params.yaml: seed", "found -1"]),
    "yaml-syntax": ("seed: 0\ndata:\n  dir: [unclosed\n", ["params.yaml: line", "expected YAML"]),
}


@pytest.mark.parametrize("case", list(PREPARE_PARAM_CASES))
def test_prepare_bad_params(tmp_path, case):
    params, expected = PREPARE_PARAM_CASES[case]
    write_competition(tmp_path / "work", n_images=4, n_pairs=3, k=1)  # at data.dir's default
    workdir = tmp_path / "work"
    (workdir / "params.yaml").write_text(params if isinstance(params, str) else yaml.safe_dump(params),
                                         encoding="utf-8")
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in("prepare", workdir, None), workdir, before, *expected)


def test_prepare_names_a_zip_archive_and_the_commands_that_unpack_and_use_it(tmp_path):
    """data.dir set to the competition's download, not unpacked: one line naming the archive, with
    the unzip and the dvc exp run that follow; both, run as printed, make prepare succeed."""
    workdir = tmp_path / "work"
    root = write_competition(workdir, n_images=N_IMAGES, n_pairs=N_PAIRS, k=K, name="unpacked")
    shutil.make_archive(str(workdir / "ml2019spring-hw7"), "zip", root)  # the files at the top, as Kaggle's
    shutil.rmtree(root)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(data={"dir": "ml2019spring-hw7.zip"})))
    before = snapshot(workdir)
    line = assert_clean_failure(run_stage_in("prepare", workdir, None), workdir, before,
                                "ml2019spring-hw7.zip: expected a competition folder", "found a zip archive")
    assert line.endswith("unpack it first: unzip ml2019spring-hw7.zip -d ml2019spring-hw7, then "
                         "dvc exp run -S data.dir=ml2019spring-hw7"), line
    unzip = shutil.which("unzip")
    if unzip is None:
        pytest.skip("no unzip command on this machine: the printed command is not run")
    command = line.split("unpack it first: ")[1].split(", then ")[0]
    subprocess.run(shlex.split(command), cwd=workdir, check=True, capture_output=True)
    setting = line.rsplit(" -S ", 1)[1]
    key, value = setting.split("=", 1)
    assert key == "data.dir"
    result = run_stage_in("prepare", workdir, params_with(data={"dir": value}))
    assert result.returncode == 0, result.stderr


def test_prepare_failure_keeps_an_existing_folder(tmp_path):
    """A corrupt image found while decoding: no temp file is left in data/prepared/."""
    root = write_competition(tmp_path, n_images=N_IMAGES, n_pairs=N_PAIRS, k=K)
    truncate("000006.jpg", lambda n: n // 2)(root)
    workdir = tmp_path / "work"
    (workdir / "data" / "prepared").mkdir(parents=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(data={"dir": str(root)})))
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in("prepare", workdir, None), workdir, before, "000006.jpg")
    assert list((workdir / "data" / "prepared").iterdir()) == []


def test_prepare_good_data_writes_outputs(tmp_path):
    """The control: the same setup with valid data succeeds, so the failures above are real."""
    root = write_competition(tmp_path, n_images=N_IMAGES, n_pairs=N_PAIRS, k=K)
    workdir = tmp_path / "work"
    result = run_stage_in("prepare", workdir, params_with(data={"dir": str(root)}))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    images = np.load(workdir / paths.IMAGES)  # the pool: competition images, then visualization
    assert images.shape == (N_IMAGES + 2 * K, 32, 32, 3) and images.dtype == np.uint8
    with Image.open(root / "images" / "000012.jpg") as image:
        np.testing.assert_array_equal(images[11], np.asarray(image.convert("RGB")))
    np.testing.assert_array_equal(images[N_IMAGES:], np.load(root / "visualization.npy"))
    pairs = np.load(workdir / paths.PAIRS)
    assert pairs.shape == (N_PAIRS, 3) and pairs.dtype == np.int64
    np.testing.assert_array_equal(pairs[:, 0], np.arange(N_PAIRS))
    assert json.loads((workdir / paths.ROWS).read_text()) == {"competition": N_IMAGES,
                                                                             "visualization": 2 * K}
    assert sorted(p.name for p in (workdir / paths.PREPARED).iterdir()) == [
        "images.npy", "pairs.npy", "rows.json", "summary.json"]


# ----------------------------------------------------------------- prepare: quirks that just work
def grey_image(root: Path) -> None:
    Image.new("L", (32, 32), 77).save(root / "images" / "000002.jpg")


def palette_image(root: Path) -> None:
    image = Image.new("P", (32, 32), 1)
    image.putpalette([0, 0, 0, 200, 10, 60] + [0] * 762)
    image.save(root / "images" / "000003.jpg", format="PNG")  # a PNG under a .jpg name, too


def rgba_image(root: Path) -> None:
    Image.new("RGBA", (32, 32), (5, 250, 100, 30)).save(root / "images" / "000004.png")
    (root / "images" / "000004.jpg").unlink()


def csv_rewrite(transform):
    def mutate(root: Path) -> None:
        path = root / "test_case.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_bytes(transform(lines))
    return mutate


QUIRKS = {
    "grey-image": grey_image,
    "palette-image": palette_image,
    "rgba-image": rgba_image,
    "csv-bom-crlf": csv_rewrite(lambda lines: ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()),
    "csv-extra-columns": csv_rewrite(lambda lines: "\n".join(
        f"{line},{'note' if i == 0 else 'x'}" for i, line in enumerate(lines)).encode()),
    "csv-spaces": csv_rewrite(lambda lines: "\n".join(
        " " + line.replace(",", " , ") + "  " for line in lines).encode()),
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
def test_prepare_quirks_just_work(tmp_path, quirk):
    root = write_competition(tmp_path, n_images=N_IMAGES, n_pairs=N_PAIRS, k=K)
    expected_pairs = np.loadtxt(root / "test_case.csv", delimiter=",", skiprows=1, dtype=np.int64)
    QUIRKS[quirk](root)
    workdir = tmp_path / "work"
    result = run_stage_in("prepare", workdir, params_with(data={"dir": str(root)}))
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr
    np.testing.assert_array_equal(np.load(workdir / paths.PAIRS), expected_pairs)
    images = np.load(workdir / paths.IMAGES)
    assert images.shape == (N_IMAGES + 2 * K, 32, 32, 3) and images.dtype == np.uint8
    if quirk == "grey-image":
        assert np.abs(images[1].astype(int) - 77).max() <= 1
    if quirk == "palette-image":
        np.testing.assert_array_equal(images[2, 0, 0], [200, 10, 60])
    if quirk == "rgba-image":
        np.testing.assert_array_equal(images[3, 0, 0], [5, 250, 100])


# ============================================================== embed: params before TensorFlow
STUB = """import pathlib
pathlib.Path({marker!r}).touch()
raise ImportError("stub {name}: imported (the embed params were accepted)")
"""


@pytest.fixture
def embed_workdir(tmp_path):
    """A working folder with tiny prepared inputs, and stub tensorflow/keras/dvclive packages that
    leave a marker file when imported: TensorFlow must never be reached with bad params."""
    workdir = tmp_path / "work"
    prepared = workdir / "data" / "prepared"
    prepared.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.save(prepared / "images.npy", rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8))  # the pool
    (prepared / "rows.json").write_text(json.dumps({"competition": 16, "visualization": 4}))
    stubs = tmp_path / "stubs"
    marker = tmp_path / "tensorflow-imported"
    for name in ("tensorflow", "keras", "dvclive"):
        (stubs / name).mkdir(parents=True)
        (stubs / name / "__init__.py").write_text(STUB.format(marker=str(marker), name=name))
    return workdir, stubs, marker


EMBED_CASES = {
    "epochs-zero": ({"epochs": 0}, ["embed.epochs", "expected a positive integer", "found 0"]),
    "epochs-negative": ({"epochs": -3}, ["embed.epochs", "found -3"]),
    "epochs-fraction": ({"epochs": 1.5}, ["embed.epochs", "found 1.5"]),
    "epochs-text": ({"epochs": "ten"}, ["embed.epochs", "found 'ten'"]),
    "epochs-null": ({"epochs": None}, ["embed.epochs", "found None"]),
    "epochs-bool": ({"epochs": True}, ["embed.epochs", "found True"]),
    "filters-empty": ({"filters": []}, ["embed.filters", "a list of 1 to 5 positive integers", "found []"]),
    "filters-zero": ({"filters": [8, 0]}, ["embed.filters", "found [8, 0]"]),
    "filters-six-blocks": ({"filters": [8] * 6}, ["embed.filters", "found [8, 8, 8, 8, 8, 8]"]),
    "filters-not-a-list": ({"filters": 32}, ["embed.filters", "found 32"]),
    "filters-text": ({"filters": ["wide"]}, ["embed.filters", "found ['wide']"]),
    "code-size-zero": ({"code_size": 0}, ["embed.code_size", "positive integer", "found 0"]),
    "code-size-text": ({"code_size": "big"}, ["embed.code_size", "found 'big'"]),
    "batch-size-zero": ({"batch_size": 0}, ["embed.batch_size", "found 0"]),
    "batch-size-negative": ({"batch_size": -8}, ["embed.batch_size", "found -8"]),
    "learning-rate-zero": ({"learning_rate": 0}, ["embed.learning_rate", "a number in (0, 1]", "found 0"]),
    "learning-rate-negative": ({"learning_rate": -0.01}, ["embed.learning_rate", "found -0.01"]),
    "learning-rate-too-large": ({"learning_rate": 5}, ["embed.learning_rate", "found 5"]),
    "learning-rate-text": ({"learning_rate": "fast"}, ["embed.learning_rate", "found 'fast'"]),
    "learning-rate-nan": ({"learning_rate": float("nan")}, ["embed.learning_rate", "found nan"]),
    "flip-text": ({"flip": "sometimes"}, ["embed.flip", "expected true or false", "found 'sometimes'"]),
    "train-samples-zero": ({"train_samples": 0}, ["embed.train_samples", "or null", "found 0"]),
    "train-samples-fraction": ({"train_samples": 0.5}, ["embed.train_samples", "found 0.5"]),
    "distribution-unknown": ({"distribution": "tpu"}, ["embed.distribution", "auto", "found 'tpu'"]),
    "unknown-key": ({"epoch": 3}, ["params.yaml: embed.epoch: unknown key", "epochs"]),
}


@pytest.mark.parametrize("case", list(EMBED_CASES))
def test_embed_bad_params_fail_before_tensorflow(embed_workdir, case):
    workdir, stubs, marker = embed_workdir
    changes, expected = EMBED_CASES[case]
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(embed=changes)), encoding="utf-8")
    before = snapshot(workdir)
    result = run_stage_in("embed", workdir, None, extra_path=stubs)
    line = assert_clean_failure(result, workdir, before, "params.yaml", *expected)
    assert line.startswith("error: params.yaml: embed.")
    assert not marker.exists(), "TensorFlow was imported before the params were checked"


EMBED_FILE_CASES = {
    "seed-negative": (params_with(seed=-1), ["params.yaml: seed: expected an integer in 0…", "found -1"]),
    "seed-text": (params_with(seed="abc"), ["params.yaml: seed", "found 'abc'"]),
    "embed-not-a-mapping": (params_with(embed=5), ["params.yaml: embed: expected keys", "found 5"]),
    "embed-missing": ({"seed": 0, "pca": {"dims": 4}}, ["params.yaml: expected a section 'embed:'"]),
    "yaml-syntax-error": ("seed: 0\nembed:\n  epochs: 2\n   filters: [8]\n",
                          ["params.yaml: line 4", "expected YAML, found a syntax error"]),
}


@pytest.mark.parametrize("case", list(EMBED_FILE_CASES))
def test_embed_bad_params_file(embed_workdir, case):
    workdir, stubs, marker = embed_workdir
    params, expected = EMBED_FILE_CASES[case]
    (workdir / "params.yaml").write_text(params if isinstance(params, str) else yaml.safe_dump(params),
                                         encoding="utf-8")
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in("embed", workdir, None, extra_path=stubs), workdir, before, *expected)
    assert not marker.exists()


def test_embed_missing_prepared_input_fails_before_tensorflow(embed_workdir):
    workdir, stubs, marker = embed_workdir
    (workdir / paths.IMAGES).unlink()
    (workdir / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS), encoding="utf-8")
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in("embed", workdir, None, extra_path=stubs), workdir, before,
                         "data/prepared/images.npy: expected an input file, found nothing", "dvc repro")
    assert not marker.exists()


@pytest.mark.parametrize("changes", [{}, {"learning_rate": "1e-3"}, {"train_samples": 1000},
                                     {"filters": [4, 4, 4, 4, 4]}],
                         ids=["tiny-params", "learning-rate-1e-3-read-as-text", "train-samples-above-n",
                              "five-blocks"])
def test_embed_good_params_reach_tensorflow(embed_workdir, changes):
    """The control: valid params pass the check and the stage goes on to import TensorFlow (the
    stub), so the failures above are the check's doing, not the stub's."""
    workdir, stubs, marker = embed_workdir
    result = run_stage_in("embed", workdir, params_with(embed=changes), extra_path=stubs)
    assert marker.exists(), result.stderr
    assert result.returncode != 0 and "stub keras: imported" in result.stderr


# ================================================================ views and reduce: pca.* params
def write_codes(workdir: Path, n: int, d: int, k: int = 2, hog_width: int = 12) -> None:
    """Fake inputs of views, one row per image of the pool: codes (n, d) from embed, descriptors
    (n, hog_width) from hog and (n, 10) from patches, scores (n, 2) from selftrain."""
    rng = np.random.default_rng(0)
    for folder, name, width in (("embed", "codes", d), ("hog", "descriptors", hog_width),
                                ("patches", "descriptors", 10), ("selftrain", "features", 2)):
        (workdir / "data" / folder).mkdir(parents=True)
        np.save(workdir / "data" / folder / f"{name}.npy", rng.normal(size=(n, width)).astype(np.float32))


REDUCE_CASES = {  # (codes shape (n, d), pca changes, expected texts)
    "code-dims-above-code-size": ((20, 8), {"code_dims": 9},
                                  ["params.yaml: pca.code_dims: expected at most 8", "data/embed/codes.npy",
                                   "found 9"]),
    "dims-above-all-views": ((20, 8), {"dims": 14},
                             ["params.yaml: pca.dims: expected at most pca.code_dims + pca.hog_dims + "
                              "pca.patch_dims + pca.selftrain_dims = 13", "found 14"]),
    "selftrain-dims-above-its-width": ((20, 8), {"selftrain_dims": 3},
                                       ["params.yaml: pca.selftrain_dims: expected at most 2",
                                        "data/selftrain/features.npy", "found 3"]),
}
REDUCE_PARAM_CASES = {  # the same checks, in process
    "hog-dims-width-plus-one": ((20, 4), {"hog_dims": 13}, ["pca.hog_dims: expected at most 12", "found 13"]),
    "code-dims-zero": ((20, 8), {"code_dims": 0}, ["params.yaml: pca.code_dims", "positive integer", "found 0"]),
    "dims-zero": ((20, 8), {"dims": 0}, ["params.yaml: pca.dims", "positive integer", "found 0"]),
    "dims-negative": ((20, 8), {"dims": -2}, ["params.yaml: pca.dims", "found -2"]),
    "dims-text": ((20, 8), {"dims": "many"}, ["params.yaml: pca.dims", "found 'many'"]),
    "dims-fraction": ((20, 8), {"dims": 2.5}, ["params.yaml: pca.dims", "found 2.5"]),
    "dims-missing": ((20, 8), {"dims": None}, ["params.yaml: pca.dims", "found None"]),
    "whiten-text": ((20, 8), {"whiten": "yes please"}, ["params.yaml: pca.whiten", "found 'yes please'"]),
    "weights-negative": ((20, 8), {"weights": {"selftrain": -1}},
                         ["params.yaml: pca.weights.selftrain", "expected a positive number", "found -1"]),
    "weights-unknown-view": ((20, 8), {"weights": {"pixels": 2}},
                             ["params.yaml: pca.weights", "expected view names among codes, hog, patches, "
                              "selftrain", "found 'pixels'"]),
    "incremental-text": ((20, 8), {"incremental": "sometimes"},
                         ["params.yaml: pca.incremental", "expected auto, true or false",
                          "found 'sometimes'"]),
}


def stage_for(changes: dict) -> str:
    """The stage a pca change is checked by: pca.dims by reduce, the rest by views first."""
    return "reduce" if "dims" in changes else "views"


def reduce_workdir(tmp_path, shape, changes) -> Path:
    workdir = tmp_path / "work"
    write_codes(workdir, *shape)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(pca=changes)), encoding="utf-8")
    return workdir


@pytest.mark.parametrize("case", list(REDUCE_CASES))
def test_reduce_bad_dims(tmp_path, case):
    shape, changes, expected = REDUCE_CASES[case]
    workdir = reduce_workdir(tmp_path, shape, changes)
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in(stage_for(changes), workdir, None), workdir, before, *expected)


@pytest.mark.parametrize("case", list(REDUCE_PARAM_CASES))
def test_reduce_bad_params_in_process(tmp_path, monkeypatch, capsys, case):
    shape, changes, expected = REDUCE_PARAM_CASES[case]
    workdir = reduce_workdir(tmp_path, shape, changes)
    before = snapshot(workdir)
    result = run_in_process(stage_for(changes), workdir, monkeypatch, capsys)
    assert_clean_failure(result, workdir, before, *expected)


@pytest.mark.parametrize("stage, missing", [("views", "data/embed/codes.npy"),
                                            ("reduce", "data/views/components.npy")])
def test_reduce_missing_input(tmp_path, stage, missing):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS), encoding="utf-8")
    assert_clean_failure(run_stage_in(stage, workdir, None), workdir, {"params.yaml"},
                         f"{missing}: expected an input file, found nothing", "dvc repro")


@pytest.mark.parametrize("shape, dims", [((20, 8), 13), ((6, 16), 6)], ids=["views-side-by-side", "image-count"])
def test_reduce_largest_valid_dims(tmp_path, monkeypatch, capsys, shape, dims):
    """The control: dims = min(the views' dims side by side, images) is accepted and written."""
    workdir = reduce_workdir(tmp_path, shape, {"dims": dims})
    for stage in ("views", "reduce"):
        result = run_in_process(stage, workdir, monkeypatch, capsys)
        assert result.returncode == 0, result.stderr
    assert np.load(workdir / paths.COMPONENTS).shape == (shape[0], dims)


# ===================================================================== cluster: cluster.* params
def write_components(workdir: Path, n: int = 20, dims: int = 4, k: int = 2) -> None:
    """Fake inputs of cluster: the pool's components (n + 2k, dims), n competition rows, and the
    self-trained scores (n + 2k, 2) the split is checked against."""
    reduce = workdir / "data" / "reduce"
    reduce.mkdir(parents=True)
    rng = np.random.default_rng(0)
    np.save(reduce / "components.npy", rng.normal(size=(n + 2 * k, dims)).astype(np.float32))
    (workdir / "data" / "selftrain").mkdir(parents=True)
    np.save(workdir / "data" / "selftrain" / "features.npy", rng.normal(size=(n + 2 * k, 2)).astype(np.float32))
    (workdir / "data" / "prepared").mkdir(parents=True)
    (workdir / "data" / "prepared" / "rows.json").write_text(json.dumps({"competition": n, "visualization": 2 * k}))


CLUSTER_PARAM_CASES = {  # (component dims, cluster changes, expected texts)
    "method-unknown": (4, {"method": "dbscan"},
                       ["params.yaml: cluster.method: expected one of kmeans, gmm, coordinates",
                        "found 'dbscan'"]),
    "method-null": (4, {"method": None}, ["params.yaml: cluster.method", "found None"]),
    "method-list": (4, {"method": ["kmeans"]}, ["params.yaml: cluster.method", "found ['kmeans']"]),
    "alternative-unknown": (4, {"alternative": "spectral"},
                            ["params.yaml: cluster.alternative", "or null (none)", "found 'spectral'"]),
    "n-init-zero": (4, {"n_init": 0}, ["params.yaml: cluster.n_init", "positive integer", "found 0"]),
    "n-init-text": (4, {"n_init": "lots"}, ["params.yaml: cluster.n_init", "found 'lots'"]),
    "minibatch-text": (4, {"minibatch": "no"}, ["params.yaml: cluster.minibatch", "found 'no'"]),
    "coordinates-with-one-dim": (1, {"method": "coordinates", "alternative": None},
                                 ["params.yaml: pca.dims", "at least 2 dimensions", "found 1"]),
}


def cluster_workdir(tmp_path, dims, changes) -> Path:
    workdir = tmp_path / "work"
    write_components(workdir, dims=dims)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params_with(cluster=changes)), encoding="utf-8")
    return workdir


def test_cluster_unknown_method(tmp_path):
    workdir = cluster_workdir(tmp_path, 4, {"method": "spectral"})
    before = snapshot(workdir)
    assert_clean_failure(run_stage_in("cluster", workdir, None), workdir, before,
                         "params.yaml: cluster.method: expected one of kmeans, gmm, coordinates, "
                         "found 'spectral'")


@pytest.mark.parametrize("case", list(CLUSTER_PARAM_CASES))
def test_cluster_bad_params_in_process(tmp_path, monkeypatch, capsys, case):
    dims, changes, expected = CLUSTER_PARAM_CASES[case]
    workdir = cluster_workdir(tmp_path, dims, changes)
    before = snapshot(workdir)
    result = run_in_process("cluster", workdir, monkeypatch, capsys)
    assert_clean_failure(result, workdir, before, *expected)


def test_cluster_self_trained_scores_of_another_pool(tmp_path, monkeypatch, capsys):
    workdir = cluster_workdir(tmp_path, 4, {})
    np.save(workdir / "data" / "selftrain" / "features.npy", np.zeros((23, 2), np.float32))
    before = snapshot(workdir)
    result = run_in_process("cluster", workdir, monkeypatch, capsys)
    assert_clean_failure(result, workdir, before, "data/selftrain/features.npy: expected 24 rows",
                         "data/reduce/components.npy", "found 23", "rerun the stage selftrain")


def test_cluster_says_when_the_restarts_end_in_another_split(tmp_path, monkeypatch, capsys):
    """Four blobs: the self-trained scores split along y, k-means' restarts find x (the lower
    inertia). The stage keeps x and says in one line how many images the restarts saw."""
    workdir = cluster_workdir(tmp_path, 2, {"alternative": None, "n_init": 10})
    rng = np.random.default_rng(0)
    corners = np.array([(10.5, 10.0), (10.5, -10.0), (-10.5, 10.0), (-10.5, -10.0)])
    components = np.repeat(corners, 6, axis=0) + 0.3 * rng.normal(size=(24, 2))  # 20 + 2·2 rows
    np.save(workdir / "data" / "reduce" / "components.npy", components.astype(np.float32))
    scores = np.stack([np.zeros(24), -components[:, 1]], axis=1)  # > 0: the y < 0 side
    np.save(workdir / "data" / "selftrain" / "features.npy", scores.astype(np.float32))
    result = run_in_process("cluster", workdir, monkeypatch, capsys)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if "restarts on" in line)
    assert line.startswith("cluster: k-means' 10 restarts on 24 of the 24 images ended in another split than the one "
                           "started from the self-trained scores (50.0% alike); theirs has the lower inertia, kept")
    summary = json.loads((workdir / "data" / "cluster" / "summary.json").read_text())
    assert (summary["kmeans_kept"], summary["restarts_same_split"], summary["restart_rows"]) == ("restarts", False, 24)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "coordinates"])
def test_cluster_good_params(tmp_path, monkeypatch, capsys, method):
    """The control: the same inputs with valid params are clustered and written."""
    workdir = cluster_workdir(tmp_path, 4, {"method": method})
    result = run_in_process("cluster", workdir, monkeypatch, capsys)
    assert result.returncode == 0, result.stderr
    labels = np.load(workdir / paths.LABELS)
    assert labels.shape == (24,) and set(np.unique(labels)) <= {0, 1}


# ========================================================= hog, patches, selftrain: params before work
PARAM_CASES = {
    "hog-cell-zero": ("hog", {"cell": 0}, ["params.yaml: hog.cell", "positive integer", "found 0"]),
    "hog-unknown-key": ("hog", {"cells": 4}, ["params.yaml: hog.cells: unknown key"]),
    "patches-size-one": ("patches", {"size": 1}, ["params.yaml: patches.size: expected 2 to 16 pixels, found 1"]),
    "patches-atoms-text": ("patches", {"atoms": "many"}, ["params.yaml: patches.atoms", "found 'many'"]),
    "patches-pooling-too-fine": ("patches", {"size": 16, "pooling": 18},
                                 ["params.yaml: patches.pooling: expected at most 17", "found 18"]),
    "patches-unknown-key": ("patches", {"atom": 8}, ["params.yaml: patches.atom: unknown key"]),
    "selftrain-folds-one": ("selftrain", {"folds": 1},
                            ["params.yaml: selftrain.folds: expected an integer ≥ 2, found 1"]),
    "selftrain-filters-text": ("selftrain", {"filters": "wide"},
                               ["params.yaml: selftrain.filters", "found 'wide'"]),
    "selftrain-rate-zero": ("selftrain", {"learning_rate": 0},
                            ["params.yaml: selftrain.learning_rate: expected a number in (0, 1], found 0"]),
    "selftrain-missing-key": ("selftrain", {"epochs": "DELETE"},
                              ["params.yaml: selftrain: expected keys", "found no epochs"]),
    "selftrain-unknown-key": ("selftrain", {"rounds": 3}, ["params.yaml: selftrain.rounds: unknown key"]),
}
DEFAULTS = {  # the repository's sections, which the cases change one key of
    section: yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())[section]
    for section in ("hog", "patches", "selftrain")
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
def test_learning_stages_check_params_before_work(tmp_path, case):
    """Checked before any input is read (or TensorFlow loads): no data is needed to get the one-line error."""
    stage, changes, expected = PARAM_CASES[case]
    workdir = tmp_path / "work"
    workdir.mkdir()
    section = {**DEFAULTS[stage], **changes}
    section = {key: value for key, value in section.items() if value != "DELETE"}
    (workdir / "params.yaml").write_text(yaml.safe_dump({**TINY_PARAMS, stage: section}), encoding="utf-8")
    assert_clean_failure(run_stage_in(stage, workdir, None), workdir, {"params.yaml"}, *expected)


def test_selftrain_missing_views(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "params.yaml").write_text(yaml.safe_dump({**TINY_PARAMS, "selftrain": DEFAULTS["selftrain"]}),
                                         encoding="utf-8")
    assert_clean_failure(run_stage_in("selftrain", workdir, None), workdir, {"params.yaml"},
                         "expected an input file, found nothing", "dvc repro")
