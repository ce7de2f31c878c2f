"""The team workflow: one member runs and pushes, another clones and pulls, with no training.

On the tiny committed run (tiny_repo.baseline): a local folder as the DVC remote and a bare
repository as the git remote, as a team would use a shared drive or a bucket and a git host.
Stage names come from dvc.yaml; pipeline.label is used only through its command line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tiny_repo import BIN, baseline, clone, commit_all, dvc, environment, git

from pipeline.lib import paths

UP_TO_DATE = "Data and pipelines are up to date."


def stages(repo: Path) -> list[str]:
    return list(yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8"))["stages"])


def run(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=repo, env=env or environment(), text=True, capture_output=True, timeout=600,
                          check=False)


def metrics(repo: Path) -> dict[str, dict]:
    """The run's metrics (metrics/*.json) and what each stage measured besides (data/*/summary.json)."""
    files = [*(repo / "metrics").glob("*.json"), *(repo / "data").glob("*/summary.json")]
    return {p.relative_to(repo).as_posix(): json.loads(p.read_text()) for p in sorted(files)}


def submit_message(repo: Path) -> str:
    """The message `make submit` would send from ``repo`` (it refuses the tiny run's submission, not
    the competition's, so its own function for the message is asked)."""
    result = run(repo, str(BIN / "python"), "-c", "from pipeline.kaggle import default_message as m; print(m())")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_teammate_pulls_a_run_and_an_experiment_without_training(tmp_path_factory, tmp_path):
    base, _ = baseline(tmp_path_factory)
    mine = clone(base, tmp_path / "mine")
    storage, origin = tmp_path / "dvc-storage", tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)

    # --- the one who ran it: a default DVC remote, committed, then data and code pushed --------
    dvc(mine, "remote", "add", "-d", "storage", str(storage))
    commit_all(mine, "a DVC remote for the team")
    pushed = dvc(mine, "push").stdout
    assert "pushed" in pushed and any(storage.rglob("*")), pushed
    git(mine, "remote", "add", "origin", str(origin))
    git(mine, "push", "-q", "origin", "HEAD:refs/heads/main")

    # --- a teammate: clone, pull, and everything is as it was, nothing to run -----------------
    theirs = tmp_path / "theirs"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(origin), str(theirs)], check=True)
    for key, value in (("user.name", "teammate"), ("user.email", "teammate@example.invalid"),
                       ("commit.gpgsign", "false")):
        git(theirs, "config", key, value)
    assert not (theirs / paths.SUBMISSION).exists()  # DVC's outputs are not in git
    dvc(theirs, "pull")
    assert dvc(theirs, "status").stdout.strip().endswith(UP_TO_DATE)
    repro = dvc(theirs, "repro").stdout
    assert "Running stage" not in repro, repro
    for stage in stages(theirs):
        assert f"Stage '{stage}' didn't change, skipping" in repro
    assert (theirs / paths.SUBMISSION).read_bytes() == (mine / paths.SUBMISSION).read_bytes()
    assert metrics(theirs) == metrics(mine)

    # The pulled models label a competition folder at once: no training.
    folder = theirs / paths.DEMO_COMPETITION
    labelled = run(theirs, str(BIN / "python"), "-m", "pipeline.label", str(folder), "out.csv")
    assert labelled.returncode == 0, labelled.stderr
    table = pd.read_csv(theirs / "out.csv")
    assert table["id"].tolist() == pd.read_csv(folder / "test_case.csv")["id"].tolist()
    assert set(table["label"]) <= {0, 1}
    assert run(theirs, "git", "diff", "--quiet", "dvc.lock").returncode == 0  # no stage ran
    assert dvc(theirs, "status").stdout.strip().endswith(UP_TO_DATE)

    # --- an experiment, shared through the git remote (refs) and the DVC remote (data) ---------
    # a tuning experiment, as a team shares most: it reruns the joint PCA onwards, no training
    dvc(mine, "exp", "run", "-n", "shared-exp", "-S", "pca.dims=4")
    assert np.load(mine / paths.COMPONENTS).shape[1] == 4
    mine_short = run(mine, "git", "rev-parse", "--short", "HEAD").stdout.strip()
    message = submit_message(mine)
    assert message.startswith(f"exp shared-exp @ {mine_short}, pair_accuracy "), message
    dvc(mine, "exp", "push", "origin", "shared-exp")
    assert "shared-exp" in run(mine, "git", "ls-remote", str(origin)).stdout

    dvc(theirs, "exp", "pull", "origin", "shared-exp")
    assert "shared-exp" in dvc(theirs, "exp", "list").stdout
    dvc(theirs, "exp", "apply", "shared-exp")
    assert yaml.safe_load((theirs / "params.yaml").read_text())["pca"]["dims"] == 4
    assert np.load(theirs / paths.COMPONENTS).shape[1] == 4  # its outputs, from the DVC remote
    assert metrics(theirs) == metrics(mine)
    assert (theirs / paths.SUBMISSION).read_bytes() == (mine / paths.SUBMISSION).read_bytes()
    assert dvc(theirs, "status").stdout.strip().endswith(UP_TO_DATE)
    assert submit_message(theirs) == message  # the same experiment, named the same
