"""An interrupted run leaves nothing that looks finished, and the next run recovers.

`dvc repro` is stopped while the autoencoder trains, by Ctrl-C (SIGINT to the whole process
group, as a terminal sends it) or by SIGKILL (power cut, OOM killer). Afterwards no output of
`embed` may exist under its final name, DVC must see the stage as not up to date, and a plain
`dvc repro` must finish the pipeline. Plus the unit behaviour that makes it so: pipeline.atomic.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
from tiny_repo import Background, baseline, clone, commit_all, dvc, write_params

from pipeline.lib.atomic import atomic_dir, atomic_path, save_json, save_npy

EMBED_OUTPUTS = ("data/embed/codes.npy", "data/embed/visualization_codes.npy",
                 "data/embed/reconstructions.npy", "models/autoencoder.keras", "metrics/embed.json")
LONG_TRAINING = 12  # epochs: a few seconds of training after epoch 2 begins, for the signal to land


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders that pipeline.atomic writes beside an output."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob(".*") if p.name != ".gitignore")


def interrupt_embed(repo: Path, signum: int) -> str:
    """Start `dvc repro`, send ``signum`` to its process group once epoch 2 has begun; return the output."""
    run = Background(repo, "repro")
    try:
        # Epoch 2 has begun once its header is out (output is unbuffered: PYTHONUNBUFFERED=1).
        assert run.wait_for("Epoch 2/", timeout=180), f"embed never started training:\n{run.output[-3000:]}"
        run.signal_group(signum)
        code = run.finish(timeout=60)
    finally:
        run.kill()
    assert "Running stage 'embed'" in run.output
    assert code != 0, f"dvc repro finished despite signal {signum}:\n{run.output[-3000:]}"
    assert "Running stage 'reduce'" not in run.output
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
    write_params(repo, {"embed": {"epochs": LONG_TRAINING}})
    commit_all(repo, "longer training")

    output = interrupt_embed(repo, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    assert "interrupted: no output of this stage was written" in output
    assert_embed_unfinished(repo)

    interrupt_embed(repo, signal.SIGKILL)  # no handler runs: only atomic renames protect outputs
    assert_embed_unfinished(repo)

    # The next plain run recovers: no stale DVC lock, embed retrained, a full submission.
    rerun = dvc(repo, "repro").stdout
    for stage in ("embed", "reduce", "cluster", "predict"):
        assert f"Running stage '{stage}'" in rerun
    assert "Stage 'prepare' didn't change, skipping" in rerun
    assert (repo / "models/autoencoder.keras").is_file() and (repo / "data/embed/codes.npy").is_file()
    assert len((repo / "submissions/submission.csv").read_text().splitlines()) == 1 + 500
    assert dvc(repo, "status").stdout.strip().endswith("Data and pipelines are up to date.")


# --- pipeline.atomic ------------------------------------------------------------------------

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
