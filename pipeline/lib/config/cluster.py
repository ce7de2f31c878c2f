"""``cluster:``, the two clusters, as a checked config; and the registry of methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, bad, field_names

METHODS = ("kmeans", "gmm", "coordinates")  # cluster.method: see pipeline.lib.clustering


@dataclass(frozen=True)
class ClusterConfig:
    """``cluster:``: the two clusters (pipeline.lib.clustering)."""

    SECTION: ClassVar[str] = "cluster"
    method: str  # kmeans | gmm | coordinates
    alternative: str | None  # a second method evaluated alongside; None: none
    n_init: int  # k-means++ restarts (on a sample) that check the split k-means starts from
    minibatch: bool  # MiniBatchKMeans, for millions of images

    @classmethod
    def from_values(cls, values: dict) -> "ClusterConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        method = section.choice("method", METHODS)
        alternative = values["alternative"]
        if alternative not in (None, "", *METHODS) or isinstance(alternative, (list, dict)):
            raise section.bad("alternative", f"one of {', '.join(METHODS)} or null (none)")
        return cls(method=method, alternative=alternative or None, n_init=section.integer("n_init"),
                   minibatch=section.flag("minibatch"))

    @staticmethod
    def check_dims(method: str, dims: int) -> None:
        """The coordinates method compares the first two coordinates: it needs pca.dims ≥ 2."""
        if method == "coordinates" and dims < 2:
            raise bad("pca.dims", "at least 2 dimensions for the coordinates method", dims)
