"""The `report` stage: every number it shows comes from the run's files, the HTML is self-contained.

A fake run (metrics with distinctive numbers, tiny PNGs, params.yaml) is built in tmp_path; the
core (pipeline.lib.report.content) and the stage script (python -m pipeline.stages.report) are run on it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from PIL import Image

from pipeline.lib import paths
from pipeline.lib.report import content, formatting
from pipeline.lib.errors import InputError
from pipeline.lib.report import origin as origin_module
from pipeline.lib.report import render as render_module
from pipeline.lib.report.origin import ABSENT

REPO = Path(__file__).resolve().parents[2]
EPOCH, EPOCH_DATE = "1600000000", "2020-09-13"  # SOURCE_DATE_EPOCH and its UTC date
TODAY = dt.date(2021, 3, 4)

PARAMS = {
    "seed": 4242,
    "demo": {"pairs": 5},
    "data": {"dir": "inputs/competition"},
    "embed": {"model": "conv_ae", "filters": [24, 48], "code_size": 77, "epochs": 13, "batch_size": 96,
              "learning_rate": 0.0007, "flip": False, "train_samples": None, "distribution": "auto"},
    "hog": {"orientations": 7, "cell": 5, "block": 3},
    "patches": {"size": 5, "atoms": 19, "pooling": 3, "samples": 1234, "stride": 1},
    "selftrain": {"code_dims": 21, "hog_dims": 22, "patch_dims": 23, "dims": 24, "folds": 3, "linear_c": 0.033,
                  "filters": [12, 14], "epochs": 17, "batch_size": 66, "learning_rate": 0.0021,
                  "train_samples": None, "min_images": 1500},
    "pca": {"views": ["codes", "hog", "patches", "selftrain"], "code_dims": 29, "hog_dims": 31, "patch_dims": 32,
            "selftrain_dims": 1, "dims": 37, "whiten": True, "min_images_per_dim": 50,
            "min_images_per_joint_dim": 75, "incremental": "auto", "weights": {"selftrain": 1.75}},
    "cluster": {"method": "kmeans", "alternative": "gmm", "n_init": 11, "minibatch": False},
    "plot": {"projection": "tsne"},
    "eigenfaces": {"dir": "inputs/faces", "k": 4, "rebuild": ["face_a.png", "face_b.png"]},
}
METRICS = {
    "data/prepared/summary.json": {"images": 4321, "pairs": 98765, "visualization_images": 246},
    "data/embed/summary.json": {"reconstruction_loss": 0.0123456789, "final_training_loss": 0.00987654,
                           "train_images": 3210, "code_size": 77},
    "data/views/summary.json": {"dims": 260, "views": {
        "codes": {"dims": 77, "explained_variance_percent": 91.5, "weight": 1.0},
        "hog": {"dims": 91, "explained_variance_percent": 70.25},  # written before pca.weights: 1
        "patches": {"dims": 91, "explained_variance_percent": 80.5, "weight": 1.0},
        "selftrain": {"dims": 1, "explained_variance_percent": 99.0, "weight": 1.75}}},
    "data/reduce/summary.json": {"dims": 37, "explained_variance_percent": 87.654321},
    "data/predict/summary.json": {"pair_accuracy": 0.8765432, "pair_accuracy_low": 0.8512345,
                                  "pair_accuracy_high": 0.8898765, "pair_accuracy_coverage": 0.95, "pairs": 98765, "share_same": 0.41234},
    "data/cluster/summary.json": {
        "method": "kmeans", "visualization_accuracy": 183 / 246,
        "cluster_sizes": {"0": 2101, "1": 2220},
        "visualization_confusion": {"A": {"0": 100, "1": 23}, "B": {"0": 40, "1": 83}},
        "alternative": {
            "method": "gmm", "visualization_accuracy": 139 / 246,
            "cluster_sizes": {"0": 3011, "1": 1310},
            "visualization_confusion": {"A": {"0": 86, "1": 37}, "B": {"0": 70, "1": 53}},
        },
    },
    "data/selftrain/summary.json": {
        "bootstrap_visualization_accuracy": 171 / 246, "linear_visualization_accuracy": 178 / 246,
        "cnn_visualization_accuracy": 167 / 246, "pseudo_label_share": {"0": 0.48, "1": 0.52}, "folds": 3,
        "bootstrap_agreement": {"codes": 0.9612345, "hog": 0.97, "patches": 0.5}, "bootstrap_trusted": True,
    },
    "data/eigenfaces/summary.json": {
        "images": 415, "height": 61, "width": 57, "k": 4,
        "share_percent": {"1": 12.345678, "2": 7.891011, "3": 4.4449, "4": 3.15},
        "variance_percent": {"1": 20.987654, "2": 11.111, "3": 6.06, "4": 2.96},
        "rebuilt": ["face_a.png", "face_b.png"],
        "reconstruction_rmse": {"face_a.png": 17.654, "face_b.png": 23.456},
    },
    "data/embed/architecture.json": {
        "loss": "mean squared error (pixels scaled to [0, 1])",
        "optimizer": "Adam (learning rate 0.0007)",
        "total_params": 23016,
        "encoder_params": 13017,
        "layers": [
            {"name": "image", "type": "InputLayer", "output_shape": [None, 32, 32, 3], "params": 0},
            {"name": "conv1", "type": "Conv2D", "output_shape": [None, 16, 16, 24], "params": 672},
            {"name": "code", "type": "Dense", "output_shape": [None, 77], "params": 12345},
            {"name": "pixels", "type": "Conv2DTranspose", "output_shape": [None, 32, 32, 3],
             "params": 9999},
        ],
    },
}
PNGS = {  # path → (width, height): each a different size, to check the sizes in the HTML
    "plots/eigenfaces/mean_face.png": (31, 37),
    "plots/eigenfaces/eigenfaces.png": (120, 30),
    "plots/eigenfaces/reconstructions.png": (60, 44),
    "plots/visualization_2d.png": (90, 40),
    "plots/mistakes.png": (70, 24),
    "plots/reconstructions.png": (64, 16),
    "plots/training_loss.png": (48, 32),
}


def make_run(root: Path, metrics: dict | None = None, params: dict | None = None) -> Path:
    """Write a fake run's params.yaml, metrics, architecture and plots under ``root``."""
    (root / "params.yaml").write_text(yaml.safe_dump(params or PARAMS, sort_keys=False))
    for name, data in (metrics or METRICS).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(data, indent=2))
    for i, (name, size) in enumerate(PNGS.items()):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (40 * i, 255 - 30 * i, 90)).save(root / name)
    return root


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def run_stage(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run([sys.executable, "-m", "pipeline.stages.report"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def render(root: Path) -> tuple[str, str]:
    report = content.gather(root, today=TODAY)
    return content.render_html(report), content.render_markdown(report)


# ------------------------------------------------------------------------------------ parsing
class Tables(HTMLParser):
    """The tables of an HTML page: [{"caption": str, "rows": [[cell text, …], …]}]."""

    def __init__(self, page: str):
        super().__init__()
        self.tables, self.cell, self.in_caption = [], None, False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "caption":
            self.in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1]["rows"][-1].append(self.cell.strip())
            self.cell = None
        elif tag == "caption":
            self.in_caption = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        elif self.in_caption:
            self.tables[-1]["caption"] += data


def table(page: str, *header: str) -> list[list[str]]:
    """The rows (header first) of the one table whose header starts with the cells ``header``."""
    found = [t["rows"] for t in Tables(page).tables if tuple(t["rows"][0][:len(header)]) == header]
    assert len(found) == 1, f"expected one table headed {header}, found {len(found)}"
    return found[0]


def visible_text(page: str) -> str:
    page = re.sub(r"<style.*?</style>|<title.*?</title>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# The seed report's figures as it published them, and the numbers of its methods and loss
# (PCA 48, PCA to 2, BCE × 1024 + KL): the report shows them whatever the run.
PUBLISHED = {"97.22", "0.95375", "578.9316", "0.50087", "48", "2", "1024"}
NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)")


def numbers_in(text: str) -> list[str]:
    return [n.replace(",", "") for n in NUMBER.findall(text)]


def allowed_numbers(params: dict, metrics: dict) -> set[str]:
    """Every number the report may show, formatted as the report rounds it, computed here
    independently from the inputs (plus a few words of the course's: part 0/1/2, 0–255, 50 %,
    and the seed report's published figures and method: PUBLISHED)."""
    ok = {"0", "1", "2", "50", "255", "2019"} | PUBLISHED

    def harvest(value):
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, (int, float)):
            ok.add(str(value))
        elif isinstance(value, str):
            ok.update(numbers_in(value))
        elif isinstance(value, dict):
            for v in value.values():
                harvest(v)
        elif isinstance(value, list):
            for v in value:
                harvest(v)

    harvest({key: params[key] for key in ("seed", "data", "embed", "hog", "patches", "selftrain", "pca",
                                          "cluster", "plot", "eigenfaces") if key in params})
    prepare, embed = metrics["data/prepared/summary.json"], metrics["data/embed/summary.json"]
    harvest(prepare)
    ok.add(str(prepare["visualization_images"] // 2))
    ok |= {f"{embed[key]:.4g}" for key in ("reconstruction_loss", "final_training_loss") if key in embed}
    ok |= {str(embed[key]) for key in ("train_images", "code_size") if key in embed}
    reduce = metrics["data/reduce/summary.json"]
    ok |= {str(reduce["dims"]), f"{reduce['explained_variance_percent']:.1f}"}
    ok |= {f"{view['weight']:g}" for view in metrics["data/views/summary.json"]["views"].values() if "weight" in view}
    predict = metrics["data/predict/summary.json"]
    ok |= {str(predict["pairs"]), f"{100 * predict['share_same']:.1f}",
           f"{predict['pair_accuracy']:.5f}"}  # as Kaggle shows a score, wherever the report shows it
    ok |= {f"{predict[key]:.5f}" for key in ("pair_accuracy_low", "pair_accuracy_high") if key in predict}
    if "pair_accuracy_coverage" in predict:
        ok.add(f"{100 * predict['pair_accuracy_coverage']:.0f}")
    if "report_units_loss" in embed:
        ok.add(f"{embed['report_units_loss']:.4f}")  # as the seed report gives it
    cluster = metrics["data/cluster/summary.json"]
    for summary in (cluster, cluster.get("alternative")):
        if summary:
            ok.add(f"{100 * summary['visualization_accuracy']:.2f}")
            harvest(summary["cluster_sizes"])
            conf = summary["visualization_confusion"]
            harvest(conf)
            ok |= {str(conf["A"][a] + conf["B"][b]) for a in "01" for b in "01"}  # per cluster, wrong
            ok |= {str(sum(conf[h].values())) for h in "AB"}  # the size of each half
            ok.add(str(sum(sum(conf[h].values()) for h in "AB")))  # all visualization images
    selftrain = metrics["data/selftrain/summary.json"]
    ok |= {f"{100 * value:.2f}" for value in selftrain.get("bootstrap_agreement", {}).values()}
    ok |= {f"{100 * value:.1f}" for value in selftrain["pseudo_label_share"].values()}  # the smaller cluster
    ok |= {f"{100 * selftrain[key]:.2f}" for key in ("bootstrap_visualization_accuracy",
                                                      "linear_visualization_accuracy",
                                                      "cnn_visualization_accuracy") if selftrain.get(key) is not None}
    ok.add(str(selftrain["folds"]))
    eigen = metrics["data/eigenfaces/summary.json"]
    ok |= {str(eigen[key]) for key in ("images", "height", "width", "k") if key in eigen}
    for key in ("share_percent", "variance_percent"):
        ok |= set(eigen[key]) | {f"{v:.1f}" for v in eigen[key].values()}
        ok.add(f"{sum(eigen[key].values()):.1f}")
    ok.add(str(len(eigen["share_percent"])))
    ok |= {f"{v:.1f}" for v in eigen.get("reconstruction_rmse", {}).values()}
    arch = metrics["data/embed/architecture.json"]
    harvest(arch)
    ok.add(str(arch["total_params"] - arch["encoder_params"]))
    return ok


# -------------------------------------------------------------------------------------- tests
def test_stage_writes_html_and_markdown(run_dir: Path):
    done = run_stage(run_dir)
    assert done.returncode == 0, done.stderr
    page = (run_dir / paths.REPORT_HTML).read_text()
    markdown = (run_dir / paths.REPORT_MD).read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert f"generated on {EPOCH_DATE} (UTC)" in visible_text(page)
    assert f"generated on {EPOCH_DATE} (UTC)" in markdown
    assert "<style>" in page and "@media print" in page and "break-inside: avoid" in page
    # Same inputs and date → same bytes.
    assert run_stage(run_dir).returncode == 0
    assert (run_dir / paths.REPORT_HTML).read_text() == page


def test_every_number_shown_comes_from_the_inputs(run_dir: Path):
    page, markdown = render(run_dir)
    ok = allowed_numbers(PARAMS, METRICS)
    date = TODAY.isoformat()
    for name, text in (("html", visible_text(page)), ("markdown", markdown)):
        text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text).replace(date, " ")
        shown = numbers_in(text)
        assert len(shown) > 100, name
        assert sorted(set(shown) - ok) == [], f"{name} shows numbers not from this run's files"
    # And the distinctive numbers are really there, rounded as documented.
    text = visible_text(page)
    for expected in ("4,321", "98,765", "74.39 %", "56.50 %", "0.01235", "0.009877", "87.7 %", "41.2 %",
                     "12.3 %", "21.0 %", "4,321", "3,210", "9,999", "23,016", "13,017", "9,999"):
        assert expected in text, expected


def test_shares_table_is_rounded_to_one_decimal(run_dir: Path):
    page, markdown = render(run_dir)
    rows = table(page, "Eigenface")
    eigen = METRICS["data/eigenfaces/summary.json"]
    body, foot = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == list(eigen["share_percent"])
    for rank, share, variance in body:
        assert share == f"{eigen['share_percent'][rank]:.1f} %"
        assert variance == f"{eigen['variance_percent'][rank]:.1f} %"
        assert abs(float(share.rstrip(" %")) - eigen["share_percent"][rank]) <= 0.05
    assert "Σs²" in rows[0][2] and "Σs" in rows[0][1]  # the two ratios are labelled
    assert foot[1] == f"{sum(eigen['share_percent'].values()):.1f} %"
    assert foot[2] == f"{sum(eigen['variance_percent'].values()):.1f} %"
    # The Markdown table says the same.
    for rank, share, variance in body:
        assert f"| {rank} | {share} | {variance} |" in markdown


def test_header_shows_counts_params_and_date(run_dir: Path):
    page, _ = render(run_dir)
    rows = dict(r for r in table(page, "Item")[1:])
    prepare = METRICS["data/prepared/summary.json"]
    assert rows["Data folder"].startswith(PARAMS["data"]["dir"])
    assert rows["Images"] == f"{prepare['images']:,}"
    assert rows["Test pairs"] == f"{prepare['pairs']:,}"
    assert rows["Visualization images"].startswith(f"{prepare['visualization_images']:,} (123 of dataset A")
    assert rows["Seed"].startswith(str(PARAMS["seed"]))
    assert rows["Generated"] == f"{TODAY.isoformat()} (UTC)"
    for section in ("embed", "pca", "cluster", "eigenfaces"):
        shown = rows[f"Parameters {section}"]
        for key, value in PARAMS[section].items():
            assert f"{key}: {formatting.yaml_value(value)}" in shown
    assert "learning_rate: 0.0007" in rows["Parameters embed"]
    assert "rebuild: [face_a.png, face_b.png]" in rows["Parameters eigenfaces"]


def test_methods_and_confusion_match_cluster_json(run_dir: Path):
    page, _ = render(run_dir)
    cluster = METRICS["data/cluster/summary.json"]
    summaries = [cluster, cluster["alternative"]]
    methods, confusion = table(page, "Method", "Clustering"), table(page, "Method", "Dataset")
    assert [r[0].split()[0] for r in methods[1:]] == ["kmeans", "gmm"]
    for row, summary in zip(methods[1:], summaries):
        assert row[2] == f"{100 * summary['visualization_accuracy']:.2f} %"
        sizes = summary["cluster_sizes"]
        assert row[3] == f"{sizes['0']:,} / {sizes['1']:,}"
    assert "k-means" in methods[1][1] and "checked by 11 restarts" in methods[1][1]
    assert "Gaussian mixture" in methods[2][1]
    expected = [[s["method"], f"{half} ({'first' if half == 'A' else 'second'} half)",
                 str(s["visualization_confusion"][half]["0"]), str(s["visualization_confusion"][half]["1"])]
                for s in summaries for half in "AB"]
    assert confusion[1:] == expected
    text = " ".join(visible_text(page).split())
    assert ("40 of the 123 images of dataset B (the second half) were put in cluster 0 with 100 of "
            "dataset A") in text
    assert ("23 of the 123 images of dataset A (the first half) were put in cluster 1 with 83 of "
            "dataset B") in text
    assert "In all, 63 of the 246 images are on the wrong side, hence the accuracy of 74.39 %" in text
    assert "gmm separates the two datasets better" not in text
    assert "kmeans separates the two datasets better than gmm (74.39 % against 56.50 %)" in text
    assert ("autoencoder codes (77 values), HOG, patch-dictionary descriptors and self-trained scores → a PCA "
            "(whitened) of each, then of all side by side, to 37 dimensions") in text
    assert "Self-training" in text and "69.51 %" in text and "67.89 %" in text  # bootstrap 171/246, CNN 167/246
    assert "the pair accuracy Kaggle should score is 0.87654" in text
    assert "87.65" not in text  # one format per figure: the pair accuracy is a score everywhere
    assert "0.01235" in text and "final training loss 0.009877" in text


def test_layer_table_matches_architecture(run_dir: Path):
    page, _ = render(run_dir)
    rows = table(page, "Layer")
    arch = METRICS["data/embed/architecture.json"]
    assert rows[0] == ["Layer", "Type", "Output shape", "Parameters"]
    for row, layer in zip(rows[1:-1], arch["layers"], strict=True):
        dims = ", ".join("None" if d is None else str(d) for d in layer["output_shape"])
        assert row == [layer["name"], layer["type"], f"({dims})", f"{layer['params']:,}"]
    assert rows[-1][-1] == f"{arch['total_params']:,}"
    text = " ".join(visible_text(page).split())
    assert arch["loss"] in text and arch["optimizer"] in text
    assert "13,017 in the encoder (image → code) and 9,999 in the decoder" in text


def test_html_embeds_every_picture_and_links_no_file(run_dir: Path):
    page, _ = render(run_dir)
    targets = re.findall(r"""(?:src|href|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)""", page, flags=re.I)
    assert targets and all(t.startswith("data:") for t in targets), [t[:40] for t in targets]
    assert "url(" not in page and "@import" not in page and "<link" not in page and "<script" not in page
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*width="(\d+)" height="(\d+)"', page)
    assert len(images) == len(PNGS)
    for (encoded, width, height), (name, size) in zip(images, PNGS.items(), strict=True):
        assert base64.b64decode(encoded) == (run_dir / name).read_bytes(), name
        assert (int(width), int(height)) == size
    assert page.count("<figcaption>") == len(PNGS)


def test_markdown_links_pictures_relative_to_reports(run_dir: Path):
    _, markdown = render(run_dir)
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", markdown)
    assert sorted(links) == sorted(f"../{name}" for name in PNGS)
    assert all((run_dir / "reports" / link).resolve().is_file() for link in links)
    assert "data:" not in markdown and "<img" not in markdown


@pytest.mark.parametrize("name", [*METRICS, *PNGS, "params.yaml"])
def test_missing_input_is_a_one_line_error_naming_it(run_dir: Path, name: str):
    (run_dir / "reports").mkdir()
    (run_dir / paths.REPORT_HTML).write_text("old")
    (run_dir / name).unlink()
    done = run_stage(run_dir)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], done.stderr
    assert (run_dir / paths.REPORT_HTML).read_text() == "old"  # nothing half-written
    assert not (run_dir / paths.REPORT_MD).exists()


@pytest.mark.parametrize("key", ["share_percent", "variance_percent"])
def test_eigenfaces_shares_are_required(tmp_path: Path, key: str):
    metrics = json.loads(json.dumps(METRICS))
    del metrics["data/eigenfaces/summary.json"][key]
    make_run(tmp_path, metrics)
    with pytest.raises(InputError, match=rf"data/eigenfaces/summary.json: expected a key '{key}'"):
        content.gather(tmp_path, today=TODAY)


def test_bad_numbers_are_named(tmp_path: Path):
    metrics = json.loads(json.dumps(METRICS))
    metrics["data/cluster/summary.json"]["alternative"]["visualization_accuracy"] = "high"
    make_run(tmp_path, metrics)
    with pytest.raises(InputError, match=r"data/cluster/summary.json: 'alternative.visualization_accuracy'"):
        content.gather(tmp_path, today=TODAY)
    (tmp_path / paths.CLUSTER_SUMMARY).write_text("{not json")
    with pytest.raises(InputError, match=r"data/cluster/summary.json: expected JSON"):
        content.gather(tmp_path, today=TODAY)


def test_optional_keys_may_be_missing(tmp_path: Path):
    metrics = json.loads(json.dumps(METRICS))
    eigen = metrics["data/eigenfaces/summary.json"]
    metrics["data/eigenfaces/summary.json"] = {k: eigen[k] for k in ("share_percent", "variance_percent")}
    del metrics["data/cluster/summary.json"]["alternative"]
    del metrics["data/embed/summary.json"]["final_training_loss"]
    params = {**PARAMS, "cluster": {**PARAMS["cluster"], "method": "spectral", "alternative": None}}
    metrics["data/cluster/summary.json"]["method"] = "spectral"  # a method this module does not know
    make_run(tmp_path, metrics, params)
    page, markdown = render(tmp_path)
    text = " ".join(visible_text(page).split())
    assert "Set cluster.alternative in params.yaml to compare a second method." in text
    assert table(page, "Method", "Clustering")[1:][0][:2] == ["spectral (cluster.method)", "spectral"]
    assert len(table(page, "Method", "Clustering")) == 2
    assert "1d · The share of each of the top 4 eigenfaces" in text
    assert "RMSE" not in text and "final training loss" not in text
    shown = set(numbers_in(text.replace(TODAY.isoformat(), "")))
    assert sorted(shown - allowed_numbers(params, metrics)) == []


def test_placement_follows_the_better_matching(tmp_path: Path):
    metrics = json.loads(json.dumps(METRICS))
    cluster = metrics["data/cluster/summary.json"]
    cluster["visualization_accuracy"] = 0.65  # swapped: cluster 1 is dataset A
    cluster["visualization_confusion"] = {"A": {"0": 60, "1": 40}, "B": {"0": 90, "1": 10}}
    cluster["alternative"]["visualization_accuracy"] = 0.515  # collapsed into cluster 0
    cluster["alternative"]["visualization_confusion"] = {"A": {"0": 100, "1": 0}, "B": {"0": 97, "1": 3}}
    report = content.gather(make_run(tmp_path, metrics), today=TODAY)
    swapped, collapsed = report.clustering.methods
    assert swapped.swapped and [h.home for h in swapped.halves] == ["1", "0"]
    assert not collapsed.swapped and collapsed.collapsed == [("0", "197")]
    text = " ".join(visible_text(content.render_html(report)).split())
    assert "kmeans : cluster 1 is matched with dataset A and cluster 0 with dataset B (the swap" in text
    assert ("60 of the 100 images of dataset A (the first half) were put in cluster 0 with 90 of "
            "dataset B") in text
    assert "10 of the 100 images of dataset B (the second half) were put in cluster 1" in text
    assert "In all, 70 of the 200 images are on the wrong side, hence the accuracy of 65.00 %" in text
    assert "All 100 images of dataset A (the first half) are in cluster 0." in text
    assert "97 of the 100 images of dataset B (the second half) were put in cluster 0 with all 100" in text
    assert "Cluster 0 holds 197 of the 200 images" in text
    assert "kmeans separates the two datasets better than gmm (65.00 % against 51.50 %)" in text


@pytest.mark.parametrize("name, key", [
    ("data/prepared/summary.json", "visualization_images"), ("data/embed/summary.json", "reconstruction_loss"),
    ("data/reduce/summary.json", "dims"), ("data/predict/summary.json", "share_same"),
    ("data/cluster/summary.json", "visualization_confusion"), ("data/embed/architecture.json", "layers"),
])
def test_required_keys_are_named(tmp_path: Path, name: str, key: str):
    metrics = json.loads(json.dumps(METRICS))
    del metrics[name][key]
    make_run(tmp_path, metrics)
    with pytest.raises(InputError, match=rf"^{re.escape(name)}: expected a key '{key}"):
        content.gather(tmp_path, today=TODAY)


def test_missing_file_is_an_input_error_in_the_core(run_dir: Path):
    (run_dir / paths.PREDICT_SUMMARY).unlink()
    with pytest.raises(InputError, match=r"^data/predict/summary.json: not found: .*stage 'predict'"):
        content.gather(run_dir, today=TODAY)


# ------------------------------------------------------------------- the gathered data
def plain(value) -> bool:
    """Whether ``value`` is plain data: strings, flags, None, and lists, tuples, dicts and
    dataclasses of them."""
    if dataclasses.is_dataclass(value):
        return all(plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    return value is None or isinstance(value, (str, bool))


def test_gather_formats_every_number_once(run_dir: Path):
    report = content.gather(run_dir, today=TODAY)
    assert report.generated == TODAY.isoformat()
    assert plain(dataclasses.replace(report, pictures={}))
    run = report.run
    assert (run.data_dir, run.images, run.pairs, run.visualization_images, run.half, run.seed) == (
        "inputs/competition", "4,321", "98,765", "246", "123", "4242")
    assert run.params["eigenfaces"] == ["dir: inputs/faces", "k: 4", "rebuild: [face_a.png, face_b.png]"]
    assert list(run.params) == ["embed", "hog", "patches", "selftrain", "pca", "cluster", "plot", "eigenfaces"]

    faces = report.faces
    assert (faces.dir, faces.faces, faces.height, faces.width, faces.k) == (
        "inputs/faces", "415", "61", "57", "4")
    assert faces.shares[0] == content.Share("1", "12.3 %", "21.0 %")
    assert faces.shares[3] == content.Share("4", "3.1 %", "3.0 %")  # 3.15 and 2.96, one decimal
    assert (faces.total_share, faces.total_variance) == ("27.8 %", "41.1 %")
    assert faces.rmse == [("face_a.png", "17.7"), ("face_b.png", "23.5")]

    clustering = report.clustering
    kmeans, gmm = clustering.methods
    assert (kmeans.role, kmeans.name, kmeans.accuracy, kmeans.sizes) == (
        "cluster.method", "kmeans", "74.39 %", ("2,101", "2,220"))
    assert (gmm.role, gmm.name, gmm.accuracy) == ("cluster.alternative", "gmm", "56.50 %")
    assert (clustering.better, clustering.worse) == (kmeans, gmm)
    a, b = kmeans.halves
    assert (a.in_clusters, a.home, a.stay, a.away_cluster, a.away, a.joined) == (
        ("100", "23"), "0", "100", "1", "23", "83")
    assert (b.size, b.away, b.joined, b.joined_all) == ("123", "40", "100", False)
    assert (kmeans.wrong, kmeans.total, kmeans.swapped, kmeans.collapsed) == ("63", "246", False, [])
    assert (clustering.dims, clustering.explained_variance, clustering.share_same, clustering.pairs) == (
        "37", "87.7 %", "41.2 %", "98,765")
    assert (clustering.whiten, clustering.code_size, clustering.n_init, clustering.minibatch) == (
        True, "77", "11", False)
    assert clustering.weights == {"selftrain": "1.75"}  # the views weighted 1 go unmentioned
    assert "the self-trained scores weighted ×1.75, `pca.weights`" in content.render_markdown(report)

    assert report.self_training == content.SelfTraining(
        bootstrap="69.51 %", linear="72.36 %", cnn="67.89 %", folds="3", final="74.39 %", pair_accuracy="0.87654",
        pair_interval="0.85123–0.88988, 95 %", agreement={"codes": "96.12 %", "hog": "97.00 %", "patches": "50.00 %"},
        smaller_cluster="48.0 %", trusted=True, resplit=False)

    auto = report.autoencoder
    assert (auto.reconstruction_loss, auto.final_training_loss) == ("0.01235", "0.009877")
    assert (auto.total, auto.encoder, auto.decoder) == ("23,016", "13,017", "9,999")
    assert (auto.epochs, auto.batch_size, auto.train_images, auto.flip) == ("13", "96", "3,210", False)
    assert auto.layers[2] == content.Layer("code", "Dense", "(None, 77)", "12,345")

    assert {key: (p.path, p.width, p.height) for key, p in report.pictures.items()} == {
        key: (path, *PNGS[path]) for key, (path, _) in content.PICTURES.items()}


def test_equal_accuracies_are_a_tie(tmp_path: Path):
    metrics = json.loads(json.dumps(METRICS))
    cluster = metrics["data/cluster/summary.json"]
    cluster["alternative"]["visualization_accuracy"] = cluster["visualization_accuracy"]
    report = content.gather(make_run(tmp_path, metrics), today=TODAY)
    assert report.clustering.better is None and report.clustering.worse is None
    assert "Both methods reach the same accuracy on this run." in content.render_markdown(report)


# ------------------------------------------------------------------------------ escaping
EVIL = "</p><script>alert(1)</script> | *x* `y`"
EVIL_LINES = (EVIL + "\n\n# heading\n| cell | <http://x> [link](http://x) ![i](x.png) <b>b</b> &lt; "
              "_u_ ~~s~~ $m$ \\")


class Elements(HTMLParser):
    """Every element of an HTML page, in order: [(tag, attributes), …]."""

    def __init__(self, page: str):
        super().__init__()
        self.elements = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))


def named_run(root: Path, data_dir: str, name: str) -> Path:
    """The test run with ``data_dir`` as data.dir and ``name`` as every other name from the files."""
    params, metrics = json.loads(json.dumps(PARAMS)), json.loads(json.dumps(METRICS))
    params["data"]["dir"] = data_dir
    params["eigenfaces"]["dir"] = name
    params["eigenfaces"]["rebuild"] = [name, "a|b.png"]
    eigen = metrics["data/eigenfaces/summary.json"]
    eigen["reconstruction_rmse"] = {name: 17.654, "a|b.png": 23.456}
    metrics["data/cluster/summary.json"]["alternative"]["method"] = name
    arch = metrics["data/embed/architecture.json"]
    arch["optimizer"] = name
    arch["layers"][1]["name"] = name
    arch["layers"][1]["type"] = name
    root.mkdir()
    return make_run(root, metrics, params)


def test_text_from_the_files_cannot_add_markup(tmp_path: Path):
    page, markdown = render(named_run(tmp_path / "evil", EVIL, EVIL_LINES))
    plain_page, plain_markdown = render(named_run(tmp_path / "plain", "data", "name"))
    one_line = " ".join(EVIL_LINES.split())
    # The HTML has the same elements, with the same attributes, as with harmless names.
    assert Elements(page).elements == Elements(plain_page).elements
    assert "<script" not in page and "<b>" not in page
    rows = dict(r for r in table(page, "Item")[1:])
    assert rows["Data folder"] == f"{EVIL} (data.dir)"
    assert rows["Face folder"].startswith(f"{one_line} (eigenfaces.dir)")
    assert f"rebuild: [{one_line}, a|b.png]" in rows["Parameters eigenfaces"]
    assert [r[0] for r in table(page, "Face")[1:]] == [one_line, "a|b.png"]
    assert table(page, "Layer")[2][:2] == [one_line, one_line]
    assert [r[0] for r in table(page, "Method", "Clustering")[1:]] == [
        "kmeans (cluster.method)", f"{one_line} (cluster.alternative)"]
    text = " ".join(visible_text(page).split())
    assert f"A PCA of the 415 face images of {one_line} : each image" in text
    assert f"optimizer: {one_line}; 13 epochs" in text
    assert f"better than {one_line} (74.39 %" in text
    # The Markdown has the same lines and tables, each row with its header's cells, and GitHub's
    # rules (as markdown-it implements them) read the names back as they are.
    assert markdown.count("\n") == plain_markdown.count("\n")
    tables = Tables(render_module.MARKDOWN_IT.render(markdown)).tables
    plain_tables = Tables(render_module.MARKDOWN_IT.render(plain_markdown)).tables
    assert [[len(row) for row in t["rows"]] for t in tables] == [
        [len(row) for row in t["rows"]] for t in plain_tables]
    assert dict(r for r in tables[0]["rows"][1:])["Data folder"] == f"{EVIL} (data.dir)"
    assert Elements(render_module.MARKDOWN_IT.render(markdown)).elements == Elements(
        render_module.MARKDOWN_IT.render(plain_markdown)).elements


@pytest.mark.parametrize("text", ["`", "``x``", "a`b", " a ", "a|b", "\\", "x\\|y",
                                  "*_[x](y)<b>&amp;~$#!", "two\nlines", "\x00"])
def test_code_spans_and_text_show_their_text_in_tables_and_prose(text: str):
    shown = " ".join(text.replace("\x00", "\ufffd").split()) if text.strip() else text.strip()
    code, escaped = render_module.code(text), render_module.escape(text)
    markdown = render_module.place_pipes(f"| h | h |\n| --- | --- |\n| {code} | {escaped} |\n\n"
                                         f"{code} and {escaped}\n")
    html_page = render_module.MARKDOWN_IT.render(markdown)
    [[_, cells]] = [t["rows"] for t in Tables(html_page).tables]
    assert cells == [shown, shown]
    prose = re.search(r"<p>(.*)</p>", html_page, flags=re.S).group(1)
    assert html.unescape(re.sub(r"<[^>]+>", "", prose)) == f"{shown} and {shown}"
    assert prose.count("<code>") == (1 if shown else 0) and "<b>" not in html_page


def test_markdown_is_rendered_with_raw_html_off():
    page = render_module.MARKDOWN_IT.render("<script>alert(1)</script>\n\ntext <b>bold</b>\n")
    assert "<script" not in page and "<b>" not in page and "&lt;b&gt;" in page


# ------------------------------------------------------------------------- the seed report
SEED_I = {"embed": {**PARAMS["embed"], "model": "vae"},
          "pca": {**PARAMS["pca"], "views": ["codes"], "code_dims": 48, "dims": 48, "whiten": False},
          "cluster": {**PARAMS["cluster"], "method": "kmeans"}}
SEED_II = {"embed": {**PARAMS["embed"], "model": "vae"},
           "pca": {**PARAMS["pca"], "views": ["codes"], "code_dims": 2, "dims": 2, "whiten": False},
           "cluster": {**PARAMS["cluster"], "method": "coordinates", "alternative": None}}


def vae_run(root: Path, overrides: dict, dims: int) -> Path:
    """The test run as the VAE and ``overrides`` would leave it: report_units_loss, one view."""
    params, metrics = {**json.loads(json.dumps(PARAMS)), **overrides}, json.loads(json.dumps(METRICS))
    metrics["data/embed/summary.json"].update(report_units_loss=601.234567, code_size=96)
    metrics["data/reduce/summary.json"].update(dims=dims)
    metrics["data/views/summary.json"].update(dims=dims, views={"codes": {"dims": dims, "explained_variance_percent": 80.0}})
    metrics["data/embed/architecture.json"]["loss"] = "32·32 × binary cross-entropy + KL divergence of the 96-value code"
    if params["cluster"]["method"] == "coordinates":
        metrics["data/cluster/summary.json"]["method"] = "coordinates"
        del metrics["data/cluster/summary.json"]["alternative"]
    return make_run(root, metrics, params)


def comparison_rows(page: str) -> list[list[str]]:
    rows = table(page, "Configuration", "Method")
    assert rows[0][2:] == ["Visualization accuracy", "Kaggle score", "Loss per image (BCE × 1024 + KL)"]
    # the seed report's figures, quoted as published, whatever the run
    assert rows[1] == ["seed method I (the seed report)", "VAE codes → PCA 48 → k-means", "97.22 %", "0.95375",
                       "578.9316"]
    assert rows[2] == ["seed method II (the seed report)", "PCA to 2 → label by the larger coordinate", "—",
                       "0.50087", "—"]
    assert len(rows) == 4
    caption = [t["caption"] for t in Tables(page).tables if t["rows"] == rows]
    assert "its Kaggle scores are the private leaderboard's" in " ".join(caption[0].split())
    return rows


def test_a_default_run_is_marked_beside_the_published_figures(run_dir: Path):
    page, markdown = render(run_dir)
    this = comparison_rows(page)[3]
    assert this == ["defaults (this run)", ("conv_ae codes + HOG + patch-dictionary descriptors + self-trained "
                                            "scores → PCA 37 (whitened) → k-means"), "74.39 %",
                    "0.87654 (estimated)", "—"]
    assert "| seed method I (the seed report) | VAE codes → PCA 48 → k-means | 97.22 % | 0.95375 " \
           "| 578.9316 |" in markdown  # GitHub's view has the same table
    text = " ".join(visible_text(page).split())
    assert "This run is the defaults : this pipeline's own method." in text
    assert "seed report's units" not in text  # no VAE loss to show
    assert "given only for the seed report's VAE ( embed.model: vae )" in text
    # the commands the report gives run the presets (tests/runs/test_presets.py runs them)
    assert ("seed method I: dvc exp run -n seed-method-1 -S embed.model=vae -S embed.train_samples=null "
            "-S 'pca.views=[codes]' -S pca.code_dims=48 -S pca.dims=48 -S pca.whiten=false "
            "-S cluster.method=kmeans") in text
    assert ("seed method II: dvc exp run -n seed-method-2 -S embed.model=vae -S embed.train_samples=null "
            "-S 'pca.views=[codes]' -S pca.code_dims=2 -S pca.dims=2 -S pca.whiten=false "
            "-S cluster.method=coordinates") in text


def test_a_seed_method_i_run_is_marked_and_shows_the_vae_loss_in_the_reports_units(tmp_path: Path):
    page, _ = render(vae_run(tmp_path, SEED_I, 48))
    assert comparison_rows(page)[3] == ["seed method I (this run)", "vae codes → PCA 48 → k-means",
                                        "74.39 %", "0.87654 (estimated)", "601.2346"]
    text = " ".join(visible_text(page).split())
    assert "This run is seed method I : its params are the preset's" in text
    assert ("0.01235 (mean squared error, pixels scaled to [0, 1]); in the seed report's units "
            "(BCE × 1024 + KL per image, the code sampled as in training) 601.2346") in text
    # the views it clusters, in words, where the defaults' text names all four
    assert "This run clusters only the autoencoder codes ( pca.views ); the other views are computed" in text
    assert "A PCA reduces them to 48 dimensions" in text
    assert "the same features, autoencoder codes (96 values) → a PCA of them to 48 dimensions" in text
    assert "This run leaves them out ( pca.views ): its final clusters do not use them." in text
    assert table(page, "Step")[-2][0] == "the final clusters: autoencoder codes, cluster.method"
    assert "training loss per epoch: 32·32 × binary cross-entropy + KL divergence" in text
    metrics = json.loads(json.dumps(METRICS))
    metrics["data/embed/summary.json"]["report_units_loss"] = 601.234567
    ok = allowed_numbers(SEED_I | {k: v for k, v in PARAMS.items() if k not in SEED_I}, metrics) | {"96", "80.0", "32"}
    shown = set(numbers_in(text.replace(TODAY.isoformat(), "")))
    assert sorted(shown - ok) == []


def test_a_seed_method_ii_run_is_marked(tmp_path: Path):
    page, _ = render(vae_run(tmp_path, SEED_II, 2))
    assert comparison_rows(page)[3][:2] == ["seed method II (this run)",
                                            "vae codes → PCA 2 → label by the larger coordinate"]


@pytest.mark.parametrize("change, configuration, differences", [
    ({"pca": {"views": ["selftrain", "patches", "codes", "hog"]}}, "defaults", []),  # any order
    ({"pca": {"whiten": True}}, "other", []),  # seed method I, whitened: neither
    ({"cluster": {"method": "gmm"}}, "other", []),
    ({"pca": {"dims": 47}}, "other", []),
    ({"embed": {"model": "conv_ae"}, "pca": {"views": ["codes", "hog", "patches", "selftrain"], "whiten": False}},
     "other", ["pca.whiten: false (defaults: true)"]),
])
def test_the_configuration_is_read_from_the_params(tmp_path: Path, change: dict, configuration: str,
                                                   differences: list):
    base = PARAMS if configuration == "defaults" else {**PARAMS, **SEED_I}
    params = json.loads(json.dumps(base))
    for section, values in change.items():
        params[section].update(values)
    make_run(tmp_path, params=params)
    report = content.gather(tmp_path, today=TODAY)
    assert report.comparison.configuration == configuration
    if differences:
        assert report.comparison.differences == differences
        text = " ".join(visible_text(content.render_html(report)).split())
        assert "This run is neither the defaults nor one of the seed report's methods: it differs from the " \
               "defaults in pca.whiten: false (defaults: true) ." in text  # a code span, then the stop
    elif configuration == "other":
        assert report.comparison.differences  # seed method I's params differ from the defaults'


# ------------------------------------------------------------------------------ which run
def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def committed_run(root: Path, changes: dict) -> str:
    """The test run in a git repository, params.yaml committed as PARAMS, then ``changes``
    (section → keys → values, nested) applied to it as `dvc exp run -S` would; the commit's hash."""
    make_run(root)
    git(root, "init", "-q")
    git(root, "add", "params.yaml")
    git(root, "commit", "-q", "-m", "params")
    params = json.loads(json.dumps(PARAMS))

    def apply(target: dict, change: dict):
        for key, value in change.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                apply(target[key], value)
            elif value is None:
                target.pop(key, None)
            else:
                target[key] = value

    apply(params, changes)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return git(root, "rev-parse", "HEAD")


CHANGES = {"pca": {"dims": 64, "weights": {"patches": 3}}, "plot": {"projection": "pca"},
           "cluster": {"method": "gmm", "alternative": None}, "data": {"dir": "other/competition"}}


def test_the_run_is_named_by_its_experiment_commit_and_data_folder(tmp_path: Path):
    commit = committed_run(tmp_path, CHANGES)
    git(tmp_path, "commit", "-q", "-am", "later")  # HEAD moves on: the experiment's commit is its baseline
    environ = {"DVC_EXP_NAME": "dims-64", "DVC_EXP_BASELINE_REV": commit}
    report = content.gather(tmp_path, today=TODAY, origin=content.read_origin(tmp_path, environ))
    assert (report.run.experiment, report.run.commit, report.run.modified) == ("dims-64", commit[:7], False)
    assert report.name == f"dims-64 · {commit[:7]} · other/competition"
    page, markdown = content.render_html(report), content.render_markdown(report)
    assert f"<title>HW7 report · dims-64 · {commit[:7]} · other/competition · {TODAY}</title>" in page
    text = " ".join(visible_text(page).split())
    assert (f"The report of experiment dims-64 ( dvc exp run ) on commit {commit[:7]} , data other/competition , "
            f"generated on {TODAY} (UTC).") in text
    rows = dict(r for r in table(page, "Item")[1:])
    assert rows["Experiment"] == "dims-64 (dvc exp run)"
    assert rows["Commit"] == commit[:7]
    # every key that differs from the commit's params.yaml, nested ones by their dotted path, in its order
    assert rows["Params changed"] == (
        "data.dir: other/competition (committed: inputs/competition) · pca.dims: 64 (committed: 37) · "
        "pca.weights.patches: 3 (committed: unset) · cluster.method: gmm (committed: kmeans) · "
        "plot.projection: pca (committed: tsne) · cluster.alternative unset (committed: gmm)")  # unset: last
    assert ("Its params differ from the commit's params.yaml in data.dir , pca.dims , pca.weights.patches , "
            "cluster.method , plot.projection , cluster.alternative (values under What was run).") in text
    assert "`pca.weights.patches: 3` (committed: unset)" in markdown


def test_a_repro_run_is_named_by_head_and_its_code_changes(tmp_path: Path):
    commit = committed_run(tmp_path, {})
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline/code.py").write_text("x = 1\n")
    (tmp_path / "notes.md").write_text("notes\n")
    git(tmp_path, "add", "pipeline/code.py", "notes.md")
    git(tmp_path, "commit", "-q", "-m", "code")
    head = git(tmp_path, "rev-parse", "--short=7", "HEAD")
    assert head != commit[:7]
    origin = content.read_origin(tmp_path, {})
    assert (origin.experiment, origin.commit, origin.modified) == (None, head, False)
    (tmp_path / "params.yaml").write_text((tmp_path / "params.yaml").read_text() + "# a run edits it\n")
    (tmp_path / "notes.md").write_text("more notes\n")
    git(tmp_path, "add", "data", "plots")  # as `dvc exp run` stages the outputs git tracks
    assert not content.read_origin(tmp_path, {}).modified  # none of it is the code
    (tmp_path / "pipeline/code.py").write_text("x = 2\n")
    report = content.gather(tmp_path, today=TODAY, origin=content.read_origin(tmp_path, {}))
    assert report.run.modified and report.run.changes == []
    assert report.name == f"dvc repro · {head}+ · inputs/competition"
    rows = dict(r for r in table(content.render_html(report), "Item")[1:])
    assert rows["Experiment"] == "— (a dvc repro run)"
    assert rows["Commit"] == f"{head}, with uncommitted changes to the code (pipeline/, dvc.yaml)"
    assert rows["Params changed"] == "none: params.yaml as committed"


def test_outside_git_the_run_says_what_it_cannot_name(run_dir: Path):
    report = content.gather(run_dir, today=TODAY, origin=content.read_origin(run_dir, {}))
    assert (report.run.commit, report.run.changes) == (None, None)
    page = content.render_html(report)
    rows = dict(r for r in table(page, "Item")[1:])
    assert rows["Commit"] == "— (not a git checkout)"
    assert rows["Params changed"] == "— (no commit to compare with)"
    assert "a dvc repro run on no git commit, data inputs/competition ," in " ".join(visible_text(page).split())


def test_the_same_params_on_the_same_commit_give_the_same_report_but_its_name(tmp_path: Path):
    commit = committed_run(tmp_path, {"pca": {"dims": 64}})
    outputs = []
    for name in ("exp-alpha", "exp-omega"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": EPOCH, "DVC_EXP_NAME": name,
               "DVC_EXP_BASELINE_REV": commit}
        done = subprocess.run([sys.executable, "-m", "pipeline.stages.report"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append([(tmp_path / "reports" / f).read_text() for f in ("report.md", "report.html")])
    for first, second in zip(*outputs):
        assert first != second and first.replace("exp-alpha", "exp-omega") == second


@pytest.mark.parametrize("ours, theirs, expected", [
    ({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 1}}}, []),
    ({"a": {"b": {"c": 2}}}, {"a": {"b": {"c": 1}}}, [("a.b.c", 2, 1)]),
    ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, [("a.c", 2, ABSENT)]),
    ({"a": {}}, {"a": {"b": 1}}, [("a", {}, ABSENT), ("a.b", ABSENT, 1)]),
    ({"a": 1}, {"a": True}, [("a", 1, True)]),  # YAML true is no 1
    ({"a": 2.0}, {"a": 2}, []),
    ({"a": ["x", "y"]}, {"a": ["y", "x"]}, [("a", ["x", "y"], ["y", "x"])]),
    ({"a": None}, {"a": 0}, [("a", None, 0)]),
])
def test_changed_params_compares_every_nested_key(ours: dict, theirs: dict, expected: list):
    assert origin_module.changed_params(ours, theirs) == expected


# ------------------------------------------------------------------------------ plurals
def test_a_count_of_one_takes_the_singular(tmp_path: Path):
    metrics = json.loads(json.dumps(METRICS))
    cluster = metrics["data/cluster/summary.json"]
    cluster["visualization_accuracy"] = 199 / 200
    cluster["visualization_confusion"] = {"A": {"0": 99, "1": 1}, "B": {"0": 0, "1": 100}}
    metrics["data/embed/summary.json"]["train_images"] = 1
    metrics["data/eigenfaces/summary.json"].update(k=1, share_percent={"1": 9.5}, variance_percent={"1": 19.5})
    metrics["data/reduce/summary.json"]["dims"] = 1
    params = json.loads(json.dumps(PARAMS))
    params["embed"]["epochs"] = 1
    params["cluster"]["n_init"] = 1
    page, markdown = render(make_run(tmp_path, metrics, params))
    text = " ".join(visible_text(page).split())
    assert "1 of the 100 images of dataset A (the first half) was put in cluster 1 with all 100 of dataset B" in text
    assert "In all, 1 of the 200 images is on the wrong side" in text
    assert "The top 1 eigenface," in text and "to 1 dimension " in text and "checked by 1 restart)" in text
    assert "; 1 epoch in batches of 96; trained on 1 image." in text
    plural_after_one = re.compile(r"(?<![\d,.])1 (images|eigenfaces|dimensions|epochs|starts|faces|pairs|parts"
                                  r"|values|parameters)\b")
    assert plural_after_one.findall(text) == [] and plural_after_one.findall(markdown) == []


def test_print_forces_no_page_break():
    """A forced break leaves the end of the page before it blank: the print keeps figures and short
    tables whole and headings with what follows, and breaks nowhere by force."""
    css = (REPO / "pipeline/lib/report/report.css").read_text()
    assert not re.search(r"break-(before|after)\s*:\s*(page|always)", css)
    assert re.search(r"figure, table, tr \{ break-inside: avoid", css)
    assert re.search(r"h1, h2, h3 \{ break-after: avoid", css)


def test_the_bootstrap_check_is_reported_and_a_doubt_stands_out(run_dir: Path):
    """The report says what selftrain's check measured; a doubted bootstrap is said in bold, and a
    run from before the check (no such keys) says nothing of it."""
    text = content.render_markdown(content.gather(run_dir, today=TODAY))
    assert "its smaller cluster holds 48.0 % of the pool" in text
    assert "96.12 % (autoencoder codes), 97.00 % (HOG) and 50.00 % (patch-dictionary descriptors)" in text
    assert "The check found nothing amiss." in text and "0.87654 (0.85123–0.88988, 95 %)" in text
    assert "amiss.\n\n### 2c" in text  # a paragraph of its own, the next part after a blank line
    summary = run_dir / paths.SELFTRAIN_SUMMARY
    values = json.loads(summary.read_text())
    summary.write_text(json.dumps({**values, "bootstrap_trusted": False}))
    text = content.render_markdown(content.gather(run_dir, today=TODAY))
    assert "**The check doubts it: the bootstrap may split a sub-population" in text
    summary.write_text(json.dumps({**values, "bootstrap_trusted": False, "bootstrap_resplit": True}))
    text = content.render_markdown(content.gather(run_dir, today=TODAY))
    assert "So `selftrain` split the pool again" in text and "The check doubts it" not in text
    for key in ("bootstrap_trusted", "bootstrap_agreement"):
        del values[key]
    summary.write_text(json.dumps(values))
    text = content.render_markdown(content.gather(run_dir, today=TODAY))
    assert "is checked without labels" not in text and "nothing amiss" not in text
    assert "error rates' uncertainty.*\n\n### 2c" in text


@pytest.mark.parametrize("check, says, bold", [
    ({"kmeans_kept": "start", "restarts_agreement": 0.99612, "restarts_same_split": True, "restart_rows": 1000},
     "restarts on a sample of 1,000 images check it: refitted on every image, their split agrees with the started one "
     "on 99.61 % of the pool. The check found nothing amiss.", False),
    ({"kmeans_kept": "start", "restarts_agreement": 0.5512, "restarts_same_split": False, "restart_rows": 4567},
     "restarts on the whole pool check it: refitted on every image, their split agrees with the started one on 55.12 % "
     "of the pool. Their best split was another one, of higher inertia on the whole pool, so the split started from "
     "the self-trained models was kept", False),
    ({"kmeans_kept": "restarts", "restarts_agreement": 0.7431, "restarts_same_split": False},
     "restarts on the whole pool check it: refitted on every image, their split agrees with the started one on 74.31 % "
     "of the pool. **They ended in another split, of lower inertia, and it was kept", True),
])
def test_the_report_says_what_the_restarts_check_found(tmp_path, check, says, bold):
    metrics = json.loads(json.dumps(METRICS))
    metrics["data/cluster/summary.json"].update(check, selftrain_agreement=0.9955)
    _, markdown = render(make_run(tmp_path, metrics=metrics))
    line = next(line for line in markdown.splitlines() if line.startswith("k-means starts from the split"))
    assert line.startswith("k-means starts from the split the self-trained models learnt, and its 11 k-means++ restarts ")
    assert says in line
    assert line.endswith("The final clusters agree with the self-trained scores on 99.55 % of the pool.")
    assert ("**" in line) == bold


def test_the_report_leaves_the_restarts_check_out_of_a_run_without_it(run_dir):
    _, markdown = render(run_dir)
    assert "k-means starts from the split" not in markdown and "restarts on " not in markdown
