"""pipeline.lib.training (progress style, the stderr filter), pipeline.lib.progress, pipeline.lib.pool."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.lib.pool import Rows, truth
from pipeline.lib.progress import Progress
from pipeline.lib.training import keras_verbosity

REPO = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_keras_draws_a_bar_on_a_terminal_and_lines_in_a_log():
    assert keras_verbosity(Terminal()) == 1
    assert keras_verbosity(io.StringIO()) == 2


def test_progress_in_a_log_is_plain_lines(monkeypatch):
    log = io.StringIO()
    now = [0.0]
    monkeypatch.setattr("pipeline.lib.progress.time.perf_counter", lambda: now[0])
    with Progress(100, "encode", "img", stream=log) as bar:
        now[0] = 40.0
        bar.update(30)  # 40 s in: a line
        now[0] = 41.0
        bar.update(70)  # done: the closing line only
    lines = log.getvalue().splitlines()
    assert lines == ["encode: 30/100 img (40 s)", "encode: 100/100 img (41 s)"]
    assert "\r" not in log.getvalue()


def test_quick_progress_in_a_log_prints_nothing():
    log = io.StringIO()
    with Progress(5, "decode", stream=log) as bar:
        bar.update(5)
    assert log.getvalue() == ""


SCRIPT = r"""
import os, sys
sys.path.insert(0, {repo!r})
from pipeline.lib.training import quiet_tensorflow
quiet_tensorflow()
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
os.write(2, b"I0000 00:00:1.0   1 port.cc:153] oneDNN custom operations are on. You may see ...\n")
os.write(2, b"E0000 00:00:1.0   1 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool x\n")
os.write(2, b"E0000 00:00:1.0   1 other.cc:1] a real error\n")
sys.stderr.write("\rbar 50%")
sys.stderr.flush()
sys.stderr.write("\rbar 100%\n")
raise SystemExit("error: the last line, written at exit")
"""


def test_stderr_filter_drops_only_the_known_notices():
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO))], capture_output=True,
                            env={**os.environ, "PIPELINE_TF_NOTICES": ""})  # bytes: the \r must stay \r
    assert result.returncode == 1
    assert result.stderr == (b"E0000 00:00:1.0   1 other.cc:1] a real error\n\rbar 50%\rbar 100%\n"
                             b"error: the last line, written at exit\n")


def test_pool_rows_split_and_truth(tmp_path):
    rows = Rows(competition=6, visualization=4)
    (tmp_path / "rows.json").write_text(json.dumps(rows.as_json()))
    assert Rows.read(tmp_path / "rows.json") == rows and rows.total == 10
    labels = np.arange(10)
    assert rows.competition_part(labels).tolist() == [0, 1, 2, 3, 4, 5]
    assert rows.visualization_part(labels).tolist() == [6, 7, 8, 9]
    assert truth(rows).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="expected the pool's 10"):
        rows.visualization_part(labels[:9])
