"""Stage `plot`: the pictures of the clustering branch.

    python -m pipeline.plot           (no params)

Writes plots/visualization_2d.png (the visualization images in 2-D, by truth and by
prediction), plots/reconstructions.png (32 images beside their reconstructions) and
plots/training_loss.png (the autoencoder's loss per epoch, from dvclive).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import drawing
from pipeline.atomic import save_figure
from pipeline.layout import visualization_truth
from pipeline.stage import main_guard

OUT = Path("plots")
LOSS_TSV = Path("dvclive/embed/plots/metrics/train/loss.tsv")


def main(argv: list[str]) -> None:
    components = np.load("data/reduce/visualization_components.npy")
    predicted = np.load("data/cluster/visualization_labels.npy")
    truth = visualization_truth(len(predicted))
    accuracy = json.loads(Path("metrics/cluster.json").read_text())["visualization_accuracy"]
    # The 2-D axes come from the predicted clusters, never from the truth.
    xy = drawing.separation_axes(components, predicted)
    save_figure(OUT / "visualization_2d.png", drawing.projection_figure(xy, truth, predicted, accuracy))

    originals, rebuilt = np.load("data/embed/reconstructions.npy")
    half = len(originals) // 2
    save_figure(OUT / "reconstructions.png", drawing.image_grid(
        [originals[:half], rebuilt[:half], originals[half:], rebuilt[half:]],
        ["A original", "A rebuilt", "B original", "B rebuilt"],
        f"{len(originals)} visualization images and their autoencoder reconstructions"))

    loss = pd.read_csv(LOSS_TSV, sep="\t")
    save_figure(OUT / "training_loss.png", drawing.curve_figure(
        loss["step"].to_numpy() + 1, loss["loss"].to_numpy(), "mean squared error",
        "autoencoder training loss"))
    print(f"plot: wrote {OUT}/visualization_2d.png, reconstructions.png, training_loss.png")


if __name__ == "__main__":
    main_guard(main)
