"""Stage `cluster`: two clusters of the reduced pool, named so that cluster 0 holds dataset A.

    python -m pipeline.stages.cluster        (params: cluster.*, seed)

Reads data/reduce/components.npy (n + 2k, dims) and data/prepared/rows.json. Fits
``cluster.method`` on every row of the pool (visualization rows included, unlabelled), labels
every row, and names the clusters after the visualization halves. k-means starts from the
self-trained scores' split (data/selftrain/features.npy: they learnt a checked bootstrap's), and
``cluster.n_init`` k-means++ restarts on a sample check it: the fit of lower inertia is kept, and
when the restarts end in another split the stage says so in one line; it warns in one line when the final
clusters disagree with the scores. Writes
data/cluster/labels.npy (n + 2k,) int8, data/cluster/model/*.npy (the fitted clusters as
arrays, and whether the names were swapped, for pipeline.label), data/cluster/summary.json (the
accuracy on the visualization rows of ``cluster.method`` and of ``cluster.alternative``, so
one run compares two methods; cluster sizes and where each dataset went; the agreement with the
self-trained scores: for the report) and
metrics/cluster.json (``visualization_accuracy`` alone: what `dvc exp show` compares).
"""

from __future__ import annotations

import sys

import numpy as np

from pipeline.lib import arrays, clustering, parallel, paths
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.cluster import ClusterConfig
from pipeline.lib.errors import InputError, stage_guard
from pipeline.lib.pool import Rows


def run_method(method: str, config: ClusterConfig, seed: int, components, rows: Rows, start: np.ndarray):
    """Fit ``method`` on the pool and label it: (aligned labels (n + 2k,), fitted model, swapped).
    ``start``: the self-trained scores' split (n + 2k,), where k-means starts (TwoClusters.fit)."""
    ClusterConfig.check_dims(method, components.shape[1])
    model = clustering.TwoClusters(method, seed, n_init=config.n_init, minibatch=config.minibatch)
    model.fit(components, start=start)
    labels = model.predict(components)
    aligned = clustering.align_pool(labels, rows)
    return aligned, model, bool(aligned[0] != labels[0]) if len(labels) else False


def main() -> None:
    config = load(ClusterConfig)
    seed = load_seed()
    rows = Rows.read()
    # Read on demand: loaded for a fit, streamed in chunks to predict; never memory-mapped.
    components = arrays.NpyFile(paths.COMPONENTS)
    # the self-trained score: the CNN's where one was trained (the last column), else the linear model's
    scores = arrays.NpyFile(paths.SELFTRAIN_FEATURES).read()[:, -1]
    if len(scores) != len(components):
        raise InputError(f"{paths.SELFTRAIN_FEATURES}: expected {len(components)} rows, one per row of "
                         f"{paths.COMPONENTS}, found {len(scores)}: rerun the stage selftrain (dvc repro)")
    start = (scores > 0).astype(np.int8)
    with parallel.one_thread():  # see there: threads stall on a shared machine
        labels, model, swapped = run_method(config.method, config, seed, components, rows, start)
        summary = {"method": config.method, **clustering.summarize_pool(labels, rows)}
        if config.alternative:
            alternative_labels = run_method(config.alternative, config, seed, components, rows, start)[0]
            summary["alternative"] = {"method": config.alternative,
                                      **clustering.summarize_pool(alternative_labels, rows)}
    summary["kmeans_kept"], summary["restarts_agreement"] = model.kept, model.restarts_agreement
    summary["restart_rows"] = model.restart_rows  # of len(labels) rows: all of them in a pool up to RESTART_ROWS
    summary["restarts_same_split"] = (None if model.restarts_agreement is None else
                                      model.restarts_agreement >= clustering.SAME_SPLIT)
    if summary["restarts_same_split"] is False:
        kept = ("the started split has the lower inertia, kept" if model.kept == "start" else
                "theirs has the lower inertia, kept: the clusters may follow a sub-population, not the scores")
        print(f"cluster: k-means' {config.n_init} restarts on {model.restart_rows:,} of the {len(labels):,} images ended "
              f"in another split than the one started from the self-trained scores ({model.restarts_agreement:.1%} "
              f"alike); {kept}", file=sys.stderr)
    summary["selftrain_agreement"], warning = clustering.split_check(labels, scores)
    if warning:
        print(f"cluster: warning: {warning}", file=sys.stderr)
    save_npy(paths.LABELS, labels)
    with atomic_dir(paths.CLUSTER_MODEL) as tmp:
        for key, value in {**model.arrays(), "method": np.array(model.method), "swapped": np.array(swapped)}.items():
            save_npy(tmp / f"{key}.npy", value)
    save_json(paths.CLUSTER_SUMMARY, summary)
    save_json(paths.CLUSTER_METRICS, {"visualization_accuracy": summary["visualization_accuracy"]})
    line = f"cluster: {config.method} visualization accuracy {summary['visualization_accuracy']:.4f}"
    if config.alternative:
        line += f"; {config.alternative} {summary['alternative']['visualization_accuracy']:.4f}"
    print(line)


if __name__ == "__main__":
    stage_guard(main)
