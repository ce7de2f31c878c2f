"""Reading params.yaml, and checking one section's keys in one message style.

Shared by every section: ``seed`` (:func:`load_seed`), which seeds NumPy, Python, TensorFlow and
scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline.lib.errors import InputError

PARAMS_FILE = Path("params.yaml")

IMAGE_SIDE = 32  # the competition's images are 32×32


class ConfigError(InputError):
    """A param that is wrong: ``params.yaml: <section>.<key>: <what was expected and found>``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{PARAMS_FILE}: {key}: {message}")


def bad(key: str, expected: str, found: Any) -> ConfigError:
    """The one message style: ``<key>: expected <expected>, found <found!r>``."""
    return ConfigError(key, f"expected {expected}, found {found!r}")


# ------------------------------------------------------------------------------ reading the file
def read_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """The whole of params.yaml as a mapping of sections, with ``seed`` checked."""
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
    return params


def read_section(section: str, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """One section of params.yaml as a plain mapping (its keys unchecked)."""
    params = read_params(path)
    if section not in params:
        raise InputError(f"{path}: expected a section '{section}:', found sections {sorted(params)}")
    if not isinstance(params[section] or {}, dict):
        raise InputError(f"{path}: {section}: expected keys (key: value) under '{section}:', "
                         f"found {params[section]!r}")
    return dict(params[section] or {})


def load_seed(path: str | Path = PARAMS_FILE) -> int:
    """params.yaml's shared ``seed``: an integer in 0…2³²−1 (0 when absent)."""
    return int(read_params(path).get("seed", 0))


Config = TypeVar("Config")


def load(config: type[Config], path: str | Path = PARAMS_FILE, **options) -> Config:
    """The params.yaml section that ``config``, a ``pipeline.lib.config.<section>`` class, describes, checked."""
    return config.from_values(read_section(config.SECTION, path), **options)


# ------------------------------------------------------------------------------ checking values
_AS_GIVEN = object()  # Section.bad's default: the value the section holds under the key


class Section:
    """One section's values, checked key by key in one message style.

    Every key of ``keys`` must be present (defaults live in params.yaml), but those ``optional``
    ones that a stage does not read (dvc.yaml declares params key by key), and no other may be.
    """

    def __init__(self, name: str, values: dict, keys, optional=()) -> None:
        self.name, self.values, self.keys = name, values, list(keys)
        for key in values:
            if key not in self.keys:
                raise ConfigError(f"{name}.{key}", f"unknown key, expected one of {', '.join(self.keys)}")
        missing = [key for key in self.keys if key not in values and key not in optional]
        if missing:
            raise InputError(f"{PARAMS_FILE}: {name}: expected keys {', '.join(self.keys)}, "
                             f"found no {', '.join(missing)}")

    def key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def bad(self, key: str, expected: str, found: Any = _AS_GIVEN) -> ConfigError:
        return bad(self.key(key), expected, self.values.get(key) if found is _AS_GIVEN else found)

    def integer(self, key: str, least: int = 1, expected: str | None = None) -> int:
        value = self.values[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise self.bad(key, expected or ("a positive integer" if least == 1 else f"an integer ≥ {least}"))
        return value

    def optional_integer(self, key: str, meaning: str) -> int | None:
        """A positive integer, or null (``meaning``: what null stands for)."""
        if self.values[key] is None:
            return None
        return self.integer(key, expected=f"a positive integer or null ({meaning})")

    def number(self, key: str, low: float, high: float) -> float:
        """A finite number in (low, high]; PyYAML reads 1e-3 (no dot) as text, which is accepted too."""
        value = self.values[key]
        try:
            parsed = float(value) if isinstance(value, str) else value
        except ValueError:
            parsed = None
        if (isinstance(parsed, bool) or not isinstance(parsed, (int, float)) or math.isnan(parsed)
                or not low < parsed <= high):
            raise self.bad(key, f"a number in ({low:g}, {high:g}]")
        return float(parsed)

    def integers(self, key: str, most: int, why: str = "") -> tuple[int, ...]:
        """A list of 1 to ``most`` positive integers."""
        value = self.values[key]
        if (not isinstance(value, list) or not 1 <= len(value) <= most
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
            raise self.bad(key, f"a list of 1 to {most} positive integers{why}")
        return tuple(value)

    def flag(self, key: str) -> bool:
        value = self.values[key]
        if not isinstance(value, bool):
            raise self.bad(key, "true or false")
        return value

    def choice(self, key: str, options, described: str | None = None):
        value = self.values[key]
        if isinstance(value, (list, dict)) or value not in options:
            raise self.bad(key, f"one of {described or ', '.join(map(str, options))}")
        return value

    def text(self, key: str, what: str) -> str:
        value = self.values[key]
        if not isinstance(value, str) or not value.strip():
            raise self.bad(key, what)
        return value


def field_names(config) -> list[str]:
    """The keys of a config class's section: its dataclass fields."""
    return [f.name for f in fields(config)]
