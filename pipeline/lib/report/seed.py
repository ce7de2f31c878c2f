"""The seed report's two methods beside this run: their params, their published figures, and
which of them (or the defaults, or "other") a run's params are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.lib.config.pca import VIEWS
from pipeline.lib.report.formatting import yaml_value
from pipeline.lib.report.inputs import Checked

# The seed report's two methods as params (what `dvc exp run -S` sets: README, "The seed report's
# methods"), and the defaults' method, by the params that tell the three apart. A run is marked as
# one of them when its params.yaml holds every value listed (pca.views in any order).
# The seed report's VAE learnt every image, so its methods set embed.train_samples to null.
CONFIGURATIONS = {
    "seed method I": {"embed.model": "vae", "embed.train_samples": None, "pca.views": ["codes"],
                      "pca.code_dims": 48, "pca.dims": 48, "pca.whiten": False, "cluster.method": "kmeans"},
    "seed method II": {"embed.model": "vae", "embed.train_samples": None, "pca.views": ["codes"],
                       "pca.code_dims": 2, "pca.dims": 2, "pca.whiten": False, "cluster.method": "coordinates"},
    # params.yaml's values (tests/runs/test_presets.py checks): the sizes are left out, so tuning them
    # keeps a run "defaults"; the method is what the seed report's are compared with
    "defaults": {"embed.model": "conv_ae", "pca.views": list(VIEWS), "pca.whiten": True, "cluster.method": "kmeans"},
}


@dataclass(frozen=True)
class Published:
    """The seed report's figures for one of its methods, quoted as published (on the course's hw7
    data; the Kaggle score is the private leaderboard's)."""

    configuration: str  # a key of CONFIGURATIONS
    method: str  # as the report words it
    visualization_accuracy: str | None
    kaggle: str
    report_units_loss: str | None  # per image: 32·32 × BCE + KL


SEED_REPORT = (
    Published("seed method I", "VAE codes → PCA 48 → k-means", "97.22 %", "0.95375", "578.9316"),
    Published("seed method II", "PCA to 2 → label by the larger coordinate", None, "0.50087", None),
)


@dataclass(frozen=True)
class Comparison:
    """The seed report's published figures beside this run's, and which configuration this run is."""

    configuration: str  # a key of CONFIGURATIONS, or "other"
    differences: list[str]  # "key: this run's value (defaults: value)", where the run is "other"
    published: tuple[Published, ...]
    model: str  # embed.model
    commands: dict[str, str]  # seed method → the `dvc exp run` that runs it


def param(params: Checked, dotted: str) -> Any:
    """A params.yaml value by its dotted key, any type; None where it is absent."""
    value: Any = params.data
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def matches(value: Any, expected: Any) -> bool:
    """Whether a param holds ``expected``: same type (false is not 0), lists in any order."""
    if isinstance(expected, list):
        return isinstance(value, list) and sorted(map(str, value)) == sorted(map(str, expected))
    return type(value) is type(expected) and value == expected


def configuration_of(params: Checked) -> tuple[str, list[str]]:
    """Which of CONFIGURATIONS the run's params are, or "other" and how they differ from the
    defaults' (``key: value (defaults: value)``)."""
    def value(key: str) -> Any:
        return param(params, key)

    for name, settings in CONFIGURATIONS.items():
        if all(matches(value(key), expected) for key, expected in settings.items()):
            return name, []
    return "other", [f"{key}: {yaml_value(value(key))} (defaults: {yaml_value(expected)})"
                     for key, expected in CONFIGURATIONS["defaults"].items() if not matches(value(key), expected)]


EXPERIMENT_NAMES = {"seed method I": "seed-method-1", "seed method II": "seed-method-2"}


def exp_run_command(configuration: str) -> str:
    """The `dvc exp run` that runs one of the seed methods (on params.yaml's data.dir; add
    ``-S data.dir=…`` for another folder), quoted for a POSIX shell."""
    settings = []
    for key, value in CONFIGURATIONS[configuration].items():
        text = f"{key}={yaml_value(value).replace(' ', '')}"
        settings.append(f"-S '{text}'" if "[" in text else f"-S {text}")  # [codes] is a shell glob
    return f"dvc exp run -n {EXPERIMENT_NAMES[configuration]} {' '.join(settings)}"


def gather_comparison(params: Checked) -> Comparison:
    configuration, differences = configuration_of(params)
    return Comparison(configuration=configuration, differences=differences, published=SEED_REPORT,
                      model=params.need("embed.model", str),
                      commands={p.configuration: exp_run_command(p.configuration) for p in SEED_REPORT})
