"""Benchmark labelling a new test set with a trained run: `python -m pipeline.label`.

    .venv/bin/python -m bench.label [--runs 3] [--train hw7] [--label holdout hw7] [--keep]

In a throw-away git + DVC copy of the project: one `dvc repro` with data.dir = the --train set
(the repository's params, training included), then ``--runs`` timed runs of
`python -m pipeline.label <folder> new.csv` per --label folder (decode, encode, HOG, PCA, the
fold CNNs and the linear model; nothing is trained). Reports the median wall time, the peak
RSS and the visualization accuracy of each labelled folder (a set the model never trained on
is a test of how well the trained pipeline carries over). Writes the ``label`` section of
BENCHMARKS.md. Exit status 1 when a median is over 2 minutes (issue 4).
"""

from __future__ import annotations

import argparse
import re
import sys

from bench import _repo as rp
from bench import record

DATA = {"hw7": rp.HW7, "holdout": rp.HW7.parent / "holdout"}
TARGET_S = 120.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train", choices=list(DATA), default="hw7")
    parser.add_argument("--label", nargs="+", choices=list(DATA), default=["holdout", "hw7"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    if any([rp.missing_competition(DATA[n]) for n in dict.fromkeys([args.train, *args.label])]):
        return 2  # each missing folder named on stderr
    note = rp.load_note()
    with rp.scratch("bench-label-", keep=args.keep) as tmp:
        rows, ok = [], True
        repo = rp.make_repo(tmp / "repo", {"data": {"dir": str(DATA[args.train])}})
        env = rp.environment(tmp)
        print(f"dvc repro on {args.train} in {repo} ...", flush=True)
        first = rp.dvc(repo, env, "repro", monitor=False, timeout=3600)
        for name in args.label:
            walls, peaks, accuracy = [], [], None
            for _ in range(args.runs):
                run = rp.run([str(rp.BIN / "python"), "-m", "pipeline.label", str(DATA[name]), "new.csv"],
                             cwd=repo, env=env, monitor=True, timeout=1800)
                walls.append(run["wall"])
                peaks.append(run["peak_mib"])
                accuracy = float(re.search(r"visualization accuracy ([0-9.]+)", run["output"]).group(1))
            median = record.median(walls)
            ok &= median <= TARGET_S
            rows.append([f"`python -m pipeline.label {DATA[name]} new.csv`", f"{median:.1f} s",
                         ", ".join(f"{w:.1f}" for w in walls), f"{max(peaks):.0f} MiB",
                         f"{100 * accuracy:.2f} %", f"≤ {TARGET_S:.0f} s", rp.met(median <= TARGET_S)])
            print(rows[-1], flush=True)
    record.update_section("label", f"""## Labelling a new test set with a trained run (issue 4)

`.venv/bin/python -m bench.label --runs {args.runs} --train {args.train} --label {' '.join(args.label)}`: in a
throw-away git + DVC copy of the project, `dvc repro` with `data.dir` = {DATA[args.train]} and the
repository's params ({first['wall']:.0f} s, training included), then {args.runs} runs per folder of
`python -m pipeline.label <folder> new.csv`: decode, encode with the trained autoencoder, HOG,
the fitted PCAs, the last self-training round's fold CNNs and linear model; nothing trained.
Accuracy: the labelled folder's visualization images, by the models trained on {args.train}.

{rp.table(["command", "median wall", "runs (s)", "peak RSS", "visualization accuracy", "target", "met"], rows)}

Machine: {record.machine()}. {note}
""")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
