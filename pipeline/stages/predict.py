"""Stage `predict`: label every test pair and write the Kaggle submission.

    python -m pipeline.predict        (no params)

Reads data/prepared/pairs.npy (m, 3) (id, image1, image2) and data/cluster/labels.npy (n,);
writes submissions/submission.csv (``id,label``: 1 when both images share a cluster) and
metrics/predict.json.

The table is built and checked by pipeline.lib.submission.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.lib.atomic import save_json
from pipeline.lib.errors import main_guard
from pipeline.lib.submission import write_submission

SUBMISSION = Path("submissions/submission.csv")


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    pairs = np.load("data/prepared/pairs.npy")
    labels = np.load("data/cluster/labels.npy")
    table = write_submission(SUBMISSION, pairs, labels)
    share = float(table["label"].mean()) if len(table) else 0.0
    save_json("metrics/predict.json", {"pairs": len(table), "share_same": share})
    print(f"predict: {len(table)} pairs, {100 * share:.1f} % labelled 1 → {SUBMISSION} "
          f"({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main_guard(main)
