"""Every stage reads only what dvc.yaml declares for it, and writes exactly what it declares.

After one tiny `dvc repro` (tiny_repo.baseline), each stage is run again by hand in an empty
folder holding nothing but what dvc.yaml lists for it: its deps (data and code, copied from the
finished run), a params.yaml with only the params it declares, and the package skeleton
(``__init__.py`` files). It must succeed there, and the files it leaves must be exactly its
declared outs, metrics and plots. A stage that reads an undeclared file (stale data DVC would
never rerun it for), imports an undeclared module, reads an undeclared param or writes an
undeclared file fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from imports import code_files
from tiny_repo import PROJECT, baseline, environment

SPEC = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))
# The metrics: the numbers runs are ranked by in `dvc exp show`, and the eigenfaces' shares (the
# homework's answer). Everything else a stage measures is in its data/<stage>/summary.json.
METRICS = {"metrics/predict.json": {"pair_accuracy", "pair_accuracy_low", "pair_accuracy_high"},
           "metrics/cluster.json": {"visualization_accuracy"},
           "metrics/selftrain.json": {"bootstrap_trusted"},
           "metrics/eigenfaces.json": {"share_percent", "variance_percent"}}


def entries(items) -> list[str]:
    """Paths of a deps/outs/metrics/plots list, whose items are strings or one-key mappings."""
    return [name for item in items or [] for name in (item if isinstance(item, dict) else [item])]


def resolve(path: str, params: dict) -> str:
    """``${data.dir}`` → its value in params.yaml (the only templating dvc.yaml uses)."""
    while "${" in path:
        start = path.index("${")
        end = path.index("}", start)
        value = params
        for key in path[start + 2:end].split("."):
            value = value[key]
        path = path[:start] + str(value) + path[end + 1:]
    return path


def declared_params(stage: dict, params: dict) -> dict:
    """params.yaml cut down to the keys a stage declares (``seed``, ``embed``, ``data.dir``, …)."""
    kept: dict = {}
    for name in stage.get("params") or []:
        keys = name.split(".")
        source, target = params, kept
        for key in keys[:-1]:
            source = source[key]
            target = target.setdefault(key, {})
        target[keys[-1]] = source[keys[-1]]
    return kept


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


@pytest.mark.parametrize("name", sorted(SPEC["stages"]))
def test_stage_runs_on_its_declared_inputs_alone(tmp_path_factory, tmp_path, name):
    repo, _ = baseline(tmp_path_factory)
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    stage = SPEC["stages"][name]
    work = tmp_path / "stage"
    work.mkdir()
    for init in (repo / "pipeline").rglob("__init__.py"):
        copy(init, work / init.relative_to(repo))
    for dep in entries(stage.get("deps")):
        path = resolve(dep, params)
        assert not Path(path).is_absolute(), f"{name}: the tiny run's deps are inside the repository"
        assert (repo / path).exists(), f"{name}: declared dep {path} does not exist after dvc repro"
        copy(repo / path, work / path)
    (work / "params.yaml").write_text(yaml.safe_dump(declared_params(stage, params)), encoding="utf-8")
    before = files_under(work)

    env = environment()
    env["PYTHONPATH"] = str(work)  # the code deps copied above, nothing from the checkout
    env["MPLCONFIGDIR"] = str(tmp_path / "matplotlib")
    result = subprocess.run(stage["cmd"].split(), cwd=work, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{name} failed on its declared deps alone:\n{result.stderr[-4000:]}"

    declared = [resolve(out, params) for key in ("outs", "metrics", "plots") for out in entries(stage.get(key))]
    written = files_under(work) - before
    undeclared = sorted(f for f in written if not any(f == out or f.startswith(out.rstrip("/") + "/")
                                                       for out in declared))
    assert not undeclared, f"{name} wrote files dvc.yaml does not declare: {undeclared}"
    missing = [out for out in declared if not (work / out).exists()]
    assert not missing, f"{name} did not write its declared outputs {missing}"
    assert os.listdir(work)  # sanity: the folder is the one the stage ran in


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("name", sorted(SPEC["stages"]))
def test_code_deps_are_exactly_the_code_the_stage_runs(name):
    """Static and quick: the project files a stage's module imports, followed through the
    package, are all declared deps (so editing one reruns the stage), and every declared code
    dep is one of them (so editing anything else does not)."""
    stage = SPEC["stages"][name]
    module = stage["cmd"].split()[-1]
    code = code_files(PROJECT, module)
    deps = [dep for dep in entries(stage.get("deps")) if dep.startswith("pipeline/")]
    assert not [f for f in sorted(code) if not covered(f, deps)], \
        f"{name} runs code dvc.yaml does not list as its deps"
    unused = [dep for dep in deps if not any(covered(f, [dep]) for f in code)]
    assert not unused, f"{name} lists code it never imports: {unused}"


def test_metrics_hold_only_the_numbers_runs_are_compared_by(tmp_path_factory):
    declared = {name for stage in SPEC["stages"].values() for name in entries(stage.get("metrics"))}
    assert declared == set(METRICS)
    repo, _ = baseline(tmp_path_factory)
    for name, keys in METRICS.items():
        assert set(json.loads((repo / name).read_text(encoding="utf-8"))) == keys, name


def test_plots_are_data_rendered_by_a_known_template():
    """`dvc plots` shows data side by side (the report's PNGs are plain outs), each plot a file a
    stage always writes (nothing DVC could fail to load), each template stock or the project's."""
    from dvc_render.vega_templates import TEMPLATES

    stock = {template.DEFAULT_NAME for template in TEMPLATES}
    own = {path.stem for path in (PROJECT / ".dvc" / "plots").glob("*.json")}
    assert not SPEC.get("plots"), "top-level plots name files no stage declares"
    plots = [item for stage in SPEC["stages"].values() for item in stage.get("plots") or []]
    assert plots
    for item in plots:
        [(path, props)] = item.items()
        assert Path(path).suffix in {".csv", ".tsv", ".json"}, f"{path}: a picture (the report's), not data"
        assert props.get("template") in stock | own, f"{path}: unknown template {props.get('template')}"
    assert {"projection", "curves"} <= own


def test_dvc_yaml_and_the_paths_module_name_the_same_files():
    """pipeline/lib/paths.py names every file a run writes; dvc.yaml declares each of them as some
    stage's out (or under one), and declares no out the module does not name."""
    from pipeline.lib import paths

    named = {value.as_posix() for value in vars(paths).values() if isinstance(value, Path)}
    named |= {path.as_posix() for table in (paths.VIEW_FILES, paths.EIGENFACE_PICTURES) for path in table.values()}
    outs = {out for stage in SPEC["stages"].values() for key in ("outs", "metrics", "plots")
            for out in entries(stage.get(key))}
    assert not sorted(outs - named), "dvc.yaml declares outs that pipeline/lib/paths.py does not name"
    not_written = {"submissions/kaggle_scores.csv"}  # make scores writes it, outside the DAG
    folders = {"data", "plots", "reports"}  # parents that hold several outs
    unwritten = sorted(path for path in named - not_written - folders
                       if not covered(path, sorted(outs)) and not any(covered(out, [path]) for out in outs))
    assert not unwritten, "pipeline/lib/paths.py names files no stage declares"
    code_deps = {dep for stage in SPEC["stages"].values() for dep in entries(stage.get("deps"))
                 if not dep.startswith(("pipeline/", "${"))}
    assert not sorted(dep for dep in code_deps if dep not in named and not covered(dep, sorted(named))), \
        "dvc.yaml reads files pipeline/lib/paths.py does not name"
