"""Stage `plot`: the clustering picture, redrawn after every change to reduce or cluster.

    python -m pipeline.plot           (no params)

Writes plots/visualization_2d.png (the visualization images in 2-D, by truth and by
prediction). The pictures of the autoencoder (reconstructions, training loss) depend only on
`embed` and are drawn by the stage `plot_training` (pipeline.plot_training), so an experiment on
pca.* or cluster.* does not redraw them (about a second saved per experiment).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.lib import drawing
from pipeline.lib.atomic import save_figure
from pipeline.lib.errors import main_guard
from pipeline.lib.layout import visualization_truth

OUT = Path("plots")


def main(argv: list[str]) -> None:
    components = np.load("data/reduce/visualization_components.npy")
    predicted = np.load("data/refine/visualization_labels.npy")  # the final labels
    truth = visualization_truth(len(predicted))
    accuracy = json.loads(Path("metrics/refine.json").read_text())["visualization_accuracy"]
    # The 2-D axes come from the predicted clusters, never from the truth.
    xy = drawing.separation_axes(components, predicted)
    save_figure(OUT / "visualization_2d.png", drawing.projection_figure(xy, truth, predicted, accuracy))
    print(f"plot: wrote {OUT}/visualization_2d.png")


if __name__ == "__main__":
    main_guard(main)
