"""How the report writes numbers and params: counts, percentages, accuracies, losses, YAML values."""

from __future__ import annotations

from typing import Any

def count(n: int) -> str:
    """An integer with thousands separators: 12,345."""
    return f"{int(n):,}"


def percent(value: float, digits: int = 1) -> str:
    """A value already in percent: 12.3 %."""
    return f"{value:.{digits}f} %"


def accuracy(fraction: float) -> str:
    """A fraction in [0, 1] as a percentage with two decimals, as the plots show it: 51.50 %."""
    return percent(100 * fraction, 2)


def loss(value: float) -> str:
    """A loss to four significant digits: 0.02251."""
    return f"{value:.4g}"


def report_units(value: float) -> str:
    """A loss in the seed report's units (per image), four decimals as it gives them: 578.9316."""
    return f"{value:.4f}"


def score(fraction: float) -> str:
    """A fraction as Kaggle shows a score, five decimals: 0.95375."""
    return f"{fraction:.5f}"


def yaml_value(value: Any) -> str:
    """A parameter value written as in params.yaml: null, true, [32, 64], 0.001."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def shape(dims: list | None) -> str:
    """A Keras output shape: (None, 32, 32, 3)."""
    if not dims:
        return "—"
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"


def _maybe(value: Any, form=count) -> str | None:
    return None if value is None else form(value)
