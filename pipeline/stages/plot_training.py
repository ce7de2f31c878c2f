"""Stage `plot_training`: the pictures of the autoencoder, drawn once per `embed` run.

    python -m pipeline.plot_training  (no params)

Writes plots/reconstructions.png (32 visualization images beside their reconstructions) and
plots/training_loss.png (the autoencoder's loss per epoch, from dvclive). Separate from the
stage `plot` so that experiments on pca.* or cluster.* do not redraw them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pipeline.lib import drawing
from pipeline.lib.atomic import save_figure
from pipeline.lib.errors import stage_guard

OUT = Path("plots")
LOSS_TSV = Path("dvclive/embed/plots/metrics/train/loss.tsv")


def read_loss(path: Path = LOSS_TSV) -> tuple[np.ndarray, np.ndarray]:
    """(steps, losses) from dvclive's tab-separated ``step  loss`` file (columns found by name)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return (np.array([int(row["step"]) for row in rows], dtype=np.int64),
            np.array([float(row["loss"]) for row in rows], dtype=np.float64))


def main(argv: list[str]) -> None:
    originals, rebuilt = np.load("data/embed/reconstructions.npy")
    half = len(originals) // 2
    save_figure(OUT / "reconstructions.png", drawing.image_grid(
        [originals[:half], rebuilt[:half], originals[half:], rebuilt[half:]],
        ["A original", "A rebuilt", "B original", "B rebuilt"],
        f"{len(originals)} visualization images and their autoencoder reconstructions"))

    steps, loss = read_loss()
    save_figure(OUT / "training_loss.png", drawing.curve_figure(
        steps + 1, loss, "mean squared error", "autoencoder training loss"))
    print(f"plot_training: wrote {OUT}/reconstructions.png, training_loss.png")


if __name__ == "__main__":
    stage_guard(main)
