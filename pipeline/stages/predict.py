"""Stage `predict`: label every test pair, write the Kaggle submission, estimate its score.

    python -m pipeline.stages.predict        (no params)

Reads data/prepared/pairs.npy (m, 3) (id, image1, image2), data/prepared/rows.json and
data/cluster/labels.npy (n + 2k,). Writes submissions/submission.csv (``id,label``: 1 when both
images share a cluster), metrics/predict.json: ``pair_accuracy``, the accuracy Kaggle should
score, estimated from the visualization rows (which took the competition images' path; see
pipeline.lib.estimate), with its 95 % interval ``pair_accuracy_low`` … ``pair_accuracy_high``;
and data/predict/summary.json: those, the pair count and the share labelled 1 (for the report).
"""

from __future__ import annotations

import time
import numpy as np

from pipeline.lib import paths
from pipeline.lib.atomic import save_json
from pipeline.lib.errors import stage_guard
from pipeline.lib.estimate import INTERVAL, estimate_pair_accuracy
from pipeline.lib.pool import Rows
from pipeline.lib.submission import write_submission


def main() -> None:
    started = time.perf_counter()
    rows = Rows.read()
    pairs = np.load(paths.PAIRS)
    labels = np.load(paths.LABELS)
    competition, visualization = rows.competition_part(labels), rows.visualization_part(labels)
    table = write_submission(paths.SUBMISSION, pairs, competition)
    share = float(table["label"].mean()) if len(table) else 0.0
    estimate = estimate_pair_accuracy(competition, visualization, pairs)
    metrics = {"pair_accuracy": estimate.accuracy, "pair_accuracy_low": estimate.low,
               "pair_accuracy_high": estimate.high}
    # the summary: the metrics, the pair count and the share labelled 1
    save_json(paths.PREDICT_SUMMARY, {**metrics, "pair_accuracy_coverage": INTERVAL, "pairs": len(table),
                                      "share_same": share})
    save_json(paths.PREDICT_METRICS, metrics)
    print(f"predict: {len(table)} pairs, {100 * share:.1f} % labelled 1 → {paths.SUBMISSION}; estimated "
          f"pair accuracy {estimate.describe()}, {INTERVAL:.0%} interval ({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    stage_guard(main)
