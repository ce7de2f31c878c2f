"""The homework report's content: one run's files, read, checked and gathered into plain data.

    report = gather(Path("."))          # a Report: formatted numbers, names, flags, the PNGs
    markdown = render_markdown(report)  # pipeline/lib/report/report.md.j2, pictures linked
    html = render_html(report)          # that Markdown as one self-contained page

Every number the report shows is formatted here, by ``count``, ``percent``, ``accuracy``,
``loss``, ``report_units`` and ``score`` (the only rounding), or quoted from the seed report
(SEED_REPORT); each figure has one format wherever it is shown (the pair accuracy is a score, as
Kaggle shows it, a visualization accuracy a percentage); the wording is in the template.
The run is named by its experiment, its commit and its data folder (report/origin.py), and every
param that differs from the commit's params.yaml is listed. Text taken from the run's files
(folder and file names, layer names, method names) is kept as it is: the renderer escapes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.lib import paths
from pipeline.lib.config.params import PARAMS_FILE, read_params
from pipeline.lib.config.pca import VIEWS as VIEW_REGISTRY
from pipeline.lib.errors import InputError
from pipeline.lib.report.inputs import NUMBER, Checked, Picture, generation_date, read_json, read_png
from pipeline.lib.report.origin import ABSENT as NOT_SET
from pipeline.lib.report.origin import Origin, changed_params, read_origin
from pipeline.lib.report.formatting import (_maybe, accuracy, count, loss, percent, report_units, score, shape,
                                            yaml_value)
from pipeline.lib.report.render import render_html, render_markdown
from pipeline.lib.report.seed import Comparison, gather_comparison

__all__ = ["Report", "gather", "render_html", "render_markdown"]

PARAM_SECTIONS = ("embed", "hog", "patches", "selftrain", "pca", "cluster", "plot", "eigenfaces")
FILES = {  # key → (file, the stage that writes it: named in the error when it is missing)
    "prepare": (paths.PREPARED_SUMMARY.as_posix(), "prepare"),
    "embed": (paths.EMBED_SUMMARY.as_posix(), "embed"),
    "views": (paths.VIEWS_SUMMARY.as_posix(), "views"),
    "reduce": (paths.REDUCE_SUMMARY.as_posix(), "reduce"),
    "cluster": (paths.CLUSTER_SUMMARY.as_posix(), "cluster"),
    "selftrain": (paths.SELFTRAIN_SUMMARY.as_posix(), "selftrain"),
    "predict": (paths.PREDICT_SUMMARY.as_posix(), "predict"),
    "eigenfaces": (paths.EIGENFACES_SUMMARY.as_posix(), "eigenfaces"),
    "architecture": (paths.ARCHITECTURE.as_posix(), "embed"),
}
PICTURES = {  # key (as the template names it) → (file, stage)
    "mean_face": (paths.EIGENFACE_PICTURES["mean_face"].as_posix(), "eigenfaces"),
    "eigenfaces": (paths.EIGENFACE_PICTURES["eigenfaces"].as_posix(), "eigenfaces"),
    "face_reconstructions": (paths.EIGENFACE_PICTURES["reconstructions"].as_posix(), "eigenfaces"),
    "visualization_2d": (paths.VISUALIZATION_2D.as_posix(), "plot"),
    "mistakes": (paths.MISTAKES.as_posix(), "plot"),
    "reconstructions": (paths.RECONSTRUCTIONS_PNG.as_posix(), "plot_training"),
    "training_loss": (paths.TRAINING_LOSS_PNG.as_posix(), "plot_training"),
}
VIEWS = tuple(VIEW_REGISTRY)  # pca.views' choices, in the order the views are put side by side

# ----------------------------------------------------------------------------------- the content
@dataclass(frozen=True)
class Change:
    """One param whose value differs from the commit's params.yaml, values as params.yaml writes them."""

    key: str  # dotted: pca.weights.patches
    value: str | None  # this run's; None: not set
    committed: str | None  # the commit's; None: not set there


@dataclass(frozen=True)
class Run:
    """"What was run": which run it is, the inputs and parameters."""

    experiment: str | None  # the `dvc exp run` experiment; None: a `dvc repro` run
    commit: str | None  # short hash of the commit it starts from; None: no git checkout
    modified: bool  # the code (pipeline/, dvc.yaml) differs from that commit's
    changes: list[Change] | None  # every param that differs from the commit's; None: no commit to compare
    data_dir: str
    images: str
    pairs: str
    visualization_images: str
    half: str  # visualization images of each dataset
    seed: str
    params: dict[str, list[str]]  # section → its "key: value" pairs, values as in params.yaml


@dataclass(frozen=True)
class Share:
    rank: str
    share: str  # sᵢ / Σs
    variance: str  # sᵢ² / Σs²


@dataclass(frozen=True)
class Eigenfaces:
    """Part 1: the PCA of the face images."""

    dir: str  # eigenfaces.dir, "?" where unset
    faces: str | None  # how many face images, where eigenfaces.json says
    height: str | None  # pixels
    width: str | None
    k: str
    shares: list[Share]  # rank order
    total_share: str
    total_variance: str
    rmse: list[tuple[str, str]]  # (face file, reconstruction RMSE in pixel values 0–255)


@dataclass(frozen=True)
class Half:
    """Where the visualization images of one dataset (A: the first half, B: the second) went."""

    name: str  # "A" or "B"
    other: str  # the other dataset
    in_clusters: tuple[str, str]  # images in cluster 0, in cluster 1
    size: str
    home: str  # the cluster matched with this dataset
    stay: str  # images in it
    away_cluster: str  # the other cluster
    away: str  # images there
    all_home: bool  # none went away
    joined: str  # how many images of the other dataset are in the away cluster
    joined_all: bool  # that is all of them


@dataclass(frozen=True)
class Method:
    """One clustering of the PCA features, checked against the visualization images."""

    role: str  # the params key that chose it: cluster.method or cluster.alternative
    name: str  # e.g. kmeans
    accuracy: str  # under the better matching of clusters to datasets
    sizes: tuple[str, str]  # images in cluster 0, in cluster 1
    swapped: bool  # cluster 1 is matched with dataset A (that swap agrees with more images)
    halves: tuple[Half, Half]
    collapsed: list[tuple[str, str]]  # (cluster, images) for a cluster with ≥ 90 % of them
    wrong: str  # images in the cluster not matched with their dataset
    total: str  # visualization images


@dataclass(frozen=True)
class Clustering:
    """Part 2 up to 2c: the features, the methods and how they compare, the prediction."""

    whiten: bool
    code_size: str | None  # values per autoencoder code
    dims: str  # after the PCA
    explained_variance: str
    projection: str  # plot.projection: how 2c draws the images in 2-D
    views: list[str]  # the views clustered (pca.views, as the stage views ran), in VIEWS order
    weights: dict[str, str]  # pca.weights as views ran: each view weighted other than 1, e.g. {"selftrain": "1.5"}
    share_same: str  # of the test pairs, labelled 1 (same dataset)
    pairs: str  # test pairs predicted
    minibatch: bool  # cluster.minibatch (k-means)
    n_init: str  # cluster.n_init (k-means++ restarts that check the start)
    kmeans_kept: str | None  # which k-means fit was kept: "start" (the self-trained split's) or "restarts"
    restarts_agreement: str | None  # how far the restarts' split, refitted on every image, agrees with the start's
    restarts_same_split: bool | None  # whether that is the same split (None: no start, or no k-means)
    restart_sample: str | None  # the images the restarts were fitted on, where fewer than the pool (None: all)
    selftrain_agreement: str | None  # how far the final clusters agree with the self-trained scores
    methods: list[Method]  # cluster.method, then cluster.alternative where set
    better: Method | None  # of two methods whose accuracies differ
    worse: Method | None


@dataclass(frozen=True)
class SelfTraining:
    """2b: self-training, from the bootstrap clusters to the final clusters and the estimated score."""

    bootstrap: str  # accuracy of the bootstrap clusters (the three unsupervised views)
    linear: str  # of the cross-fitted logistic regression alone
    cnn: str | None  # of the cross-fitted CNN alone (None: no CNN, too few images)
    folds: str
    final: str  # of the final clusters (cluster.method on all views)
    pair_accuracy: str  # what Kaggle should score, estimated from the visualization images, as a score
    pair_interval: str | None  # its interval and coverage, "0.99065–0.99657, 95 %" (None: none written)
    agreement: dict[str, str]  # view → how far its own two clusters agree with the bootstrap ({}: not checked)
    smaller_cluster: str  # the share of the pool in the bootstrap's smaller cluster
    trusted: bool | None  # whether the check found the bootstrap to split the datasets (None: not checked)
    resplit: bool  # whether a doubted bootstrap was split again into balanced halves (selftrain.balanced_split)


@dataclass(frozen=True)
class Layer:
    name: str
    type: str
    output_shape: str
    params: str


@dataclass(frozen=True)
class Autoencoder:
    """2a's losses and 2d: the autoencoder, its training and its layers."""

    reconstruction_loss: str  # on the visualization images
    report_units_loss: str | None  # the VAE's loss there in the seed report's units (None: not a VAE)
    final_training_loss: str | None
    loss: str  # what it minimizes, in words
    optimizer: str | None
    epochs: str | None
    batch_size: str | None
    train_images: str | None
    flip: bool  # trained on horizontal flips too
    total: str  # parameters
    encoder: str | None  # parameters of the encoder, where known
    decoder: str | None
    layers: list[Layer]  # input to output


@dataclass(frozen=True)
class Report:
    """Everything the report shows, read from one run's files."""

    generated: str  # the date, ISO (UTC)
    name: str  # the run in a few words, for the page's title: experiment · commit · data folder
    run: Run
    faces: Eigenfaces
    clustering: Clustering
    self_training: SelfTraining
    autoencoder: Autoencoder
    comparison: Comparison
    pictures: dict[str, Picture]  # key of PICTURES → the PNG


# -------------------------------------------------------------------------------------- gathering
def gather(root: str | Path = ".", today: dt.date | None = None, origin: Origin | None = None) -> Report:
    """Read one run's params, metrics, architecture and plots under ``root`` into a Report;
    ``origin`` names the run (default: read from DVC's environment and git in ``root``).

    Raises InputError naming the first file that is missing, or the file and key of the first
    value that is missing or of the wrong type.
    """
    root = Path(root)
    params = Checked(read_params(root / PARAMS_FILE), PARAMS_FILE.as_posix())
    files = {key: read_json(root, name, stage) for key, (name, stage) in FILES.items()}
    pictures = {key: read_png(root, name, stage) for key, (name, stage) in PICTURES.items()}
    run = gather_run(params, files["prepare"], origin or read_origin(root))
    return Report(generated=(today or generation_date()).isoformat(), name=run_name(run),
                  run=run,
                  faces=gather_eigenfaces(params, files["eigenfaces"]),
                  clustering=gather_clustering(params, files),
                  self_training=gather_self_training(files),
                  autoencoder=gather_autoencoder(params, files["embed"], files["architecture"]),
                  comparison=gather_comparison(params),
                  pictures=pictures)


def gather_run(params: Checked, prepare: Checked, origin: Origin) -> Run:
    sections = {section: params.need(section, dict) for section in PARAM_SECTIONS}
    return Run(experiment=origin.experiment, commit=origin.commit, modified=origin.modified,
               changes=None if origin.committed is None else changes(params.data, origin.committed),
               data_dir=params.need("data.dir", str),
               images=count(prepare.need("images", int)),
               pairs=count(prepare.need("pairs", int)),
               visualization_images=count(prepare.need("visualization_images", int)),
               half=count(prepare.need("visualization_images", int) // 2),
               seed=yaml_value(params.data.get("seed", 0)),
               params={section: [f"{key}: {yaml_value(value)}" for key, value in values.items()]
                       for section, values in sections.items()})


def changes(params: dict, committed: dict) -> list[Change]:
    """Every param of ``params`` (all sections, nested keys) whose value differs from ``committed``."""
    def shown(value: Any) -> str | None:
        return None if value is NOT_SET else yaml_value(value)

    return [Change(key, shown(value), shown(was)) for key, value, was in changed_params(params, committed)]


def run_name(run: Run) -> str:
    """The run in a few words: its experiment (or "dvc repro"), commit and data folder."""
    commit = "no commit" if run.commit is None else run.commit + ("+" if run.modified else "")
    return " · ".join((run.experiment or "dvc repro", commit, run.data_dir))


def gather_eigenfaces(params: Checked, eigen: Checked) -> Eigenfaces:
    shares, variances = eigen.ranked("share_percent"), eigen.ranked("variance_percent")
    if shares.keys() != variances.keys():
        raise InputError(f"{eigen.where}: expected 'share_percent' and 'variance_percent' for the same "
                         f"ranks, found {list(shares)} and {list(variances)}")
    return Eigenfaces(dir=params.may("eigenfaces.dir", str, "?"),
                      faces=_maybe(eigen.may("images", int)),
                      height=_maybe(eigen.may("height", int)),
                      width=_maybe(eigen.may("width", int)),
                      k=str(eigen.may("k", int, len(shares))),
                      shares=[Share(str(rank), percent(shares[rank]), percent(variances[rank]))
                              for rank in shares],
                      total_share=percent(sum(shares.values())),
                      total_variance=percent(sum(variances.values())),
                      rmse=[(face, f"{value:.1f}")
                            for face, value in eigen.numbers("reconstruction_rmse").items()])


def gather_clustering(params: Checked, files: dict[str, Checked]) -> Clustering:
    cluster = files["cluster"]
    summaries = [("cluster.method", cluster)]
    if cluster.may("alternative", dict) is not None:
        summaries.append(("cluster.alternative", cluster.part("alternative")))
    methods = [method(role, summary) for role, summary in summaries]
    scores = [summary.need("visualization_accuracy") for _, summary in summaries]
    differ = len(methods) == 2 and scores[0] != scores[1]
    ranked = methods if differ and scores[0] > scores[1] else methods[::-1]
    code_size = files["embed"].may("code_size", int, params.may("embed.code_size", int))
    views = [view for view in VIEWS if view in files["views"].may("views", dict, dict.fromkeys(VIEWS))]
    weights = {view: files["views"].may(f"views.{view}.weight", NUMBER, 1) for view in views}
    return Clustering(whiten=params.need("pca.whiten", bool),
                      code_size=_maybe(code_size, str),
                      dims=str(files["reduce"].need("dims", int)),
                      explained_variance=percent(files["reduce"].need("explained_variance_percent")),
                      projection=params.need("plot.projection", str),
                      views=views,
                      weights={view: f"{weight:g}" for view, weight in weights.items() if weight != 1},
                      share_same=percent(100 * files["predict"].need("share_same")),
                      pairs=count(files["predict"].need("pairs", int)),
                      minibatch=params.need("cluster.minibatch", bool),
                      n_init=str(params.need("cluster.n_init", int)),
                      kmeans_kept=cluster.may("kmeans_kept", str),
                      restarts_agreement=_maybe(cluster.may("restarts_agreement"), accuracy),
                      restarts_same_split=cluster.may("restarts_same_split", bool),
                      restart_sample=_restart_sample(cluster),
                      selftrain_agreement=_maybe(cluster.may("selftrain_agreement"), accuracy),
                      methods=methods,
                      better=ranked[0] if differ else None,
                      worse=ranked[1] if differ else None)


def _restart_sample(cluster: Checked) -> str | None:
    """How many images k-means' restarts saw, where fewer than the pool (competition and
    visualization images): "10,000"; None when they saw all of it or the run does not say."""
    rows = cluster.may("restart_rows", int)
    pool = sum(cluster.need(f"cluster_sizes.{c}", int) for c in "01") + sum(
        cluster.need(f"visualization_confusion.{half}.{c}", int) for half in "AB" for c in "01")
    return count(rows) if rows is not None and rows < pool else None


def method(role: str, summary: Checked) -> Method:
    """One method's summary in cluster.json: its accuracy, cluster sizes and where each half went.

    Cluster 0 is matched with dataset A and 1 with B, unless the swap agrees with more images
    (the accuracy is that of the better of the two matchings).
    """
    conf = {half: {c: summary.need(f"visualization_confusion.{half}.{c}", int) for c in "01"}
            for half in "AB"}
    total = sum(conf["A"].values()) + sum(conf["B"].values())
    swapped = 2 * (conf["A"]["0"] + conf["B"]["1"]) < total
    home = {"A": "1", "B": "0"} if swapped else {"A": "0", "B": "1"}
    halves = tuple(half(name, conf, home) for name in "AB")
    return Method(role=role, name=summary.need("method", str),
                  accuracy=accuracy(summary.need("visualization_accuracy")),
                  sizes=tuple(count(summary.need(f"cluster_sizes.{c}", int)) for c in "01"),
                  swapped=swapped, halves=halves,
                  collapsed=[(c, count(conf["A"][c] + conf["B"][c])) for c in "01"
                             if 10 * (conf["A"][c] + conf["B"][c]) >= 9 * total],
                  wrong=count(sum(conf[name][home[other]] for name, other in ("AB", "BA"))),
                  total=count(total))


def half(name: str, conf: dict[str, dict[str, int]], home: dict[str, str]) -> Half:
    other = "B" if name == "A" else "A"
    away_cluster = home[other]
    away, joined = conf[name][away_cluster], conf[other][away_cluster]
    return Half(name=name, other=other, in_clusters=(count(conf[name]["0"]), count(conf[name]["1"])),
                size=count(sum(conf[name].values())), home=home[name],
                stay=count(conf[name][home[name]]), away_cluster=away_cluster, away=count(away),
                all_home=away == 0, joined=count(joined), joined_all=joined == sum(conf[other].values()))


def gather_self_training(files: dict[str, Checked]) -> SelfTraining:
    selftrain = files["selftrain"]
    return SelfTraining(bootstrap=accuracy(selftrain.need("bootstrap_visualization_accuracy")),
                        linear=accuracy(selftrain.need("linear_visualization_accuracy")),
                        cnn=_maybe(selftrain.may("cnn_visualization_accuracy"), accuracy),
                        folds=str(selftrain.need("folds", int)),
                        final=accuracy(files["cluster"].need("visualization_accuracy")),
                        pair_accuracy=score(files["predict"].need("pair_accuracy")),
                        pair_interval=interval(files["predict"]),
                        agreement={view: accuracy(value) for view, value in selftrain.numbers("bootstrap_agreement").items()},
                        smaller_cluster=percent(100 * min(selftrain.numbers("pseudo_label_share").values(), default=0.5)),
                        trusted=selftrain.may("bootstrap_trusted", bool),
                        resplit=selftrain.may("bootstrap_resplit", bool, False))


def interval(predict: Checked) -> str | None:
    """The pair accuracy's interval as two scores and its coverage, "0.85123–0.88988, 95 %", or
    None where the run wrote none."""
    low, high = predict.may("pair_accuracy_low"), predict.may("pair_accuracy_high")
    coverage = predict.may("pair_accuracy_coverage")
    if low is None or high is None or coverage is None:
        return None
    return f"{score(low)}–{score(high)}, {percent(100 * coverage, 0)}"


def gather_autoencoder(params: Checked, embed: Checked, arch: Checked) -> Autoencoder:
    rows = [layer_row(arch, row) for row in arch.need("layers", list)]
    total = arch.may("total_params", int, sum(row["params"] for row in rows))
    encoder = arch.may("encoder_params", int)
    return Autoencoder(reconstruction_loss=loss(embed.need("reconstruction_loss")),
                       report_units_loss=_maybe(embed.may("report_units_loss"), report_units),
                       final_training_loss=_maybe(embed.may("final_training_loss"), loss),
                       loss=arch.need("loss", str), optimizer=arch.may("optimizer", str),
                       epochs=_maybe(params.may("embed.epochs", int), str),
                       batch_size=_maybe(params.may("embed.batch_size", int), str),
                       train_images=_maybe(embed.may("train_images", int)),
                       flip=bool(params.may("embed.flip", bool, False)),
                       total=count(total), encoder=_maybe(encoder),
                       decoder=None if encoder is None else count(total - encoder),
                       layers=[Layer(row["name"], row["type"], shape(row.get("output_shape")),
                                     count(row["params"])) for row in rows])


def layer_row(arch: Checked, row: Any) -> dict:
    """One row of architecture.json's 'layers', checked."""
    if not (isinstance(row, dict) and isinstance(row.get("name"), str) and isinstance(row.get("type"), str)
            and isinstance(row.get("params"), int) and isinstance(row.get("output_shape") or [], list)):
        raise InputError(f"{arch.where}: 'layers': expected objects with name, type, output_shape and "
                         f"params, found {row!r}")
    return row


