"""`--help` on every stage and command: the usage on stdout, exit 0, nothing read or written; an
unknown argument: one `error:` line on stderr, exit 2.

Each --help runs as the user runs it, in a subprocess, from a folder that holds a valid
params.yaml: a stage that ignored --help would run (demo writes data/demo, the others stop at a
missing input with exit 2), and either shows. The unknown arguments of the 14 stages go through
the same entry point in this process (one import each, not one interpreter each).
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.lib.errors import stage_guard

REPO = Path(__file__).resolve().parents[2]
STAGES = sorted(path.stem for path in (REPO / "pipeline/stages").glob("*.py") if path.stem != "__init__")
HEAVY = ("tensorflow", "keras")  # a stage's --help must not wait for these


def files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``, hidden ones too: relative path → (size, mtime in ns)."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*")}


def summary(path: Path) -> str:
    """The first line of the module docstring of ``path``, read without importing it."""
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))).splitlines()[0]


@pytest.fixture()
def workdir(tmp_path) -> Path:
    """A folder where a stage could run: the project's params.yaml, nothing else."""
    shutil.copy2(REPO / "params.yaml", tmp_path / "params.yaml")
    return tmp_path


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, timeout=120)


def test_every_stage_of_dvc_yaml_is_checked():
    import yaml

    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    modules = {stage["cmd"].split("pipeline.stages.")[1].split()[0] for stage in stages.values()}
    assert modules == set(STAGES) and len(STAGES) == 14


@pytest.mark.parametrize("stage", STAGES)
def test_stage_help_prints_the_docstring_and_touches_nothing(stage, workdir):
    before = files(workdir)
    result = run([sys.executable, "-X", "importtime", "-m", f"pipeline.stages.{stage}", "--help"], workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"usage: python -m pipeline.stages.{stage} [-h]\n"), result.stdout
    assert summary(REPO / f"pipeline/stages/{stage}.py") in result.stdout
    assert files(workdir) == before
    lines = result.stderr.splitlines()  # -X importtime: one line per imported module, nothing else
    assert [line for line in lines if not line.startswith("import time:")] == []
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_unknown_argument_is_one_line_and_exit_2(stage, tmp_path, monkeypatch, capsys):
    module = importlib.import_module(f"pipeline.stages.{stage}")
    monkeypatch.chdir(tmp_path)  # empty: had main run, its error would name a missing file
    for arguments, found in ((["--bogus"], "--bogus"), (["extra", "--help"], None), (["extra"], "extra")):
        monkeypatch.setattr(sys, "argv", [stage, *arguments])
        with pytest.raises(SystemExit) as exit_:
            stage_guard(module.main)
        out, err = capsys.readouterr()
        if found is None:  # --help wins over anything else on the line, as argparse has it
            assert exit_.value.code == 0 and out.startswith("usage: ") and err == ""
            continue
        assert exit_.value.code == 2 and out == ""
        assert err == (f"error: command line: unrecognized arguments: {found}; "
                       f"usage: python -m pipeline.stages.{stage} [-h]\n")
    assert list(tmp_path.iterdir()) == []


def test_stage_unknown_argument_through_python_m(workdir):
    before = files(workdir)
    result = run([sys.executable, "-m", "pipeline.stages.demo", "--bogus"], workdir)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("error: command line: unrecognized arguments: --bogus; "
                             "usage: python -m pipeline.stages.demo [-h]\n")
    assert files(workdir) == before


# ------------------------------------------------------------------------------------ commands
COMMANDS = {  # argv → the usage line it prints first
    "label": ([sys.executable, "-m", "pipeline.label"],
              "usage: python -m pipeline.label COMPETITION_DIR OUT_CSV\n"),
    "eigenfaces": ([sys.executable, "-m", "pipeline.eigenfaces"],
                   "usage: python -m pipeline.eigenfaces IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE\n"),
    "kaggle": ([sys.executable, "-m", "pipeline.kaggle"], "usage: python -m pipeline.kaggle "),
    "pca.sh": (["bash", str(REPO / "pca.sh")], "usage: bash pca.sh IMAGES_DIR INPUT_IMAGE OUTPUT_IMAGE\n"),
    "cluster.sh": (["bash", str(REPO / "cluster.sh")],
                   "usage: bash cluster.sh IMAGES_DIR TEST_CASE_CSV PREDICTION_CSV\n"),
}
ONE_LINE_ERRORS = ["label", "eigenfaces", "kaggle", "pca.sh", "cluster.sh"]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_command_help_prints_its_own_usage_and_touches_nothing(command, flag, workdir):
    argv, usage = COMMANDS[command]
    before = files(workdir)
    result = run([*argv, flag], workdir)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith(usage), result.stdout
    assert files(workdir) == before


@pytest.mark.parametrize("command", ONE_LINE_ERRORS)
@pytest.mark.parametrize("arguments", [["--bogus", "a", "b", "c"], ["a", "--bogus"], []])
def test_command_wrong_arguments_are_one_line_and_exit_2(command, arguments, workdir):
    argv, usage = COMMANDS[command]
    if command == "kaggle" and arguments:  # past its subcommand: argparse names an unknown one first
        arguments = ["scores", *arguments]
    before = files(workdir)
    result = run([*argv, *arguments], workdir)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: command line: "), result.stderr
    assert f"; {usage.strip()}" in lines[0], lines[0]  # the command's own usage
    assert ("--bogus" in lines[0]) == ("--bogus" in arguments), lines[0]
    assert files(workdir) == before


# ---------------------------------------------------------------------------------------- make
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", [[], ["help"]])
def test_make_without_a_target_lists_the_targets_and_builds_nothing(target, tmp_path):
    for name in ("Makefile", "requirements.lock"):
        shutil.copy2(REPO / name, tmp_path / name)
    before = files(tmp_path)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAKE")}
    result = subprocess.run(["make", *target], cwd=tmp_path, env=env, text=True, capture_output=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith("usage: make TARGET"), result.stdout
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    rules = re.findall(r"^([A-Za-z][\w-]*):(?!=)", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert listed[0] == "help" and sorted(listed) == sorted(rules)  # every target, each once
    assert {"run", "test", "clean", "data", "submit", "scores"} <= set(listed)
    assert files(tmp_path) == before  # no .venv made
