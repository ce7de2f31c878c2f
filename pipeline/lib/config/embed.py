"""``embed:``, the autoencoder, as a checked config, importable without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pipeline.lib.config.params import Section, field_names

MODELS = ("conv_ae", "vae")  # embed.model: pipeline.lib.autoencoder or pipeline.lib.vae
DISTRIBUTIONS = ("auto", "none", "mirrored")  # embed.distribution: see pipeline.lib.distribute
MAX_BLOCKS = 5  # embed.filters: each stride-2 block halves 32×32, five of them reach 1×1
VAE_CODE_SIZE = 96  # the seed report's VAE's latent width (z_mean); its layer sizes are all fixed


@dataclass(frozen=True)
class EmbedConfig:
    """``embed:``: the autoencoder that `embed` trains (pipeline.lib.autoencoder, pipeline.lib.vae)."""

    SECTION: ClassVar[str] = "embed"
    # conv_ae: the convolutional autoencoder shaped by filters and code_size; vae: the seed report's
    # variational autoencoder, whose sizes are fixed (filters and code_size do not apply to it)
    model: str
    filters: tuple[int, ...]  # one stride-2 conv block per entry: 32→16→8→4
    code_size: int  # width of the dense bottleneck: the latent code
    epochs: int
    batch_size: int
    learning_rate: float
    flip: bool  # augment with horizontal flips (input and target flipped together)
    train_samples: int | None  # train on a random sample of this many images (None: all)
    distribution: str  # tf.distribute strategy (pipeline.lib.distribute): auto | none | mirrored

    @property
    def latent_size(self) -> int:
        """Width of the codes the chosen model's encoder writes: code_size, or 96 for the VAE."""
        return VAE_CODE_SIZE if self.model == "vae" else self.code_size

    @classmethod
    def from_values(cls, values: dict) -> "EmbedConfig":
        section = Section(cls.SECTION, values, field_names(cls))
        return cls(
            model=section.choice("model", MODELS, "conv_ae (the convolutional autoencoder), vae (the seed "
                                                  "report's variational autoencoder)"),
            filters=section.integers("filters", MAX_BLOCKS, " (each block halves 32×32)"),
            code_size=section.integer("code_size"), epochs=section.integer("epochs"),
            batch_size=section.integer("batch_size"), learning_rate=section.number("learning_rate", 0, 1),
            flip=section.flag("flip"), train_samples=section.optional_integer("train_samples", "all images"),
            distribution=section.choice("distribution", DISTRIBUTIONS,
                                        "auto (several GPUs: mirrored, else none), none, mirrored"))
