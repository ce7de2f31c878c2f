"""The homework report: this run's numbers, gathered from its files and rendered as HTML and Markdown.

    report = gather(Path("."))          # reads metrics/*.json, params.yaml, architecture.json, plots
    html = render_html(report)          # one self-contained page: PNGs as data: URIs, inline CSS
    markdown = render_markdown(report)  # for GitHub: PNGs linked relative to reports/

The text is built once as a list of blocks (headings, paragraphs, tables, figures) by ``document``
and written out by two small renderers, so both files say the same thing with the same numbers.
Every number comes from the run's files; the formatting helpers (``count``, ``percent``,
``accuracy``, ``loss``) are the only rounding. Standard library and PyYAML only: no DVC, numpy or
matplotlib, so this module is quick to import and to test.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
import posixpath
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.lib.errors import InputError
from pipeline.lib.params import load_params

PARAM_SECTIONS = ("embed", "hog", "pca", "cluster", "refine", "eigenfaces")
METRICS = {  # file → the stage that writes it (named in the error when it is missing)
    "prepare": ("metrics/prepare.json", "prepare"),
    "embed": ("metrics/embed.json", "embed"),
    "reduce": ("metrics/reduce.json", "reduce"),
    "cluster": ("metrics/cluster.json", "cluster"),
    "refine": ("metrics/refine.json", "refine"),
    "predict": ("metrics/predict.json", "predict"),
    "eigenfaces": ("metrics/eigenfaces.json", "eigenfaces"),
    "architecture": ("data/embed/architecture.json", "embed"),
}
FIGURES = {  # key → (path, stage, alt text)
    "mean_face": ("plots/eigenfaces/mean_face.png", "eigenfaces", "The mean face"),
    "eigenfaces": ("plots/eigenfaces/eigenfaces.png", "eigenfaces", "The top eigenfaces"),
    "face_reconstructions": ("plots/eigenfaces/reconstructions.png", "eigenfaces",
                             "Faces beside their reconstructions from the top eigenfaces"),
    "visualization_2d": ("plots/visualization_2d.png", "plot",
                         "The visualization images in 2-D, coloured by dataset and by predicted cluster"),
    "reconstructions": ("plots/reconstructions.png", "plot_training",
                        "Visualization images beside their autoencoder reconstructions"),
    "training_loss": ("plots/training_loss.png", "plot_training", "Autoencoder training loss per epoch"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------ formatting
def count(n: int) -> str:
    """An integer with thousands separators: 12,345."""
    return f"{int(n):,}"


def percent(value: float, digits: int = 1) -> str:
    """A value already in percent: 12.3 %."""
    return f"{value:.{digits}f} %"


def accuracy(fraction: float) -> str:
    """A fraction in [0, 1] as a percentage with two decimals, as the plots show it: 51.50 %."""
    return percent(100 * fraction, 2)


def loss(value: float) -> str:
    """A loss to four significant digits: 0.02251."""
    return f"{value:.4g}"


def yaml_value(value: Any) -> str:
    """A parameter value written as in params.yaml: null, true, [32, 64], 0.001."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def shape(dims: list | None) -> str:
    """A Keras output shape: (None, 32, 32, 3)."""
    if not dims:
        return "—"
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"


# ------------------------------------------------------------------------------------- gathering
@dataclass(frozen=True)
class Figure:
    path: str  # relative to the run's root, with forward slashes
    alt: str
    png: bytes
    width: int
    height: int


@dataclass
class Report:
    """Everything the report shows, read from one run's files."""

    generated: dt.date
    params: dict[str, Any]  # seed, data, embed, hog, pca, cluster, refine, eigenfaces
    prepare: dict
    embed: dict
    reduce: dict
    cluster: dict
    refine: dict
    predict: dict
    eigenfaces: dict
    architecture: dict
    figures: dict[str, Figure] = field(default_factory=dict)


def _read_json(root: Path, name: str, stage: str) -> dict:
    path = root / name
    if not path.is_file():
        raise InputError(f"{name}: not found: expected the output of stage '{stage}' (run dvc repro)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: expected JSON, found a syntax error ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a JSON object, found {type(data).__name__}")
    return data


def _get(data: dict, dotted: str, where: str, kind: type | tuple = (int, float)) -> Any:
    """``data["a"]["b"]`` for ``dotted="a.b"``, checked to be of ``kind``; InputError naming the key."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InputError(f"{where}: expected a key '{dotted}', found none")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, kind):  # JSON true is no number
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"{where}: '{dotted}': expected {names}, found {value!r}")
    return value


def _check_clustering(summary: dict, prefix: str, where: str) -> None:
    _get(summary, prefix + "method", where, str)
    _get(summary, prefix + "visualization_accuracy", where)
    for c in "01":
        _get(summary, f"{prefix}cluster_sizes.{c}", where, int)
        for half in "AB":
            _get(summary, f"{prefix}visualization_confusion.{half}.{c}", where, int)


def _ranked(table: dict, where: str, key: str) -> dict[int, float]:
    """{"1": x, "2": y, …} → {1: x, 2: y, …}, checked."""
    try:
        ranked = {int(rank): float(value) for rank, value in table.items()}
    except (TypeError, ValueError):
        raise InputError(f"{where}: '{key}': expected {{\"1\": number, …}}, found {table!r}") from None
    if not ranked:
        raise InputError(f"{where}: '{key}': expected at least one eigenface, found none")
    return dict(sorted(ranked.items()))


def read_png(root: Path, name: str, stage: str, alt: str) -> Figure:
    """A PNG file with its size, read from its IHDR chunk."""
    path = root / name
    if not path.is_file():
        raise InputError(f"{name}: not found: expected the picture drawn by stage '{stage}' (run dvc repro)")
    data = path.read_bytes()
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise InputError(f"{name}: expected a PNG image, found other bytes")
    width, height = struct.unpack(">II", data[16:24])
    return Figure(name, alt, data, width, height)


def generation_date() -> dt.date:
    """Today in UTC, or the date of $SOURCE_DATE_EPOCH when set (for byte-identical rebuilds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return dt.datetime.now(dt.timezone.utc).date()
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    except (ValueError, OverflowError):
        raise InputError(f"SOURCE_DATE_EPOCH: expected seconds since 1970, found {epoch!r}") from None


def gather(root: str | Path = ".", today: dt.date | None = None) -> Report:
    """Read one run's params, metrics, architecture and plots under ``root`` into a Report.

    Raises InputError naming the first file that is missing or lacks a key the report needs.
    """
    root = Path(root)
    all_params = load_params(path=root / "params.yaml")
    params = {"seed": all_params.get("seed", 0),
              "data": {"dir": _get(all_params, "data.dir", "params.yaml", str)}}
    for section in PARAM_SECTIONS:
        params[section] = dict(_get(all_params, section, "params.yaml", dict))
    read = {key: _read_json(root, name, stage) for key, (name, stage) in METRICS.items()}

    for key, dotted, kind in (("prepare", "images", int), ("prepare", "pairs", int),
                              ("prepare", "visualization_images", int),
                              ("embed", "reconstruction_loss", (int, float)),
                              ("reduce", "dims", int), ("reduce", "explained_variance_percent", (int, float)),
                              ("predict", "pairs", int), ("predict", "share_same", (int, float)),
                              ("architecture", "loss", str), ("architecture", "layers", list)):
        _get(read[key], dotted, METRICS[key][0], kind)
    _check_clustering(read["cluster"], "", METRICS["cluster"][0])
    _check_clustering(read["refine"], "", METRICS["refine"][0])
    _get(read["refine"], "visualization_accuracy_by_round", METRICS["refine"][0], dict)
    if "alternative" in read["cluster"]:
        _check_clustering(read["cluster"], "alternative.", METRICS["cluster"][0])
    where = METRICS["eigenfaces"][0]
    eigen = read["eigenfaces"]
    for key in ("share_percent", "variance_percent"):
        eigen[key] = _ranked(_get(eigen, key, where, dict), where, key)
    if eigen["share_percent"].keys() != eigen["variance_percent"].keys():
        raise InputError(f"{where}: expected 'share_percent' and 'variance_percent' for the same ranks, "
                         f"found {list(eigen['share_percent'])} and {list(eigen['variance_percent'])}")
    for row in read["architecture"]["layers"]:
        if not isinstance(row, dict) or not {"name", "type", "params"} <= row.keys():
            raise InputError(f"{METRICS['architecture'][0]}: 'layers': expected objects with name, type, "
                             f"output_shape and params, found {row!r}")

    figures = {key: read_png(root, name, stage, alt) for key, (name, stage, alt) in FIGURES.items()}
    return Report(generated=today or generation_date(), params=params, figures=figures, **read)


# -------------------------------------------------------------------------------------- document
@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str = ""
    new_page: bool = False


@dataclass(frozen=True)
class Para:
    text: str  # inline markup: `code` and **bold**
    note: bool = False  # smaller, muted


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]
    align: str  # one letter per column: l or r
    caption: str = ""
    foot: list[str] | None = None  # a totals row


@dataclass(frozen=True)
class Fig:
    key: str
    caption: str


METHODS = {  # cluster method → what it does after the PCA (other names are shown as they are)
    "kmeans": lambda p: (f"{'mini-batch ' if p.get('minibatch') else ''}k-means, k = 2 "
                         f"(best of {p.get('n_init', 10)} starts)"),
    "gmm": lambda p: "Gaussian mixture, 2 components with full covariances",
    "coordinates": lambda p: "label each image by which of its first two PCA coordinates is larger",
}


def features(report: Report) -> str:
    """What both clustering methods work on, from the parameters of this run."""
    code_size = report.embed.get("code_size", report.params["embed"].get("code_size"))
    codes = f"autoencoder codes ({code_size} values)" if code_size is not None else "autoencoder codes"
    whiten = " (whitened)" if report.params["pca"].get("whiten") else ""
    return (f"{codes} and HOG descriptors → a PCA{whiten} of each, then of both side by side, to "
            f"{report.reduce['dims']} dimensions")


def self_training(report: Report) -> list[list[str]]:
    """Rows of the self-training table: the clusters it starts from, then each round."""
    steps = report.refine["visualization_accuracy_by_round"]
    cnn = report.refine.get("classifier_visualization_accuracy", {})
    linear = report.refine.get("linear_visualization_accuracy", {})
    moved = report.refine.get("relabelled", {})
    rows = [["start: the clusters of `cluster.method`", "", "", accuracy(steps["clusters"]), ""]]
    for name, value in steps.items():
        if name == "clusters":
            continue
        rows.append([name.replace("_", " "), accuracy(cnn[name]) if name in cnn else "",
                     accuracy(linear[name]) if name in linear else "", accuracy(value),
                     count(moved[name]) if name in moved else ""])
    return rows


def describe_method(report: Report, method: str) -> str:
    """The clustering step of one method (unknown methods are shown by name)."""
    return METHODS[method](report.params["cluster"]) if method in METHODS else f"`{method}`"


def methods(report: Report) -> list[tuple[str, dict]]:
    """(role, summary) of the chosen method and, when there is one, the alternative."""
    chosen = [("`cluster.method`", report.cluster)]
    if isinstance(report.cluster.get("alternative"), dict):
        chosen.append(("`cluster.alternative`", report.cluster["alternative"]))
    return chosen


def together(row: dict[str, int], cluster: str) -> str:
    """How many of one dataset's images share ``cluster``: "all 100", "none" or "71"."""
    n = row[cluster]
    return f"all {count(n)}" if n == sum(row.values()) else ("none" if n == 0 else count(n))


def placement(name: str, summary: dict) -> list[str]:
    """Sentences on where each half of the visualization images went, from the confusion counts.

    Cluster 0 is matched with dataset A and 1 with B, unless the swap agrees with more images
    (the accuracy is the better of the two matchings).
    """
    conf = {half: {c: int(summary["visualization_confusion"][half][c]) for c in "01"} for half in "AB"}
    agree = conf["A"]["0"] + conf["B"]["1"]
    total = sum(conf["A"].values()) + sum(conf["B"].values())
    home = {"A": "0", "B": "1"} if 2 * agree >= total else {"A": "1", "B": "0"}
    words = {"A": "dataset A (the first half)", "B": "dataset B (the second half)"}
    other = {"A": "B", "B": "A"}
    sentences = [f"**{name}**: cluster {home['A']} is matched with dataset A and cluster {home['B']} "
                 f"with dataset B{'' if home['A'] == '0' else ' (the swap agrees with more images)'}."]
    wrong = 0
    for half in "AB":
        size, stay = sum(conf[half].values()), conf[half][home[half]]
        away_cluster = home[other[half]]
        away = conf[half][away_cluster]
        wrong += away
        if away == 0:
            sentences.append(f"All {count(size)} images of {words[half]} are in cluster {home[half]}.")
        else:
            sentences.append(
                f"{count(away)} of the {count(size)} images of {words[half]} were put in cluster "
                f"{away_cluster} with {together(conf[other[half]], away_cluster)} of dataset "
                f"{other[half]}; {count(stay)} are in cluster {home[half]}.")
    for c in "01":
        members = conf["A"][c] + conf["B"][c]
        if 10 * members >= 9 * total:
            sentences.append(f"Cluster {c} holds {count(members)} of the {count(total)} images: "
                             f"the method has all but collapsed to one cluster.")
    sentences.append(f"In all, {count(wrong)} of the {count(total)} images are on the wrong side, hence "
                     f"the accuracy of {accuracy(summary['visualization_accuracy'])}.")
    return sentences


def document(report: Report) -> list:
    """The report as blocks, the same for HTML and Markdown."""
    p, e, c = report.params, report.eigenfaces, report.cluster
    prep, arch = report.prepare, report.architecture
    shares, variances = e["share_percent"], e["variance_percent"]
    k = e.get("k", len(shares))
    half = prep["visualization_images"] // 2
    date = report.generated.isoformat()
    blocks: list = [
        Heading(1, "HW7 · Unsupervised learning and dimension reduction"),
        Para(f"NTU ML 2019 Spring. The report of one `dvc repro` run, generated on {date} (UTC). "
             f"Every number below is read from this run's metrics, plots and `params.yaml`.", note=True),
        Heading(2, "What was run", "run"),
        Table(["Item", "Value"], [
            ["Data folder", f"`{p['data']['dir']}` (`data.dir`)"],
            ["Images", count(prep["images"])],
            ["Test pairs", count(prep["pairs"])],
            ["Visualization images", f"{count(prep['visualization_images'])} "
                                     f"({count(half)} of dataset A, then {count(half)} of dataset B)"],
            ["Face folder", f"`{p['eigenfaces'].get('dir', '?')}` (`eigenfaces.dir`)"
             + (f": {count(e['images'])} faces" if "images" in e else "")
             + (f" of {e['height']} × {e['width']} pixels" if {"height", "width"} <= e.keys() else "")],
            ["Seed", f"`{yaml_value(p['seed'])}` (`seed`)"],
            *[[f"Parameters `{section}`",
               " · ".join(f"`{key}: {yaml_value(value)}`" for key, value in p[section].items()) or "—"]
              for section in PARAM_SECTIONS],
            ["Generated", f"{date} (UTC)"],
        ], "ll", caption="The inputs and parameters of this run (`params.yaml`)."),
    ]

    faces = f"{count(e['images'])} face images" if "images" in e else "face images"
    blocks += [
        Heading(2, "Part 1 · Eigenfaces", "part1", new_page=True),
        Para(f"A PCA of the {faces} of `{p['eigenfaces'].get('dir', '?')}`: each image is flattened "
             f"to one row of pixel values (RGB) and the mean face is subtracted before the singular "
             f"value decomposition; the eigenfaces are the right singular vectors."),
        Heading(3, "1a · The mean face", "1a"),
        Fig("mean_face", f"The mean of the {faces}."),
        Heading(3, f"1b · The top {k} eigenfaces", "1b"),
        Fig("eigenfaces", f"The top {k} eigenfaces, largest singular value first, each stretched to "
                          f"the full grey range for display; titles give each one's share sᵢ / Σs."),
        Heading(3, f"1c · Faces rebuilt from the top {k} eigenfaces", "1c"),
        Fig("face_reconstructions", "Each face above its reconstruction: the mean face plus its "
                                    f"projection on the top {k} eigenfaces."),
    ]
    rmse = e.get("reconstruction_rmse")
    if isinstance(rmse, dict) and rmse:
        blocks.append(Table(["Face", "RMSE (pixel values 0–255)"],
                            [[f"`{name}`", f"{value:.1f}"] for name, value in rmse.items()], "lr",
                            caption="Root-mean-square difference between each face and its reconstruction."))
    blocks += [
        Heading(3, f"1d · The share of each of the top {k} eigenfaces", "1d"),
        Para("With sᵢ the singular values of the mean-subtracted data matrix (Σ runs over all of "
             "them), the course's share of eigenface i is sᵢ / Σs. The share of the variance it "
             "explains, sᵢ² / Σs², is given beside it."),
        Table(["Eigenface", "Share sᵢ / Σs", "Variance sᵢ² / Σs²"],
              [[str(rank), percent(shares[rank]), percent(variances[rank])] for rank in shares], "lrr",
              foot=[f"top {len(shares)} together", percent(sum(shares.values())),
                    percent(sum(variances.values()))],
              caption="Shares in percent, one decimal."),
    ]

    v = count(prep["visualization_images"])
    whiten = " (whitened)" if p["pca"].get("whiten") else ""
    blocks += [
        Heading(2, "Part 2 · Image clustering", "part2", new_page=True),
        Para(f"Each of the {count(prep['images'])} images is described twice: by the code of a "
             f"convolutional autoencoder and by a histogram of oriented gradients (HOG). A PCA"
             f"{whiten} reduces each, then both side by side, to {report.reduce['dims']} dimensions "
             f"(keeping {percent(report.reduce['explained_variance_percent'])} of the variance of the "
             f"two side by side), and the images are split into two clusters there. Self-training "
             f"then refines the clusters (2b). A test pair is labelled 1 (same dataset) when both "
             f"images end in the same cluster: {percent(100 * report.predict['share_same'])} of the "
             f"{count(report.predict['pairs'])} pairs were."),
        Heading(3, "2a · Two methods compared", "2a"),
        Para(f"Reconstruction loss of the autoencoder on the {v} visualization images: "
             f"**{loss(report.embed['reconstruction_loss'])}** (mean squared error, pixels scaled "
             f"to [0, 1])"
             + (f"; final training loss {loss(report.embed['final_training_loss'])}."
                if isinstance(report.embed.get("final_training_loss"), (int, float)) else ".")),
        Para(f"Both methods cluster the same features, {features(report)}, and differ in the "
             f"last step:"),
        Table(["Method", "Clustering", "Accuracy", "Cluster sizes"],
              [[f"`{s['method']}` ({role})", describe_method(report, s["method"]),
                accuracy(s["visualization_accuracy"]),
                f"{count(s['cluster_sizes']['0'])} / {count(s['cluster_sizes']['1'])}"]
               for role, s in methods(report)], "llrr",
              caption=f"Accuracy: the share of the {v} visualization images whose cluster matches "
                      f"their dataset, under the better matching of clusters to datasets (50 % is "
                      f"what a coin toss gets). Cluster sizes: images in cluster 0 / cluster 1."),
    ]
    if "alternative" in c:
        first, second = c, c["alternative"]
        if first["visualization_accuracy"] == second["visualization_accuracy"]:
            verdict = "Both methods reach the same accuracy on this run."
        else:
            best, worst = sorted((first, second), key=lambda s: -s["visualization_accuracy"])
            verdict = (f"On this run `{best['method']}` separates the two datasets better than "
                       f"`{worst['method']}` ({accuracy(best['visualization_accuracy'])} against "
                       f"{accuracy(worst['visualization_accuracy'])}).")
        blocks.append(Para(verdict))
    else:
        blocks.append(Para("Set `cluster.alternative` in `params.yaml` to compare a second method.",
                           note=True))

    rounds = p.get("refine", {}).get("rounds")
    blocks += [
        Heading(3, "2b · Self-training", "2b-refine"),
        Para(f"Starting from the clusters above, each round trains a small CNN on the current "
             f"labels (cross-fitted: every image is scored by a model that never saw its label) and "
             f"a logistic regression on the PCA features; the sum of their scores, each in units of "
             f"its spread, labels every image anew"
             + (f" ({rounds} rounds in this run)." if isinstance(rounds, int) else ".")
             + f" The final labels, used for the submission, put "
             f"**{accuracy(report.refine['visualization_accuracy'])}** of the visualization images "
             f"in the right cluster."),
        Table(["Step", "CNN alone", "Linear alone", "Both (the labels)", "Images relabelled"],
              self_training(report), "lrrrr",
              caption=f"Accuracy on the {v} visualization images after each step."),
    ]
    blocks += [
        Heading(3, "2c · The visualization images in 2-D", "2b"),
        Fig("visualization_2d", f"The {v} visualization images after the PCA, seen along the line "
                                f"between the two predicted cluster means (x) and the main remaining "
                                f"direction (y); left coloured by dataset, right by the final "
                                f"labels (after self-training). Circled points disagree with the truth."),
        Table(["Method", "Dataset", "In cluster 0", "In cluster 1"],
              [[f"`{s['method']}`", f"{half_name} ({'first' if half_name == 'A' else 'second'} half)",
                count(s["visualization_confusion"][half_name]["0"]),
                count(s["visualization_confusion"][half_name]["1"])]
               for _, s in methods(report) for half_name in "AB"], "llrr",
              caption="Where the visualization images of each dataset went."),
    ]
    blocks += [Para(" ".join(placement(s["method"], s))) for _, s in methods(report)]

    total = arch.get("total_params", sum(int(row["params"]) for row in arch["layers"]))
    embed = p["embed"]
    training = [f"Loss: {arch['loss']}"]
    if "optimizer" in arch:
        training.append(f"optimizer: {arch['optimizer']}")
    if "epochs" in embed:
        training.append(f"{embed['epochs']} epochs" + (f" in batches of {embed['batch_size']}"
                                                       if "batch_size" in embed else ""))
    if "train_images" in report.embed:
        training.append(f"trained on {count(report.embed['train_images'])} images"
                        + (" and their horizontal flips" if embed.get("flip") else ""))
    sizes = f"{count(total)} parameters"
    if isinstance(arch.get("encoder_params"), int):
        sizes += (f": {count(arch['encoder_params'])} in the encoder (image → code) and "
                  f"{count(total - arch['encoder_params'])} in the decoder")
    blocks += [
        Heading(3, "2d · The autoencoder", "2c"),
        Para("; ".join(training) + f". {sizes}."),
        Table(["Layer", "Type", "Output shape", "Parameters"],
              [[f"`{row['name']}`", row["type"], shape(row.get("output_shape")), count(row["params"])]
               for row in arch["layers"]], "lllr", foot=["total", "", "", count(total)],
              caption="The layers, input to output (None is the batch dimension)."),
        Fig("reconstructions", "Visualization images and their autoencoder reconstructions: rows "
                               "alternate originals and reconstructions, dataset A above, B below."),
        Fig("training_loss", "The autoencoder's training loss (mean squared error) per epoch."),
    ]
    return blocks


# ------------------------------------------------------------------------------------- rendering
CODE_SPAN = re.compile(r"`([^`]*)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --head: #8c959f; --tint: #f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
        "Liberation Sans", Arial, sans-serif; }
main { max-width: 50rem; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; }
h1, h2, h3 { line-height: 1.25; font-weight: 600; }
h1 { font-size: 1.9em; margin: 0 0 .5rem; }
h2 { font-size: 1.45em; margin: 2.75rem 0 1rem; padding-bottom: .3rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.12em; margin: 2rem 0 .6rem; }
p { margin: .6rem 0; }
p.note { color: var(--muted); font-size: .92em; }
code { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: .86em; background: var(--tint); padding: .05em .25em; border-radius: 4px; }
table { border-collapse: collapse; margin: 1rem 0 1.5rem; font-size: .93em;
  font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .8rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th:first-child, td:first-child { padding-left: 0; }
thead th { border-bottom: 1.5px solid var(--head); font-weight: 600; }
tfoot td { border-top: 1.5px solid var(--head); border-bottom: 0; font-weight: 600; }
.r { text-align: right; white-space: nowrap; }
td code { white-space: nowrap; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: .92em;
  padding-top: .45rem; }
figure { margin: 1.5rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: .88em; margin-top: .6rem; }
figure, table, tr, .keep { break-inside: avoid; page-break-inside: avoid; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
@media print {
  @page { size: A4; margin: 15mm 16mm; }
  body { font-size: 10pt; }
  th, td { padding-top: .2rem; padding-bottom: .2rem; }
  main { max-width: none; padding: 0; }
  .new-page { break-before: page; page-break-before: always; }
  .new-page > h2 { margin-top: 0; }
  figure img { max-height: 150mm; width: auto; }
  code { background: none; padding: 0; }
}
""".strip()


def _inline_html(text: str) -> str:
    parts = CODE_SPAN.split(text)  # even indexes: prose; odd: code
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{html.escape(part)}</code>")
        else:
            out.append(BOLD.sub(r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def _cells(tag: str, cells: list[str], align: str) -> str:
    right = ' class="r"'
    return "<tr>" + "".join(f"<{tag}{right if a == 'r' else ''}>{_inline_html(cell)}</{tag}>"
                            for cell, a in zip(cells, align)) + "</tr>"


NOTE = ' class="note"'


def _html_block(block, report: Report) -> str:
    if isinstance(block, Heading):
        anchor = f' id="{block.anchor}"' if block.anchor else ""
        return f"<h{block.level}{anchor}>{_inline_html(block.text)}</h{block.level}>"
    if isinstance(block, Para):
        return f"<p{NOTE if block.note else ''}>{_inline_html(block.text)}</p>"
    if isinstance(block, Table):
        rows = ["<table>"]
        if block.caption:
            rows.append(f"<caption>{_inline_html(block.caption)}</caption>")
        rows.append(f"<thead>{_cells('th', block.head, block.align)}</thead>\n<tbody>")
        rows += [_cells("td", row, block.align) for row in block.rows]
        rows.append("</tbody>")
        if block.foot:
            rows.append(f"<tfoot>{_cells('td', block.foot, block.align)}</tfoot>")
        return "\n".join(rows + ["</table>"])
    figure = report.figures[block.key]
    uri = "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")
    return (f'<figure><img src="{uri}" alt="{html.escape(figure.alt)}" width="{figure.width}" '
            f'height="{figure.height}">\n<figcaption>{_inline_html(block.caption)}</figcaption></figure>')


def render_html(report: Report) -> str:
    """One self-contained HTML page: inline CSS, pictures as data: URIs, no links to other files.

    For print, each heading is kept on one page with what follows it up to its first table or
    figure (a ``div.keep``), and the parts start on new pages.
    """
    body, group = [], None
    for block in document(report):
        if isinstance(block, Heading):
            if group is not None:
                body.append("</div>")
            group = "keep new-page" if block.new_page else "keep"
            body.append(f'<div class="{group}">')
        body.append(_html_block(block, report))
        if group is not None and isinstance(block, (Table, Fig)):
            body.append("</div>")
            group = None
    if group is not None:
        body.append("</div>")
    title = "HW7 report · " + report.generated.isoformat()
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, directory: str = "reports") -> str:
    """The same report in GitHub Markdown; pictures linked relative to ``directory`` (where it is saved)."""
    out = []
    for block in document(report):
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Para):
            out.append(f"*{block.text}*" if block.note else block.text)
        elif isinstance(block, Table):
            marks = ["---:" if a == "r" else "---" for a in block.align]
            lines = ["| " + " | ".join(_md_cell(c) for c in block.head) + " |",
                     "| " + " | ".join(marks) + " |"]
            rows = block.rows + ([[f"**{c}**" if c else "" for c in block.foot]] if block.foot else [])
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            if block.caption:
                lines.append("\n*" + block.caption + "*")
            out.append("\n".join(lines))
        elif isinstance(block, Fig):
            figure = report.figures[block.key]
            link = posixpath.relpath(figure.path, directory)
            out.append(f"![{figure.alt}]({link})\n\n*{block.caption}*")
    return "\n\n".join(out) + "\n"
