"""Stage `predict`: label every test pair and write the Kaggle submission.

    python -m pipeline.predict        (no params)

Reads data/prepared/pairs.npy (m, 3) (id, image1, image2) and data/cluster/labels.npy (n,);
writes submissions/submission.csv (``id,label``: 1 when both images share a cluster) and
metrics/predict.json.

Vectorised end to end (a million pairs take well under a second): the labels are looked up with
NumPy fancy indexing and the CSV text is built as bytes by NumPy (:func:`csv_bytes`), not by
pandas or a Python loop over rows. pandas is imported only by :func:`submission_table`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path, save_json
from pipeline.stage import main_guard

SUBMISSION = Path("submissions/submission.csv")
HEADER = b"id,label\n"
CSV_ROWS = 1 << 18  # rows formatted per block: bounds the temporary arrays (~10 MB) for any m


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


def check_submission(ids: np.ndarray, flags: np.ndarray) -> None:
    """What :func:`submission_table` asserts, on plain arrays: unique ids, labels 0 or 1."""
    assert len(ids) == len(flags)
    if len(ids):
        low, span = int(ids.min()), int(ids.max()) - int(ids.min())
        if span < 4 * len(ids):  # dense ids (Kaggle's are 0…m-1): one counting pass, no sort
            assert np.bincount(ids - low, minlength=span + 1).max() == 1, "duplicate ids"
        else:
            assert len(np.unique(ids)) == len(ids), "duplicate ids"
    assert np.all((flags == 0) | (flags == 1)), "labels other than 0 and 1"


def _decimal_bytes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m,) int64 → ((m, w) ASCII bytes of '-' and right-aligned digits, (m, w) mask of the bytes
    that belong to each number's shortest decimal form). Column 0 holds the sign."""
    negative = values < 0
    magnitude = np.abs(values).astype(np.uint64)  # ids are validated to ≤ 18 digits: no overflow
    largest = int(magnitude.max()) if len(values) else 0
    width = len(str(largest))
    powers = np.uint64(10) ** np.arange(width - 1, -1, -1, dtype=np.uint64)  # 10^(w-1) … 1
    text = np.empty((len(values), width + 1), dtype=np.uint8)
    text[:, 0] = ord("-")
    text[:, 1:] = (magnitude[:, None] // powers % np.uint64(10)).astype(np.uint8) + ord("0")
    # Digits needed: 1 + how many of 10, 100, … 10^(w-1) the value reaches (0 needs one digit).
    thresholds = np.uint64(10) ** np.arange(1, width, dtype=np.uint64)
    needed = 1 + (magnitude[:, None] >= thresholds[None, :]).sum(axis=1)
    keep = np.empty(text.shape, dtype=bool)
    keep[:, 0] = negative
    keep[:, 1:] = np.arange(width)[None, :] >= (width - needed)[:, None]
    return text, keep


def csv_bytes(ids: np.ndarray, flags: np.ndarray) -> bytes:
    """The rows ``id,label\\n`` (no header) as ASCII bytes, exactly what pandas' ``to_csv`` writes
    for integer ids and 0/1 labels, built with whole-array NumPy operations."""
    ids = np.asarray(ids, dtype=np.int64)
    digits, keep = _decimal_bytes(ids)
    width = digits.shape[1]
    text = np.empty((len(ids), width + 3), dtype=np.uint8)
    mask = np.ones(text.shape, dtype=bool)
    text[:, :width], mask[:, :width] = digits, keep
    text[:, width] = ord(",")
    text[:, width + 1] = np.asarray(flags, dtype=np.uint8) + ord("0")
    text[:, width + 2] = ord("\n")
    return text[mask].tobytes()  # row-major: each row's kept bytes, rows in order


def write_submission(path, ids: np.ndarray, flags: np.ndarray) -> None:
    """Write the submission CSV (header, then one row per pair in the given order) to ``path``."""
    with open(path, "wb") as f:
        f.write(HEADER)
        for start in range(0, len(ids), CSV_ROWS):
            f.write(csv_bytes(ids[start:start + CSV_ROWS], flags[start:start + CSV_ROWS]))


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    pairs = np.load("data/prepared/pairs.npy")
    labels = np.load("data/cluster/labels.npy")
    flags = pair_labels(pairs, labels)
    check_submission(pairs[:, 0], flags)
    with atomic_path(SUBMISSION) as tmp:
        write_submission(tmp, pairs[:, 0], flags)
    share = float(flags.mean()) if len(flags) else 0.0
    save_json("metrics/predict.json", {"pairs": len(flags), "share_same": share})
    print(f"predict: {len(flags)} pairs, {100 * share:.1f} % labelled 1 → {SUBMISSION} "
          f"({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main_guard(main)
