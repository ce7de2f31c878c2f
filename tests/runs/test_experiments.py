"""Comparing experiments as a DVC user does: `dvc plots diff`, `dvc exp show --sort-by`, `make compare`.

Two experiments on a clone of the tiny baseline (tests/tiny_repo.py), each run with --temp so the
second does not start from the first's params: one changes only the PCA (`pca.dims`), one the
autoencoder's training (`embed.epochs`: every training curve changes, and its length).
"""

from __future__ import annotations

import collections
import csv
import io
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from tiny_repo import BIN, PROJECT, baseline, clone, dvc, environment

from pipeline.lib import paths

EXPERIMENTS = {"dims4": ["-S", "pca.dims=4"], "epochs3": ["-S", "embed.epochs=3"]}
EPOCHS = {"dims4": 2, "epochs3": 3}  # the tiny baseline trains 2 epochs
MODELS = ["autoencoder", "CNN 1", "CNN 2"]  # the tiny params train a CNN on each of 2 folds


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
    shown = json.loads(result.stdout[result.stdout.index("{"):])
    assert "failed to load" not in result.stdout and not shown.get("errors"), result.stdout[-3000:]
    return shown["data"]


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


def test_plots_diff_shows_the_scatter_the_confusion_and_the_training_curves_side_by_side(experiments, tmp_path):
    repo, metrics = experiments
    plots = plots_diff(repo, tmp_path / "dvc_plots")
    assert sorted(plots) == ["plots/confusion.csv", "plots/projection.csv", "plots/training_curves.csv"]
    summary = json.loads((repo / paths.PREPARED_SUMMARY).read_text())

    spec, rows = vega(plots, "plots/projection.csv")
    assert fields(spec) == {"x": "x", "y": "y", "color": "dataset", "shape": "cluster"}
    titles = spec["spec"]["encoding"]
    assert (titles["x"]["title"], titles["y"]["title"]) == ("projection axis 1", "projection axis 2")
    # one panel per experiment, named by it and by its projection method
    assert spec["facet"]["column"]["field"] == "panel" and "datum.rev" in spec["transform"][0]["calculate"]
    for name, points in rows.items():
        assert len(points) == summary["visualization_images"]
        assert {p["dataset"] for p in points} == {"A", "B"} and {p["cluster"] for p in points} <= {"0", "1"}
        assert {p["projection"] for p in points} == {"separation"}
        float(points[0]["x"]), float(points[0]["y"])
    assert [p["x"] for p in rows["dims4"]] != [p["x"] for p in rows["epochs3"]]

    spec, rows = vega(plots, "plots/confusion.csv")
    assert (fields(spec)["x"], fields(spec)["y"]) == ("cluster", "dataset")
    assert spec["facet"]["column"]["field"] == "rev"  # one matrix per experiment, side by side
    for name, cells in rows.items():  # the matrix agrees with the experiment's visualization accuracy
        counts = collections.Counter((cell["dataset"], cell["cluster"]) for cell in cells)
        right = max(counts[("A", "0")] + counts[("B", "1")], counts[("A", "1")] + counts[("B", "0")])
        assert sum(counts.values()) == summary["visualization_images"]
        accuracy = metrics[name]["metrics/cluster.json"]["visualization_accuracy"]
        assert right / sum(counts.values()) == pytest.approx(accuracy), name

    spec, rows = vega(plots, "plots/training_curves.csv")
    assert spec["facet"]["column"]["field"] == "model" and fields(spec)["color"] == "rev"
    assert (fields(spec)["x"], fields(spec)["y"]) == ("epoch", "loss")
    for name, points in rows.items():
        assert list(dict.fromkeys(p["model"] for p in points)) == MODELS, name
        assert all(float(p["loss"]) > 0 for p in points)
        epochs = [int(p["epoch"]) for p in points if p["model"] == "autoencoder"]
        assert epochs == list(range(1, EPOCHS[name] + 1)), name
    assert not (repo / "dvc_plots").exists()  # -o kept the rendering out of the repository

    # The curves the diff shows for an experiment are the files that experiment wrote (last: this
    # changes the shared clone's workspace, which the tests below do not read).
    dvc(repo, "exp", "apply", "epochs3")
    for plot_id in ("plots/projection.csv", "plots/training_curves.csv"):
        written = list(csv.DictReader(io.StringIO((repo / plot_id).read_text())))
        shown = vega(plots, plot_id)[1]["epochs3"]
        assert written == [{key: point[key] for key in written[0]} for point in shown], plot_id
    curves = csv.DictReader(io.StringIO((repo / paths.TRAINING_CURVES_CSV).read_text()))
    autoencoder = [row for row in curves if row["model"] == "autoencoder"]
    reported = json.loads((repo / paths.EMBED_SUMMARY).read_text())["final_training_loss"]
    assert float(autoencoder[-1]["loss"]) == pytest.approx(reported, rel=1e-5)


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


def compare_command() -> list[str]:
    """The Makefile's `compare` recipe as dvc's arguments (make's `$$` is a shell `$`)."""
    recipe = re.search(r"^compare:.*\n\t(.+)$", (PROJECT / "Makefile").read_text(), re.MULTILINE).group(1)
    words = shlex.split(recipe.replace("$$", "$"))
    assert words[0] == "$(BIN)/dvc", recipe
    return words[1:]


def test_make_compare_fits_160_columns_with_the_ranking_metrics_and_the_params_changed(experiments):
    repo, _ = experiments
    result = subprocess.run([str(BIN / "dvc"), *compare_command(), "--no-pager"], cwd=repo, text=True,
                            env={**environment(), "COLUMNS": "160"}, capture_output=True, timeout=300)
    assert result.returncode == 0 and not result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 160, result.stdout
    assert "…" not in result.stdout, result.stdout  # no column squeezed to fit
    header = next(line for line in lines if "Experiment" in line).split()
    assert header == ["Experiment", "Created", "visualization_accuracy", "pair_accuracy", "pair_accuracy_low",
                      "pair_accuracy_high", "embed.epochs", "pca.dims"], result.stdout
    assert all(any(name in line for line in lines) for name in EXPERIMENTS), result.stdout
