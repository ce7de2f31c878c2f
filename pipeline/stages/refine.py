"""Stage `refine`: self-training. A CNN learns the clusters, and corrects them with the PCA view.

    python -m pipeline.refine         (params: refine.*, seed)

Starts from the two clusters (data/cluster/labels.npy) of the reduced views (data/reduce).
Each of refine.rounds rounds:

1. a CNN is trained on the images with the current labels, cross-fitted: the images are split
   into refine.folds parts and each part is scored by a model that never saw its labels, so a
   cluster's mistake is not simply learned back;
2. a logistic regression on the reduced components, trained on the same labels, scores them
   too (the linear view: autoencoder codes and HOG);
3. the two scores, each in units of its standard deviation over the images, are summed; its
   sign is the new label of every image.

The two views look at different things (the linear view at colour, layout and edge
directions, the CNN at local texture and parts) and err on different images, so their sum
errs less than either (issue 4; BENCHMARKS.md). refine.rounds 0 passes the clusters through
unchanged, without loading TensorFlow; so does a set of fewer than refine.min_images images.

Writes data/refine/labels.npy (n,) int8, data/refine/visualization_labels.npy (2k,) int8,
data/refine/scores.npy (n,) and visualization_scores.npy (2k,) float32 (the summed score;
label 1 where > 0), data/refine/model/ (the last round's fold CNNs and linear model, which
pipeline.label applies to new images) and metrics/refine.json (visualization accuracy per
round, per view).
Cluster names are aligned as the cluster stage's: 0 holds most of dataset A.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.lib import clustering
from pipeline.lib.atomic import atomic_path, save_json, save_npy
from pipeline.lib.errors import InputError, main_guard
from pipeline.lib.params import load_params

PREPARED = Path("data/prepared")
REDUCE = Path("data/reduce")
CLUSTER = Path("data/cluster")
OUT = Path("data/refine")

POSITIVE = ("folds", "epochs", "batch_size", "min_images")


def check_params(params: dict) -> None:
    """Every refine param, before anything is read or TensorFlow loads."""
    known = (*POSITIVE, "rounds", "filters", "learning_rate", "linear_c")
    for key in params:
        if key not in known and key != "seed":
            raise InputError(f"params.yaml: refine.{key}: unknown key, expected one of {', '.join(known)}")
    for key in (*POSITIVE, "rounds"):
        value = params.get(key)
        least = 0 if key == "rounds" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(f"params.yaml: refine.{key}: expected an integer ≥ {least}, found {value!r}")
    filters = params.get("filters")
    if (not isinstance(filters, list) or not 1 <= len(filters) <= 5
            or not all(isinstance(f, int) and not isinstance(f, bool) and f >= 1 for f in filters)):
        raise InputError(f"params.yaml: refine.filters: expected a list of 1 to 5 positive integers "
                         f"(each block halves 32×32), found {filters!r}")
    for key, upper in (("learning_rate", 1), ("linear_c", None)):
        value = params.get(key)
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
                or (upper is not None and value > upper)):
            bound = "in (0, 1]" if upper else "> 0"
            raise InputError(f"params.yaml: refine.{key}: expected a number {bound}, found {value!r}")


def linear_scores(components: np.ndarray, labels: np.ndarray, visualization: np.ndarray, c: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision values of a logistic regression (inverse regularisation ``c``) fitted to
    ``labels`` on ``components``: > 0 means label 1. (n,) and (2k,) float32, and the model as
    one array, its weights then its intercept ((dims + 1,), for pipeline.label)."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(labels)) < 2:  # one cluster swallowed everything: nothing to separate
        return (np.zeros(len(components), np.float32), np.zeros(len(visualization), np.float32),
                np.zeros(components.shape[1] + 1))
    model = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(components, labels)
    return (model.decision_function(components).astype(np.float32),
            model.decision_function(visualization).astype(np.float32),
            np.append(model.coef_[0], model.intercept_[0]))


def main(argv: list[str]) -> None:
    params = load_params("refine")
    check_params(params)
    seed = int(params["seed"])
    labels = np.load(CLUSTER / "labels.npy")
    visualization_labels = np.load(CLUSTER / "visualization_labels.npy")
    accuracy = {"clusters": clustering.visualization_accuracy(visualization_labels)}
    classifier_accuracy, linear_accuracy, relabelled = {}, {}, {}
    scores = (labels.astype(np.float32) - 0.5, visualization_labels.astype(np.float32) - 0.5)
    started = time.perf_counter()
    rounds = params["rounds"]
    if rounds and len(labels) < params["min_images"]:
        # A CNN trained on a few hundred pseudo-labelled images learns nothing (the 200-image
        # demo: 50 %), and the summed score drags the clusters down with it.
        print(f"refine: {len(labels)} images, fewer than refine.min_images {params['min_images']}: "
              f"too few to self-train on; the clusters are kept")
        rounds = 0
    if rounds:
        from pipeline.lib import autoencoder, selftrain  # TensorFlow: only when there is a round to run

        autoencoder.make_deterministic(seed)
        images = np.load(PREPARED / "images.npy")
        visualization = np.load(PREPARED / "visualization.npy")
        components = np.load(REDUCE / "components.npy")
        visualization_components = np.load(REDUCE / "visualization_components.npy")
    for round_ in range(1, rounds + 1):
        name = f"round_{round_}"
        cnn, cnn_shown, models = selftrain.cross_fit_scores(
            images, labels, visualization, filters=params["filters"], folds=params["folds"],
            epochs=params["epochs"], batch_size=params["batch_size"],
            learning_rate=float(params["learning_rate"]), seed=seed + round_, label=f"refine round {round_}")
        with clustering.one_thread():
            linear, linear_shown, linear_model = linear_scores(
                components, labels, visualization_components, float(params["linear_c"]), seed)
        scales = np.array([selftrain.spread(linear), selftrain.spread(cnn), 1.0])
        scores = (selftrain.combine(linear, cnn, scales), selftrain.combine(linear_shown, cnn_shown, scales))
        raw = (scores[0] > 0).astype(np.int8)
        new, visualization_labels = clustering.align(raw, (scores[1] > 0).astype(np.int8))
        if not np.array_equal(new, raw):  # the names were swapped: so are the scores' signs
            scales[2] = -1.0
            scores = (-scores[0], -scores[1])
        model = {"linear": linear_model, "scales": scales}  # what pipeline.label applies to new images
        classifier_accuracy[name] = clustering.visualization_accuracy((cnn_shown > 0).astype(np.int8))
        linear_accuracy[name] = clustering.visualization_accuracy((linear_shown > 0).astype(np.int8))
        accuracy[name] = clustering.visualization_accuracy(visualization_labels)
        relabelled[name] = int(np.sum(new != labels))
        labels = new
        print(f"refine: round {round_}: CNN {100 * classifier_accuracy[name]:.2f} %, linear "
              f"{100 * linear_accuracy[name]:.2f} %, both {100 * accuracy[name]:.2f} % of visualization "
              f"right; {relabelled[name]} images relabelled ({time.perf_counter() - started:.0f} s)")
    if rounds:
        from pipeline.lib.autoencoder import save_model

        for fold, classifier in enumerate(models, start=1):
            with atomic_path(OUT / "model" / f"classifier_fold{fold}.keras") as tmp:
                save_model(classifier, tmp)
        for key, value in model.items():
            save_npy(OUT / "model" / f"{key}.npy", value)
    save_npy(OUT / "labels.npy", labels.astype(np.int8))
    save_npy(OUT / "visualization_labels.npy", visualization_labels.astype(np.int8))
    save_npy(OUT / "scores.npy", scores[0].astype(np.float32))
    save_npy(OUT / "visualization_scores.npy", scores[1].astype(np.float32))
    save_json("metrics/refine.json", {
        "method": "self-training" if rounds else "clusters passed through",
        **clustering.summarize(labels, visualization_labels),
        "visualization_accuracy_by_round": accuracy,
        "classifier_visualization_accuracy": classifier_accuracy,
        "linear_visualization_accuracy": linear_accuracy,
        "relabelled": relabelled,
    })
    print(f"refine: visualization accuracy {accuracy[list(accuracy)[-1]]:.4f}")


if __name__ == "__main__":
    main_guard(main)
