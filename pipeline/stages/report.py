"""Stage `report`: the homework report, regenerated from this run's metrics, params and plots.

    python -m pipeline.report         (params: seed, data.dir, embed, pca, cluster, eigenfaces)

Writes reports/report.html (self-contained: pictures embedded, opens offline, prints on A4) and
reports/report.md (for GitHub: pictures linked as ../plots/…). The date shown is today's in UTC,
or that of $SOURCE_DATE_EPOCH when set. The work is done in pipeline.reporting.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib import reporting
from pipeline.lib.atomic import save_text
from pipeline.lib.errors import main_guard

OUT = Path("reports")


def main(argv: list[str]) -> None:
    report = reporting.gather(Path("."))
    # Both texts are rendered before either is written: an error leaves the old pair untouched.
    html = reporting.render_html(report)
    markdown = reporting.render_markdown(report, OUT.as_posix())
    save_text(OUT / "report.html", html)
    save_text(OUT / "report.md", markdown)
    print(f"report: wrote {OUT}/report.html ({len(html) // 1024} KiB) and {OUT}/report.md")


if __name__ == "__main__":
    main_guard(main)
