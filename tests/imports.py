"""The project's own modules a module imports, followed through the package (static: ast).

Used to check that dvc.yaml lists, for each stage, exactly the code it runs: a change to any of
those files must rerun the stage, and a change to any other must not.
"""

from __future__ import annotations

import ast
from pathlib import Path


def module_file(root: Path, module: str) -> Path | None:
    """``pipeline.lib.atomic`` → root/pipeline/lib/atomic.py (or a package's __init__.py)."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported(root: Path, path: Path, package: str) -> set[str]:
    """Modules of ``package`` that the file at ``path`` imports anywhere (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from pipeline.lib import atomic` imports the module pipeline.lib.atomic
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == package and module_file(root, name)}


def code_files(root: Path, module: str) -> set[str]:
    """Files (relative to ``root``) of ``module`` and of every project module it imports,
    transitively; packages' ``__init__.py`` files are left out (they hold docstrings only)."""
    package = module.split(".")[0]
    seen, todo, files = set(), [module], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(root, name)
        if path.name != "__init__.py":
            files.add(path.relative_to(root).as_posix())
        todo.extend(imported(root, path, package))
    return files
