"""pipeline.label: a trained run labels a competition folder without training anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from tiny_repo import BIN, baseline, clone, environment

REPO = Path(__file__).resolve().parents[1]


def label(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "-m", "pipeline.label", *args], cwd=repo, env=environment(),
                          text=True, capture_output=True, timeout=300)


def test_label_reproduces_the_runs_visualization_labels(tmp_path_factory, tmp_path):
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    folder = repo / "data/demo/competition"
    result = label(repo, str(folder), "new.csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(repo / "new.csv")
    truth = pd.read_csv(folder / "test_case.csv")
    assert list(table.columns) == ["id", "label"] and table["id"].tolist() == truth["id"].tolist()
    assert set(table["label"]) <= {0, 1}
    # The visualization images are labelled as the run labelled them (refine's last round):
    # the same accuracy, up to one image on the boundary (float64 projections here).
    accuracy = float(re.search(r"visualization accuracy ([0-9.]+)", result.stdout).group(1))
    refine = json.loads((repo / "metrics/refine.json").read_text())
    shown = json.loads((repo / "metrics/prepare.json").read_text())["visualization_images"]
    assert abs(accuracy - refine["visualization_accuracy"]) <= 1 / shown + 1e-4
    assert (repo / "dvc.lock").read_text() == (base / "dvc.lock").read_text()  # nothing was rerun


def test_label_without_a_trained_run_says_what_is_missing(tmp_path):
    (tmp_path / "params.yaml").write_text("hog: {orientations: 9, cell: 4, block: 2}\n")
    result = subprocess.run([sys.executable, "-m", "pipeline.label", str(tmp_path), "out.csv"], cwd=tmp_path,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, text=True,
                            capture_output=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: models/autoencoder.keras: expected the output of a finished run")
    assert not (tmp_path / "out.csv").exists()


def test_label_needs_two_arguments(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipeline.label", "only-one"], cwd=tmp_path,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, text=True,
                            capture_output=True)
    assert result.returncode == 2 and "expected 2 arguments, found 1" in result.stderr
