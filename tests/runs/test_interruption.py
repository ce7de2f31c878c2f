"""An interrupted run leaves nothing that looks finished, and the next run recovers.

`dvc repro` is stopped while a model trains, by Ctrl-C (SIGINT to the whole process group, as a
terminal sends it) or by SIGKILL (power cut, OOM killer). Afterwards no output of the stage may
exist under its final name, DVC must see the stage as not up to date, and a plain `dvc repro`
must finish the pipeline. Plus the unit behaviour that makes it so: pipeline.lib.atomic.

The signal always lands mid-training, however loaded the machine: the stage processes get
tests/hooks/sitecustomize.py, which blocks ``keras.Model.fit`` after its first epoch and writes a
marker file; the test waits for the marker, then signals (no sleeps, no race with a fast run).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from tiny_repo import HOOKS, Background, baseline, clone, commit_all, declared_outputs, dvc, write_params

from pipeline.lib import paths
from pipeline.lib.atomic import atomic_dir, atomic_path, save_json, save_npy

# Every stage that trains a model: each is killed mid-training and must recover.
TRAINING_STAGES = ("embed", "patches", "selftrain")  # every stage that learns something
EMBED_OUTPUTS = ("data/embed/codes.npy", "data/embed/visualization_codes.npy",
                 "data/embed/reconstructions.npy", "models/autoencoder.keras", "data/embed/summary.json")
MARKER_TIMEOUT = 300  # seconds for DVC, TensorFlow's import and one tiny epoch on a busy machine


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders that pipeline.lib.atomic writes beside an output."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob(".*") if p.name != ".gitignore")


def stacks(run: Background, marker: Path) -> str:
    """The group's processes and every Python thread's stack in each (the hook's SIGUSR1 dump)."""
    listing = subprocess.run(["ps", "-o", "pid,pgid,sid,stat,wchan:24,cmd", "-g", str(run.process.pid)],
                             capture_output=True, text=True).stdout
    for pid in [line.split()[0] for line in listing.splitlines()[1:]]:
        try:  # which signals each process blocks, ignores, catches and has pending (hex masks)
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            listing += f"{pid}: " + " ".join(line.replace("\t", "") for line in status
                                             if line.startswith(("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"))) + "\n"
        except OSError:
            pass
    run.signal_group(signal.SIGUSR1)
    time.sleep(2)
    dumps = [path.read_text(errors="replace") for path in sorted(marker.parent.glob(f"{marker.name}.*.stacks"))]
    return listing + "\n".join(dumps)


def interrupt_training(repo: Path, signum: int, marker: Path, *args: str) -> str:
    """Start `dvc ARGS` (default: repro) with training blocked after epoch 1, send ``signum`` to
    its process group once the block is reached; return the output. The marker names the stage."""
    marker.unlink(missing_ok=True)
    run = Background(repo, *(args or ("repro",)), extra_path=HOOKS,
                     extra_env={"PIPELINE_TEST_BLOCK_FIT": str(marker)})
    try:
        reached = run.wait_until(marker.exists, timeout=MARKER_TIMEOUT)
        assert reached, f"no stage reached the end of a training epoch:\n{run.output[-3000:]}"
        run.signal_group(signum)
        try:
            code = run.finish(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"dvc still running 60 s after signal {signum}:\n{stacks(run, marker)}\n"
                        f"{run.output[-3000:]}")
    finally:
        run.kill()
    assert code != 0, f"dvc exited 0 despite signal {signum}:\n{run.output[-3000:]}"
    assert "blocked in fit and no signal came" not in run.output
    return run.output


def assert_embed_unfinished(repo: Path) -> None:
    for name in EMBED_OUTPUTS:
        assert not (repo / name).exists(), f"{name} exists after an interrupted embed"
    for folder in ("data/embed", "models", "metrics"):
        assert not leftovers(repo / folder), f"temporary files left in {folder}: {leftovers(repo / folder)}"
    status = dvc(repo, "status").stdout
    assert "embed:" in status and "deleted:" in status, status
    assert "Data and pipelines are up to date" not in status


def test_interrupted_embed_leaves_no_finished_output(tmp_path_factory, tmp_path):
    """Ctrl-C, then SIGKILL on the retry, then a plain `dvc repro` that finishes the pipeline."""
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    write_params(repo, {"embed": {"epochs": 3}})  # changed params: `dvc repro` retrains
    commit_all(repo, "longer training")
    marker = tmp_path / "training"

    output = interrupt_training(repo, signal.SIGINT, marker)  # a terminal's Ctrl-C reaches the group
    assert marker.read_text() == "embed"
    assert "Running stage 'embed'" in output and "Running stage 'reduce'" not in output
    assert "interrupted: no output of this stage was written" in output
    assert_embed_unfinished(repo)

    output = interrupt_training(repo, signal.SIGKILL, marker)  # no handler runs: only atomic renames
    assert marker.read_text() == "embed" and "Running stage 'reduce'" not in output
    assert_embed_unfinished(repo)

    # The next plain run recovers: no stale DVC lock, embed retrained, a full submission.
    rerun = dvc(repo, "repro").stdout
    for stage in ("embed", "reduce", "cluster", "predict"):
        assert f"Running stage '{stage}'" in rerun
    assert "Stage 'prepare' didn't change, skipping" in rerun
    assert (repo / paths.AUTOENCODER).is_file() and (repo / paths.CODES).is_file()
    assert len((repo / paths.SUBMISSION).read_text().splitlines()) == 1 + 500
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")


@pytest.mark.parametrize("stage", TRAINING_STAGES)
def test_kill_9_mid_training_then_repro_recovers(tmp_path_factory, tmp_path, stage):
    """`kill -9` while ``stage`` trains; the next plain `dvc repro` reruns it and ends where an
    uninterrupted run ends: every output back, the same submission, DVC up to date."""
    base, _ = baseline(tmp_path_factory)
    repo = clone(base, tmp_path / "repo")
    marker = tmp_path / "training"
    output = interrupt_training(repo, signal.SIGKILL, marker, "repro", "--force", "--single-item", stage)
    assert marker.read_text() == stage, f"blocked in {marker.read_text()!r}, not {stage!r}"
    assert f"Running stage '{stage}'" in output
    outputs = declared_outputs(repo / "dvc.yaml", stage)
    status = dvc(repo, "status").stdout
    assert f"{stage}:" in status and "Data and pipelines are up to date" not in status, status
    for folder in {(repo / name).parent for name in outputs}:
        assert not leftovers(folder), f"temporary files left in {folder}: {leftovers(folder)}"

    rerun = dvc(repo, "repro").stdout
    # DVC either reruns the stage, or, when its run cache holds this very run (all its outputs
    # cached, as selftrain's are), restores the outputs from it: both recover.
    assert f"Running stage '{stage}'" in rerun or f"Stage '{stage}' is cached - skipping run" in rerun, rerun
    for name in outputs:
        assert (repo / name).exists(), f"{name} missing after the recovering `dvc repro`"
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")
    # Training is seeded: the recovered run gives the uninterrupted run's submission, byte for byte.
    submission = "submissions/submission.csv"
    assert (repo / submission).read_bytes() == (base / submission).read_bytes()


# --- pipeline.lib.atomic --------------------------------------------------------------------

class Boom(Exception):
    pass


def test_atomic_path_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out" / "codes.npy"
    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            assert tmp.parent == target.parent and tmp.suffix == ".npy" and tmp != target
            tmp.write_bytes(b"half written")
            raise Boom
    assert list(target.parent.iterdir()) == []


def test_atomic_path_failure_keeps_the_previous_file(tmp_path):
    target = tmp_path / "metrics.json"
    save_json(target, {"old": 1})
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("{")
            raise KeyboardInterrupt
    assert target.read_text() == '{\n  "old": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_atomic_path_success_renames(tmp_path):
    target = tmp_path / "a.npy"
    save_npy(target, np.arange(3))
    assert np.array_equal(np.load(target), np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


def test_atomic_dir_failure_leaves_nothing(tmp_path):
    target = tmp_path / "data" / "embed"
    with pytest.raises(Boom):
        with atomic_dir(target) as tmp:
            (tmp / "codes.npy").write_bytes(b"x")
            raise Boom
    assert list(target.parent.iterdir()) == []


def test_atomic_dir_failure_keeps_the_previous_folder(tmp_path):
    target = tmp_path / "competition"
    with atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(Boom):
        with atomic_dir(target) as tmp:
            (tmp / "new.txt").write_text("new")
            raise Boom
    assert [p.name for p in tmp_path.iterdir()] == ["competition"]
    assert [p.name for p in target.iterdir()] == ["old.txt"]


def test_atomic_dir_success_replaces(tmp_path):
    target = tmp_path / "competition"
    with atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["competition"]
    assert [p.name for p in target.iterdir()] == ["new.txt"]
