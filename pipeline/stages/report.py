"""Stage `report`: the homework report, regenerated from this run's metrics, params and plots.

    python -m pipeline.stages.report
        (params: seed, data.dir, embed, hog, patches, selftrain, pca, cluster, plot, eigenfaces)

Writes reports/report.md (for GitHub: pictures linked as ../plots/…) and reports/report.html (that
Markdown rendered as one self-contained page: pictures embedded, opens offline, prints on A4).
The run is named by its experiment ($DVC_EXP_NAME, which `dvc exp run` sets), its commit
($DVC_EXP_BASELINE_REV, else git's HEAD) and data.dir, and every param that differs from that
commit's params.yaml is listed. The date shown is today's in UTC, or that of $SOURCE_DATE_EPOCH
when set. pipeline.lib.report.content
gathers the numbers; the wording is the template pipeline/lib/report/report.md.j2.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib import paths
from pipeline.lib.atomic import save_text
from pipeline.lib.errors import stage_guard
from pipeline.lib.report import content


def main() -> None:
    report = content.gather(Path("."))
    # Both texts are rendered before either is written: an error leaves the old pair untouched.
    html = content.render_html(report)
    markdown = content.render_markdown(report, paths.REPORTS.as_posix())
    save_text(paths.REPORT_HTML, html)
    save_text(paths.REPORT_MD, markdown)
    print(f"report: wrote {paths.REPORT_HTML} ({len(html) // 1024} KiB) and {paths.REPORT_MD}: {report.name}")


if __name__ == "__main__":
    stage_guard(main)
