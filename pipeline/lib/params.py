"""Reading params.yaml: one section per stage, plus the shared ``seed``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.lib.errors import InputError

PARAMS_FILE = Path("params.yaml")


def load_params(section: str | None = None, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Return one section of params.yaml (or all of it), with the shared ``seed`` added.

    A stage reads only the keys that dvc.yaml declares for it, so DVC reruns it exactly when
    one of those keys changes.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: parameters file not found (run from the repository root)")
    try:
        with open(path, encoding="utf-8") as f:
            params = yaml.safe_load(f) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid syntax"
        raise InputError(f"{path}:{where} expected YAML, found a syntax error ({problem})") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: expected UTF-8 text, found undecodable bytes ({error.reason})") from None
    if not isinstance(params, dict):
        raise InputError(f"{path}: expected sections (name: values), found {type(params).__name__}")
    seed = params.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InputError(f"{path}: seed: expected an integer in 0…{2**32 - 1}, found {seed!r}")
    if section is None:
        return params
    if section not in params:
        raise InputError(f"{path}: expected a section '{section}:', found sections {sorted(params)}")
    if not isinstance(params[section] or {}, dict):
        raise InputError(f"{path}: {section}: expected keys (key: value) under '{section}:', "
                         f"found {params[section]!r}")
    values = dict(params[section] or {})
    values.setdefault("seed", seed)
    return values
