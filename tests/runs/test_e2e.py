"""End to end, through DVC: the whole pipeline on the demo data in a throw-away repository.

One `dvc repro` on tiny params (shared with the other pipeline tests, see tiny_repo.py), then
two experiments: a PCA change must rerun only the stages after embed and hog, and a competition folder
outside the repository (an absolute data.dir) must go through the whole pipeline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from tiny_repo import PROJECT, baseline, clone, dvc

from pipeline.lib import paths

UPSTREAM = ("demo", "prepare", "embed", "hog", "patches", "selftrain")  # learning: minutes
DOWNSTREAM = ("views", "reduce", "cluster", "predict", "plot", "report")  # tuning: seconds
PLOTS = ("plots/visualization_2d.png", "plots/mistakes.png", "plots/reconstructions.png",
         "plots/training_loss.png")


def stages() -> set[str]:
    return set(yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"])


def values_of(tree, key: str) -> list:
    """Every value stored under ``key`` anywhere in a JSON tree (dicts and lists)."""
    if isinstance(tree, dict):
        return [v for k, v in tree.items() if k == key] + [x for v in tree.values() for x in values_of(v, key)]
    if isinstance(tree, list):
        return [x for v in tree for x in values_of(v, key)]
    return []


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def check_submission(repo: Path, test_case: Path) -> pd.DataFrame:
    submission_path = repo / "submissions" / "submission.csv"
    assert submission_path.is_file()
    assert submission_path.read_text().splitlines()[0] == "id,label"
    submission = pd.read_csv(submission_path)
    expected_ids = pd.read_csv(test_case)["id"]
    assert list(submission.columns) == ["id", "label"]
    assert sorted(submission["id"]) == sorted(expected_ids)
    assert submission["id"].is_unique
    assert set(submission["label"]) <= {0, 1}
    return submission


def write_competition(root: Path, per_dataset: int, pairs: int, seed: int) -> None:
    """A small competition folder: dataset A smooth gradients, dataset B speckle noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, 32)
    images = []
    for _ in range(per_dataset):
        angle = rng.uniform(0, np.pi)
        field = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
        grey = (field / max(field.max(), 1) * 255).clip(0, 255)
        images.append(np.repeat(grey[..., None], 3, axis=2).astype(np.uint8))
    for _ in range(per_dataset):
        images.append(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8))
    (root / "images").mkdir(parents=True)
    order = rng.permutation(len(images))
    decoded = []
    for number, index in enumerate(order, start=1):
        path = root / "images" / f"{number:06d}.jpg"
        Image.fromarray(images[index]).save(path, quality=95)
    by_index = {index: number for number, index in enumerate(order, start=1)}
    for index in range(len(images)):
        with Image.open(root / "images" / f"{by_index[index]:06d}.jpg") as image:
            decoded.append(np.asarray(image.convert("RGB")))
    np.save(root / "visualization.npy", np.stack(decoded), allow_pickle=False)  # A first, then B
    names = rng.integers(1, len(images) + 1, size=(pairs, 2))
    pd.DataFrame({"id": np.arange(pairs), "image1_name": names[:, 0], "image2_name": names[:, 1]}) \
        .to_csv(root / "test_case.csv", index=False)


def assert_same_path(repo: Path) -> None:
    """The visualization images take exactly the competition images' path.

    This folder's visualization images are copies of its competition images (write_competition),
    so each copy must come out of every stage with the features and the cluster of its original:
    a stage that treated the visualization rows apart (scored them with other models, fitted on
    the competition rows only, ...) would give them other features or labels, and the accuracy
    measured on them would not be the submission's.
    """
    rows = read_json(repo / paths.ROWS)
    n = rows["competition"]
    images = np.load(repo / paths.IMAGES)
    original = {images[i].tobytes(): i for i in range(n)}
    copies = [(n + j, original[images[n + j].tobytes()]) for j in range(rows["visualization"])]
    assert len(copies) == rows["visualization"] == n
    shown, originals = np.array(copies).T
    for name in ("data/embed/codes.npy", "data/hog/descriptors.npy", "data/patches/descriptors.npy",
                 "data/selftrain/features.npy", "data/reduce/components.npy"):
        features = np.load(repo / name)
        np.testing.assert_allclose(features[shown], features[originals], rtol=1e-4, atol=1e-5, err_msg=name)
    labels = np.load(repo / paths.LABELS)
    assert np.array_equal(labels[shown], labels[originals])


def test_repro_then_experiments(tmp_path_factory, tmp_path):
    base, output = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    for stage in stages():
        assert f"Running stage '{stage}'" in output

    # --- the first `dvc repro` --------------------------------------------------------------
    submission = check_submission(repo, repo / "data/demo/competition/test_case.csv")
    assert len(submission) == 500  # demo.pairs
    embed = read_json(repo / paths.EMBED_SUMMARY)
    assert embed["reconstruction_loss"] > 0 and np.isfinite(embed["reconstruction_loss"])
    cluster = read_json(repo / paths.CLUSTER_SUMMARY)
    assert 0.5 <= cluster["visualization_accuracy"] <= 1.0
    # the metrics are the numbers runs are compared by; the rest is the report's, in the summaries
    assert read_json(repo / paths.CLUSTER_METRICS) == {key: cluster[key] for key in ["visualization_accuracy"]}
    selftrain = read_json(repo / paths.SELFTRAIN_SUMMARY)
    for key in ("bootstrap_visualization_accuracy", "linear_visualization_accuracy", "cnn_visualization_accuracy"):
        assert 0.5 <= selftrain[key] <= 1.0
    assert sum(cluster["cluster_sizes"].values()) == 200  # the competition images, not the pool
    assert cluster["alternative"]["method"] == "coordinates"
    # k-means started from the self-trained split and its restarts checked it, in the summary
    assert cluster["kmeans_kept"] in ("start", "restarts") and 0.5 <= cluster["restarts_agreement"] <= 1.0
    assert cluster["restarts_same_split"] == (cluster["restarts_agreement"] >= 0.99)
    assert cluster["restart_rows"] == 400  # a pool below RESTART_ROWS: the restarts see all of it
    assert 0.5 <= cluster["alternative"]["visualization_accuracy"] <= 1.0
    predict = read_json(repo / paths.PREDICT_SUMMARY)
    assert predict["pairs"] == 500 and 0 <= predict["share_same"] <= 1 and 0.5 <= predict["pair_accuracy"] <= 1
    assert read_json(repo / paths.PREDICT_METRICS) == {key: predict[key] for key in (
        "pair_accuracy", "pair_accuracy_low", "pair_accuracy_high")}
    assert read_json(repo / paths.REDUCE_SUMMARY)["dims"] == 8
    assert read_json(repo / paths.PREPARED_SUMMARY)["images"] == 200
    if "eigenfaces" in stages():
        eigen = read_json(repo / paths.EIGENFACES_METRICS)
        assert sorted(eigen) == ["share_percent", "variance_percent"]
        for key in ("share_percent", "variance_percent"):
            assert sorted(eigen[key]) == ["1", "2", "3", "4", "5"]
            assert all(0 <= value <= 100 for value in eigen[key].values())
        assert list(eigen["variance_percent"].values()) == sorted(eigen["variance_percent"].values(),
                                                                   reverse=True)
    for plot in PLOTS:
        assert (repo / plot).read_bytes().startswith(b"\x89PNG")
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")

    # --- pca.dims reruns reduce (a cut of the joint PCA) and what follows: no training, no PCA --
    first_components = np.load(repo / paths.COMPONENTS)
    run = dvc(repo, "exp", "run", "-S", "pca.dims=4").stdout
    for stage in (*UPSTREAM, "views"):
        assert f"Stage '{stage}' didn't change, skipping" in run
    for stage in DOWNSTREAM[1:]:
        assert f"Running stage '{stage}'" in run
    if "eigenfaces" in stages():
        assert "Running stage 'eigenfaces'" not in run
    # the pool: 200 competition images, then the 200 visualization images
    assert np.load(repo / paths.COMPONENTS).shape == (400, 4) != first_components.shape
    assert read_json(repo / paths.REDUCE_SUMMARY)["dims"] == 4
    check_submission(repo, repo / "data/demo/competition/test_case.csv")

    shown = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    flat = json.dumps(shown)
    assert 4 in [pca.get("dims") for pca in values_of(shown, "pca") if isinstance(pca, dict)], "the experiment's pca.dims is not shown"
    assert "visualization_accuracy" in flat and "pair_accuracy" in flat
    diff = dvc(repo, "metrics", "diff", "--all").stdout
    assert re.search(r"metrics/predict\.json\s+pair_accuracy\s+0\.\d+\s+0\.\d+", diff), diff
    assert re.search(r"metrics/cluster\.json\s+visualization_accuracy\s+", diff), diff

    # --- a competition folder outside the repository -------------------------------------------
    outside = tmp_path / "elsewhere" / "competition"
    write_competition(outside, per_dataset=30, pairs=123, seed=7)
    run = dvc(repo, "exp", "run", "-S", f"data.dir={outside}").stdout
    for stage in (*UPSTREAM[1:], *DOWNSTREAM):
        assert f"Running stage '{stage}'" in run
    assert "Stage 'demo' didn't change, skipping" in run
    submission = check_submission(repo, outside / "test_case.csv")
    assert len(submission) == 123
    assert read_json(repo / paths.PREPARED_SUMMARY) == {"images": 60, "pairs": 123,
                                                              "visualization_images": 60}
    assert read_json(repo / paths.CLUSTER_METRICS)["visualization_accuracy"] >= 0.5
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert str(outside) in [dep["path"] for dep in lock["stages"]["prepare"]["deps"]]
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")

    assert_same_path(repo)

    # The folder is a tracked dependency: changing it outside the repository reruns prepare.
    extra = pd.read_csv(outside / "test_case.csv").iloc[:100]
    extra.to_csv(outside / "test_case.csv", index=False)
    assert "prepare" in dvc(repo, "status").stdout
