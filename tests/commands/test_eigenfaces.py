"""The eigenfaces stage script, run as a subprocess: DVC stage mode and the course's 3-argument mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.lib import paths
from pipeline.lib import faces as fc

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MPLBACKEND": "Agg"}
    module = "pipeline.eigenfaces" if args else "pipeline.stages.eigenfaces"  # the command, or the stage
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def make_folder(directory: Path, n: int = 11, h: int = 20, w: int = 18, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(80, 170, (h, w, 3))
    patterns = rng.normal(size=(3, h // 4 + 1, w // 3 + 1, 3)).repeat(4, axis=1).repeat(3, axis=2)[:, :h, :w]
    weights = rng.normal(size=(n, 3)) * np.array([30.0, 12.0, 5.0])
    faces = np.einsum("nk,khwc->nhwc", weights, patterns) + base + rng.normal(0, 2, (n, h, w, 3))
    faces = np.clip(np.rint(faces), 0, 255).astype(np.uint8)
    directory.mkdir(parents=True)
    for i, face in enumerate(faces):
        Image.fromarray(face).save(directory / f"{i}.png")
    return faces


def write_params(cwd: Path, body: str) -> None:
    (cwd / "params.yaml").write_text("seed: 0\neigenfaces:\n" + body, encoding="utf-8")


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_stage_mode_writes_metrics_and_plots(tmp_path):
    faces = make_folder(tmp_path / "faces")
    write_params(tmp_path, "  dir: faces\n  k: 4\n  rebuild: 3\n")
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loading 11 images" in result.stdout and "done in" in result.stdout

    shares = json.loads((tmp_path / paths.EIGENFACES_METRICS).read_text())
    metrics = json.loads((tmp_path / paths.EIGENFACES_SUMMARY).read_text())
    assert shares == {key: metrics[key] for key in ("share_percent", "variance_percent")}
    assert {"images": 11, "height": 20, "width": 18, "k": 4}.items() <= metrics.items()
    assert metrics["rebuilt"] == ["0.png", "5.png", "10.png"]
    model = fc.compute_eigenfaces(faces, 4)
    for key, expected in (("share_percent", model.share_percent), ("variance_percent", model.variance_percent)):
        assert list(metrics[key]) == ["1", "2", "3", "4"]
        np.testing.assert_allclose(list(metrics[key].values()), expected[:4], rtol=1e-9)
    rebuilt = fc.reconstruct(model, faces[[0, 5, 10]])
    assert list(metrics["reconstruction_rmse"]) == ["0.png", "5.png", "10.png"]
    np.testing.assert_allclose(list(metrics["reconstruction_rmse"].values()),
                               [fc.rmse(faces[i], r) for i, r in zip((0, 5, 10), rebuilt)], rtol=1e-9)
    assert all(0 < v < 10 for v in metrics["reconstruction_rmse"].values())

    for name in ("mean_face.png", "eigenfaces.png", "reconstructions.png"):
        with Image.open(tmp_path / paths.EIGENFACES_PLOTS / name) as img:
            assert img.format == "PNG" and min(img.size) >= 150  # 20x18 faces were blown up
    before = (tmp_path / "plots/eigenfaces/eigenfaces.png").read_bytes()
    assert run(tmp_path).returncode == 0
    assert (tmp_path / "plots/eigenfaces/eigenfaces.png").read_bytes() == before  # deterministic


def test_stage_mode_rebuild_list_and_absolute_dir(tmp_path):
    make_folder(tmp_path / "faces", n=6)
    write_params(tmp_path, f"  dir: {tmp_path / 'faces'}\n  k: 2\n  rebuild: [4.png, 1.png]\n")
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / paths.EIGENFACES_SUMMARY).read_text())
    assert metrics["rebuilt"] == ["4.png", "1.png"] and list(metrics["share_percent"]) == ["1", "2"]


@pytest.mark.parametrize("body, fragments", [
    ("  dir: faces\n  k: 7\n  rebuild: 2\n", ["params.yaml", "eigenfaces.k", "1 to 6", "7"]),
    ("  dir: faces\n  k: 0\n  rebuild: 2\n", ["params.yaml", "eigenfaces.k", "1 to 6", "found 0"]),
    ("  dir: faces\n  k: 2\n  rebuild: [1.png, 9.png]\n", ["params.yaml", "eigenfaces.rebuild", "9.png"]),
    ("  dir: faces\n  k: 2\n  rebuild: 0\n", ["params.yaml", "eigenfaces.rebuild", "1 to 6", "found 0"]),
    ("  dir: nowhere\n  k: 2\n  rebuild: 2\n", ["nowhere", "expected a folder"]),
])
def test_stage_mode_bad_params(tmp_path, body, fragments):
    make_folder(tmp_path / "faces", n=6)
    write_params(tmp_path, body)
    assert_one_line_error(run(tmp_path), *fragments)
    assert not (tmp_path / "metrics").exists() and not (tmp_path / "plots").exists()


@pytest.mark.parametrize("output", ["out/3_rebuilt.jpg", "3_rebuilt.png"])
def test_cli_writes_the_reconstruction_at_the_input_size(tmp_path, output):
    faces = make_folder(tmp_path / "faces")
    result = run(tmp_path, "faces/", "3.png", output)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / output) as img:
        assert img.size == (18, 20) and img.mode == "RGB"
        written = np.asarray(img)
    expected = fc.reconstruct(fc.compute_eigenfaces(faces, 5), faces[3:4])[0]
    if output.endswith(".png"):
        np.testing.assert_array_equal(written, expected)
    else:
        assert np.abs(written.astype(float) - expected).mean() < 4  # jpeg is lossy
    assert [p.name for p in (tmp_path / output).parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("args, fragments", [
    (["faces", "77.png", "o.png"], ["77.png", "faces"]),
    (["faces", "3.png", "o.xyz"], ["o.xyz", ".xyz"]),
    (["faces", "3.png"], ["expected 3 arguments, found 2"]),
    (["missing", "3.png", "o.png"], ["missing", "expected a folder"]),
    (["small", "0.png", "o.png"], ["small", "k=5", "(3)"]),
    (["broken", "0.png", "o.png"], ["2.jpg", "readable image"]),
])
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, args, fragments):
    make_folder(tmp_path / "faces", n=6)
    make_folder(tmp_path / "small", n=3)
    make_folder(tmp_path / "broken", n=6)
    (tmp_path / "broken/2.png").unlink()
    (tmp_path / "broken/2.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(run(tmp_path, *args), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no temporary file
