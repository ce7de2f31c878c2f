"""Every file and folder the pipeline writes, named once, relative to the repository root.

dvc.yaml lists the same paths as each stage's deps and outs (DVC needs them there, and a stage's
`cmd` stays argument-free); tests/runs/test_contract.py checks that each stage's declared outs
are the paths its module names here, and runs each stage on its declared deps alone. The stages,
pipeline.label (which applies a run's fitted arrays to new images), the report, the Kaggle
command and the tests all read these names, so moving an artifact is one edit here and one in
dvc.yaml. Why not paths as `cmd` arguments (example-get-started's way): label, the report and
Kaggle need the same paths without DVC running them, so they would still need one place to read
them from; this module is that place for every reader.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path("data")

# demo: the embedded default data
DEMO = DATA / "demo"
DEMO_COMPETITION = DEMO / "competition"
DEMO_FACES = DEMO / "faces"

# prepare: the competition's images and the visualization images in one pool (pipeline.lib.pool)
PREPARED = DATA / "prepared"
IMAGES = PREPARED / "images.npy"  # (n + 2k, 32, 32, 3) uint8
PAIRS = PREPARED / "pairs.npy"  # (pairs, 2) image indices
ROWS = PREPARED / "rows.json"  # how many rows of the pool are competition images, how many visualization
PREPARED_SUMMARY = PREPARED / "summary.json"

# embed: the autoencoder
EMBED = DATA / "embed"
CODES = EMBED / "codes.npy"
RECONSTRUCTIONS = EMBED / "reconstructions.npy"
ARCHITECTURE = EMBED / "architecture.json"
EMBED_SUMMARY = EMBED / "summary.json"
AUTOENCODER = Path("models/autoencoder.keras")
EMBED_LIVE = Path("dvclive/embed")  # dvclive's folder of the autoencoder's training curve
EMBED_LOSS = EMBED_LIVE / "plots/metrics/train/loss.tsv"

# hog, patches: the hand-made views
HOG = DATA / "hog"
HOG_DESCRIPTORS = HOG / "descriptors.npy"
PATCHES = DATA / "patches"
PATCH_DICTIONARY = PATCHES / "dictionary"
PATCH_DESCRIPTORS = PATCHES / "descriptors.npy"

# selftrain: the bootstrap, the cross-fitted models and their scores
SELFTRAIN = DATA / "selftrain"
SELFTRAIN_FEATURES = SELFTRAIN / "features.npy"
SELFTRAIN_FOLDS = SELFTRAIN / "folds.npy"
SELFTRAIN_MODEL = SELFTRAIN / "model"  # the bootstrap's PCAs and the linear models, as arrays
SELFTRAIN_CNNS = SELFTRAIN / "cnn"  # cnn_<part>.keras (none when too few images)
SELFTRAIN_CURVES = SELFTRAIN / "curves"  # cnn_<part>/: dvclive's folder of each CNN
SELFTRAIN_SUMMARY = SELFTRAIN / "summary.json"
SELFTRAIN_METRICS = Path("metrics/selftrain.json")

# each view's rows, by its pca.views name, in the registry's order (pipeline.lib.config.pca.VIEWS)
VIEW_FILES = {"codes": CODES, "hog": HOG_DESCRIPTORS, "patches": PATCH_DESCRIPTORS,
              "selftrain": SELFTRAIN_FEATURES}

# views, reduce: the PCAs
VIEWS_DIR = DATA / "views"
VIEWS_COMPONENTS = VIEWS_DIR / "components.npy"
VIEWS_PCA = VIEWS_DIR / "pca"  # each view's fitted PCA as arrays
VIEWS_JOINT = VIEWS_DIR / "joint"  # the joint PCA, every direction reduce may keep
VIEWS_SUMMARY = VIEWS_DIR / "summary.json"
REDUCE = DATA / "reduce"
COMPONENTS = REDUCE / "components.npy"  # (n + 2k, pca.dims) float32: what cluster fits
REDUCE_PCA = REDUCE / "pca"  # the joint PCA cut to pca.dims
REDUCE_SUMMARY = REDUCE / "summary.json"

# cluster, predict: the split and the submission
CLUSTER = DATA / "cluster"
LABELS = CLUSTER / "labels.npy"
CLUSTER_MODEL = CLUSTER / "model"
CLUSTER_SUMMARY = CLUSTER / "summary.json"
CLUSTER_METRICS = Path("metrics/cluster.json")
PREDICT_SUMMARY = DATA / "predict/summary.json"
PREDICT_METRICS = Path("metrics/predict.json")
SUBMISSION = Path("submissions/submission.csv")
KAGGLE_SCORES = Path("submissions/kaggle_scores.csv")

# plot, plot_training, eigenfaces, report: what people look at
PLOTS = Path("plots")
VISUALIZATION_2D = PLOTS / "visualization_2d.png"
MISTAKES = PLOTS / "mistakes.png"
PROJECTION_CSV = PLOTS / "projection.csv"
CONFUSION_CSV = PLOTS / "confusion.csv"
RECONSTRUCTIONS_PNG = PLOTS / "reconstructions.png"
TRAINING_LOSS_PNG = PLOTS / "training_loss.png"
TRAINING_CURVES_CSV = PLOTS / "training_curves.csv"
EIGENFACES_SUMMARY = DATA / "eigenfaces/summary.json"
EIGENFACES_METRICS = Path("metrics/eigenfaces.json")
EIGENFACES_PLOTS = PLOTS / "eigenfaces"
EIGENFACE_PICTURES = {name: EIGENFACES_PLOTS / f"{name}.png" for name in ("mean_face", "eigenfaces", "reconstructions")}
REPORTS = Path("reports")
REPORT_HTML = REPORTS / "report.html"
REPORT_MD = REPORTS / "report.md"
