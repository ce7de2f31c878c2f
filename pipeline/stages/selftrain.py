"""Stage `selftrain`: networks learn a bootstrap clustering's pseudo-labels; their scores are a view.

    python -m pipeline.stages.selftrain      (params: selftrain.*, seed)

Reads the pool (data/prepared/images.npy, rows.json) and its three unsupervised views
(data/embed/codes.npy, data/hog/descriptors.npy, data/patches/descriptors.npy). Clusters the
views once (the bootstrap), then cross-fits a logistic regression and a CNN to those
pseudo-labels (pipeline.lib.selftrain). No label is read: the visualization rows are scored
exactly as the competition rows. Writes data/selftrain/: features.npy (n + 2k, 2) float32 (each
image's out-of-fold linear and CNN scores; the linear one alone below selftrain.min_images
images), folds.npy, model/ (the bootstrap's PCAs and the linear fold models) and cnn/cnn_<part>.keras
(the fold CNNs), both for pipeline.label, and curves/cnn_<part>/ (each CNN's training curve, by
dvclive); summary.json (visualization accuracy of the bootstrap and of each model alone, and
the bootstrap's check: each view's agreement with it); and metrics/selftrain.json
(``bootstrap_trusted``: false when the check doubts the bootstrap split the datasets).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pipeline.lib import clustering, paths
from pipeline.lib.arrays import NpyFile
from pipeline.lib.atomic import atomic_dir, save_json, save_npy
from pipeline.lib.config.params import load, load_seed
from pipeline.lib.config.selftrain import BOOTSTRAP_VIEWS, SelftrainConfig
from pipeline.lib.errors import stage_guard
from pipeline.lib.pool import Rows
from pipeline.lib.selftrain import (RESPLIT_CLUSTERS, SMALLER_SHARE, balanced_split, bootstrap, bootstrap_warning,
                                    cnn_scores, content_folds, linear_scores)
from pipeline.lib.training import keras_verbosity, quiet_tensorflow


def accuracy(scores: np.ndarray, rows: Rows) -> float:
    """Visualization accuracy of the labels ``scores > 0`` (whichever way round they fall)."""
    return clustering.visualization_accuracy((rows.visualization_part(scores) > 0).astype(np.int8))


def cnn_view(images, labels, folds, config: SelftrainConfig, seed: int, linear: np.ndarray):
    """The CNNs' out-of-fold logits beside the linear score: ((N, 2) float32, the fold models)."""
    quiet_tensorflow()
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    from pipeline.lib.autoencoder import make_deterministic

    make_deterministic(seed)

    def curve(part: int) -> list:  # each CNN's training curve in its own dvclive folder
        return [DVCLiveCallback(live=Live(str(paths.SELFTRAIN_CURVES / f"cnn_{part + 1}"), dvcyaml=False,
                                          save_dvc_exp=False, report=None))]

    cnn, models = cnn_scores(images, labels, folds, config, seed, verbose=keras_verbosity(), callbacks=curve)
    return np.column_stack([linear, cnn]), models


def main() -> None:
    config = load(SelftrainConfig)
    seed = load_seed()
    rows = Rows.read()
    views = {name: NpyFile(paths.VIEW_FILES[name]) for name in BOOTSTRAP_VIEWS}
    started = time.perf_counter()

    labels, components, fitted, agreements = bootstrap(views, config, seed,
                                                       log=lambda line: print(f"selftrain: bootstrap: {line}"))
    warning = bootstrap_warning(labels, agreements)
    resplit = balanced_split(components, seed) if warning else None
    if warning:
        print(f"selftrain: warning: {warning}; " + (
            f"split again: {RESPLIT_CLUSTERS} k-means parts merged into the two farthest-apart groups of at least "
            f"{SMALLER_SHARE:.0%} each ({min(np.mean(resplit == 0), np.mean(resplit == 1)):.1%} in the smaller)"
            if resplit is not None else "no balanced split found: kept"), file=sys.stderr)
    if resplit is not None:
        labels = resplit
    images = NpyFile(paths.IMAGES).read()
    folds = content_folds(images, config.folds)
    linear, linear_models = linear_scores(components, labels, folds, config.linear_c, seed)
    bootstrap_accuracy = accuracy(labels.astype(np.float32) - 0.5, rows)
    print(f"selftrain: bootstrap {100 * bootstrap_accuracy:.2f} %, linear {100 * accuracy(linear, rows):.2f} % "
          f"of visualization right ({time.perf_counter() - started:.0f} s)")

    if len(images) < config.min_images:
        # A CNN that learns a few hundred pseudo-labels learns nothing (the demo: 60 %) and
        # would only blur the other views.
        print(f"selftrain: {len(images)} images, fewer than selftrain.min_images {config.min_images}: "
              f"no CNN; the linear score is the view")
        features, models, cnn_accuracy = linear[:, None], [], None
    else:
        features, models = cnn_view(images, labels, folds, config, seed, linear)
        cnn_accuracy = accuracy(features[:, 1], rows)
        print(f"selftrain: CNN {100 * cnn_accuracy:.2f} % of visualization right "
              f"({time.perf_counter() - started:.0f} s)")

    save_npy(paths.SELFTRAIN_FEATURES, features.astype(np.float32))
    save_npy(paths.SELFTRAIN_FOLDS, folds)
    with atomic_dir(paths.SELFTRAIN_MODEL) as tmp:
        for key, value in {**fitted, "linear": linear_models}.items():
            save_npy(tmp / f"{key}.npy", value)
    if models:
        from pipeline.lib.autoencoder import save_model

        with atomic_dir(paths.SELFTRAIN_CNNS) as tmp:
            for part, model in enumerate(models, start=1):
                save_model(model, tmp / f"cnn_{part}.keras")
    save_json(paths.SELFTRAIN_SUMMARY, {
        "bootstrap_visualization_accuracy": bootstrap_accuracy,
        "linear_visualization_accuracy": accuracy(linear, rows),
        "cnn_visualization_accuracy": cnn_accuracy,
        "pseudo_label_share": {str(c): float(np.mean(labels == c)) for c in (0, 1)},
        "bootstrap_agreement": agreements,
        "bootstrap_trusted": warning is None,
        "bootstrap_resplit": resplit is not None,
        "folds": config.folds,
    })
    # the one figure of this stage a user compares runs by: a False flags a run to distrust
    save_json(paths.SELFTRAIN_METRICS, {"bootstrap_trusted": warning is None})
    print(f"selftrain: done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    stage_guard(main)
