"""The Kaggle submission: one row per test pair, ``id,label``, 1 when both images share a cluster.

Vectorised: the labels are looked up with NumPy fancy indexing and pandas writes the CSV
(a million pairs in about half a second). pandas is imported only when the table is built.
"""

from __future__ import annotations

import os

import numpy as np

from pipeline.lib.atomic import atomic_path


def pair_labels(pairs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(m, 3) pairs of 1-based image numbers and (n,) cluster labels → (m,) int8 same-cluster flags."""
    return (labels[pairs[:, 1] - 1] == labels[pairs[:, 2] - 1]).astype(np.int8)


def submission_table(pairs: np.ndarray, labels: np.ndarray):
    """The submission as a pandas table, checked: one row per test id, labels 0 or 1."""
    import pandas as pd

    table = pd.DataFrame({"id": pairs[:, 0], "label": pair_labels(pairs, labels)})
    assert table["id"].is_unique and len(table) == len(pairs)
    assert table["label"].isin([0, 1]).all()
    return table


def write_submission(path: str | os.PathLike, pairs: np.ndarray, labels: np.ndarray):
    """Write the submission CSV for ``pairs`` and ``labels`` atomically; return its table."""
    table = submission_table(pairs, labels)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return table
