"""Unit tests of pipeline.lib.faces on small synthetic faces (plus one check on the real Aberdeen faces)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.lib import faces as fc
from pipeline.lib.config.eigenfaces import evenly_spaced
from pipeline.lib.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
ABERDEEN = REPO_ROOT.parent / "shared" / "data" / "aberdeen"


def synthetic_faces(n: int = 12, h: int = 16, w: int = 14, seed: int = 0) -> np.ndarray:
    """(n, h, w, 3) uint8: a base image plus a few patterns with well separated weights, plus noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(90, 160, (h, w, 3))
    patterns = rng.normal(size=(4, h, w, 3))
    weights = rng.normal(size=(n, 4)) * np.array([30.0, 15.0, 8.0, 4.0])
    images = base + np.einsum("nk,khwc->nhwc", weights, patterns) + rng.normal(0, 1.0, (n, h, w, 3))
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def save_folder(directory: Path, faces: np.ndarray, ext: str = ".png") -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"{i}{ext}" for i in range(len(faces))]
    for name, face in zip(names, faces):
        Image.fromarray(face, "RGB").save(directory / name)
    return names


def centred(faces: np.ndarray) -> np.ndarray:
    x = faces.reshape(len(faces), -1).astype(np.float64)
    return x - x.mean(axis=0)


# ------------------------------------------------------------------------------ the computation
@pytest.mark.parametrize("chunk_bytes", [fc.CHUNK_BYTES, 8 * 12 * 37])  # one chunk; many chunks/threads
def test_gram_route_equals_full_svd(chunk_bytes):
    faces = synthetic_faces()
    n, k = len(faces), 6
    model = fc.compute_eigenfaces(faces, k, chunk_bytes=chunk_bytes)
    _, s, vt = np.linalg.svd(centred(faces), full_matrices=False)

    np.testing.assert_allclose(model.singular_values[: n - 1], s[: n - 1], rtol=1e-4)
    assert model.singular_values[-1] == 0.0  # the mean-subtracted data has rank n - 1
    for i in range(k):
        expected = vt[i] * np.sign(vt[i] @ model.eigenfaces[i])
        np.testing.assert_allclose(model.eigenfaces[i], expected, rtol=0, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_allclose(model.eigenfaces @ model.eigenfaces.T, np.eye(k), atol=1e-8)
    np.testing.assert_allclose(model.coefficients, centred(faces) @ model.eigenfaces.T, atol=1e-6)


def test_sign_is_fixed_largest_entry_positive():
    model = fc.compute_eigenfaces(synthetic_faces(seed=3), 5)
    for row in model.eigenfaces:
        assert row[np.abs(row).argmax()] > 0


def test_mean_face_is_the_pixelwise_mean():
    faces = synthetic_faces()
    np.testing.assert_allclose(fc.mean_face(faces), faces.astype(np.float64).mean(axis=0), atol=1e-9)
    assert fc.mean_face(faces).shape == faces.shape[1:]


def test_mean_is_subtracted_first():
    # mean + t_i * pattern: rank 1 once the mean is removed (rank 2 if it were not).
    rng = np.random.default_rng(1)
    base = rng.uniform(100, 150, (10, 9, 3))
    pattern = rng.choice([-1.0, 1.0], size=(10, 9, 3))
    t = np.array([-40, -25, -10, 0, 5, 15, 30, 40], dtype=np.float64)
    faces = np.rint(base + t[:, None, None, None] * pattern).astype(np.uint8)
    model = fc.compute_eigenfaces(faces, 1)
    assert model.singular_values[1] < 1e-6 * model.singular_values[0]
    assert model.share_percent[0] == pytest.approx(100.0, abs=1e-4)
    assert np.abs(fc.reconstruct(model, faces).astype(int) - faces).max() <= 1
    np.testing.assert_allclose(np.abs(model.eigenfaces[0]), 1 / np.sqrt(pattern.size), rtol=1e-6)


def test_shares_sum_to_100_and_decrease():
    model = fc.compute_eigenfaces(synthetic_faces(n=15), 3)
    s = model.singular_values
    assert len(s) == 15
    cases = ((model.share_percent, s / s.sum() * 100), (model.variance_percent, s**2 / (s**2).sum() * 100))
    for shares, expected in cases:
        assert len(shares) == 15
        assert shares.sum() == pytest.approx(100.0, rel=1e-12)
        assert np.all(np.diff(shares) <= 1e-12)
        np.testing.assert_allclose(shares, expected, rtol=1e-12)
    assert model.variance_percent[0] > model.share_percent[0]  # squaring favours the top component


def test_all_components_reproduce_the_input():
    faces = synthetic_faces()
    for k in (len(faces) - 1, len(faces)):  # the n-th component is numerically zero and must not hurt
        rebuilt = fc.reconstruct(fc.compute_eigenfaces(faces, k), faces)
        assert rebuilt.dtype == np.uint8 and rebuilt.shape == faces.shape
        assert np.abs(rebuilt.astype(int) - faces).max() <= 1


def test_fewer_components_give_a_worse_but_bounded_reconstruction():
    faces = synthetic_faces()
    errors = [np.mean([fc.rmse(f, r) for f, r in zip(faces, fc.reconstruct(fc.compute_eigenfaces(faces, k), faces))])
              for k in (1, 2, 4)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert errors[2] < 3.0  # four patterns explain all but the noise


def test_k_out_of_range_names_folder_k_and_count():
    faces = synthetic_faces(n=4)
    for k in (0, 5):
        with pytest.raises(InputError, match=r"myfolder.*\(4\).*k=" + str(k)):
            fc.compute_eigenfaces(faces, k, source="myfolder")


def test_display_transform_is_the_course_formula():
    m = np.array([[-0.5, 0.0], [0.25, 1.5]])
    out = fc.display_transform(m)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 63], [95, 255]])
    np.testing.assert_array_equal(fc.display_transform(np.zeros((2, 2))), 0)


def test_evenly_spaced_includes_first():
    assert evenly_spaced(4, 100) == [0, 33, 66, 99]
    assert evenly_spaced(1, 7) == [0]
    assert evenly_spaced(5, 5) == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------------------------- the loading
def test_load_round_trip_and_numeric_order(tmp_path):
    faces = synthetic_faces(n=12)
    save_folder(tmp_path, faces)
    (tmp_path / ".DS_Store").write_bytes(b"\0junk")  # hidden files are skipped
    (tmp_path / "sub").mkdir()
    names, loaded = fc.load_face_folder(tmp_path)
    assert names == [f"{i}.png" for i in range(12)]  # 2.png before 10.png
    np.testing.assert_array_equal(loaded, faces)


def test_non_numeric_names_sort_by_name_and_extensions_any_case(tmp_path):
    face = synthetic_faces(n=1)[0]
    for name, fmt in (("b.PNG", "PNG"), ("a.Jpeg", "JPEG"), ("10.bmp", "BMP"), ("c.jpg", "JPEG")):
        Image.fromarray(face).save(tmp_path / name, format=fmt)
    names, loaded = fc.load_face_folder(tmp_path)
    assert names == ["10.bmp", "a.Jpeg", "b.PNG", "c.jpg"]
    assert loaded.shape == (4, *face.shape)


def test_grey_rgba_palette_and_16bit_become_rgb(tmp_path):
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    rgba = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "0.png")
    Image.fromarray(rgba, "RGBA").save(tmp_path / "1.png")
    Image.fromarray(rgba[:, :, :3], "RGB").convert("P").save(tmp_path / "2.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "3.png")  # 16-bit grey
    Image.fromarray(grey, "L").save(tmp_path / "4.jpg")
    names, loaded = fc.load_face_folder(tmp_path)
    assert loaded.shape == (5, 6, 5, 3) and loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded[0], np.repeat(grey[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(loaded[1], rgba[:, :, :3])
    with Image.open(tmp_path / "2.png") as palette:
        assert palette.mode == "P"
        np.testing.assert_array_equal(loaded[2], np.asarray(palette.convert("RGB")))
    np.testing.assert_array_equal(loaded[3], loaded[0])
    assert np.all(loaded[4, :, :, 0] == loaded[4, :, :, 2])  # jpeg grey: channels equal too


def _raises(match: str):
    return pytest.raises(InputError, match=match)


def test_mixed_sizes_names_the_odd_file_and_both_sizes(tmp_path):
    save_folder(tmp_path, synthetic_faces(n=3, h=16, w=14))
    Image.fromarray(np.zeros((20, 14, 3), np.uint8)).save(tmp_path / "10.png")
    with _raises(r"10\.png: expected 14x16 .* like the first image 0\.png, found 14x20"):
        fc.load_face_folder(tmp_path)


def test_not_an_image_extension(tmp_path):
    save_folder(tmp_path, synthetic_faces(n=2))
    (tmp_path / "README.txt").write_text("faces")
    with _raises(r"README\.txt: not an image"):
        fc.load_face_folder(tmp_path)


def test_truncated_jpg_names_the_file(tmp_path):
    save_folder(tmp_path, synthetic_faces(n=2, h=64, w=64), ext=".jpg")
    data = (tmp_path / "1.jpg").read_bytes()
    (tmp_path / "1.jpg").write_bytes(data[: len(data) // 2])
    with _raises(r"1\.jpg: expected a readable image"):
        fc.load_face_folder(tmp_path)


def test_garbage_with_image_extension_names_the_file(tmp_path):
    save_folder(tmp_path, synthetic_faces(n=2))
    (tmp_path / "5.png").write_bytes(b"this is not a png at all")
    with _raises(r"5\.png: expected a readable image"):
        fc.load_face_folder(tmp_path)


def test_empty_and_missing_folder(tmp_path):
    (tmp_path / ".hidden.png").write_bytes(b"")
    with _raises(re_escape(tmp_path) + r": expected at least one face image.*empty folder"):
        fc.load_face_folder(tmp_path)
    with _raises(r"nope: expected a folder of face images, found nothing"):
        fc.load_face_folder(tmp_path / "nope")


def re_escape(path: Path) -> str:
    import re

    return re.escape(str(path))


# ------------------------------------------------------------------------------- the real faces
@pytest.mark.slow
@pytest.mark.skipif(not ABERDEEN.is_dir(), reason=f"real faces not present at {ABERDEEN} (fresh clone)")
def test_real_faces_shares_match_plain_svd():
    names, faces = fc.load_face_folder(ABERDEEN)
    assert faces.shape == (len(names), 600, 600, 3)
    model = fc.compute_eigenfaces(faces, 5, source=ABERDEEN)
    x = centred(faces)
    del faces
    try:  # plain float64 SVD; one BLAS thread, since BLAS threads crawl on a busy 2-core machine
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1, user_api="blas")
    except ImportError:
        limit = contextlib.nullcontext()
    with limit:
        s = np.linalg.svd(x.T, compute_uv=False)  # same singular values as x, faster layout
    np.testing.assert_allclose(model.share_percent[:5], fc.share_percent(s)[:5], rtol=1e-4)
    np.testing.assert_allclose(model.variance_percent[:5], fc.variance_percent(s)[:5], rtol=1e-4)
    np.testing.assert_allclose(model.singular_values[:-1], s[:-1], rtol=1e-4)
    assert 7.0 < model.share_percent[0] < 8.0  # 7.52 % on the 100 Aberdeen faces
