"""pipeline.predict without DVC: same cluster → 1, different clusters → 0, one row per test id."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.lib import submission as predict

# Five images: 1, 2 and 5 in cluster 0; 3 and 4 in cluster 1 (image numbers are 1-based).
LABELS = np.array([0, 0, 1, 1, 0], dtype=np.int8)
PAIRS = np.array([
    [0, 1, 2],  # 0 0 → 1
    [1, 1, 3],  # 0 1 → 0
    [2, 3, 4],  # 1 1 → 1
    [3, 5, 1],  # 0 0 → 1
    [4, 4, 5],  # 1 0 → 0
    [5, 2, 2],  # same image → 1
    [6, 5, 4],  # 0 1 → 0
], dtype=np.int64)
EXPECTED = [1, 0, 1, 1, 0, 1, 0]


def test_pair_labels_exact():
    labels = predict.pair_labels(PAIRS, LABELS)
    assert labels.dtype == np.int8
    assert labels.tolist() == EXPECTED


def test_pair_labels_do_not_depend_on_cluster_names():
    assert predict.pair_labels(PAIRS, (1 - LABELS).astype(np.int8)).tolist() == EXPECTED


def test_pair_labels_use_one_based_image_numbers():
    # Off by one would compare images 2 and 3 (0 vs 1) instead of 1 and 2 for the first pair.
    labels = np.array([0, 0, 1], dtype=np.int8)
    assert predict.pair_labels(np.array([[0, 1, 2], [1, 2, 3]]), labels).tolist() == [1, 0]


def test_submission_table_keeps_ids_and_order():
    shuffled = PAIRS[[3, 0, 6, 1, 5, 2, 4]].copy()
    shuffled[:, 0] = [40, 7, 13, 0, 99, 5, 2]
    table = predict.submission_table(shuffled, LABELS)
    assert list(table.columns) == ["id", "label"]
    assert table["id"].tolist() == [40, 7, 13, 0, 99, 5, 2]
    assert table["label"].tolist() == [EXPECTED[i] for i in (3, 0, 6, 1, 5, 2, 4)]


def test_submission_csv_text(tmp_path):
    table = predict.submission_table(PAIRS[:3], LABELS)
    table.to_csv(tmp_path / "s.csv", index=False, lineterminator="\n")
    assert (tmp_path / "s.csv").read_text() == "id,label\n0,1\n1,0\n2,1\n"


def test_submission_table_refuses_duplicate_ids():
    pairs = PAIRS.copy()
    pairs[1, 0] = pairs[0, 0]
    with pytest.raises(AssertionError):
        predict.submission_table(pairs, LABELS)


def test_image_number_past_the_labels_fails_loudly():
    with pytest.raises(IndexError):
        predict.pair_labels(np.array([[0, 1, 6]]), LABELS)
