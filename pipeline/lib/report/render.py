"""The report as Markdown (the Jinja2 template report.md.j2) and as HTML (that Markdown, rendered).

    markdown = render_markdown(report)  # GitHub Markdown; pictures linked relative to reports/
    page = render_html(report)          # report.html.j2 around the Markdown rendered by markdown-it:
                                        # report.css inline, pictures as data: URIs, no other file

Text from the run's files (a data.dir, a file name, a layer name) may hold any character. Every
value the Markdown template prints is escaped for Markdown (``escape``, Jinja2's ``finalize``) or
printed as a code span (``code``), so it shows as itself: it cannot start a table cell, a link,
emphasis, a heading or a new paragraph. markdown-it renders that Markdown with raw HTML off, and
escapes every character that is special in HTML.
"""

from __future__ import annotations

import base64
import posixpath
import re
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from pipeline.lib.config.pca import VIEWS
from pipeline.lib.errors import one_line
from pipeline.lib.report.page import lay_out

if TYPE_CHECKING:
    from pipeline.lib.report.content import Report

HERE = Path(__file__).parent
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<&~|$])")  # what could start markup mid-line
PIPE = "\x00"  # a | inside a code span, until it is known to be in a table row or not
SAFE_LINK = re.compile(r"[\w./-]+")


class Md(str):
    """Text that is Markdown already (a code span, a picture): ``escape`` leaves it as it is."""


def escape(value: Any) -> Md:
    """Any value as Markdown text that shows as itself, on one line (line breaks become spaces)."""
    if isinstance(value, Md):
        return value
    if value is None:  # a template bug (an optional value printed without its {% if %})
        raise ValueError("the report template printed None")
    text = one_line(value).replace(PIPE, "\ufffd")
    return Md(MARKDOWN_SPECIAL.sub(r"\\\1", text))


def code(value: Any) -> Md:
    """A value as a code span, its text kept as it is (backticks included) on one line."""
    text = one_line(value).replace(PIPE, "\ufffd")
    if not text:
        return Md("")
    fence = "`" * (1 + max(map(len, re.findall(r"`+", text)), default=0))
    pad = " " if text[0] in "` " or text[-1] in "` " else ""  # CommonMark strips one space a side
    return Md(f"{fence}{pad}{text.replace('|', PIPE)}{pad}{fence}")


def plural(n: str, noun: str, nouns: str | None = None) -> str:
    """A count as the report writes it and its noun, singular for one: "1 image", "2,000 images"."""
    return f"{n} {noun if n == '1' else nouns or noun + 's'}"


def place_pipes(markdown: str) -> str:
    """Write each | of a code span as ``\\|`` in table rows (GFM reads that as |) and as | elsewhere."""
    return "".join(line.replace(PIPE, "\\|" if line.startswith("|") else "|")
                   for line in markdown.splitlines(keepends=True))


VIEW_WORDS = {name: view.words for name, view in VIEWS.items()}  # pca.views' names in the report's words
MARKDOWN_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined, autoescape=False,
    finalize=escape, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
MARKDOWN_TEMPLATES.filters["code"] = code
MARKDOWN_TEMPLATES.filters["plural"] = lambda n, noun, nouns=None: escape(plural(n, noun, nouns))
HTML_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE), undefined=jinja2.StrictUndefined, autoescape=True,
    keep_trailing_newline=True)
# CommonMark with GFM tables; raw HTML in the Markdown is shown as text, not passed through.
MARKDOWN_IT = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False}).enable("table")


def _links(report: Report, directory: str) -> dict[str, str]:
    """Picture key → its path relative to ``directory``, as the Markdown links it."""
    links = {key: posixpath.relpath(picture.path, directory) for key, picture in report.pictures.items()}
    assert all(SAFE_LINK.fullmatch(link) for link in links.values()), links  # no escaping needed
    return links


def render_markdown(report: Report, directory: str = "reports") -> str:
    """The report in GitHub Markdown; pictures linked relative to ``directory`` (where it is saved)."""
    links = _links(report, directory)

    def image(key: str, alt: str) -> Md:
        return Md(f"![{escape(alt)}]({links[key]})")

    content = {field.name: getattr(report, field.name) for field in fields(report)}
    text = MARKDOWN_TEMPLATES.get_template("report.md.j2").render(image=image, VIEW_WORDS=VIEW_WORDS, **content)
    return place_pipes(text)


def render_html(report: Report) -> str:
    """One self-contained HTML page: the Markdown's rendering, inline CSS, pictures as data: URIs.

    For print, report.css keeps each heading with what follows it and each figure whole, and
    forces no page break (see layout.py).
    """
    links = _links(report, "reports")
    pictures = {MARKDOWN_IT.normalizeLink(links[key]): picture for key, picture in report.pictures.items()}
    data_uris = {link: ("data:image/png;base64," + base64.b64encode(picture.png).decode("ascii"),
                        picture.width, picture.height) for link, picture in pictures.items()}
    tokens = lay_out(MARKDOWN_IT.parse(render_markdown(report, "reports")), data_uris)
    body = MARKDOWN_IT.renderer.render(tokens, MARKDOWN_IT.options, {})
    css = (HERE / "report.css").read_text(encoding="utf-8")
    return HTML_TEMPLATES.get_template("report.html.j2").render(
        generated=report.generated, name=report.name, css=Markup(css), body=Markup(body))
