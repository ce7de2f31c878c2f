"""``pca:``, the PCAs of the stages views and reduce, as a checked config; and the registry of views."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, bad


@dataclass(frozen=True)
class View:
    """One view of the pool that pca.views may choose."""

    dims_key: str  # the pca key of its PCA size
    words: str  # how the report names it


# pca.views: the views, in the order they are put side by side (the order pipeline.label applies
# the fitted PCAs in). A new view is one entry here, its file one in pipeline.lib.paths.VIEW_FILES.
VIEWS = {"codes": View("code_dims", "autoencoder codes"), "hog": View("hog_dims", "HOG"),
         "patches": View("patch_dims", "patch-dictionary descriptors"),
         "selftrain": View("selftrain_dims", "self-trained scores")}
NO_CAP = "a positive integer (1: no cap)"  # what pca.min_images_per_dim and _per_joint_dim take


@dataclass(frozen=True)
class PcaConfig:
    """``pca:``: whitened PCA of each view (stage `views`), then of all side by side (stage `reduce`).

    ``dims_of`` holds the PCA size of each chosen view (pca.code_dims, …); a view left out of
    pca.views keeps its key unchecked. With ``joint=False`` (the stage `views`, which does not
    read pca.dims, so changing it never reruns that stage) ``dims`` is left unchecked too.
    """

    SECTION: ClassVar[str] = "pca"
    views: tuple[str, ...]  # the views clustered, in VIEWS order
    dims_of: dict[str, int]  # chosen view → its PCA size
    weights: dict[str, float]  # chosen view → its whitened block's factor before the joint PCA (absent: 1)
    dims: int  # the joint PCA's size, what k-means sees
    whiten: bool
    min_images_per_dim: int  # each view's dims capped at images / this
    min_images_per_joint_dim: int  # the joint dims capped at images / this
    incremental: str | bool  # auto (IncrementalPCA past 1 GiB) | true | false

    @classmethod
    def from_values(cls, values: dict, *, joint: bool = True) -> "PcaConfig":
        keys = ["views", *(view.dims_key for view in VIEWS.values()), "weights", "dims", "whiten",
                "min_images_per_dim", "min_images_per_joint_dim", "incremental"]
        section = Section(cls.SECTION, values, keys, optional=() if joint else ("dims",))
        names = values["views"]
        if (not isinstance(names, list) or not names or not all(isinstance(n, str) and n in VIEWS for n in names)
                or len(set(names)) != len(names)):
            raise section.bad("views", f"a non-empty list of {', '.join(VIEWS)} (each at most once)")
        views = tuple(name for name in VIEWS if name in names)
        dims_of = {name: section.integer(VIEWS[name].dims_key) for name in views}
        dims = values.get("dims")
        if joint:
            dims = section.integer("dims")
            if dims > sum(dims_of.values()):
                keys = [f"pca.{VIEWS[name].dims_key}" for name in views]
                raise section.bad("dims", f"at most {' + '.join(keys)} = {sum(dims_of.values())} (the views "
                                          f"side by side)", dims)
        weights = values["weights"] or {}
        if not isinstance(weights, dict):
            raise section.bad("weights", "a mapping of view names to numbers (e.g. {selftrain: 1.5})")
        for name, value in weights.items():
            if name not in VIEWS:
                raise section.bad("weights", f"view names among {', '.join(VIEWS)}", name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise bad(f"pca.weights.{name}", "a positive number", value)
        if values["incremental"] not in ("auto", True, False):
            raise section.bad("incremental", "auto, true or false")
        return cls(views=views, dims_of=dims_of, weights={name: float(w) for name, w in weights.items()},
                   dims=dims, whiten=section.flag("whiten"),
                   min_images_per_dim=section.integer("min_images_per_dim", expected=NO_CAP),
                   min_images_per_joint_dim=section.integer("min_images_per_joint_dim", expected=NO_CAP),
                   incremental=values["incremental"])

    def check_width(self, view: str, width: int, where: object) -> None:
        """A view's PCA size is at most its width (``where``: the file it was read from)."""
        if self.dims_of[view] > width:
            raise bad(f"pca.{VIEWS[view].dims_key}", f"at most {width}, the width of {where}",
                      self.dims_of[view])

    def capped(self, view: str | None, images: int) -> tuple[int, str | None]:
        """A view's PCA size (``view`` None: the joint pca.dims), capped by the image count, and the
        line that says so when it was: the defaults sized for hw7 also run on the 200-image demo."""
        key, per_key = ((VIEWS[view].dims_key, "min_images_per_dim") if view
                        else ("dims", "min_images_per_joint_dim"))
        wanted, per_dim = (self.dims_of[view] if view else self.dims), getattr(self, per_key)
        cap = dims_for(images, images, per_dim)
        note = (f"pca.{key} {wanted} capped to {cap}: the image count and pca.{per_key} {per_dim} allow no more"
                if wanted > cap else None)
        return min(wanted, cap), note


def dims_for(requested: int, images: int, min_images_per_dim: int) -> int:
    """The PCA size to use: ``requested``, capped so each dimension has ``min_images_per_dim``
    images (at least 2 dimensions). Whitening scales every kept direction to unit variance, so
    on a small set it would blow sampling noise up to the size of real structure.

    The joint PCA's cap (pca.min_images_per_joint_dim) is stricter than the views' because
    k-means weighs every whitened direction alike, so on a small pool each direction kept past
    the few that separate the datasets is noise as large as the signal. The 200-image demo (400
    rows) over seeds 0-5: 5 joint directions put 86.5-99.5 % of its visualization images in the
    right cluster (mean 95.8), the 8 the views' rule allows 59.5-98.5 % (mean 84.3). hw7 and the
    holdout (19,674-20,000 rows) are capped at 262 or more, above pca.dims, and label every
    image as with the views' rule (BENCHMARKS.md, levers #56)."""
    return min(requested, max(2, images // min_images_per_dim))
