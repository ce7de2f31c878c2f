"""The docs cannot drift from the code they describe, nor point nowhere.

* docs/pipeline.md's stage table (header ``| stage | script | params | outputs |``): one row per
  dvc.yaml stage, in dvc.yaml's order; each row's script is the module its ``cmd`` runs, its
  params exactly the params it declares, its outputs exactly its outs, metrics and plots.
* docs/pipeline.md's params table (header ``| key | meaning |``): every key of params.yaml
  (dotted, e.g. ``embed.epochs``) once, and no key that params.yaml lacks.
* README.md and every docs/*.md page: each relative link names a file that exists (and a heading
  of it, for ``#anchor``); each source path it names (pipeline/…, tests/…, bench/… .py or .sh)
  exists; none narrates history ("issue 11", "no longer", "Until 2026-…", "An earlier
  version"): they say what is, and why.
* Each docs page opens with its title and one paragraph saying what it is for.

Table cells are read by their code spans (`` `…` ``): the first code span of a params row's first
cell is its key; every code span of a stage row's params and outputs cells is one entry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tiny_repo import PROJECT, declared_outputs

README = PROJECT / "README.md"
DOCS = PROJECT / "docs"
PIPELINE_DOC = DOCS / "pipeline.md"
DVC_YAML = PROJECT / "dvc.yaml"
STAGE_HEADER = ("stage", "script", "params", "outputs")
PARAMS_HEADER = ("key", "meaning")


def pages() -> list[Path]:
    """README.md and every docs/*.md page: the Markdown a user reads."""
    return [README, *sorted(DOCS.glob("*.md"))]


def shown(page: Path) -> str:
    """``page`` as the messages name it: relative to the repository (its name, outside it)."""
    return str(page.relative_to(PROJECT)) if page.is_relative_to(PROJECT) else page.name


# ----------------------------------------------------------------- the stage and params tables
def cells(line: str) -> list[str]:
    """The cells of one Markdown table row (``| a | b |`` → ["a", "b"]); [] for any other line."""
    line = line.strip()
    if not line.startswith("|"):
        return []
    return [cell.strip() for cell in line.strip("|").split("|")]


def table(text: str, header: tuple[str, ...]) -> list[list[str]]:
    """The body rows of the one Markdown table in ``text`` whose header cells are ``header``."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if tuple(c.lower() for c in cells(line)) == header]
    assert len(starts) == 1, f"{shown(PIPELINE_DOC)}: expected one table headed | {' | '.join(header)} |, " \
                             f"found {len(starts)}"
    rows = []
    for line in lines[starts[0] + 2:]:  # after the header and its |---| line
        row = cells(line)
        if not row:
            break
        rows.append(row)
    return rows


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def stage_table_problems(doc: str, spec: dict, outputs_of) -> list[str]:
    """Every way the stage table differs from dvc.yaml (``spec``), one line per row and cell;
    ``outputs_of(stage)`` gives a stage's declared outs, metrics and plots."""
    rows = table(doc, STAGE_HEADER)
    stages = list(spec["stages"])
    named = [(code_spans(row[0]) or [row[0]])[0] for row in rows]
    problems = []
    if named != stages:
        problems.append(f"stages: the table lists {named}, dvc.yaml {stages}")
    for name, row in zip(named, rows):
        if name not in spec["stages"]:
            continue
        if len(row) != len(STAGE_HEADER):
            problems.append(f"{name}: expected {len(STAGE_HEADER)} cells, found {len(row)}")
            continue
        stage = spec["stages"][name]
        command = stage["cmd"].split()
        assert command[:2] == ["python", "-m"], f"dvc.yaml: {name}: expected `python -m <module>`"
        script = command[2].replace(".", "/") + ".py"
        if code_spans(row[1]) != [script]:
            problems.append(f"{name}: script: the table says {code_spans(row[1])}, its cmd runs {script}")
        params = stage.get("params") or []
        if sorted(code_spans(row[2])) != sorted(params):
            problems.append(f"{name}: params: the table says {code_spans(row[2])}, "
                            f"dvc.yaml declares {params}")
        outputs = outputs_of(name)
        if sorted(code_spans(row[3])) != sorted(outputs):
            problems.append(f"{name}: outputs: the table says {code_spans(row[3])}, "
                            f"dvc.yaml declares {outputs}")
    return problems


def param_keys(params: dict, prefix: str = "") -> list[str]:
    """Every leaf key of params.yaml, dotted: ``seed``, ``embed.epochs``, …"""
    keys = []
    for key, value in params.items():
        if isinstance(value, dict):
            keys.extend(param_keys(value, f"{prefix}{key}."))
        else:
            keys.append(f"{prefix}{key}")
    return keys


def params_table_problems(doc: str, params: dict) -> list[str]:
    """Every way the params table differs from params.yaml (``params``)."""
    documented = [(code_spans(row[0]) or [row[0]])[0] for row in table(doc, PARAMS_HEADER)]
    keys = param_keys(params)
    problems = [f"{key}: in params.yaml, not in the params table" for key in keys if key not in documented]
    problems += [f"{key}: in the params table, not in params.yaml" for key in documented if key not in keys]
    problems += [f"{key}: documented {documented.count(key)} times" for key in sorted(set(documented))
                 if documented.count(key) > 1]
    return problems


def outputs_in_dvc_yaml(name: str) -> list[str]:
    return declared_outputs(DVC_YAML, name)


@pytest.fixture(scope="module")
def doc() -> str:
    return PIPELINE_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(DVC_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def params() -> dict:
    return yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))


def test_stage_table_is_dvc_yaml(doc, spec):
    problems = stage_table_problems(doc, spec, outputs_in_dvc_yaml)
    assert not problems, f"{shown(PIPELINE_DOC)}'s stage table differs from dvc.yaml:\n" + "\n".join(problems)


def test_every_script_in_the_stage_table_exists_and_is_a_dep_of_its_stage(doc, spec):
    for row in table(doc, STAGE_HEADER):
        name, script = code_spans(row[0])[0], code_spans(row[1])[0]
        assert (PROJECT / script).is_file(), f"{name}: {script} does not exist"
        assert script in spec["stages"][name]["deps"], f"{name}: {script} is not among its deps"


def test_params_table_is_params_yaml(doc, params):
    problems = params_table_problems(doc, params)
    assert not problems, \
        f"{shown(PIPELINE_DOC)}'s params table differs from params.yaml:\n" + "\n".join(problems)


# ----------------------------------------------------------------- the table checks catch drift
def rewrite_row(doc: str, header: tuple[str, ...], first_cell: str, change) -> str:
    """``doc`` with the row of the ``header`` table whose first cell is ``first_cell`` replaced
    by ``change(row)`` (a list of rows: [] deletes it)."""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if tuple(c.lower() for c in cells(line)) == header)
    index = next(i for i in range(start + 2, len(lines)) if cells(lines[i])[:1] == [first_cell])
    replaced = ["| " + " | ".join(row) + " |" for row in change(cells(lines[index]))]
    return "\n".join(lines[:index] + replaced + lines[index + 1:])


def test_stage_checks_catch_a_missing_row_a_swapped_order_and_a_wrong_cell(doc, spec):
    def problems(text):
        return stage_table_problems(text, spec, outputs_in_dvc_yaml)

    assert any("stages:" in p for p in problems(rewrite_row(doc, STAGE_HEADER, "`hog`", lambda row: [])))
    moved = rewrite_row(rewrite_row(doc, STAGE_HEADER, "`hog`", lambda row: []), STAGE_HEADER, "`embed`",
                        lambda row: [["`hog`", "`pipeline/stages/hog.py`", "`hog`", "`data/hog`"], row])
    assert any("stages:" in p for p in problems(moved))
    wrong = ((1, "`pipeline/stages/embed.py`"), (2, "`hog`, `seed`"), (3, "`data/hog`, `plots/x.png`"))
    for column, bad in wrong:
        def change(row, column=column, bad=bad):
            return [row[:column] + [bad] + row[column + 1:]]
        found = problems(rewrite_row(doc, STAGE_HEADER, "`hog`", change))
        assert [p for p in found if p.startswith(f"hog: {STAGE_HEADER[column]}:")], found


def test_params_checks_catch_an_undocumented_key_an_unknown_key_and_a_repeat(doc, params):
    dropped = rewrite_row(doc, PARAMS_HEADER, "`seed`", lambda row: [])
    assert "seed: in params.yaml, not in the params table" in params_table_problems(dropped, params)
    unknown = rewrite_row(doc, PARAMS_HEADER, "`seed`", lambda row: [row, ["`refine.rounds`", "gone"]])
    assert "refine.rounds: in the params table, not in params.yaml" in params_table_problems(unknown, params)
    repeated = rewrite_row(doc, PARAMS_HEADER, "`seed`", lambda row: [row, row])
    assert "seed: documented 2 times" in params_table_problems(repeated, params)


# ----------------------------------------------------------------- links, paths and history
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^()\s]+)\)")


def prose(text: str) -> str:
    """``text`` without its fenced code blocks and code spans: what Markdown renders as links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of ``text``: lower case, code marks and punctuation
    dropped (letters, digits, ``_`` and ``-`` kept), spaces to ``-``; a repeat gets ``-1``, ``-2``…"""
    made: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        made[slug] = made.get(slug, -1) + 1
        if made[slug]:
            made[f"{slug}-{made[slug]}"] = 0
    return set(made)


def broken_links(page: Path, text: str) -> list[str]:
    """Each relative link of ``text`` (the page ``page``) that names no file, or no heading of it."""
    problems = []
    for target in LINK.findall(prose(text)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not this repository's
            continue
        path, _, anchor = target.partition("#")
        if not path:  # a heading of this page
            if anchor not in anchors(text):
                problems.append(f"{shown(page)}: ({target}): no heading #{anchor} in {shown(page)}")
            continue
        file = (page.parent / path).resolve()
        if not file.exists():
            problems.append(f"{shown(page)}: ({target}): no file {path}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            problems.append(f"{shown(page)}: ({target}): no heading #{anchor} in {shown(file)}")
    return problems


# A path a page names as a file of this repository: under one of its code folders, ending in .py or .sh.
REPO_PATH = re.compile(r"(?<![\w/.])((?:pipeline|tests|bench)/[\w/.-]+\.(?:py|sh))\b")


def missing_paths(text: str) -> list[str]:
    """The repository paths ``text`` names (pipeline/…, tests/…, bench/…; .py, .sh) that are missing."""
    return sorted({path for path in REPO_PATH.findall(text) if not (PROJECT / path).is_file()})


# What narrates history instead of saying what is: an issue's number, "no longer", a date that
# says until when something held, "an earlier version".
HISTORY = re.compile(r"\bissue #?\d+|\bno longer\b|\buntil 20\d\d|\ban earlier version\b", re.I)


def history(text: str) -> list[str]:
    """Each line of ``text`` that narrates history, as ``line N: …``."""
    return [f"line {number}: {line.strip()[:120]}" for number, line in enumerate(text.splitlines(), 1)
            if HISTORY.search(line)]


@pytest.mark.parametrize("page", pages(), ids=shown)
def test_every_relative_link_points_to_a_file_and_heading(page):
    assert broken_links(page, page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", pages(), ids=shown)
def test_every_source_file_a_page_names_exists(page):
    assert missing_paths(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", pages(), ids=shown)
def test_no_page_narrates_history(page):
    assert history(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=shown)
def test_each_docs_page_opens_with_its_title_and_what_it_is_for(page):
    blocks = page.read_text(encoding="utf-8").split("\n\n")
    assert re.fullmatch(r"# \S.*", blocks[0]), \
        f"{shown(page)}: expected a '# title' line first, found {blocks[0]!r}"
    assert len(blocks) > 1 and blocks[1].strip() and not blocks[1].startswith(("#", "|", "```", "-")), \
        f"{shown(page)}: expected one paragraph after the title saying what the page is for"


def test_the_docs_exist():
    assert PIPELINE_DOC.is_file() and len(pages()) > 2


def test_the_link_check_catches_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text(
        "# Other page\n\n## Kaggle credentials (`make data`)\n\n```sh\n# not a heading\n```\n")
    page = tmp_path / "page.md"
    text = ("[ok](other.md) [ok](other.md#kaggle-credentials-make-data) [web](https://example.com/x.md) "
            "[gone](gone.md) [no heading](other.md#not-a-heading) [self](#page) "
            "[not here](#other-page)\n\n# Page\n"
            "`[in code](nowhere.md)`\n")
    assert [p.split(": ", 1)[1] for p in broken_links(page, text)] == \
        ["(gone.md): no file gone.md", "(other.md#not-a-heading): no heading #not-a-heading in other.md",
         "(#other-page): no heading #other-page in page.md"]


def test_anchors_follow_github(tmp_path):
    text = ("# The seed report's methods\n## Parameters (`params.yaml`)\n## Sweeps\n## Sweeps\n"
            "```\n# code\n```\n")
    assert anchors(text) == {"the-seed-reports-methods", "parameters-paramsyaml", "sweeps", "sweeps-1"}


def test_the_history_check_catches_each_phrase():
    text = ("A stage.\nAn earlier version did this.\n(issue 11)\nrefine.* no longer exists\n"
            "Until 2026-12-06 it was\nissues")
    assert [line.split(":")[0] for line in history(text)] == ["line 2", "line 3", "line 4", "line 5"]


def test_the_path_check_catches_a_moved_file():
    text = "see `tests/runs/test_determinism.py` and tests/test_determinism.py, and pipeline/lib/selftrain.py"
    assert missing_paths(text) == ["tests/test_determinism.py"]
