"""``demo:``, the embedded default data, as a checked config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, field_names


@dataclass(frozen=True)
class DemoConfig:
    """``demo:``: the embedded default data, built from scikit-image's lfw_subset."""

    SECTION: ClassVar[str] = "demo"
    pairs: int  # test pairs written to the demo's test_case.csv

    @classmethod
    def from_values(cls, values: dict) -> "DemoConfig":
        return cls(pairs=Section(cls.SECTION, values, field_names(cls)).integer("pairs"))
