"""``plot:``, the 2-D picture, as a checked config; and the registry of projections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, field_names

PROJECTIONS = ("separation", "pca", "tsne")  # plot.projection: see pipeline.lib.projection


@dataclass(frozen=True)
class PlotConfig:
    """``plot:``: the 2-D picture of the visualization images (pipeline.lib.projection)."""

    SECTION: ClassVar[str] = "plot"
    projection: str  # separation | pca | tsne

    @classmethod
    def from_values(cls, values: dict) -> "PlotConfig":
        return cls(projection=Section(cls.SECTION, values, field_names(cls)).choice("projection", PROJECTIONS))
