"""The pool every stage after `prepare` works on: one array of rows, all treated alike.

Rows 0 … n−1 are the competition's images (image number i in row i − 1); rows n … n+2k−1 are the
visualization images, k of dataset A then k of B. Training, reducing and clustering use all rows
without labels, so the visualization images take exactly the path of the competition's images:
what is measured on them is what the submission gets. Only the metrics read the visualization
rows apart (their labels are known), and only the submission reads the competition rows apart.

`prepare` writes the split to data/prepared/rows.json.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.lib import paths
from pipeline.lib.errors import InputError

ROWS_FILE = paths.ROWS


@dataclass(frozen=True)
class Rows:
    """How many rows of the pool are competition images and how many visualization images."""

    competition: int
    visualization: int

    @property
    def total(self) -> int:
        return self.competition + self.visualization

    def competition_part(self, array):
        """The competition images' rows of a pool-sized array: (n, ...)."""
        self._check(array)
        return array[:self.competition]

    def visualization_part(self, array):
        """The visualization images' rows of a pool-sized array: (2k, ...), dataset A first."""
        self._check(array)
        return array[self.competition:]

    def _check(self, array) -> None:
        if len(array) != self.total:
            raise ValueError(f"an array of {len(array)} rows, expected the pool's {self.total}")

    @classmethod
    def read(cls, path: str | os.PathLike = ROWS_FILE) -> "Rows":
        """The split `prepare` wrote."""
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        try:
            return cls(int(values["competition"]), int(values["visualization"]))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: expected {{\"competition\": n, \"visualization\": 2k}}, "
                             f"found {values!r}") from None

    def as_json(self) -> dict:
        return {"competition": self.competition, "visualization": self.visualization}


def truth(rows: Rows) -> np.ndarray:
    """The known labels of the visualization rows: (2k,) int8, 0 for dataset A, 1 for B."""
    return np.repeat(np.array([0, 1], dtype=np.int8), rows.visualization // 2)
