"""The run's files that the report reads, each checked as it is read.

A missing file, a file that is not a JSON object or not a PNG, and a key that is missing or of
the wrong type are each an InputError naming the file (and the key), so the `report` stage stops
with one line and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.lib.errors import InputError

NUMBER = (int, float)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Checked:
    """A JSON object (or one object inside it) whose values are read with their type checked.

    ``where`` names the file in errors and ``prefix`` is this object's dotted path inside it, so
    that a miss in ``Checked(cluster, "data/cluster/summary.json").part("alternative")`` is reported
    as 'alternative.visualization_accuracy'.
    """

    def __init__(self, data: dict, where: str, prefix: str = ""):
        self.data, self.where, self.prefix = data, where, prefix

    def need(self, dotted: str, kind: type | tuple = NUMBER) -> Any:
        """``data["a"]["b"]`` for ``dotted="a.b"``, of ``kind`` (JSON true is no number)."""
        value: Any = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                raise InputError(f"{self.where}: expected a key '{self.prefix}{dotted}', found none")
            value = value[part]
        return self._checked(dotted, value, kind)

    def _checked(self, dotted: str, value: Any, kind: type | tuple) -> Any:
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise InputError(f"{self.where}: '{self.prefix}{dotted}': expected {names}, found {value!r}")
        return value

    def may(self, dotted: str, kind: type | tuple = NUMBER, default: Any = None) -> Any:
        """Like ``need``, but ``default`` where the key (or an object above it) is absent or null."""
        value: Any = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict):
                break  # need() names the key
            if value.get(part) is None:
                return default
            value = value[part]
        return self.need(dotted, kind)

    def part(self, dotted: str) -> Checked:
        """The object at ``dotted``, itself checked."""
        return Checked(self.need(dotted, dict), self.where, f"{self.prefix}{dotted}.")

    def numbers(self, dotted: str, kind: type | tuple = NUMBER) -> dict[str, Any]:
        """An object of numbers, {"round_1": 0.75, …}; {} where it is absent."""
        table = self.may(dotted, dict, {})
        return {name: self._checked(f"{dotted}.{name}", value, kind) for name, value in table.items()}

    def ranked(self, dotted: str) -> dict[int, float]:
        """{"1": x, "2": y, …} → {1: x, 2: y, …} in rank order, at least one rank."""
        table = self.need(dotted, dict)
        try:
            ranked = {int(rank): float(value) for rank, value in table.items()}
        except (TypeError, ValueError):
            raise InputError(f"{self.where}: '{dotted}': expected {{\"1\": number, …}}, "
                             f"found {table!r}") from None
        if not ranked:
            raise InputError(f"{self.where}: '{dotted}': expected at least one eigenface, found none")
        return dict(sorted(ranked.items()))


def read_json(root: Path, name: str, stage: str) -> Checked:
    """The JSON object in ``root / name``, written by ``stage`` (named when the file is missing)."""
    path = root / name
    if not path.is_file():
        raise InputError(f"{name}: not found: expected the output of stage '{stage}' (run dvc repro)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: expected JSON, found a syntax error ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a JSON object, found {type(data).__name__}")
    return Checked(data, name)


@dataclass(frozen=True)
class Picture:
    """A PNG file of the run: its path (relative to the run's root, forward slashes) and size in pixels."""

    path: str
    png: bytes
    width: int
    height: int


def read_png(root: Path, name: str, stage: str) -> Picture:
    """The PNG file ``root / name`` with its size, read from its IHDR chunk."""
    path = root / name
    if not path.is_file():
        raise InputError(f"{name}: not found: expected the picture drawn by stage '{stage}' (run dvc repro)")
    data = path.read_bytes()
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise InputError(f"{name}: expected a PNG image, found other bytes")
    width, height = struct.unpack(">II", data[16:24])
    return Picture(name, data, width, height)


def generation_date() -> dt.date:
    """Today in UTC, or the date of $SOURCE_DATE_EPOCH when set (for byte-identical rebuilds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    except (ValueError, OverflowError):
        raise InputError(f"SOURCE_DATE_EPOCH: expected seconds since 1970, found {epoch!r}") from None
