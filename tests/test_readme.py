"""README.md is the front page: short, and the way into every docs page.

* At most 250 lines (the rest lives in docs/, each page checked by tests/test_docs.py, which also
  checks README.md's links, source paths and wording).
* Every docs/*.md page is linked from it.
* It gives the seed report's two methods as the exact commands the report prints
  (``dvc exp run -n seed-method-1 …``, ``seed-method-2``), and docs/experiments.md gives the same.
"""

from __future__ import annotations

import re

import pytest
from tiny_repo import PROJECT

from pipeline.lib.report import seed

README = PROJECT / "README.md"
DOCS = PROJECT / "docs"
MAX_LINES = 250


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def linked_docs(text: str) -> set[str]:
    """The docs pages ``text`` links to (``docs/NAME.md``, with or without an anchor)."""
    return set(re.findall(r"\]\((docs/[\w.-]+\.md)(?:#[^)]*)?\)", text))


def seed_method_commands(text: str) -> list[str]:
    return re.findall(r"dvc exp run -n seed-method-[^\n`]*", text)


def test_the_readme_is_a_front_page(readme):
    lines = len(readme.splitlines())
    assert lines <= MAX_LINES, \
        f"README.md: expected at most {MAX_LINES} lines, found {lines}: move detail to docs/"


def test_every_docs_page_is_linked_from_the_readme(readme):
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert pages, "docs/: expected the documentation pages, found none"
    assert sorted(pages - linked_docs(readme)) == []


def test_the_link_check_sees_links_with_anchors_only():
    text = "[a](docs/pipeline.md) [b](docs/kaggle.md#kaggle-credentials) `docs/sharing.md` docs/testing.md"
    assert linked_docs(text) == {"docs/pipeline.md", "docs/kaggle.md"}


@pytest.mark.parametrize("page", [README, DOCS / "experiments.md"], ids=lambda page: page.name)
def test_the_seed_methods_are_the_reports_commands(page):
    given = seed_method_commands(page.read_text(encoding="utf-8"))
    expected = [seed.exp_run_command(name) for name in seed.EXPERIMENT_NAMES]
    assert sorted(line.strip() for line in given) == sorted(expected)
