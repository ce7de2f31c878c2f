"""Drawing helpers shared by the plot and report stages: matplotlib with the Agg backend.

Figures are built here and saved by the stage through pipeline.atomic.save_figure.
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


def image_grid(rows: list[np.ndarray], row_titles: list[str], title: str, scale: float = 0.9):
    """A grid of uint8 images: ``rows`` is a list of (m, h, w, 3) arrays, one per row."""
    columns = max(len(row) for row in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(columns * scale, len(rows) * scale + 0.6),
                                squeeze=False)
    for r, (row, name) in enumerate(zip(rows, row_titles)):
        for c in range(columns):
            axis = axes[r, c]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if c < len(row):
                axis.imshow(row[c], interpolation="nearest")
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
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
    """The three eigenfaces pictures, by file name: the mean face; the top eigenfaces with their
    share (%); each chosen face above its rebuild from the top ``k`` (at most 6 per row pair).

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
        "mean_face.png": face_grid([[(mean_image, "mean face")]]),
        "eigenfaces.png": face_grid([[(face, f"#{i + 1}: {shares[i]:.1f} %")
                                      for i, face in enumerate(eigenfaces)]]),
        "reconstructions.png": face_grid(pairs),
    }
