"""pipeline.label: a trained run labels a competition folder without training anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from tiny_repo import BIN, baseline, clone, environment

from pipeline.lib import paths

REPO = Path(__file__).resolve().parents[2]


def label(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-m", "pipeline.label", *args], cwd=repo, env=environment(),
                          text=True, capture_output=True, timeout=300)


def test_label_applies_the_run_without_training(tmp_path_factory, tmp_path):
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    folder = repo / paths.DEMO_COMPETITION
    result = label(repo, str(folder), "new.csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(repo / "new.csv")
    truth = pd.read_csv(folder / "test_case.csv")
    assert list(table.columns) == ["id", "label"] and table["id"].tolist() == truth["id"].tolist()
    assert set(table["label"]) <= {0, 1}
    # The run scored each image out of fold; a new image gets the mean of the fold models, so the
    # labels may differ a little from the run's, not much.
    accuracy = float(re.search(r"visualization accuracy ([0-9.]+)", result.stdout).group(1))
    estimate = float(re.search(r"estimated pair accuracy ([0-9.]+)", result.stdout).group(1))
    cluster = json.loads((repo / paths.CLUSTER_METRICS).read_text())
    assert abs(accuracy - cluster["visualization_accuracy"]) <= 0.1 and 0.5 <= estimate <= 1
    assert (repo / "dvc.lock").read_text() == (base / "dvc.lock").read_text()  # nothing was rerun

    # The course's cluster.sh form: an images folder and a CSV, no visualization.npy. Each image's
    # label depends on that image alone, so the submission is the same.
    result = label(repo, str(folder / "images"), str(folder / "test_case.csv"), "course.csv")
    assert result.returncode == 0, result.stderr
    assert "visualization accuracy" not in result.stdout
    assert (repo / "course.csv").read_bytes() == (repo / "new.csv").read_bytes()


def test_label_without_a_trained_run_says_what_is_missing(tmp_path):
    (tmp_path / "params.yaml").write_text("hog: {orientations: 9, cell: 4, block: 2}\n")
    result = subprocess.run([sys.executable, "-m", "pipeline.label", str(tmp_path), "out.csv"], cwd=tmp_path,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, text=True,
                            capture_output=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: models/autoencoder.keras: expected the output of a finished run")
    assert not (tmp_path / "out.csv").exists()


def test_label_needs_two_or_three_arguments(tmp_path):
    for args in (["only-one"], ["a", "b", "c", "d.csv"]):
        result = subprocess.run([sys.executable, "-m", "pipeline.label", *args], cwd=tmp_path,
                                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, text=True,
                                capture_output=True)
        assert result.returncode == 2 and f"expected 2 or 3 arguments, found {len(args)}" in result.stderr


def test_label_refuses_an_output_it_cannot_write_before_any_work(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for out in ("a-file/out.csv", "a-file/below/out.csv"):
        result = subprocess.run([sys.executable, "-m", "pipeline.label", str(tmp_path), out], cwd=tmp_path,
                                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, text=True,
                                capture_output=True)
        assert result.returncode == 2 and result.stderr.count("\n") == 1
        assert result.stderr == f"error: {out}: expected a folder to write it in, found the file {tmp_path / 'a-file'}\n"


def test_a_set_unlike_the_runs_own_is_warned_of(tmp_path, monkeypatch):
    """Far below the run's own visualization accuracy: one line says the set is unlike the run's;
    within two points, or with no run's figure to compare, nothing is said."""
    from pipeline import label as command

    monkeypatch.chdir(tmp_path)
    assert command.run_accuracy() is None  # no metrics/cluster.json
    (tmp_path / "metrics").mkdir()
    (tmp_path / paths.CLUSTER_METRICS).write_text(json.dumps({"visualization_accuracy": 0.9977}))
    own = command.run_accuracy()
    assert own == 0.9977
    warning = command.unlike_the_run(0.9220, own)
    assert "0.9220" in warning and "0.9977" in warning and "unlike" in warning and "\n" not in warning
    assert command.unlike_the_run(0.9790, own) is None
    assert command.unlike_the_run(0.5002, None) is None
    (tmp_path / paths.CLUSTER_METRICS).write_text(json.dumps({"visualization_accuracy": True}))
    assert command.run_accuracy() is None
