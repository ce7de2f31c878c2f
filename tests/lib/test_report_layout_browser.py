"""The HTML report in a real browser: nothing is wider than the text column at 1,024 and 1,920 px,
and no page of its A4 print is left mostly blank.

The report of the test run (test_report_content.make_run), with pictures as wide as the pipeline draws
them and names as long as a user's, is opened in headless Chromium with a script that measures
every element of <main> against the column (main's content box) and writes the measures into the
page; `chromium --dump-dom` prints the page, and the measures are read back. The print is Chromium's
--print-to-pdf, its pages rasterized by pdftoppm. Skipped, with the reason, where no Chromium (Debian:
apt-get install chromium) or no pdftoppm (poppler-utils) is installed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_report_content import PARAMS, PNGS, TODAY, make_run

from pipeline.lib.report import content
from pipeline.lib.report.origin import Origin

BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (Debian: apt-get install chromium)")

WIDTHS = (1024, 1920)  # px: the screens the report is read on
DRAWN = {  # the pictures' sizes as the pipeline draws them (px)
    "plots/eigenfaces/mean_face.png": (200, 230),
    "plots/eigenfaces/eigenfaces.png": (1000, 230),
    "plots/eigenfaces/reconstructions.png": (1000, 460),
    "plots/visualization_2d.png": (1200, 550),
    "plots/mistakes.png": (1185, 280),
    "plots/reconstructions.png": (1540, 420),
    "plots/training_loss.png": (600, 400),
}
# No break opportunity in 110 characters (no space, no hyphen): wider than the column in one line.
LONG_DIR = "/home/someone/Downloads/ml2019spring_hw7/an_unpacked_competition_folder_with_a_long_name_0123456789_etc"
MEASURE = """<script>
(function () {
  var main = document.querySelector("main"), box = main.getBoundingClientRect(), style = getComputedStyle(main);
  var left = box.left + parseFloat(style.paddingLeft), right = box.right - parseFloat(style.paddingRight);
  var wide = [];
  main.querySelectorAll("*").forEach(function (element) {
    var r = element.getBoundingClientRect();
    if (r.width > 0 && (r.right > right + 0.5 || r.left < left - 0.5)) {
      wide.push({tag: element.tagName.toLowerCase(), left: r.left, right: r.right,
                 text: (element.textContent || "").trim().slice(0, 60)});
    }
  });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({left: left, right: right, scroll: document.documentElement.scrollWidth,
                                    window: window.innerWidth, elements: main.querySelectorAll("*").length,
                                    wide: wide});
  document.body.appendChild(out);
})();
</script>"""


def measure(page: str, width: int) -> dict:
    """The measures MEASURE takes of ``page`` in a ``width`` px wide window."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        done = subprocess.run(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
             f"--user-data-dir={Path(folder) / 'profile'}", f"--window-size={width},900", "--dump-dom",
             path.as_uri()], capture_output=True, text=True, timeout=60)
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"Chromium printed no measures (exit {done.returncode}): {done.stderr[-500:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    """The test run's report with the drawn pictures' sizes, a long data folder, a long experiment
    name and params changed from the commit's."""
    params = json.loads(json.dumps(PARAMS))
    params["data"]["dir"] = LONG_DIR
    params["eigenfaces"]["dir"] = LONG_DIR.replace("competition", "faces")
    root = make_run(tmp_path_factory.mktemp("run"), params=params)
    assert set(DRAWN) == set(PNGS)
    for name, size in DRAWN.items():
        Image.new("RGB", size, (90, 120, 200)).save(root / name)
    committed = {**PARAMS, "pca": {**PARAMS["pca"], "dims": 256, "weights": {"patches": 2}},
                 "plot": {"projection": "separation"}, "cluster": {**PARAMS["cluster"], "method": "gmm"}}
    origin = Origin("a-long-experiment-name-from-dvc-exp-run-with-many-words", "40747c5", True, committed)
    report = content.gather(root, today=TODAY, origin=origin)
    assert len(report.run.changes) >= 5  # data.dir, eigenfaces.dir, pca.dims, pca.weights, plot, cluster
    return content.render_html(report)


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_text_column(page: str, width: int):
    measured = measure(page, width)
    assert measured["elements"] > 300  # the whole report was laid out
    assert measured["right"] - measured["left"] > 600
    wide = [f"<{e['tag']}> {e['text']!r} from {e['left']:.0f} to {e['right']:.0f} px" for e in measured["wide"]]
    assert not wide, f"wider than the column ({measured['left']:.0f}–{measured['right']:.0f} px): " + "; ".join(wide[:6])
    assert measured["scroll"] <= measured["window"]  # no sideways scrolling


def test_the_measure_finds_a_table_wider_than_the_column(page: str):
    """The check can fail: a table whose one cell may not wrap is reported."""
    wide = "<table><tr><td style=\"white-space: nowrap\">" + "an unbreakable cell " * 20 + "</td></tr></table>"
    measured = measure(page.replace("</main>", wide + "</main>"), WIDTHS[0])
    assert {element["tag"] for element in measured["wide"]} >= {"table", "td"}


def printed_pages(page: str) -> list[float]:
    """The page printed on A4 by Chromium, rasterized by pdftoppm: how far down each page its
    content reaches, as a share of the page's height."""
    with tempfile.TemporaryDirectory() as folder:
        source, pdf = Path(folder) / "report.html", Path(folder) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                        "--disable-background-networking", "--disable-component-update",
                        f"--user-data-dir={Path(folder) / 'profile'}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", source.as_uri()], capture_output=True, timeout=60, check=True)
        subprocess.run(["pdftoppm", "-png", "-r", "20", str(pdf), str(Path(folder) / "page")], check=True,
                       timeout=60)
        reach = []
        for png in sorted(Path(folder).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            ink = np.asarray(Image.open(png).convert("L")) < 240
            rows = np.nonzero(ink.any(axis=1))[0]
            reach.append(0.0 if len(rows) == 0 else (rows.max() + 1) / ink.shape[0])
    return reach


@pytest.mark.skipif(BROWSER is not None and shutil.which("pdftoppm") is None,
                    reason="no pdftoppm (Debian: apt-get install poppler-utils)")
def test_no_printed_page_is_left_mostly_blank(page: str):
    """A forced page break (or a block too tall to split) leaves the end of a page blank: every page
    but the last is filled at least half way down."""
    reach = printed_pages(page)
    assert len(reach) >= 3
    assert [f"{r:.0%}" for r in reach[:-1] if r < 0.5] == [], [f"{r:.0%}" for r in reach]
