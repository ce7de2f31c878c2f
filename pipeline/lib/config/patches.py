"""``patches:``, the patch-dictionary view, as a checked config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import IMAGE_SIDE, Section, field_names


@dataclass(frozen=True)
class PatchesConfig:
    """``patches:``: the dictionary of colour patches (pipeline.lib.patches)."""

    SECTION: ClassVar[str] = "patches"
    size: int  # patch side in pixels
    atoms: int  # dictionary size (k-means centroids)
    pooling: int  # regions per image side the activations are summed over
    samples: int  # patches the dictionary is learned from
    stride: int  # pixels between the patches an image is described by

    @property
    def width(self) -> int:
        """Numbers per image: atoms × pooling²."""
        return self.atoms * self.pooling * self.pooling

    @classmethod
    def from_values(cls, values: dict) -> "PatchesConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        config = cls(**{key: section.integer(key, 2 if key == "atoms" else 1) for key in field_names(cls)})
        if not 2 <= config.size <= 16:
            raise section.bad("size", "2 to 16 pixels")
        positions = (IMAGE_SIDE - config.size) // config.stride + 1
        if config.pooling > positions:
            raise section.bad("pooling", f"at most {positions} (patch positions per side)")
        return config
