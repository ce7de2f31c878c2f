"""Label a new competition folder with the models a finished run trained: no training.

    python -m pipeline.label COMPETITION_DIR OUT_CSV

Run in the repository after `dvc repro` (or `dvc exp apply`): it reads the trained autoencoder
(models/autoencoder.keras), the fitted PCAs (data/reduce/pca/), the last self-training round's
fold CNNs and linear model (data/refine/model/) and params.yaml's `hog` section, and applies
them, in that order, to the images of COMPETITION_DIR, which must be in the competition
layout (images/, test_case.csv, visualization.npy). Each image is labelled as the run labelled
its visualization images: sign × (linear score / its spread + mean fold-CNN score / its
spread) > 0. Writes OUT_CSV (`id,label`, one row per test pair) atomically and prints the
visualization accuracy of the new folder.

Use it when a new test set comes and the trained pipeline should label it now; `dvc exp run
-S data.dir=…` retrains on the new images instead (a better fit, ~20 minutes on 2 cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from pipeline.lib import clustering, layout
from pipeline.lib.descriptors import HogConfig, hog_descriptors
from pipeline.lib.errors import InputError, main_guard
from pipeline.lib.params import load_params
from pipeline.lib.submission import write_submission

USAGE = "usage: python -m pipeline.label COMPETITION_DIR OUT_CSV"
AUTOENCODER = Path("models/autoencoder.keras")
PCA_DIR = Path("data/reduce/pca")
MODEL_DIR = Path("data/refine/model")
VIEWS = ("codes", "hog")  # in the order reduce put them side by side


def load_trained() -> dict:
    """The trained parts, checked to be there before any image is decoded."""
    needed = [AUTOENCODER, PCA_DIR, MODEL_DIR / "linear.npy", MODEL_DIR / "scales.npy"]
    for path in needed:
        if not path.exists():
            raise InputError(f"{path}: expected the output of a finished run (dvc repro), found nothing; "
                             f"labelling needs self-training (refine.rounds ≥ 1)")
    folds = sorted(MODEL_DIR.glob("classifier_fold*.keras"))
    if not folds:
        raise InputError(f"{MODEL_DIR}/classifier_fold*.keras: expected the fold CNNs of refine, found none")
    pca = {path.stem: np.load(path) for path in sorted(PCA_DIR.glob("*.npy"))}
    return {"pca": pca, "folds": folds, "linear": np.load(MODEL_DIR / "linear.npy"),
            "scales": np.load(MODEL_DIR / "scales.npy")}


def features(trained: dict, codes: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
    """The reduce stage's components of new images: each view projected, side by side, projected."""
    pca = trained["pca"]
    parts = [clustering.project(pca, name, view) for name, view in zip(VIEWS, (codes, descriptors))]
    return clustering.project(pca, "joint", np.hstack(parts))


def scores(trained: dict, components: np.ndarray, cnn_scores: np.ndarray) -> np.ndarray:
    """The summed score of refine's last round: label 1 where > 0."""
    weights, intercept = trained["linear"][:-1], trained["linear"][-1]
    linear = components.astype(np.float64) @ weights + intercept
    from pipeline.lib.selftrain import combine

    return combine(linear, cnn_scores, trained["scales"])


def run(folder: str, out_csv: str) -> None:
    started = time.perf_counter()
    config = HogConfig.from_params(load_params("hog"))
    trained = load_trained()
    images_dir, pairs_csv, visualization_npy = layout.competition_files(folder)
    paths = layout.image_paths(images_dir)
    pairs = layout.read_pairs(pairs_csv, len(paths))
    visualization = layout.read_visualization(visualization_npy)
    images = layout.decode_images(paths)
    print(f"label: {len(paths)} images, {len(pairs)} pairs from {folder}", file=sys.stderr)

    import keras

    from pipeline.lib import autoencoder, selftrain

    model = keras.models.load_model(AUTOENCODER)
    encoder = keras.Model(model.input, model.get_layer("code").output)
    classifiers = [keras.models.load_model(path) for path in trained["folds"]]
    labelled = []
    for name, batch in (("images", images), ("visualization", visualization)):
        codes = autoencoder.encode(encoder, batch, np.empty((len(batch), encoder.output.shape[-1]), np.float32),
                                   label=f"encode {name}")
        descriptors = hog_descriptors(batch, config, label=f"hog {name}")
        cnn = np.mean([selftrain.score(classifier, batch) for classifier in classifiers], axis=0)
        labelled.append((scores(trained, features(trained, codes, descriptors), cnn) > 0).astype(np.int8))
    labels, visualization_labels = clustering.align(*labelled)

    table = write_submission(out_csv, pairs, labels)
    accuracy = clustering.visualization_accuracy(visualization_labels)
    print(f"label: wrote {out_csv} ({len(table)} pairs, {100 * table['label'].mean():.1f} % labelled 1); "
          f"visualization accuracy {accuracy:.4f}; {time.perf_counter() - started:.1f} s")


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise InputError(f"command line: expected 2 arguments, found {len(argv)}; {USAGE}")
    run(*argv)


if __name__ == "__main__":
    main_guard(main)
