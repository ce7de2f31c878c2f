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
