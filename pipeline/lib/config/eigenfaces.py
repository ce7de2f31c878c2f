"""``eigenfaces:``, PCA of a face folder, as a checked config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pipeline.lib.config.params import ConfigError, Section, bad, field_names


@dataclass(frozen=True)
class EigenfacesConfig:
    """``eigenfaces:``: PCA of a folder of colour faces (pipeline.lib.faces)."""

    SECTION: ClassVar[str] = "eigenfaces"
    dir: str  # a folder of face images of one size
    k: int  # eigenfaces to keep
    rebuild: int | tuple[str, ...]  # images to rebuild: a count (evenly spaced) or file names

    @classmethod
    def from_values(cls, values: dict) -> "EigenfacesConfig":
        """Types only: k and a count to rebuild are checked against the folder by :meth:`chosen`."""
        section = Section(cls.SECTION, values, field_names(cls))
        k, rebuild = values["k"], values["rebuild"]
        if isinstance(k, bool) or not isinstance(k, int):
            raise section.bad("k", "an integer from 1 to the number of images")
        if isinstance(rebuild, list) and rebuild and all(isinstance(name, str) for name in rebuild):
            rebuild = tuple(dict.fromkeys(rebuild))
        elif isinstance(rebuild, bool) or not isinstance(rebuild, int):
            raise section.bad("rebuild", "a count or a non-empty list of file names")
        return cls(dir=section.text("dir", "the path of a folder of face images"), k=k, rebuild=rebuild)

    def chosen(self, names: list[str]) -> list[str]:
        """The file names to rebuild among the folder's ``names``, with k checked against their count."""
        n = len(names)
        if not 1 <= self.k <= n:
            raise bad("eigenfaces.k", f"an integer from 1 to {n} (the number of images)", self.k)
        if isinstance(self.rebuild, int):
            if not 1 <= self.rebuild <= n:
                raise bad("eigenfaces.rebuild", f"a count from 1 to {n} or a list of file names", self.rebuild)
            return [names[i] for i in evenly_spaced(self.rebuild, n)]
        missing = [name for name in self.rebuild if name not in names]
        if missing:
            raise ConfigError("eigenfaces.rebuild", f"expected file names inside the face folder, found "
                                                    f"{missing} which it does not contain")
        return list(self.rebuild)


def evenly_spaced(count: int, n: int) -> list[int]:
    """``count`` indices spread evenly over ``range(n)``, always including 0 (and n-1 when count > 1)."""
    if count <= 1:
        return [0][:count]
    return [int(np.floor(x + 0.5)) for x in np.linspace(0, n - 1, count)]
