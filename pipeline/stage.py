"""What every stage script shares: reading params.yaml and turning user errors into one line."""

from __future__ import annotations

import re
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


def one_line(message: object) -> str:
    """``message`` on one line: line breaks (and the spaces around them) become one space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(message).strip())


def main_guard(main: Callable[[list[str]], None]) -> None:
    """Run ``main(sys.argv[1:])``; a user's mistake becomes one line on stderr and exit status 2.

    A missing input file (a stage run by hand before the stage that writes it) counts as one.
    """
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:
        name = error.filename if error.filename is not None else one_line(error)
        print(f"error: {name}: expected an input file, found nothing (run the stages before this "
              f"one first: dvc repro)", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: no output of this stage was written", file=sys.stderr)
        sys.exit(130)
