"""Comparing experiments as a DVC user does: `dvc plots diff` and `dvc exp show --sort-by`.

Two experiments on a clone of the tiny baseline (tests/tiny_repo.py), each run with --temp so the
second does not start from the first's params: one changes only the PCA (`pca.dims`), one the
autoencoder's training (`embed.epochs`: every training curve changes, and its length).
"""

from __future__ import annotations

import collections
import csv
import io
import json
from pathlib import Path

import pytest
from tiny_repo import baseline, clone, dvc

EXPERIMENTS = {"dims4": ["-S", "pca.dims=4"], "epochs3": ["-S", "embed.epochs=3"]}
EPOCHS = {"dims4": 2, "epochs3": 3}  # the tiny baseline trains 2 epochs
CURVES = ["dvclive/embed/plots/metrics/train/loss.tsv", "data/selftrain/curves/cnn_1/plots/metrics/train/loss.tsv",
          "data/selftrain/curves/cnn_2/plots/metrics/train/loss.tsv"]


@pytest.fixture(scope="module")
def experiments(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """(repo, experiment name → its metrics, file → values, from `dvc exp show --json`)."""
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path_factory.mktemp("experiments") / "repo")
    for name, args in EXPERIMENTS.items():
        dvc(repo, "exp", "run", "--temp", "-n", name, *args, timeout=600)
    output = dvc(repo, "exp", "show", "--json").stdout
    shown = json.loads(output[output.index("["):])
    metrics = {rev["name"]: {file: entry["data"] for file, entry in rev["data"]["metrics"].items()}
               for baseline_row in shown for experiment in baseline_row.get("experiments") or []
               for rev in experiment["revs"]}
    assert set(metrics) == set(EXPERIMENTS), metrics.keys()
    return repo, metrics


def plots_diff(repo: Path, out: Path) -> dict[str, list[dict]]:
    result = dvc(repo, "plots", "diff", *EXPERIMENTS, "--json", "-o", str(out))
    return json.loads(result.stdout[result.stdout.index("{"):])["data"]


def vega(plots: dict, plot_id: str) -> tuple[dict, dict[str, list[dict]]]:
    """The one Vega-Lite spec of ``plot_id`` and its data rows, per revision."""
    assert plot_id in plots, f"{plot_id} is not rendered: {sorted(plots)}"
    [entry] = plots[plot_id]
    assert entry["type"] == "vega" and sorted(entry["revisions"]) == sorted(EXPERIMENTS)
    spec = entry["content"]
    rows = collections.defaultdict(list)
    for row in spec["data"]["values"]:
        rows[row["rev"]].append(row)
    assert sorted(rows) == sorted(EXPERIMENTS), f"{plot_id}: data from {sorted(rows)}"
    return spec, rows


def fields(spec: dict) -> dict[str, str]:
    """Channel → data field of the spec's encoding (for the confusion template, its inner spec's)."""
    encoding = spec.get("encoding") or spec["spec"]["encoding"]
    return {channel: value["field"] for channel, value in encoding.items() if isinstance(value, dict) and "field" in value}


def test_plots_diff_overlays_the_scatter_the_confusion_and_every_training_curve(experiments, tmp_path):
    repo, metrics = experiments
    plots = plots_diff(repo, tmp_path / "dvc_plots")

    spec, rows = vega(plots, "plots/projection.csv")
    assert fields(spec)["x"] == "x" and fields(spec)["y"] == "y" and fields(spec)["color"] == "rev"
    for name, points in rows.items():
        assert len(points) == metrics[name]["metrics/prepare.json"]["visualization_images"]
        assert {"x", "y", "dataset", "cluster"} <= set(points[0])
        float(points[0]["x"]), float(points[0]["y"])
    assert [p["x"] for p in rows["dims4"]] != [p["x"] for p in rows["epochs3"]]

    spec, rows = vega(plots, "plots/confusion.csv")
    assert (fields(spec)["x"], fields(spec)["y"]) == ("cluster", "dataset")
    assert spec["facet"]["column"]["field"] == "rev"  # one matrix per experiment, side by side
    for name, cells in rows.items():  # the matrix counts are cluster.json's
        counts = collections.Counter((cell["dataset"], cell["cluster"]) for cell in cells)
        expected = metrics[name]["metrics/cluster.json"]["visualization_confusion"]
        assert counts == {(d, c): n for d, row in expected.items() for c, n in row.items() if n}, name

    for plot_id in CURVES:
        spec, rows = vega(plots, plot_id)
        assert fields(spec)["x"] == "step"
        for name, points in rows.items():
            assert all(float(p["loss"]) > 0 for p in points)
            if plot_id.startswith("dvclive/embed"):
                assert [int(p["step"]) for p in points] == list(range(EPOCHS[name])), (plot_id, name)
                reported = metrics[name]["metrics/embed.json"]["final_training_loss"]
                assert float(points[-1]["loss"]) == pytest.approx(reported, rel=1e-6)
    assert not (repo / "dvc_plots").exists()  # -o kept the rendering out of the repository

    # The curve the diff shows for an experiment is the file that experiment wrote (last: this
    # changes the shared clone's workspace, which the ranking test below does not read).
    dvc(repo, "exp", "apply", "epochs3")
    for plot_id in CURVES:
        written = list(csv.DictReader(io.StringIO((repo / plot_id).read_text()), delimiter="\t"))
        shown = vega(plots, plot_id)[1]["epochs3"]
        assert [(r["step"], r["loss"]) for r in written] == [(p["step"], p["loss"]) for p in shown], plot_id


@pytest.mark.parametrize("column", ["pair_accuracy", "metrics/predict.json:pair_accuracy"])
def test_exp_show_ranks_experiments_by_the_estimated_kaggle_score(experiments, column):
    """The README's ranking command: one metric name across all the metrics files."""
    repo, metrics = experiments
    for order, reverse in (("desc", True), ("asc", False)):
        shown = dvc(repo, "exp", "show", "--csv", "--sort-by", column, "--sort-order", order,
                    "--drop", ".*", "--keep", "Experiment|pair_accuracy").stdout
        table = list(csv.DictReader(io.StringIO(shown[shown.index("Experiment,"):])))
        ranked = [row["Experiment"] for row in table if row["Experiment"]]
        scores = {name: values["metrics/predict.json"]["pair_accuracy"] for name, values in metrics.items()}
        assert ranked == sorted(scores, key=scores.get, reverse=reverse), (order, table)
        assert scores["dims4"] != scores["epochs3"]  # the order means something
        assert [float(row["pair_accuracy"]) for row in table if row["Experiment"]] == \
            sorted(scores.values(), reverse=reverse)
