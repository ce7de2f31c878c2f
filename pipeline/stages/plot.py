"""Stage `plot`: the visualization images in 2-D, and the clusters against the datasets.

    python -m pipeline.stages.plot           (params: plot.projection, seed)

Reads data/reduce/components.npy, data/cluster/labels.npy and data/prepared/rows.json (only the
visualization rows are drawn), and from data/prepared/images.npy the visualization images in the
wrong cluster. Writes, for the report, plots/visualization_2d.png (the images in 2-D by
plot.projection, coloured by dataset and by cluster) and plots/mistakes.png (the images in the
other dataset's cluster, at most drawing.MISTAKES_SHOWN (36) of each dataset, titled with their row of
visualization.npy); and, for `dvc plots show` /
`dvc plots diff` (declared in dvc.yaml), plots/projection.csv (x, y, dataset, cluster and
projection per image: the project's template .dvc/plots/projection.json, one panel per revision,
colour the true dataset, shape the cluster) and plots/confusion.csv (dataset, cluster per image:
DVC's confusion template). The autoencoder's pictures depend only
on `embed` and are drawn by `plot_training`, so an experiment on pca.* or cluster.* does not
redraw them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.lib import drawing, paths, projection
from pipeline.lib.arrays import read_rows
from pipeline.lib.atomic import atomic_path, save_figure
from pipeline.lib.clustering import visualization_accuracy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.plot import PlotConfig
from pipeline.lib.errors import stage_guard
from pipeline.lib.pool import Rows, truth

DATASETS = np.array(["A", "B"])


def save_csv(path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n", float_format="%.6g")


def main() -> None:
    method = load(PlotConfig).projection
    rows = Rows.read()
    visualization = np.arange(rows.competition, rows.total)
    components = read_rows(paths.COMPONENTS, visualization)
    predicted = rows.visualization_part(np.load(paths.LABELS))
    known = truth(rows)
    # The axes come from the predicted clusters, never from the truth.
    xy = projection.project_2d(components, method, load_seed(), clusters=predicted)
    save_figure(paths.VISUALIZATION_2D,
                drawing.projection_figure(xy, known, predicted, visualization_accuracy(predicted), method))
    chosen = drawing.chosen_mistakes(known, predicted)
    # only the images shown are read: a few rows of images.npy, whatever the pool's size
    shown = {dataset: read_rows(paths.IMAGES, visualization[indices])
             for dataset, (indices, _) in chosen.items()}
    save_figure(paths.MISTAKES, drawing.mistakes_figure(shown, chosen))
    save_csv(paths.PROJECTION_CSV, pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "dataset": DATASETS[known],
                                                  "cluster": predicted.astype(int), "projection": method}))
    save_csv(paths.CONFUSION_CSV, pd.DataFrame({"dataset": DATASETS[known], "cluster": predicted.astype(int)}))
    print(f"plot: wrote {paths.VISUALIZATION_2D} ({method} projection), {paths.MISTAKES.name} "
          f"({sum(total for _, total in chosen.values())} images in the other dataset's cluster), "
          "projection.csv, confusion.csv")


if __name__ == "__main__":
    stage_guard(main)
