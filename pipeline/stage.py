"""What every stage script shares: reading params.yaml and turning user errors into one line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import yaml

from pipeline.errors import InputError

PARAMS_FILE = Path("params.yaml")


def load_params(section: str | None = None, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Return one section of params.yaml (or all of it), with the shared ``seed`` added.

    A stage reads only the keys that dvc.yaml declares for it, so DVC reruns it exactly when
    one of those keys changes.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: parameters file not found (run from the repository root)")
    with open(path, encoding="utf-8") as f:
        params = yaml.safe_load(f) or {}
    if section is None:
        return params
    if section not in params:
        raise InputError(f"{path}: expected a section '{section}:', found sections {sorted(params)}")
    values = dict(params[section] or {})
    values.setdefault("seed", params.get("seed", 0))
    return values


def main_guard(main: Callable[[list[str]], None]) -> None:
    """Run ``main(sys.argv[1:])``; a user's mistake becomes one line on stderr and exit status 2."""
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: no output of this stage was written", file=sys.stderr)
        sys.exit(130)
