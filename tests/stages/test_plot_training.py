"""The stage plot_training: plots/training_curves.csv holds every model's loss per epoch, the
autoencoder's and each self-training CNN's, however many folds trained one (none on a small pool)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.lib import paths

REPO = Path(__file__).resolve().parents[2]


def write_dvclive_loss(folder: Path, losses: list[float]) -> None:
    """``losses`` per epoch as dvclive's Keras callback writes them: plots/metrics/train/loss.tsv."""
    path = folder / "plots/metrics/train/loss.tsv"
    path.parent.mkdir(parents=True)
    path.write_text("step\tloss\n" + "".join(f"{step}\t{loss}\n" for step, loss in enumerate(losses)))


def run_stage(root: Path, cnns: dict[int, list[float]]) -> subprocess.CompletedProcess:
    """plot_training in ``root`` after an autoencoder of 3 epochs and the CNN of each part in ``cnns``."""
    (root / paths.EMBED).mkdir(parents=True)
    np.save(root / paths.RECONSTRUCTIONS, np.zeros((2, 4, 32, 32, 3), np.uint8))
    write_dvclive_loss(root / paths.EMBED_LIVE, [0.3, 0.2, 0.1])
    (root / paths.SELFTRAIN).mkdir(parents=True)
    for part, losses in cnns.items():
        write_dvclive_loss(root / f"data/selftrain/curves/cnn_{part}", losses)
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "MPLCONFIGDIR": str(root / "matplotlib")}
    return subprocess.run([sys.executable, "-m", "pipeline.stages.plot_training"], cwd=root, capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.parametrize("cnns, models", [
    ({}, ["autoencoder"]),  # too few images for a CNN: the autoencoder's curve alone
    ({2: [0.6, 0.5], 1: [0.7, 0.4], 10: [0.9, 0.8]}, ["autoencoder", "CNN 1", "CNN 2", "CNN 10"]),
])
def test_training_curves_hold_every_model_by_epoch(tmp_path, cnns, models):
    result = run_stage(tmp_path, cnns)
    assert result.returncode == 0, result.stderr
    curves = pd.read_csv(tmp_path / paths.TRAINING_CURVES_CSV)
    assert list(curves.columns) == ["model", "epoch", "loss"]
    assert list(dict.fromkeys(curves["model"])) == models
    rows = {model: list(zip(part["epoch"], part["loss"]))
            for model, part in curves.groupby("model", sort=False)}
    assert rows["autoencoder"] == [(1, 0.3), (2, 0.2), (3, 0.1)]
    for part, losses in cnns.items():
        assert rows[f"CNN {part}"] == list(zip(range(1, len(losses) + 1), losses))
    assert f"training_curves.csv ({', '.join(models)})" in result.stdout
