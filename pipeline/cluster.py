"""Stage `cluster`: two clusters of the reduced codes, aligned to the visualization halves.

    python -m pipeline.cluster        (params: cluster.*, seed)

Reads data/reduce/*.npy; writes data/cluster/labels.npy (n,) int8 and
data/cluster/visualization_labels.npy (2k,) int8 for ``cluster.method``, and
metrics/cluster.json with the accuracy of ``cluster.method`` and of ``cluster.alternative``
(so one run compares two methods). Cluster 0 is the one holding most of dataset A.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline import clustering
from pipeline.atomic import save_json, save_npy
from pipeline.stage import load_params, main_guard

REDUCE = Path("data/reduce")
OUT = Path("data/cluster")


def run_method(method: str, params: dict, components: np.ndarray, visualization: np.ndarray):
    """Fit ``method`` on the images, label images and visualization; return aligned labels."""
    model = clustering.TwoClusters(method, int(params["seed"]), n_init=int(params.get("n_init", 10)),
                                   minibatch=bool(params.get("minibatch", False))).fit(components)
    return clustering.align(model.predict(components), model.predict(visualization))


def main(argv: list[str]) -> None:
    params = load_params("cluster")
    components = np.load(REDUCE / "components.npy", mmap_mode="r")
    visualization = np.load(REDUCE / "visualization_components.npy")
    labels, visualization_labels = run_method(params["method"], params, components, visualization)
    metrics = {"method": params["method"], **clustering.summarize(labels, visualization_labels)}
    alternative = params.get("alternative")
    if alternative:
        alt_labels, alt_visualization = run_method(alternative, params, components, visualization)
        metrics["alternative"] = {"method": alternative,
                                  **clustering.summarize(alt_labels, alt_visualization)}
    save_npy(OUT / "labels.npy", labels)
    save_npy(OUT / "visualization_labels.npy", visualization_labels)
    save_json("metrics/cluster.json", metrics)
    line = f"cluster: {params['method']} visualization accuracy {metrics['visualization_accuracy']:.4f}"
    if alternative:
        line += f"; {alternative} {metrics['alternative']['visualization_accuracy']:.4f}"
    print(line)


if __name__ == "__main__":
    main_guard(main)
