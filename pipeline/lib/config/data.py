"""``data:``, the competition folder, as a checked config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, field_names


@dataclass(frozen=True)
class DataConfig:
    """``data:``: the competition folder clustering reads."""

    SECTION: ClassVar[str] = "data"
    dir: str  # images/, test_case.csv, visualization.npy; inside or outside the repository

    @classmethod
    def from_values(cls, values: dict) -> "DataConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        return cls(dir=section.text("dir", "the path of a competition folder"))
