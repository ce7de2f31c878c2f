"""Stage `cluster`: two clusters of the reduced pool, named so that cluster 0 holds dataset A.

    python -m pipeline.stages.cluster        (params: cluster.*, seed)

Reads data/reduce/components.npy (n + 2k, dims) and data/prepared/rows.json. Fits
``cluster.method`` on every row of the pool (visualization rows included, unlabelled), labels
every row, and names the clusters after the visualization halves. Writes
data/cluster/labels.npy (n + 2k,) int8, data/cluster/model/*.npy (the fitted clusters as
arrays, and whether the names were swapped, for pipeline.label), data/cluster/summary.json (the
accuracy on the visualization rows of ``cluster.method`` and of ``cluster.alternative``, so
one run compares two methods; cluster sizes and where each dataset went: for the report) and
metrics/cluster.json (``visualization_accuracy`` alone: what `dvc exp show` compares).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.lib import arrays, clustering, parallel
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.errors import InputError, stage_guard
from pipeline.lib.params import load_params
from pipeline.lib.pool import Rows

COMPONENTS = Path("data/reduce/components.npy")
OUT = Path("data/cluster")


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


def run_method(method: str, params: dict, components, rows: Rows):
    """Fit ``method`` on the pool and label it: (aligned labels (n + 2k,), fitted model, swapped)."""
    model = clustering.TwoClusters(method, int(params["seed"]), n_init=int(params.get("n_init", 10)),
                                   minibatch=bool(params.get("minibatch", False))).fit(components)
    labels = model.predict(components)
    aligned = clustering.align_pool(labels, rows)
    return aligned, model, bool(aligned[0] != labels[0]) if len(labels) else False


def main(argv: list[str]) -> None:
    params = load_params("cluster")
    check_params(params)
    rows = Rows.read()
    # Read on demand: loaded for a fit, streamed in chunks to predict; never memory-mapped.
    components = arrays.NpyFile(COMPONENTS)
    with parallel.one_thread():  # see there: threads stall on a shared machine
        labels, model, swapped = run_method(params["method"], params, components, rows)
        summary = {"method": params["method"], **clustering.summarize_pool(labels, rows)}
        alternative = params.get("alternative")
        if alternative:
            alternative_labels = run_method(alternative, params, components, rows)[0]
            summary["alternative"] = {"method": alternative, **clustering.summarize_pool(alternative_labels, rows)}
    save_npy(OUT / "labels.npy", labels)
    with atomic_dir(OUT / "model") as tmp:
        for key, value in {**model.arrays(), "method": np.array(model.method), "swapped": np.array(swapped)}.items():
            save_npy(tmp / f"{key}.npy", value)
    save_json(OUT / "summary.json", summary)
    save_json("metrics/cluster.json", {"visualization_accuracy": summary["visualization_accuracy"]})
    line = f"cluster: {params['method']} visualization accuracy {summary['visualization_accuracy']:.4f}"
    if alternative:
        line += f"; {alternative} {summary['alternative']['visualization_accuracy']:.4f}"
    print(line)


if __name__ == "__main__":
    stage_guard(main)
