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

from pipeline.lib import arrays, clustering
from pipeline.lib.atomic import save_json, save_npy
from pipeline.lib.errors import InputError, main_guard
from pipeline.lib.params import load_params

REDUCE = Path("data/reduce")
OUT = Path("data/cluster")


def run_method(method: str, params: dict, components: np.ndarray | arrays.NpyFile,
               visualization: np.ndarray):
    """Fit ``method`` on the images, label images and visualization; return aligned labels."""
    model = clustering.TwoClusters(method, int(params["seed"]), n_init=int(params.get("n_init", 10)),
                                   minibatch=bool(params.get("minibatch", False))).fit(components)
    return clustering.align(model.predict(components), model.predict(visualization))


def check_params(params: dict) -> None:
    """Check every cluster param before anything is fitted; errors name params.yaml and the key."""
    methods = ", ".join(clustering.METHODS)
    if params.get("method") not in clustering.METHODS:
        raise InputError(f"params.yaml: cluster.method: expected one of {methods}, "
                         f"found {params.get('method')!r}")
    alternative = params.get("alternative")
    if alternative not in (None, "", *clustering.METHODS):
        raise InputError(f"params.yaml: cluster.alternative: expected one of {methods} or null (none), "
                         f"found {alternative!r}")
    n_init = params.get("n_init", 10)
    if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
        raise InputError(f"params.yaml: cluster.n_init: expected a positive integer, found {n_init!r}")
    if not isinstance(params.get("minibatch", False), bool):
        raise InputError(f"params.yaml: cluster.minibatch: expected true or false, "
                         f"found {params.get('minibatch')!r}")


def main(argv: list[str]) -> None:
    params = load_params("cluster")
    check_params(params)
    # Read on demand: loaded for a fit, streamed in chunks to predict; never memory-mapped.
    components = arrays.NpyFile(REDUCE / "components.npy")
    visualization = np.load(REDUCE / "visualization_components.npy")
    with clustering.one_thread():  # see there: threads stall on a shared machine
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
