"""The Kaggle submission: one row per test pair, ``id,label``, 1 when both images share a cluster.

Vectorised: the labels are looked up with NumPy fancy indexing and pandas writes the CSV
(a million pairs in about half a second). pandas is imported only when the table is built.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

from pipeline.lib.atomic import atomic_path
from pipeline.lib.errors import InputError

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")  # as layout reads test_case.csv: ASCII digits, fits int64


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


SUBMISSION_HEADER = "id,label"


def read_submission(path: str | os.PathLike, expected_ids: np.ndarray, expected_from: str):
    """Read a submission CSV back and check it is one that :func:`submission_table` would build.

    ``expected_ids`` (m,) int64 are the test ids it must answer, each exactly once, in any
    order; ``expected_from`` names where they came from, for the messages. Checked: the header
    is exactly ``id,label``; every row holds two integers; every label is 0 or 1; no id twice;
    the ids are exactly ``expected_ids``. Returns the table (m rows: id int64, label int64).
    Raises :class:`~pipeline.lib.errors.InputError` naming the line (1 is the header) and column.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: expected a submission CSV (dvc repro or dvc exp run writes it), "
                         f"found {'a folder' if path.exists() else 'nothing'}")
    with open(path, "rb") as f:
        first = f.readline(256)
    header = first.decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r\n")
    if header != SUBMISSION_HEADER:
        found = f"'{header}'" if header else "an empty file"
        raise InputError(f"{path}: line 1: expected the header {SUBMISSION_HEADER}, found {found}")
    try:
        table = pd.read_csv(path, dtype="int64", encoding="utf-8-sig", skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError):
        raise _first_malformed_row(path) from None
    if len(table) == 0:
        raise InputError(f"{path}: expected one row per test pair after the header, found none")
    labels = table["label"].to_numpy()
    bad = np.flatnonzero((labels != 0) & (labels != 1))
    if len(bad):
        raise InputError(f"{path}: line {bad[0] + 2}, column label: expected 0 or 1, found {labels[bad[0]]}")
    ids = table["id"].to_numpy()
    order = np.argsort(ids, kind="stable")
    repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(repeated):
        first_row, second_row = sorted(order[repeated[0]:repeated[0] + 2])
        raise InputError(f"{path}: column id: expected each id once, found id {ids[first_row]} on lines "
                         f"{first_row + 2} and {second_row + 2}")
    expected_ids = np.asarray(expected_ids, dtype=np.int64)
    missing = np.setdiff1d(expected_ids, ids)
    extra = np.flatnonzero(~np.isin(ids, expected_ids))
    if len(missing) or len(extra):
        found = [f"{len(ids)} ids"]
        if len(missing):
            found.append(f"{len(missing)} missing (e.g. id {missing[0]})")
        if len(extra):
            found.append(f"{len(extra)} not a test id (e.g. id {ids[extra[0]]} on line {extra[0] + 2})")
        raise InputError(f"{path}: column id: expected the {len(expected_ids)} test ids of {expected_from}, "
                         f"found {', '.join(found)}")
    return table


def _first_malformed_row(path: Path) -> InputError:
    """The error for the first row that is not two integers (the slow path, only when one is bad)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        for fields in reader:
            where = f"{path}: line {reader.line_num}"
            if len(fields) != 2:
                return InputError(f"{where}: expected 2 values (id,label), found {len(fields)}")
            for column, value in zip(("id", "label"), fields):
                if _INTEGER.fullmatch(value.strip()) is None:
                    return InputError(f"{where}, column {column}: expected an integer, found '{value}'")
    return InputError(f"{path}: expected a CSV of integers id,label, found text pandas cannot read")
