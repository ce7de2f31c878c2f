"""The `embed:` params as a checked value, importable without TensorFlow.

The `embed` stage builds and validates this before it imports TensorFlow, so a bad value in
params.yaml fails in well under a second, not after TensorFlow's start-up. pipeline.autoencoder
re-exports :class:`AutoencoderConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from pipeline.lib.errors import InputError

MAX_BLOCKS = 5  # each stride-2 block halves 32×32: five of them reach 1×1
DISTRIBUTIONS = ("auto", "none", "mirrored")  # embed.distribution: see pipeline.distribute
MODELS = ("conv_ae", "vae")  # embed.model: pipeline.lib.autoencoder or pipeline.lib.vae
VAE_CODE_SIZE = 96  # the seed report's latent width (z_mean); the VAE's layer sizes are all fixed


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class AutoencoderConfig:
    """The `embed:` section of params.yaml that shapes and trains the autoencoder."""

    filters: tuple[int, ...] = (32, 64, 128)  # one stride-2 conv block per entry: 32→16→8→4
    code_size: int = 128  # width of the dense bottleneck: the latent code
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 1e-3
    flip: bool = True  # augment with horizontal flips (input and target flipped together)
    train_samples: int | None = None  # train on a random sample of this many images (None: all)
    extra: dict = field(default_factory=dict)
    distribution: str = "auto"  # tf.distribute strategy (pipeline.distribute): auto | none | mirrored
    # conv_ae: the convolutional autoencoder shaped by filters and code_size; vae: the seed report's
    # variational autoencoder, whose sizes are fixed (filters and code_size do not apply to it)
    model: str = "conv_ae"

    @property
    def latent_size(self) -> int:
        """Width of the codes the chosen model's encoder writes: code_size, or 96 for the VAE."""
        return VAE_CODE_SIZE if self.model == "vae" else self.code_size

    @classmethod
    def keys(cls) -> list[str]:
        """The keys the `embed:` section may hold."""
        return [f.name for f in fields(cls) if f.name != "extra"]

    @classmethod
    def from_params(cls, params: dict) -> "AutoencoderConfig":
        """Build from the `embed:` section (plus the shared ``seed``) and :meth:`validate` it.

        An unknown key (a typo such as ``epoch:``) is an error, not silently ignored.
        """
        known = cls.keys()
        for key in params:
            if key not in known and key != "seed":
                raise InputError(f"params.yaml: embed.{key}: unknown key, expected one of "
                                 f"{', '.join(known)}")
        values = {key: value for key, value in params.items() if key in known}
        if isinstance(values.get("filters"), list):
            values["filters"] = tuple(values["filters"])
        rate = values.get("learning_rate")
        if isinstance(rate, str):  # PyYAML reads 1e-3 (no dot) as text
            try:
                values["learning_rate"] = float(rate)
            except ValueError:
                pass  # validate() names it
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Check types and ranges before any training starts; errors name params.yaml and the key."""
        def bad(key, expected, found):
            raise InputError(f"params.yaml: embed.{key}: expected {expected}, found {found!r}")

        filters = self.filters
        if (not isinstance(filters, (tuple, list)) or not 1 <= len(filters) <= MAX_BLOCKS
                or not all(_is_int(f) and f >= 1 for f in filters)):
            bad("filters", f"a list of 1 to {MAX_BLOCKS} positive integers (each block halves 32×32)",
                list(filters) if isinstance(filters, tuple) else filters)
        for key in ("code_size", "epochs", "batch_size"):
            value = getattr(self, key)
            if not _is_int(value) or value < 1:
                bad(key, "a positive integer (1 or more)", value)
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (
                math.isfinite(rate) and 0 < rate <= 1):
            bad("learning_rate", "a number in (0, 1], e.g. 0.001", rate)
        if not isinstance(self.flip, bool):
            bad("flip", "true or false", self.flip)
        if self.train_samples is not None and (not _is_int(self.train_samples) or self.train_samples < 1):
            bad("train_samples", "a positive integer or null (all images)", self.train_samples)
        if self.distribution not in DISTRIBUTIONS:
            bad("distribution", "one of auto (several GPUs: mirrored, else none), none, mirrored",
                self.distribution)
        if not isinstance(self.model, str) or self.model not in MODELS:
            bad("model", "one of conv_ae (the convolutional autoencoder), vae (the seed report's "
                "variational autoencoder)", self.model)
