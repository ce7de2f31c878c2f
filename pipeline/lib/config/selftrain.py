"""``selftrain:``, the self-trained view, as a checked config, importable without TensorFlow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, field_names
from pipeline.lib.config.pca import dims_for

# the bootstrap: the unsupervised views it clusters → the selftrain key of their PCA size
BOOTSTRAP_VIEWS = {"codes": "code_dims", "hog": "hog_dims", "patches": "patch_dims"}


@dataclass(frozen=True)
class SelftrainConfig:
    """``selftrain:``: networks that learn the bootstrap clusters' pseudo-labels (pipeline.lib.selftrain)."""

    SECTION: ClassVar[str] = "selftrain"
    code_dims: int  # bootstrap: whitened PCA of the autoencoder codes,
    hog_dims: int  # of the HOG descriptors,
    patch_dims: int  # of the patch-dictionary descriptors,
    dims: int  # and of the three side by side, then k-means
    folds: int  # cross-fitting: parts of the pool, each scored by models that never saw it
    linear_c: float  # inverse L2 strength of the logistic regression
    filters: tuple[int, ...]  # the CNN: one 3×3 conv + max-pool block per entry
    epochs: int
    batch_size: int
    learning_rate: float
    train_samples: int | None  # each CNN trains on at most this many images (None: all)
    min_images: int  # a smaller pool trains no CNN: a few hundred pseudo-labels teach it nothing

    @classmethod
    def from_values(cls, values: dict) -> "SelftrainConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        integers = {key: section.integer(key, 2 if key == "folds" else 1)
                    for key in ("code_dims", "hog_dims", "patch_dims", "dims", "folds", "epochs", "batch_size",
                                "min_images")}
        return cls(**integers, train_samples=section.optional_integer("train_samples", "all of its folds"),
                   linear_c=section.number("linear_c", 0, math.inf),
                   learning_rate=section.number("learning_rate", 0, 1),
                   filters=section.integers("filters", 5))

    def bootstrap_dims(self, widths: dict[str, int], images: int, min_images_per_dim: int = 50) -> tuple[dict, int]:
        """Each bootstrap view's PCA size and the joint one, capped at the view's width and by the
        image count (as `views` caps them: whitening a direction few images define blows up noise)."""
        cap = dims_for(images, images, min_images_per_dim)
        dims = {name: min(getattr(self, BOOTSTRAP_VIEWS[name]), width, cap) for name, width in widths.items()}
        return dims, min(self.dims, cap)
