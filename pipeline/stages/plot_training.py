"""Stage `plot_training`: the pictures of the training, drawn once per `embed` or `selftrain` run.

    python -m pipeline.stages.plot_training  (no params)

Writes, for the report, plots/reconstructions.png (32 visualization images beside their
reconstructions) and plots/training_loss.png (the autoencoder's loss per epoch, from dvclive);
and, for `dvc plots show` / `dvc plots diff`, plots/training_curves.csv (model, epoch, loss: the
autoencoder's and each self-training CNN's, however many folds trained one; on a pool too small
for a CNN, the autoencoder's alone). Separate from the stage `plot` so that experiments on pca.*
or cluster.* do not redraw them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.lib import drawing, paths
from pipeline.lib.atomic import atomic_path, save_figure
from pipeline.lib.errors import stage_guard

LOSS_TSV = paths.EMBED_LOSS
CNN_CURVES = paths.SELFTRAIN_CURVES  # cnn_<part>/, dvclive's folder of each self-training CNN
DVCLIVE_LOSS = LOSS_TSV.relative_to(paths.EMBED_LIVE)  # where in a dvclive folder the loss per epoch is


def read_loss(path: Path = LOSS_TSV) -> tuple[np.ndarray, np.ndarray]:
    """(steps, losses) from dvclive's tab-separated ``step  loss`` file (columns found by name)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return (np.array([int(row["step"]) for row in rows], dtype=np.int64),
            np.array([float(row["loss"]) for row in rows], dtype=np.float64))


def cnn_loss_files(root: Path = CNN_CURVES) -> list[tuple[str, Path]]:
    """("CNN <part>", its loss.tsv) for each self-training CNN under ``root``, by part number;
    none where selftrain trained no CNN."""
    folders = sorted(root.glob("cnn_*"), key=lambda folder: int(folder.name.removeprefix("cnn_")))
    return [(f"CNN {folder.name.removeprefix('cnn_')}", folder / DVCLIVE_LOSS) for folder in folders]


def training_curves() -> pd.DataFrame:
    """One row per model and epoch: model ("autoencoder", "CNN 1", …), epoch (from 1), loss."""
    curves = []
    for model, path in [("autoencoder", LOSS_TSV), *cnn_loss_files()]:
        steps, loss = read_loss(path)
        curves.append(pd.DataFrame({"model": model, "epoch": steps + 1, "loss": loss}))
    return pd.concat(curves, ignore_index=True)


def main() -> None:
    originals, rebuilt = np.load(paths.RECONSTRUCTIONS)
    half = len(originals) // 2
    save_figure(paths.RECONSTRUCTIONS_PNG, drawing.image_grid(
        [originals[:half], rebuilt[:half], originals[half:], rebuilt[half:]],
        ["A original", "A rebuilt", "B original", "B rebuilt"],
        f"{len(originals)} visualization images and their autoencoder reconstructions"))

    steps, loss = read_loss()
    save_figure(paths.TRAINING_LOSS_PNG, drawing.curve_figure(
        steps + 1, loss, "mean squared error", "autoencoder training loss"))
    curves = training_curves()
    with atomic_path(paths.TRAINING_CURVES_CSV) as tmp:
        curves.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6g")
    print(f"plot_training: wrote {paths.RECONSTRUCTIONS_PNG}, {paths.TRAINING_LOSS_PNG.name}, "
          f"{paths.TRAINING_CURVES_CSV.name} "
          f"({', '.join(curves['model'].unique())})")


if __name__ == "__main__":
    stage_guard(main)
