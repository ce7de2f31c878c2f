"""The repository's params.yaml sections, for tests that build a config with a few keys changed.

    config_of(EmbedConfig, epochs=1, filters=(4,))   # the committed embed: section, two keys changed
    section_values("selftrain")                        # the committed section as a plain mapping

Defaults live in params.yaml alone, so a test starts from the committed values rather than from
numbers of its own.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.lib.config.params import read_section

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def section_values(section: str) -> dict:
    return read_section(section, PARAMS)


def config_of(config, **changes):
    """``config`` (a config class) from the committed section with ``changes`` (tuples as YAML lists)."""
    values = {**section_values(config.SECTION),
              **{key: list(value) if isinstance(value, tuple) else value for key, value in changes.items()}}
    return config.from_values(values)
