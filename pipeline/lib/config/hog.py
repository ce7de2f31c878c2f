"""``hog:``, the HOG view, as a checked config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import IMAGE_SIDE, Section, field_names


@dataclass(frozen=True)
class HogConfig:
    """``hog:``: histograms of oriented gradients (pipeline.lib.descriptors; skimage.feature.hog)."""

    SECTION: ClassVar[str] = "hog"
    orientations: int  # gradient direction bins over 0–180°
    cell: int  # pixels per cell side: 32×32 → 8×8 cells
    block: int  # cells per normalisation block side

    @classmethod
    def from_values(cls, values: dict) -> "HogConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        config = cls(orientations=section.integer("orientations"), cell=section.integer("cell"),
                     block=section.integer("block"))
        if IMAGE_SIDE // config.cell < config.block:
            raise section.bad("block", f"at most {IMAGE_SIDE // config.cell} (32 px / hog.cell "
                                       f"{config.cell} cells per side)")
        return config
