"""Static checks over the project's own modules (pipeline/, bench/, tests/)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(path for folder in ("pipeline", "bench", "tests") for path in (REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(REPO)))
def test_no_module_defines_a_top_level_function_or_class_twice(path):
    """A second `def` of a name silently replaces the first for every caller (bench/_repo.py once
    had two `set_options`, and every benchmark but one then failed when it wrote its section)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = Counter(node.name for node in tree.body
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
    assert not [name for name, count in names.items() if count > 1]


def test_the_two_option_formats_of_the_benchmarks():
    from bench import _repo

    assert _repo.set_options([]) == ""
    assert _repo.set_options(["embed.epochs=1", "seed=2"]) == " --set embed.epochs=1 --set seed=2"
    assert _repo.variant_options("pca.dims=2  pca.weights.selftrain=1") == [
        "-S", "pca.dims=2", "-S", "pca.weights.selftrain=1"]


# ------------------------------------------------------------------------------------- the rooms
# docs/architecture.md: stages import only the library, the library no stage and no command;
# params.yaml is read and named by the config package alone; paths import nothing of the project.
LIBRARY = sorted((REPO / "pipeline" / "lib").rglob("*.py"))
CONFIG = REPO / "pipeline" / "lib" / "config"


def project_imports(path: Path) -> set[str]:
    from imports import imported

    return imported(REPO, path, "pipeline")


@pytest.mark.parametrize("path", sorted((REPO / "pipeline" / "stages").glob("*.py")) + LIBRARY,
                         ids=lambda path: str(path.relative_to(REPO)))
def test_stages_and_the_library_import_no_stage_and_no_command(path):
    imports = project_imports(path)
    assert not [name for name in imports if name.startswith("pipeline.stages")]
    assert not [name for name in imports if name.count(".") == 1 and not name.startswith("pipeline.lib")]


def test_configs_import_only_configs_and_errors_and_paths_nothing():
    for path in CONFIG.glob("*.py"):
        assert {name for name in project_imports(path)
                if not name.startswith("pipeline.lib.config")} <= {"pipeline.lib.errors"}, path.name
    assert project_imports(REPO / "pipeline" / "lib" / "paths.py") == set()


@pytest.mark.parametrize("path", [path for path in LIBRARY if CONFIG not in path.parents and "report" not in path.parts],
                         ids=lambda path: str(path.relative_to(REPO)))
def test_no_library_module_reads_or_names_params_yaml(path):
    """Only pipeline/lib/config reads params.yaml, and only its ConfigError names it in a message;
    (the report, which shows the params, reads them through pipeline.lib.config.params)."""
    strings = [node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    docstrings = {ast.get_docstring(node, clean=False) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
    assert not [text for text in strings if "params.yaml" in text and text not in docstrings]
