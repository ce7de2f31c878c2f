"""pipeline.lib.pca without DVC: the whitened PCAs of the views, and their fitted arrays."""

from __future__ import annotations

import numpy as np
import pytest
from configs import section_values

from pipeline.lib import pca as reduction
from pipeline.lib.config.pca import PcaConfig
from pipeline.lib.errors import InputError

def correlated_codes(n: int = 400, d: int = 12, seed: int = 0) -> np.ndarray:
    """Codes with four strong directions (clear gaps between them) and weak noise, not axis-aligned."""
    rng = np.random.default_rng(seed)
    scales = np.concatenate([[10, 6, 4, 2.5], np.linspace(0.3, 0.1, d - 4)])
    mixing = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return ((rng.normal(size=(n, d)) * scales) @ mixing + 3.0).astype(np.float32)


# --- fit_pca / transform ---------------------------------------------------------------------

@pytest.mark.parametrize("dims", [0, -1, 13, 1000])
def test_fit_pca_dims_out_of_range(dims):
    with pytest.raises(ValueError, match=f"dims {dims} out of 1…12"):
        reduction.fit_pca(correlated_codes(), dims, whiten=True, seed=0)


def test_a_views_dims_past_its_width_name_its_key():
    config = PcaConfig.from_values(section_values("pca"))
    with pytest.raises(InputError, match=r"^params.yaml: pca.hog_dims: expected at most 12, the width of "
                                         r"data/hog/descriptors.npy, found 256$"):
        config.check_width("hog", 12, "data/hog/descriptors.npy")


def test_fit_pca_dims_bounded_by_image_count():
    with pytest.raises(ValueError, match="dims 6 out of 1…5"):
        reduction.fit_pca(correlated_codes(n=5), 6, whiten=False, seed=0)
    assert reduction.fit_pca(correlated_codes(n=5), 5, whiten=False, seed=0).n_components_ == 5


def test_whitening_gives_unit_variance_and_no_correlation():
    codes = correlated_codes()
    pca = reduction.fit_pca(codes, 5, whiten=True, seed=0)
    components = reduction.transform(pca, codes)
    assert components.shape == (400, 5) and components.dtype == np.float32
    np.testing.assert_allclose(components.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(np.cov(components, rowvar=False), np.eye(5), atol=1e-3)


def test_without_whitening_variance_is_the_explained_variance():
    codes = correlated_codes()
    pca = reduction.fit_pca(codes, 3, whiten=False, seed=0)
    components = reduction.transform(pca, codes)
    np.testing.assert_allclose(components.var(axis=0, ddof=1), pca.explained_variance_, rtol=1e-3)
    assert np.all(np.diff(components.var(axis=0)) < 0)  # decreasing: first component first


def test_incremental_pca_matches_full_pca(monkeypatch):
    monkeypatch.setattr(reduction, "CHUNK", 100)  # four partial fits over 400 rows
    codes = correlated_codes()
    full = reduction.fit_pca(codes, 4, whiten=True, seed=0)
    incremental = reduction.fit_pca(codes, 4, whiten=True, seed=0, incremental=True)
    assert type(incremental).__name__ == "IncrementalPCA"
    np.testing.assert_allclose(incremental.explained_variance_, full.explained_variance_, rtol=1e-3)
    a, b = reduction.transform(full, codes), reduction.transform(incremental, codes)
    signs = np.sign(np.sum(a * b, axis=0))  # each component is defined up to its sign
    np.testing.assert_allclose(a, b * signs, atol=1e-2)


def test_transform_writes_into_out_chunk_by_chunk(monkeypatch):
    monkeypatch.setattr(reduction, "CHUNK", 7)
    codes = correlated_codes(n=50)
    pca = reduction.fit_pca(codes, 3, whiten=False, seed=0)
    out = np.full((50, 3), np.nan, dtype=np.float32)
    assert reduction.transform(pca, codes, out=out) is out
    np.testing.assert_allclose(out, pca.transform(codes), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("whiten", [True, False])
def test_saved_pca_arrays_project_like_the_pca(whiten):
    """pca_arrays → project is the fitted PCA's transform (pipeline.label relies on it)."""
    from pipeline.lib.pca import fit_pca, pca_arrays, project

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, 6)) * np.arange(1, 7) + 3
    pca = fit_pca(rows.astype(np.float32), 4, whiten, seed=0)
    arrays = pca_arrays(pca, "view")
    assert sorted(arrays) == ["view_components", "view_mean", "view_scale"]
    new = rng.normal(size=(10, 6))
    np.testing.assert_allclose(project(arrays, "view", new), pca.transform(new.astype(np.float32)),
                               rtol=1e-4, atol=1e-4)


# --- several views, and fitted models as arrays (what pipeline.label applies) --------------------

def test_reduce_views_then_project_views_agree():
    codes, hog = correlated_codes(seed=1), correlated_codes(d=20, seed=2)
    views = {"codes": codes, "hog": hog}
    components, fitted, info, _ = reduction.reduce_views(views, {"codes": 4, "hog": 6}, 5, whiten=True, seed=0,
                                                       log=lambda line: None)
    assert components.shape == (400, 5) and info["joint"]["dims"] == 5 and info["hog"]["dims"] == 6
    np.testing.assert_allclose(reduction.project_views(fitted, views), components, atol=1e-4)
    np.testing.assert_allclose(np.cov(components, rowvar=False), np.eye(5), atol=1e-3)  # whitened


def test_a_view_weight_scales_its_block_only_and_new_rows_get_it_too():
    codes, hog = correlated_codes(seed=1), correlated_codes(d=20, seed=2)
    views, dims = {"codes": codes, "hog": hog}, {"codes": 4, "hog": 6}
    plain, _, _ = reduction.reduce_each(views, dims, whiten=True, seed=0, log=lambda line: None)
    weighted, fitted, info = reduction.reduce_each(views, dims, whiten=True, seed=0, weights={"hog": 2.5},
                                                    log=lambda line: None)
    assert np.array_equal(weighted[:, :4], plain[:, :4])  # codes: weight 1, untouched
    np.testing.assert_allclose(weighted[:, 4:], 2.5 * plain[:, 4:], rtol=1e-6)
    assert info["hog"]["weight"] == 2.5 and info["codes"]["weight"] == 1.0
    np.testing.assert_allclose(np.hstack([reduction.project(fitted, name, view) for name, view in views.items()]),
                               weighted, atol=1e-4)
    # it moves the joint PCA's top direction towards the weighted view
    top = lambda joined: reduction.fit_pca(joined, 1, True, 0).components_[0]
    assert np.sum(top(weighted)[4:] ** 2) > np.sum(top(plain)[4:] ** 2)


@pytest.mark.parametrize("weights, found", [(2, "found 2"), ({"pixels": 2}, "found 'pixels'"),
                                            ({"hog": 0}, "found 0"), ({"hog": "heavy"}, "found 'heavy'"),
                                            ({"hog": float("nan")}, "found nan"), ({"hog": True}, "found True")])
def test_view_weights_are_checked(weights, found):
    with pytest.raises(InputError, match="params.yaml: pca.weights") as error:
        PcaConfig.from_values({**section_values("pca"), "weights": weights})
    assert found in str(error.value)


def test_view_weights_default_to_one():
    weights = lambda value: PcaConfig.from_values({**section_values("pca"), "weights": value})  # noqa: E731
    assert weights({}).weights == {} and weights(None).weights == {}
    assert weights({"selftrain": 2}).weights == {"selftrain": 2.0}


