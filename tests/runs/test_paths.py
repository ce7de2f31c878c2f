"""A competition folder whose path has a space, parentheses and CJK characters, outside the repo.

`dvc exp run -S` parses its value as a Hydra override: unquoted, such a path is refused by
Hydra's grammar (`ERROR: unexpected error - LexerNoViableAltException`) before anything runs;
quoted, `-S "data.dir='/data/競賽 資料 (copy)'"`, it goes through the whole pipeline. And the
prepare stage reads such a path when run directly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml
from conftest import params_with, run_stage_in, write_competition
from tiny_repo import baseline, clone, dvc

from pipeline.lib import paths

AWKWARD = "競賽 資料 (copy)"


def test_prepare_reads_a_folder_with_spaces_parentheses_and_cjk(tmp_path):
    root = write_competition(tmp_path / "outside", n_images=12, n_pairs=10, k=4, name=AWKWARD)
    result = run_stage_in("prepare", tmp_path / "work", params_with(data={"dir": str(root)}))
    assert result.returncode == 0, result.stderr
    assert f"from {root}" in result.stdout
    prepared = tmp_path / "work" / "data" / "prepared"
    assert np.load(prepared / "images.npy").shape == (12 + 8, 32, 32, 3)  # the pool: 12 images, 8 visualization
    assert np.load(prepared / "pairs.npy").shape == (10, 3)


def test_prepare_names_such_a_folder_in_errors(tmp_path):
    root = write_competition(tmp_path / "outside", n_images=12, n_pairs=10, k=4, name=AWKWARD)
    (root / "images" / "000003.jpg").unlink()
    result = run_stage_in("prepare", tmp_path / "work", params_with(data={"dir": str(root)}))
    assert result.returncode == 2
    assert result.stderr == (f"error: {root}/images: expected images numbered 1…12 without gaps, found no "
                             f"image 3 (e.g. 000003.jpg)\n")


def test_dvc_exp_run_with_such_a_folder(tmp_path_factory, tmp_path):
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    root = write_competition(tmp_path / "elsewhere", n_images=40, n_pairs=57, k=10, name=AWKWARD)

    # Unquoted, Hydra's override grammar refuses the value; nothing runs.
    refused = dvc(repo, "exp", "run", "-S", f"data.dir={root}", check=False)
    assert refused.returncode != 0
    assert "LexerNoViableAltException" in refused.stdout, refused.stdout
    assert "Running stage" not in refused.stdout

    # Quoted (single quotes inside the argument), it goes through end to end.
    run = dvc(repo, "exp", "run", "-S", f"data.dir='{root}'").stdout
    for stage in ("prepare", "embed", "reduce", "cluster", "predict"):
        assert f"Running stage '{stage}'" in run, run[-3000:]
    assert yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["data"]["dir"] == str(root)
    assert json.loads((repo / paths.PREPARED_SUMMARY).read_text()) == {
        "images": 40, "pairs": 57, "visualization_images": 20}
    submission = pd.read_csv(repo / paths.SUBMISSION)
    assert sorted(submission["id"]) == sorted(pd.read_csv(root / "test_case.csv")["id"])
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    assert str(root) in [dep["path"] for dep in lock["stages"]["prepare"]["deps"]]
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")
