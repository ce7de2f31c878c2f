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


# ------------------------------------------------------------------------- checking one section
# Each stage checks its own section before any work (and before TensorFlow loads), so a typo
# fails in a second with one line naming params.yaml, the key, what was expected and found.

def _bad(section: str, key: str, expected: str, found: Any) -> InputError:
    return InputError(f"params.yaml: {section}.{key}: expected {expected}, found {found!r}")


def check_keys(section: str, params: dict, known) -> None:
    """No key of ``section`` outside ``known`` (``seed`` is added by :func:`load_params`)."""
    for key in params:
        if key not in known and key != "seed":
            raise InputError(f"params.yaml: {section}.{key}: unknown key, expected one of {', '.join(known)}")


def integer(section: str, params: dict, key: str, least: int = 1) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise _bad(section, key, f"an integer ≥ {least}", value)
    return value


def number(section: str, params: dict, key: str, low: float, high: float) -> float:
    """A number in (low, high]; PyYAML reads 1e-3 (no dot) as text, which is accepted too."""
    value = params.get(key)
    try:
        parsed = float(value) if isinstance(value, str) else value
    except ValueError:
        parsed = None
    if isinstance(parsed, bool) or not isinstance(parsed, (int, float)) or not low < parsed <= high:
        raise _bad(section, key, f"a number in ({low:g}, {high:g}]", value)
    return float(parsed)


def integers(section: str, params: dict, key: str, most: int) -> tuple[int, ...]:
    """A list of 1 to ``most`` positive integers."""
    value = params.get(key)
    if (not isinstance(value, list) or not 1 <= len(value) <= most
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise _bad(section, key, f"a list of 1 to {most} positive integers", value)
    return tuple(value)


def flag(section: str, params: dict, key: str) -> bool:
    value = params.get(key)
    if not isinstance(value, bool):
        raise _bad(section, key, "true or false", value)
    return value
