"""What names a run in its report: the experiment, the commit, and the params that differ from the commit's.

    origin = read_origin(Path("."))  # Origin(experiment="dims-64", commit="40747c5", modified=False, committed={…})
    changed_params(params, origin.committed)  # [("pca.dims", 64, 256), …]: key, this run's, the commit's

`dvc exp run` gives every stage it runs DVC_EXP_NAME (the experiment's name) and DVC_EXP_BASELINE_REV
(the commit the experiment starts from); `dvc repro` gives neither, and the commit is git's HEAD.
The commit's params.yaml holds the defaults that `dvc exp run -S` and hand edits change. Outside a
git checkout (an unpacked archive, a test's folder) the commit and the changes are unknown, and the
report says so. Two runs of the same params on the same commit differ only in these names.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXPERIMENT, BASELINE = "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV"
# The code that makes a run's numbers: the stages and library, and the commands DVC runs. Other files
# change in every run (`dvc exp run -S` edits params.yaml, DVC writes dvc.lock and stages the metrics
# and plots in git's index), and the params' own differences are listed one by one.
CODE = ("pipeline", "dvc.yaml")
ABSENT = object()  # a key one of the two params.yaml files does not have


@dataclass(frozen=True)
class Origin:
    """Which run this is, as far as the environment and git tell."""

    experiment: str | None  # the `dvc exp run` experiment's name; None under `dvc repro`
    commit: str | None  # short hash of the commit the run starts from; None outside git
    modified: bool  # the CODE differs from that commit's
    committed: dict | None  # params.yaml at that commit; None where there is none to read


def read_origin(root: Path, environ: Mapping[str, str] = os.environ) -> Origin:
    """The run in ``root`` named by DVC's environment and by git (never an error: unknown is None)."""
    experiment = environ.get(EXPERIMENT) or None
    revision = environ.get(BASELINE) or "HEAD"
    commit = _git(root, "rev-parse", "--short=7", "--verify", f"{revision}^{{commit}}")
    if commit is None or commit[0] != 0:
        return Origin(experiment, None, False, None)
    diff = _git(root, "diff", "--quiet", revision, "--", *CODE)  # exit status 1: differences
    return Origin(experiment, commit[1].strip(), diff is not None and diff[0] == 1,
                  _committed_params(root, revision))


def _git(root: Path, *args: str) -> tuple[int, str] | None:
    """git's exit status and output in ``root``; None where git cannot be run."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})  # reading writes no index
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.returncode, done.stdout


def _committed_params(root: Path, revision: str) -> dict | None:
    shown = _git(root, "show", f"{revision}:./params.yaml")
    text = shown[1] if shown is not None and shown[0] == 0 else None
    try:
        params = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        return None
    return params if isinstance(params, dict) else None


def flatten(params: Mapping, prefix: str = "") -> dict[str, Any]:
    """Nested sections as dotted keys: {"pca": {"weights": {"patches": 2}}} → {"pca.weights.patches": 2}.

    An empty section stays one key (its value {}), so that emptying it is a change too.
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def same(a: Any, b: Any) -> bool:
    """Whether two YAML values are equal with their types: true is not 1, 2 is 2.0, lists in order."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def changed_params(params: Mapping, committed: Mapping) -> list[tuple[str, Any, Any]]:
    """Every key whose value differs between ``params`` and ``committed``, in params.yaml's order
    (then keys only the commit has): (dotted key, this run's value, the commit's), ABSENT for a key
    one side lacks."""
    ours, theirs = flatten(params), flatten(committed)
    keys = [*ours, *(key for key in theirs if key not in ours)]
    return [(key, ours.get(key, ABSENT), theirs.get(key, ABSENT)) for key in keys
            if key not in ours or key not in theirs or not same(ours[key], theirs[key])]
