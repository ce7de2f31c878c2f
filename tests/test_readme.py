"""README.md's reference tables cannot drift from the code they describe.

* The stage table (header ``| stage | script | params | outputs |``): one row per dvc.yaml stage,
  in dvc.yaml's order; each row's script is the module its ``cmd`` runs, its params exactly the
  params it declares, its outputs exactly its outs, metrics and plots.
* The params table (header ``| key | meaning |``): every key of params.yaml (dotted, e.g.
  ``embed.epochs``) once, and no key that params.yaml lacks.

Cells are read by their code spans (`` `…` ``): the first code span of a params row's first cell
is its key; every code span of a stage row's params and outputs cells is one entry.
"""

from __future__ import annotations

import re

import pytest
import yaml
from tiny_repo import PROJECT, declared_outputs

README = PROJECT / "README.md"
DVC_YAML = PROJECT / "dvc.yaml"
STAGE_HEADER = ("stage", "script", "params", "outputs")
PARAMS_HEADER = ("key", "meaning")


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
    assert len(starts) == 1, f"README.md: expected one table headed | {' | '.join(header)} |, found {len(starts)}"
    rows = []
    for line in lines[starts[0] + 2:]:  # after the header and its |---| line
        row = cells(line)
        if not row:
            break
        rows.append(row)
    return rows


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def stage_table_problems(readme: str, spec: dict, outputs_of) -> list[str]:
    """Every way the stage table differs from dvc.yaml (``spec``); ``outputs_of(stage)`` gives a
    stage's declared outs, metrics and plots."""
    rows = table(readme, STAGE_HEADER)
    stages = list(spec["stages"])
    named = [(code_spans(row[0]) or [row[0]])[0] for row in rows]
    problems = []
    if named != stages:
        problems.append(f"stages: README lists {named}, dvc.yaml {stages}")
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
            problems.append(f"{name}: script: README says {code_spans(row[1])}, its cmd runs {script}")
        params = stage.get("params") or []
        if sorted(code_spans(row[2])) != sorted(params):
            problems.append(f"{name}: params: README says {code_spans(row[2])}, dvc.yaml declares {params}")
        outputs = outputs_of(name)
        if sorted(code_spans(row[3])) != sorted(outputs):
            problems.append(f"{name}: outputs: README says {code_spans(row[3])}, dvc.yaml declares {outputs}")
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


def params_table_problems(readme: str, params: dict) -> list[str]:
    """Every way the params table differs from params.yaml (``params``)."""
    documented = [(code_spans(row[0]) or [row[0]])[0] for row in table(readme, PARAMS_HEADER)]
    keys = param_keys(params)
    problems = [f"{key}: in params.yaml, not in README.md's params table" for key in keys if key not in documented]
    problems += [f"{key}: in README.md's params table, not in params.yaml" for key in documented if key not in keys]
    problems += [f"{key}: documented {documented.count(key)} times" for key in sorted(set(documented))
                 if documented.count(key) > 1]
    return problems


def outputs_in_dvc_yaml(name: str) -> list[str]:
    return declared_outputs(DVC_YAML, name)


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(DVC_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def params() -> dict:
    return yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))


def test_stage_table_is_dvc_yaml(readme, spec):
    problems = stage_table_problems(readme, spec, outputs_in_dvc_yaml)
    assert not problems, "README.md's stage table differs from dvc.yaml:\n" + "\n".join(problems)


def test_every_script_in_the_stage_table_exists_and_is_a_dep_of_its_stage(readme, spec):
    for row in table(readme, STAGE_HEADER):
        name, script = code_spans(row[0])[0], code_spans(row[1])[0]
        assert (PROJECT / script).is_file(), f"{name}: {script} does not exist"
        assert script in spec["stages"][name]["deps"], f"{name}: {script} is not among its deps"


def test_params_table_is_params_yaml(readme, params):
    problems = params_table_problems(readme, params)
    assert not problems, "README.md's params table differs from params.yaml:\n" + "\n".join(problems)


# ----------------------------------------------------------------- the checks catch drift
def rewrite_row(readme: str, header: tuple[str, ...], first_cell: str, change) -> str:
    """``readme`` with the row of the ``header`` table whose first cell is ``first_cell`` replaced
    by ``change(row)`` (a list of rows: [] deletes it)."""
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if tuple(c.lower() for c in cells(line)) == header)
    index = next(i for i in range(start + 2, len(lines)) if cells(lines[i])[:1] == [first_cell])
    replaced = ["| " + " | ".join(row) + " |" for row in change(cells(lines[index]))]
    return "\n".join(lines[:index] + replaced + lines[index + 1:])


def test_stage_checks_catch_a_missing_row_a_swapped_order_and_a_wrong_cell(readme, spec):
    def problems(text):
        return stage_table_problems(text, spec, outputs_in_dvc_yaml)

    assert any("stages:" in p for p in problems(rewrite_row(readme, STAGE_HEADER, "`hog`", lambda row: [])))
    moved = rewrite_row(rewrite_row(readme, STAGE_HEADER, "`hog`", lambda row: []), STAGE_HEADER, "`embed`",
                        lambda row: [["`hog`", "`pipeline/stages/hog.py`", "`hog`", "`data/hog`"], row])
    assert any("stages:" in p for p in problems(moved))
    for column, bad in ((1, "`pipeline/stages/embed.py`"), (2, "`hog`, `seed`"), (3, "`data/hog`, `plots/x.png`")):
        def change(row, column=column, bad=bad):
            return [row[:column] + [bad] + row[column + 1:]]
        assert [p for p in problems(rewrite_row(readme, STAGE_HEADER, "`hog`", change)) if p.startswith("hog:")]


def test_params_checks_catch_an_undocumented_key_an_unknown_key_and_a_repeat(readme, params):
    dropped = rewrite_row(readme, PARAMS_HEADER, "`seed`", lambda row: [])
    assert "seed: in params.yaml, not in README.md's params table" in params_table_problems(dropped, params)
    unknown = rewrite_row(readme, PARAMS_HEADER, "`seed`", lambda row: [row, ["`refine.rounds`", "gone"]])
    assert "refine.rounds: in README.md's params table, not in params.yaml" in params_table_problems(unknown, params)
    repeated = rewrite_row(readme, PARAMS_HEADER, "`seed`", lambda row: [row, row])
    assert "seed: documented 2 times" in params_table_problems(repeated, params)


# A path the README names as a file of this repository: under one of its code folders, ending in .py or .sh.
REPO_PATH = re.compile(r"(?<![\w/.])((?:pipeline|tests|bench)/[\w/.-]+\.(?:py|sh))\b")


def missing_paths(text: str) -> list[str]:
    """The repository paths ``text`` names (pipeline/…, tests/…, bench/… .py or .sh) that do not exist."""
    return sorted({path for path in REPO_PATH.findall(text) if not (PROJECT / path).is_file()})


def test_every_source_file_the_readme_names_exists(readme):
    assert missing_paths(readme) == []


def test_the_path_check_catches_a_moved_file():
    text = "see `tests/runs/test_determinism.py` and tests/test_determinism.py, and pipeline/lib/selftrain.py"
    assert missing_paths(text) == ["tests/test_determinism.py"]
