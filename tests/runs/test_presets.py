"""The seed report's methods as params: pca.views, the presets' commands, and one run of each.

The commands are the ones the report prints (pipeline.lib.report.seed.exp_run_command) and the
README gives; they run here through bash on a clone of the tiny baseline (tests/tiny_repo.py).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from configs import section_values
from tiny_repo import BIN, baseline, clone, environment

from pipeline.lib import paths, pca
from pipeline.lib.config.pca import VIEWS, PcaConfig
from pipeline.lib.errors import InputError
from pipeline.lib.report import content, seed

REPO = Path(__file__).resolve().parents[2]
ALL_VIEWS = ["codes", "hog", "patches", "selftrain"]
SIZES = {**section_values("pca"), "code_dims": 4, "hog_dims": 4, "patch_dims": 4, "selftrain_dims": 1, "dims": 4,
         "whiten": True, "min_images_per_dim": 1, "min_images_per_joint_dim": 1}


# ------------------------------------------------------------------------------- pca.views
def test_views_are_all_by_default_in_a_fixed_order():
    assert PcaConfig.from_values(SIZES).views == tuple(ALL_VIEWS)  # the committed params.yaml
    assert PcaConfig.from_values({**SIZES, "views": ["selftrain", "codes"]}).views == ("codes", "selftrain")
    assert list(VIEWS) == ALL_VIEWS == list(content.VIEWS)


@pytest.mark.parametrize("views", [[], "codes", ["codes", "codes"], ["codes", "pixels"], [1], None, {"codes": 1}])
def test_bad_views_are_one_line_naming_the_param(views):
    with pytest.raises(InputError) as error:
        PcaConfig.from_values({**SIZES, "views": views})
    assert str(error.value) == ("params.yaml: pca.views: expected a non-empty list of codes, hog, patches, "
                                f"selftrain (each at most once), found {views!r}")


def test_only_the_chosen_views_sizes_count():
    PcaConfig.from_values({**SIZES, "views": ["codes"], "hog_dims": "unused", "dims": 4})
    with pytest.raises(InputError, match=r"^params.yaml: pca.dims: expected at most pca.code_dims = 4 "):
        PcaConfig.from_values({**SIZES, "views": ["codes"], "dims": 5})


def test_the_stage_reads_only_the_chosen_views(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / paths.EMBED).mkdir(parents=True)
    np.save(tmp_path / paths.CODES, rng.normal(size=(30, 6)).astype(np.float32))
    params = {"seed": 0, "pca": {**SIZES, "views": ["codes"], "code_dims": 3, "dims": 3, "whiten": False}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for stage in ("views", "reduce"):
        result = subprocess.run([sys.executable, "-m", f"pipeline.stages.{stage}"], cwd=tmp_path, capture_output=True,
                                text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr  # no HOG, patch or self-training file there
    assert list(json.loads((tmp_path / paths.VIEWS_SUMMARY).read_text())["views"]) == ["codes"]
    assert json.loads((tmp_path / paths.REDUCE_SUMMARY).read_text())["dims"] == 3
    fitted = {p.stem for folder in ("views", "reduce") for p in (tmp_path / "data" / folder / "pca").glob("*.npy")}
    assert fitted == {f"{prefix}_{key}" for prefix in ("codes", "joint") for key in ("mean", "components", "scale")}


def test_projecting_new_rows_skips_the_views_left_out():
    rng = np.random.default_rng(1)
    views = {"codes": rng.normal(size=(40, 5)), "hog": rng.normal(size=(40, 7)), "patches": rng.normal(size=(40, 3))}
    chosen = {"codes": views["codes"], "patches": views["patches"]}
    components, fitted, _, _ = pca.reduce_views(chosen, {"codes": 3, "patches": 2}, 4, whiten=False, seed=0,
                                                    log=lambda line: None)
    # pipeline.label computes every view and passes them all, in reduce's order
    np.testing.assert_allclose(pca.project_views(fitted, views), components, atol=1e-4)


# ---------------------------------------------------------------------------- the presets
def params_yaml() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))


def test_the_defaults_configuration_is_params_yaml():
    """The report calls a run "defaults" by these values: they must be params.yaml's own."""
    params = params_yaml()
    for key, value in seed.CONFIGURATIONS["defaults"].items():
        section, name = key.split(".")
        assert params[section][name] == value, f"params.yaml {key} changed: update seed.CONFIGURATIONS"


def settings(command: str) -> dict[str, str]:
    """``-S key=value`` pairs of a shell command line, as the shell hands them to dvc."""
    words = shlex.split(command)
    return dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-S")


def test_the_commands_set_the_presets_and_only_them():
    for name in ("seed method I", "seed method II"):
        command = seed.exp_run_command(name)
        assert command.startswith(f"dvc exp run -n {seed.EXPERIMENT_NAMES[name]} -S ")
        assert {key: yaml.safe_load(value) for key, value in settings(command).items()} == \
            seed.CONFIGURATIONS[name]


def test_readme_commands_are_the_reports():
    """Wherever the README gives a seed method's command, it is the one the report prints."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    given = re.findall(r"dvc exp run -n seed-method-[^\n`]*", readme)
    if not given:
        pytest.skip("README.md gives no seed-method command yet (see /work/notes/readme-preset.md)")
    expected = {seed.exp_run_command(name) for name in seed.EXPERIMENT_NAMES}
    for line in given:
        core = re.sub(r" -S 'data\.dir=[^']*'| -S data\.dir=\S*", "", line.strip())
        assert core in expected, line


# ----------------------------------------------------------------------- one run of each
def run_command(repo: Path, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=repo, env=environment(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


@pytest.mark.slow  # trains the report's VAE (~60 s on 2 cores): keeps `make test` under 10 minutes
def test_each_seed_method_runs_and_the_report_says_which(tmp_path_factory, tmp_path):
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    for name, dims, method in (("seed method I", 48, "kmeans"), ("seed method II", 2, "coordinates")):
        result = run_command(repo, seed.exp_run_command(name))
        assert result.returncode == 0, result.stdout[-6000:]
        assert list(json.loads((repo / paths.VIEWS_SUMMARY).read_text())["views"]) == ["codes"]
        assert json.loads((repo / paths.REDUCE_SUMMARY).read_text())["dims"] == dims
        assert json.loads((repo / paths.CLUSTER_SUMMARY).read_text())["method"] == method
        embed = json.loads((repo / paths.EMBED_SUMMARY).read_text())
        assert embed["code_size"] == 96 and embed["report_units_loss"] > 0
        markdown = (repo / paths.REPORT_MD).read_text()
        assert f"This run is **{name}**: its params are the preset's" in markdown
        assert f"| **{name}** (this run) | `vae` codes → PCA {dims} → " in markdown
        # the run is named by the experiment `dvc exp run -n` gave the stages ($DVC_EXP_NAME)
        assert f"The report of experiment `{seed.EXPERIMENT_NAMES[name]}` (`dvc exp run`)" in markdown
        assert f"| {embed['report_units_loss']:.4f} |" in markdown
        architecture = json.loads((repo / paths.ARCHITECTURE).read_text())
        assert architecture["model"] == "vae" and architecture["total_params"] == 336_875  # the seed report's
        assert "| **total** |  |  | **336,875** |" in markdown
    # seed method II reused seed method I's VAE: same embed params, so DVC's run cache restored it
    assert "Stage 'embed' is cached - skipping run" in result.stdout or \
        "Stage 'embed' didn't change, skipping" in result.stdout

    # The trained run labels new images with its one view (pipeline.label skips the others).
    folder = repo / paths.DEMO_COMPETITION
    labelled = subprocess.run([str(BIN / "python"), "-m", "pipeline.label", str(folder), "seed.csv"], cwd=repo,
                              env=environment(), text=True, capture_output=True, timeout=300)
    assert labelled.returncode == 0, labelled.stderr
    accuracy = float(re.search(r"visualization accuracy ([0-9.]+)", labelled.stdout).group(1))
    run_accuracy = json.loads((repo / paths.CLUSTER_METRICS).read_text())["visualization_accuracy"]
    assert accuracy == pytest.approx(run_accuracy, abs=5e-5)  # printed to four decimals
