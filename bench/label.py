"""Benchmark labelling a new test set with a trained run: `python -m pipeline.label`.

    .venv/bin/python -m bench.label [--runs 3] [--train hw7] [--label holdout hw7] [--set KEY=VALUE ...]
                                    [--keep]

In a throw-away git + DVC copy of the project: one `dvc repro` with data.dir = the --train set
(the repository's params, training included), then, per --label folder, ``--runs`` timed runs of
each form of the command:

    python -m pipeline.label <folder> new.csv                                   (prints accuracies)
    python -m pipeline.label <folder>/images <folder>/test_case.csv out.csv     (the course's form)

(decode, the autoencoder, HOG, the patch dictionary, selftrain's bootstrap PCAs, linear models and
CNNs, the views' and the joint PCAs, the clusters; nothing is trained). Reports the median wall time, the peak RSS,
the visualization accuracy and the estimated pair accuracy the first form prints (a set the run
never trained on tests how well the trained pipeline carries over), and whether the course's form
labels every pair the same. Writes the ``label`` section of BENCHMARKS.md. Exit status 1 when a
median is over 60 s.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from bench import _repo as rp
from bench import record

TARGET_S = 60.0


def timed(command: list[str], repo: Path, env: dict, runs: int) -> tuple[list[float], float, str]:
    """(wall seconds of each run, the largest peak RSS in MiB, the last run's output)."""
    walls, peak, output = [], 0.0, ""
    for _ in range(runs):
        result = rp.run([str(rp.BIN / "python"), "-m", "pipeline.label", *command], cwd=repo, env=env,
                        monitor=True, timeout=1800)
        walls.append(result["wall"])
        peak, output = max(peak, result["peak_mib"]), result["output"]
    return walls, peak, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train", default="hw7", help="hw7, holdout, or a competition folder outside the repository")
    parser.add_argument("--label", nargs="+", default=["holdout", "hw7"], help="the folders to label (as --train)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copy's params.yaml; repeatable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    train = rp.data_folder(args.train)
    labelled = {name: rp.data_folder(name) for name in args.label}
    if any([rp.missing_competition(folder) for folder in dict.fromkeys([train, *labelled.values()])]):
        return 2  # each missing folder named on stderr
    note = rp.load_note()
    with rp.scratch("bench-label-", keep=args.keep) as tmp:
        rows, ok = [], True
        repo = rp.make_repo(rp.place_repo(tmp, [train, *labelled.values()]),
                            rp.with_settings({"data": {"dir": rp.shown(train)}}, args.settings))
        env = rp.environment(tmp)
        print(f"dvc repro on {rp.shown(train)} in {repo} ...", flush=True)
        first = rp.dvc(repo, env, "repro", monitor=False, timeout=6 * 3600)
        for folder in labelled.values():
            where = rp.shown(folder)  # valid from the copy too: see rp.place_repo
            forms = {"competition folder": [where, "new.csv"],
                     "course's form": [f"{where}/images", f"{where}/test_case.csv", "out.csv"]}
            for form, command in forms.items():
                walls, peak, output = timed(command, repo, env, args.runs)
                median = record.median(walls)
                ok &= median <= TARGET_S
                if form == "competition folder":
                    found = re.search(r"visualization accuracy ([0-9.]+), estimated pair accuracy ([0-9.]+)", output)
                    accuracy = f"{100 * float(found.group(1)):.2f} %, {100 * float(found.group(2)):.2f} %"
                else:
                    new, out = pd.read_csv(repo / "new.csv"), pd.read_csv(repo / "out.csv")
                    differ = int((new["label"] != out["label"]).sum()) if new["id"].equals(out["id"]) else len(new)
                    accuracy = ("same labels as the folder form" if differ == 0 else
                                f"**{differ:,} of {len(new):,} pairs labelled otherwise than the folder form**")
                rows.append([f"`python -m pipeline.label {' '.join(command)}`", f"{median:.1f} s",
                             ", ".join(f"{w:.1f}" for w in walls), f"{peak:.0f} MiB", accuracy,
                             f"≤ {TARGET_S:.0f} s", rp.met(median <= TARGET_S)])
                print(rows[-1], flush=True)
    changed = (f" **Not the defaults**: the copy's params.yaml was changed first (`{' '.join(args.settings)}`)."
               if args.settings else "")
    record.update_section("label", f"""## Labelling a new test set with a trained run

`.venv/bin/python -m bench.label --runs {args.runs} --train {rp.named(args.train)} --label {' '.join(map(rp.named, args.label))}{rp.set_options(args.settings)}`:
in a throw-away git + DVC copy of the project, `dvc repro` with `data.dir: {rp.shown(train)}` and the
repository's params ({first['wall']:.0f} s, training included), then {args.runs} runs per folder of each
form of `python -m pipeline.label`, in that copy: decode, then what the run learned (the
autoencoder, HOG, the patch dictionary, selftrain's bootstrap PCAs, linear models and CNNs,
the views' and the joint PCAs, the clusters); nothing is trained.{changed} Accuracy (the folder form prints it):
the labelled folder's visualization images by the models trained on {rp.named(args.train)}, and the pair
accuracy that implies for its test pairs. The course's form (images, test_case.csv, out.csv)
has no visualization images: its labels are compared with the folder form's.

{rp.table(["command", "median wall", "runs (s)", "peak RSS", "visualization, estimated pair accuracy",
           "target", "met"], rows)}

Machine: {record.machine()}. {note}
""")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
