"""Label a new test set with the models a finished run trained: nothing is retrained.

    python -m pipeline.label COMPETITION_DIR OUT_CSV
    python -m pipeline.label IMAGES_DIR TEST_CASE_CSV OUT_CSV     (the course's cluster.sh)

Run in the repository after `dvc repro` (or `dvc exp apply`, or `dvc pull` of a shared run). It
applies, in the pipeline's order, what the run learned and fitted: the autoencoder
(models/autoencoder.keras), HOG (params.yaml's `hog`), the patch dictionary
(data/patches/dictionary/), the self-training bootstrap PCAs and linear models
(data/selftrain/model/) and CNNs (data/selftrain/cnn/), the PCAs of `views` and `reduce`
(data/views/pca/, data/reduce/pca/) and the clusters (data/cluster/model/). Images the run
never saw get the mean of the cross-fitted models' scores. Writes OUT_CSV (`id,label`, one row per test pair) atomically.

With a competition folder (images/, test_case.csv, visualization.npy) the visualization images
are labelled alongside and their accuracy, and the pair accuracy it implies, are printed. The
three-argument form is the course's `bash cluster.sh <images dir> <test_case.csv>
<prediction.csv>`: no visualization.npy, no accuracy.

Use it when a new test set comes and the trained pipeline should label it now; `dvc exp run
-S data.dir=…` fits everything to the new images instead (better when they differ from the
run's: BENCHMARKS.md, label).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from pipeline.lib import clustering, layout, paths, pca
from pipeline.lib.config.params import load
from pipeline.lib.config.hog import HogConfig
from pipeline.lib.descriptors import hog_descriptors
from pipeline.lib.errors import CommandLine, InputError, main_guard
from pipeline.lib.estimate import estimate_pair_accuracy
from pipeline.lib.patches import Dictionary, descriptors
from pipeline.lib.selftrain import apply_linear
from pipeline.lib.submission import write_submission
from pipeline.lib.training import quiet_tensorflow

USAGE = "%(prog)s COMPETITION_DIR OUT_CSV\n   or: %(prog)s IMAGES_DIR TEST_CASE_CSV OUT_CSV"
# a new set this far below the run's own visualization accuracy is warned of: hw7 relabelled by its
# own run falls 0.03 point below, the holdout labelled by hw7's run 7.5 points (BENCHMARKS.md, label)
UNLIKE_BELOW = 0.02
FITTED = {"dictionary": paths.PATCH_DICTIONARY, "selftrain": paths.SELFTRAIN_MODEL, "views": paths.VIEWS_PCA,
          "reduce": paths.REDUCE_PCA, "cluster": paths.CLUSTER_MODEL}


def load_arrays(folder: Path) -> dict[str, np.ndarray]:
    return {path.stem: np.load(path, allow_pickle=False) for path in sorted(folder.glob("*.npy"))}


def load_trained() -> dict:
    """The run's fitted arrays and model paths, checked to be there before any image is decoded."""
    for path in (paths.AUTOENCODER, *FITTED.values()):
        if not path.exists():
            raise InputError(f"{path}: expected the output of a finished run (dvc repro, or dvc pull of a "
                             f"shared one), found nothing")
    # no CNN when the run's pool was smaller than selftrain.min_images: the linear score alone
    return {"cnns": sorted(paths.SELFTRAIN_CNNS.glob("cnn_*.keras")),
            **{name: load_arrays(folder) for name, folder in FITTED.items()}}


def read_test_set(args: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """(pool (n + 2k, 32, 32, 3) uint8, pairs (m, 3), 2k) from the command line's folder or files."""
    if len(args) == 1:
        images_dir, pairs_csv, visualization_npy = layout.competition_files(args[0])
        visualization = layout.read_visualization(visualization_npy)
    else:
        images_dir, pairs_csv, visualization = Path(args[0]), Path(args[1]), None
        if not pairs_csv.is_file():
            raise InputError(f"{pairs_csv}: expected the pairs CSV, found {'a folder' if pairs_csv.exists() else 'nothing'}")
    files = layout.image_paths(images_dir)
    pairs = layout.read_pairs(pairs_csv, len(files))
    images = layout.decode_images(files)
    if visualization is None:
        return images, pairs, 0
    return np.concatenate([images, visualization]), pairs, len(visualization)


def label(pool: np.ndarray, trained: dict) -> np.ndarray:
    """The run's cluster label of every image of ``pool``: (N,) int8, cluster 0 ≈ the run's dataset A."""
    quiet_tensorflow()
    import keras

    from pipeline.lib import autoencoder, selftrain

    encoder = autoencoder.encoder_of(keras.models.load_model(paths.AUTOENCODER))
    views = {"codes": autoencoder.encode(encoder, pool, np.empty((len(pool), encoder.output.shape[-1]), np.float32),
                                         label="encode"),
             "hog": hog_descriptors(pool, load(HogConfig), label="hog")}
    dictionary = Dictionary.from_arrays(trained["dictionary"])
    views["patches"] = descriptors(dictionary, pool, np.empty((len(pool), dictionary.width), np.float32))
    bootstrap = pca.project_views(trained["selftrain"], views)
    scores = [apply_linear(trained["selftrain"]["linear"], bootstrap)]
    if trained["cnns"]:
        scores.append(np.mean([selftrain.cnn_logits(keras.models.load_model(path), pool) for path in trained["cnns"]],
                              axis=0))
    views["selftrain"] = np.column_stack(scores)
    components = pca.project_views({**trained["views"], **trained["reduce"]}, views)
    fitted = dict(trained["cluster"])
    method, swapped = str(fitted.pop("method")), bool(fitted.pop("swapped"))
    labels = clustering.TwoClusters.from_arrays(method, fitted).predict(components)
    return (1 - labels).astype(np.int8) if swapped else labels


def run_accuracy() -> float | None:
    """The run's own visualization accuracy (metrics/cluster.json), or None where it cannot be read."""
    try:
        accuracy = json.loads(paths.CLUSTER_METRICS.read_text(encoding="utf-8"))["visualization_accuracy"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(accuracy) if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) else None


def unlike_the_run(accuracy: float, own: float | None) -> str | None:
    """A one-line warning when this set's visualization accuracy falls more than
    :data:`UNLIKE_BELOW` below the run's own: the set is unlike the one the run learned from."""
    if own is None or accuracy >= own - UNLIKE_BELOW:
        return None
    return (f"visualization accuracy {accuracy:.4f} here against {own:.4f} on the run's own images "
            f"({paths.CLUSTER_METRICS}): these images are unlike the ones the run learned from; "
            f"`dvc exp run -S data.dir=…` fits the pipeline to them instead")


def parser() -> CommandLine:
    command_line = CommandLine(prog="python -m pipeline.label", usage=USAGE, description=__doc__)
    command_line.add_argument("paths", nargs="*", metavar="PATH",
                              help="COMPETITION_DIR OUT_CSV, or IMAGES_DIR TEST_CASE_CSV OUT_CSV")
    return command_line


def main(argv: list[str]) -> None:
    command_line = parser()
    arguments = command_line.parse_args(argv).paths
    if len(arguments) not in (2, 3):
        command_line.error(f"expected 2 or 3 arguments, found {len(arguments)}")
    started = time.perf_counter()
    out_csv = Path(arguments[-1])
    if out_csv.suffix.lower() != ".csv" or out_csv.is_dir():
        raise InputError(f"{out_csv}: expected the name of the CSV file to write (….csv), found "
                         f"{'a folder' if out_csv.is_dir() else repr(out_csv.name)}")
    # the CSV is written after labelling, creating missing folders: say now, not after that
    # minute, if the nearest existing folder above it cannot take one
    folder = out_csv.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{out_csv}: expected a folder to write it in, found the file {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{out_csv}: expected a folder you may write in, found {folder} read-only")
    trained = load_trained()
    pool, pairs, shown = read_test_set(arguments[:-1])
    print(f"label: {len(pool) - shown} images, {len(pairs)} pairs from {' '.join(arguments[:-1])}", file=sys.stderr)
    labels = label(pool, trained)
    # named after this set's visualization halves (the pairs do not depend on the names)
    images, visualization = clustering.align(labels[:len(pool) - shown], labels[len(pool) - shown:]) \
        if shown else (labels, labels[:0])
    table = write_submission(out_csv, pairs, images)
    line = f"label: wrote {out_csv} ({len(table)} pairs, {100 * table['label'].mean():.1f} % labelled 1)"
    if shown:
        accuracy = clustering.visualization_accuracy(visualization)
        line += (f"; visualization accuracy {accuracy:.4f}, estimated pair accuracy "
                 f"{estimate_pair_accuracy(images, visualization, pairs).describe()}, 95 % interval")
        warning = unlike_the_run(accuracy, run_accuracy())
        if warning:
            print(f"label: warning: {warning}", file=sys.stderr)
    print(f"{line}; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main_guard(main)
