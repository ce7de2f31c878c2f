"""Drawing helpers shared by the plot and report stages: matplotlib with the Agg backend.

Figures are built here and saved by the stage through pipeline.lib.atomic.save_figure.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLOURS = ("#1f77b4", "#d62728")  # cluster / dataset 0 and 1
plt.rcParams.update({"svg.hashsalt": "hw7", "figure.dpi": 100})


AXES = {  # plot.projection → the (x, y) axis labels
    "separation": ("along the line between the cluster means", "main remaining direction"),
    "pca": ("principal component 1", "principal component 2"),
    "tsne": ("t-SNE 1", "t-SNE 2"),
}


def projection_figure(xy: np.ndarray, truth: np.ndarray, predicted: np.ndarray, accuracy: float,
                      method: str = "separation", title: str = "visualization images"):
    """Two scatter panels of the same (n, 2) points: coloured by truth, and by predicted cluster."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharex=True, sharey=True)
    panels = ((truth, "truth", ("dataset A (first half)", "dataset B (second half)")),
              (predicted, f"prediction (accuracy {100 * accuracy:.2f} %)", ("cluster 0", "cluster 1")))
    for axis, (labels, name, legend) in zip(axes, panels):
        for value in (0, 1):
            chosen = labels == value
            axis.scatter(xy[chosen, 0], xy[chosen, 1], s=3, alpha=0.5, color=COLOURS[value],
                         label=f"{legend[value]} ({int(chosen.sum())})", rasterized=True)
        wrong = truth != predicted
        if name != "truth" and wrong.any():
            axis.scatter(xy[wrong, 0], xy[wrong, 1], s=18, facecolors="none", edgecolors="black",
                         linewidths=0.6, label=f"disagrees with truth ({int(wrong.sum())})")
        axis.set_title(name)
        axis.legend(loc="best", markerscale=3, fontsize=8)
        axis.set_xlabel(AXES[method][0])
    axes[0].set_ylabel(AXES[method][1])
    figure.suptitle(f"{title} in 2-D ({len(xy)} images, {method} projection)")
    figure.tight_layout()
    return figure


def tile(rows: list[np.ndarray], columns: int, gap_x: int, gap_y: int) -> tuple[np.ndarray, list]:
    """Images laid out on one white canvas, so a figure draws one picture instead of an axes each.

    ``rows`` is a list of (m, h, w, 3) uint8 arrays, one per canvas row (m ≤ ``columns``, 0
    leaves the row blank); ``gap_x`` pixels between images, ``gap_y`` above each row. Returns
    the canvas (rows·(h + gap_y), columns·(w + gap_x) − gap_x, 3) uint8 and, per row, the top
    pixel of its images.
    """
    height, width = next(row for row in rows if len(row)).shape[1:3]
    canvas = np.full((len(rows) * (height + gap_y), columns * (width + gap_x) - gap_x, 3), 255, np.uint8)
    tops = []
    for r, row in enumerate(rows):
        top = r * (height + gap_y) + gap_y
        for c, image in enumerate(row):
            left = c * (width + gap_x)
            canvas[top:top + height, left:left + width] = image
        tops.append(top)
    return canvas, tops


def image_grid(rows: list[np.ndarray], row_titles: list[str], title: str, scale: float = 0.9):
    """A grid of uint8 images: ``rows`` is a list of (m, h, w, 3) arrays, one per row, each row
    titled on its left. Drawn on one canvas (:func:`tile`)."""
    columns = max(len(row) for row in rows)
    height, width = next(row for row in rows if len(row)).shape[1:3]
    canvas, tops = tile(rows, columns, gap_x=max(1, width // 16), gap_y=max(1, height // 16))
    figure, axis = plt.subplots(figsize=(columns * scale + 1.0, len(rows) * scale + 0.6))
    axis.set_axis_off()
    for top, name in zip(tops, row_titles):
        axis.text(-width / 8, top + height / 2, name, ha="right", va="center", fontsize=8)
    axis.imshow(canvas, interpolation="nearest")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def curve_figure(steps: np.ndarray, values: np.ndarray, ylabel: str, title: str):
    """A line chart of one training curve."""
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(steps, values, marker="o")
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.set_yscale("log")
    axis.grid(True, which="both", alpha=0.3)
    axis.set_title(title)
    figure.tight_layout()
    return figure


# ------------------------------------------------------------------------------------- mistakes
# per dataset: enough to see what a good run gets wrong; a failed run's thousands would not fit
MISTAKES_SHOWN = 36


def chosen_mistakes(truth: np.ndarray, predicted: np.ndarray, limit: int = MISTAKES_SHOWN) -> dict:
    """Which visualization images the mistakes gallery shows: dataset (0: A, 1: B) → (the indices
    shown, in order, at most ``limit``; how many of that dataset are in the other's cluster).

    ``truth`` and ``predicted`` (n,) are the visualization images' datasets and clusters, the
    clusters named after the datasets (pipeline.lib.clustering.align).
    """
    chosen = {}
    for dataset in (0, 1):
        wrong = np.flatnonzero((truth == dataset) & (predicted != dataset))
        chosen[dataset] = (wrong[:limit], len(wrong))
    return chosen


def mistakes_figure(images: dict, chosen: dict, columns: int = 12):
    """The visualization images in the other dataset's cluster, a block of rows per dataset.

    ``chosen`` is :func:`chosen_mistakes`'s answer; ``images[dataset]`` holds the images of its
    indices, (m, h, w, 3) uint8. Each image is titled with its index among the visualization
    images (its row of visualization.npy), so it can be looked up; a dataset with none in the
    wrong cluster gets its label and a count of 0. The images are laid out on one canvas, drawn
    once: one small axes per image instead added 0.33 s to `plot`'s 0.72 s for 19 images of hw7
    (the canvas: 0.08 s).
    """
    if not any(len(indices) for indices, _ in chosen.values()):
        figure, axis = plt.subplots(figsize=(6, 1.2))
        axis.set_axis_off()
        axis.text(0.5, 0.5, "every visualization image is in its dataset's cluster", ha="center", va="center")
        return figure
    # at least 6 columns: a figure of one or two images would not hold its title
    columns = min(columns, max(6, *(len(indices) for indices, _ in chosen.values())))
    height, width = next(images[d] for d, (indices, _) in chosen.items() if len(indices)).shape[1:3]
    gap_x, gap_y = width // 4, height // 2  # room between images, and above each for its index
    # one entry per row of the canvas: (dataset, the positions in chosen[dataset] on that row);
    # a dataset without mistakes keeps one empty row, for its label
    layout = [(dataset, range(start, min(start + columns, len(indices))))
              for dataset, (indices, _) in chosen.items()
              for start in range(0, max(len(indices), 1), columns)]
    canvas, tops = tile([images[dataset][positions.start:positions.stop] for dataset, positions in layout],
                        columns, gap_x, gap_y)
    figure, axis = plt.subplots(figsize=(columns * 0.95 + 1.4, len(layout) * 1.1 + 0.6))
    axis.set_axis_off()
    for top, (dataset, positions) in zip(tops, layout):
        indices, total = chosen[dataset]
        for c, position in enumerate(positions):
            axis.text(c * (width + gap_x) + width / 2, top - 1.5, str(int(indices[position])), ha="center",
                      va="bottom", fontsize=7)
        if positions.start == 0:
            shown = f", the first {len(indices)} shown" if total > len(indices) else ""
            label = f"dataset {'AB'[dataset]}\nin cluster {1 - dataset}\n({total}{shown})"
            axis.text(-gap_x, top + height / 2, label, ha="right", va="center", fontsize=8)
    axis.imshow(canvas, interpolation="nearest")
    figure.suptitle("visualization images in the other dataset's cluster\n"
                    "(above each: its row of visualization.npy)", fontsize=10)
    figure.tight_layout()
    return figure


# ------------------------------------------------------------------------------------ eigenfaces
FACE_PANEL_INCHES = 2.0


def _face_panel(axis, image: np.ndarray, title: str) -> None:
    # Small faces (25×25) are blown up with nearest-neighbour; big ones are smoothed when shrunk.
    small = max(image.shape[:2]) < FACE_PANEL_INCHES * plt.rcParams["figure.dpi"]
    axis.imshow(image, interpolation="nearest" if small else "antialiased")
    axis.set_title(title, fontsize=9)


def face_grid(panels: list[list[tuple[np.ndarray, str]]]):
    """A figure of face panels: ``panels`` holds rows of (uint8 (h, w, 3) image, title) pairs."""
    rows, columns = len(panels), max(len(row) for row in panels)
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(columns * FACE_PANEL_INCHES, rows * (FACE_PANEL_INCHES + 0.3)))
    for axis in axes.flat:
        axis.set_axis_off()
    for r, row in enumerate(panels):
        for c, (image, title) in enumerate(row):
            _face_panel(axes[r, c], image, title)
    figure.tight_layout()
    return figure


def eigenface_figures(mean: np.ndarray, eigenfaces: list[np.ndarray], shares: np.ndarray,
                      originals: np.ndarray, rebuilt: np.ndarray, names: list[str], k: int) -> dict:
    """The three eigenfaces pictures, by name: the mean face (mean_face); the top eigenfaces with
    their share (%) (eigenfaces); each chosen face above its rebuild from the top ``k``, at most 6
    per row pair (reconstructions).

    ``mean`` (h, w, 3) float; ``eigenfaces`` k display-ready uint8 images; ``originals`` and
    ``rebuilt`` (m, h, w, 3) uint8 with m = len(names).
    """
    mean_image = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    columns = min(len(names), 6)
    pairs = []
    for start in range(0, len(names), columns):
        chosen = range(start, min(start + columns, len(names)))
        pairs.append([(originals[j], names[j]) for j in chosen])
        pairs.append([(rebuilt[j], f"{names[j]}, k={k}") for j in chosen])
    return {
        "mean_face": face_grid([[(mean_image, "mean face")]]),
        "eigenfaces": face_grid([[(face, f"#{i + 1}: {shares[i]:.1f} %")
                                  for i, face in enumerate(eigenfaces)]]),
        "reconstructions": face_grid(pairs),
    }
