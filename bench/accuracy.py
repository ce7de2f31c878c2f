"""Measure the defaults' accuracy on real data, per seed, as DVC experiments, and the cheap variants.

    .venv/bin/python -m bench.accuracy [--data hw7 holdout] [--seeds 0 1 2] [--set KEY=VALUE ...] [--keep]

For each data set and each seed, in its own throw-away git + DVC copy of the project with the
repository's params: one `dvc exp run -S data.dir=<folder> -S seed=<s>` from a clean state (no
cache, nothing run before: the wall time is a user's first run, training included, with each
stage's wall time), then one `dvc exp run -S …` per variant below, each a change after the
learning stages (PCA size, whitening, clustering method), so each must rerun none of prepare,
embed, hog, patches and selftrain (checked: the benchmark stops if one does). Every run is a
DVC experiment of that copy (`dvc exp show` lists them with --keep).

Reads data/predict/summary.json (pair_accuracy: the Kaggle score the run expects, the headline),
data/cluster/summary.json (the visualization images' accuracy, and the alternative method's),
data/selftrain/summary.json (the bootstrap clusters', the linear model's and the CNN's) and
data/embed/summary.json (reconstruction loss). Writes the ``accuracy`` section of BENCHMARKS.md:
the mean and the spread (min–max) over seeds per data set, then one row per seed.

--data takes hw7 and holdout (../shared/data/hw7, ../shared/data/holdout) or any competition
folder outside the repository; --set changes the copy's params.yaml before the first run (e.g.
--set embed.epochs=1 for a quick check; such a run is not the defaults, and the section says so).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from bench import _repo as rp
from bench import record

# (what, the -S assignments, space-separated). Run in this order from the defaults' committed
# params: the Gaussian mixture first, while the workspace still holds the defaults' run, so it
# reruns only cluster onwards; every later one changes pca.*, so it reruns views or reduce onwards
# whatever ran before.
VARIANTS = [
    ("Gaussian mixture", "cluster.method=gmm"),
    ("not whitened", "pca.whiten=false"),
    ("views weighted alike", "pca.weights.selftrain=1 pca.weights.patches=1"),
    ("2 joint dims", "pca.dims=2"),
    ("2 joint dims, views weighted alike", "pca.dims=2 pca.weights.selftrain=1 pca.weights.patches=1"),
    ("16 joint dims", "pca.dims=16"),
    ("64 joint dims", "pca.dims=64"),
]


def metrics(repo: Path) -> dict:
    """The figures of the run in ``repo``'s workspace, from its data/*/summary.json."""
    read = lambda stage: rp.metrics(repo, stage)
    predict, cluster, selftrain, embed = read("predict"), read("cluster"), read("selftrain"), read("embed")
    alternative = cluster.get("alternative") or {}
    return {"pair": predict["pair_accuracy"], "visualization": cluster["visualization_accuracy"],
            "method": cluster["method"], "alternative": alternative.get("visualization_accuracy"),
            "alternative_method": alternative.get("method"),
            "bootstrap": selftrain["bootstrap_visualization_accuracy"],
            "linear": selftrain["linear_visualization_accuracy"],
            "cnn": selftrain.get("cnn_visualization_accuracy"),  # null when the pool was too small for a CNN
            # the checks: was the bootstrap trusted (else split again), and how far the final clusters
            # agree with the self-trained scores' split
            "trusted": selftrain.get("bootstrap_trusted"), "resplit": selftrain.get("bootstrap_resplit"),
            "split_agreement": cluster.get("selftrain_agreement"),
            "loss": embed["reconstruction_loss"], "dims": read("reduce")["dims"]}


def measure(name: str, folder: Path, seed: int, overrides: dict, keep: bool) -> dict:
    """The first run and the variants of one data set and seed, in a fresh copy of the project."""
    with rp.scratch(f"bench-accuracy-{Path(name).name}-seed{seed}-", keep=keep) as tmp:
        repo = rp.make_repo(rp.place_repo(tmp, [folder]), overrides)
        env = rp.environment(tmp)
        command = ["exp", "run", "-S", f"data.dir={rp.shown(folder)}", "-S", f"seed={seed}"]
        print(f"{name}, seed {seed}: dvc {' '.join(command)} in {repo} ...", flush=True)
        first = rp.dvc(repo, env, *command, monitor=True, timeout=6 * 3600)
        result = {"name": name, "seed": seed, "first": {**metrics(repo), "wall": first["wall"],
                                                        "stage_walls": first["stage_walls"]}, "variants": []}
        print(f"  defaults: {json.dumps(result['first'])}", flush=True)
        rp.commit_all(repo, f"defaults on {name}, seed {seed}")  # each variant starts from these params
        for label, assignment in VARIANTS:
            run = rp.downstream_experiment(repo, env, assignment)
            result["variants"].append({"label": label, "assignment": assignment, "ran": run["ran"], **metrics(repo),
                                       "wall": run["wall"]})
            print(f"  {assignment}: {json.dumps(result['variants'][-1])}", flush=True)
        return result


def read_log(text: str) -> list[dict]:
    """The results :func:`measure` printed, back from a run's output: one per data set and seed,
    with its first run and its variants in the order they ran."""
    results = []
    for line in text.splitlines():
        started = re.match(r"(.+), seed (\d+): dvc exp run ", line)
        if started:
            results.append({"name": started[1], "seed": int(started[2]), "first": None, "variants": []})
        elif line.startswith("  defaults: "):
            results[-1]["first"] = json.loads(line.removeprefix("  defaults: "))
        elif line.startswith("  ") and ": {" in line and results:
            results[-1]["variants"].append(json.loads(line[line.index(": {") + 2:]))
    complete = [r for r in results if r["first"] is not None and len(r["variants"]) == len(VARIANTS)]
    if len(complete) != len(results):
        raise ValueError(f"the log holds {len(results) - len(complete)} unfinished run(s)")
    return results


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def spread(values: list[float | None], *, percent: bool = True, centre=statistics.mean) -> str:
    """``centre`` of the values and, over more than one, their range: '99.71 % (99.64–99.80)'."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    scale, unit, digits = (100, " %", 2) if percent else (1, " s", 0)
    text = f"{scale * centre(values):.{digits}f}{unit}"
    if len(values) > 1:
        text += f" ({scale * min(values):.{digits}f}–{scale * max(values):.{digits}f})"
    return text


def summary(results: list[dict], names: list[str]) -> str:
    """Mean (min–max) over seeds per data set: the defaults, what the same run measured on the
    way, and each variant. Wall times: median (min–max)."""
    by_name = {name: [r for r in results if r["name"] == name] for name in names}
    head = ["configuration"] + [f"{n} {what}" for n in names for what in ("pair accuracy", "visualization", "wall")]

    def cells(entries: dict[str, list[dict]], key: str | None = None) -> list[str]:
        """Per data set: pair accuracy, visualization accuracy and wall time of ``entries``' runs;
        with ``key``, only that figure of the visualization images, measured inside the run."""
        out = []
        for name in names:
            runs = entries[name]
            if key is None:
                out += [spread([r["pair"] for r in runs]), spread([r["visualization"] for r in runs]),
                        spread([r["wall"] for r in runs], percent=False, centre=statistics.median)]
            else:
                out += ["–", spread([r[key] for r in runs]), "(same run)"]
        return out

    first = {name: [r["first"] for r in by_name[name]] for name in names}
    some = next(iter(first.values()))[0]
    rows = [["**defaults** (first run, training included): `dvc exp run -S data.dir=… -S seed=…`",
             *cells(first)]]
    for key, what in (("bootstrap", "same run, selftrain's bootstrap clusters (data/selftrain/summary.json)"),
                      ("linear", "same run, selftrain's linear model alone"),
                      ("cnn", "same run, selftrain's CNN alone"),
                      ("alternative", f"same run, cluster.alternative ({some['alternative_method']})")):
        rows.append([what, *cells(first, key)])
    for index, (label, assignment) in enumerate(VARIANTS):
        runs = {name: [r["variants"][index] for r in by_name[name]] for name in names}
        reran = sorted({stage for name in names for run in runs[name] for stage in run["ran"]},
                       key=rp.STAGE_ORDER.index)
        rows.append([f"{label}: `dvc exp run {' '.join(rp.variant_options(assignment))}` (reran {', '.join(reran) or 'nothing'})",
                     *cells(runs)])
    return rp.table(head, rows)


def per_seed(results: list[dict]) -> str:
    """One row per data set and seed: the defaults' figures, then each variant's pair accuracy."""
    head = ["data set", "seed", "pair accuracy", "visualization", "bootstrap", "bootstrap check", "linear", "CNN",
            "final ~ self-trained", "alternative", "reconstruction loss", "joint dims", "wall"] + [
        f"`{a}`" for _, a in VARIANTS]
    rows = []
    for r in results:
        f = r["first"]
        check = {True: "trusted", False: "doubted, split again" if f.get("resplit") else "doubted"}.get(
            f.get("trusted"), "–")
        rows.append([r["name"], str(r["seed"]), pct(f["pair"]), pct(f["visualization"]), pct(f["bootstrap"]), check,
                     pct(f["linear"]), pct(f["cnn"]), pct(f.get("split_agreement")), pct(f["alternative"]),
                     f"{f['loss']:.5f}", str(f["dims"]),
                     f"{f['wall']:.0f} s"]
                    + [f"{pct(v['pair'])}, {v['wall']:.0f} s" for v in r["variants"]])
    return rp.table(head, rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["hw7", "holdout"],
                        help="hw7, holdout, or competition folders outside the repository")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copy's params.yaml (e.g. embed.epochs=1); repeatable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--section", default="accuracy",
                        help="the BENCHMARKS.md section to write (another name keeps the accuracy one)")
    parser.add_argument("--from-log", type=Path, metavar="LOG",
                        help="measure nothing: write the section from the output of an earlier run "
                             "with the same --data, --seeds and --set (what it printed per seed)")
    args = parser.parse_args()
    folders = {name: rp.data_folder(name) for name in args.data}
    if any([rp.missing_competition(folder) for folder in folders.values()]):
        return 2  # each missing folder named on stderr
    overrides = rp.parse_settings(args.settings)
    names = [rp.named(name) for name in args.data]
    note = rp.load_note()
    if args.from_log:
        results = read_log(args.from_log.read_text(encoding="utf-8"))
        expected = [(label, seed) for label in names for seed in args.seeds]
        if [(r["name"], r["seed"]) for r in results] != expected:
            print(f"error: {args.from_log}: expected the runs {expected}, found "
                  f"{[(r['name'], r['seed']) for r in results]}", file=sys.stderr)
            return 2
        note += f" (Written from the log of that run, {args.from_log.name}: the figures are the ones it printed.)"
    else:
        results = [measure(label, folders[name], seed, overrides, args.keep)
                   for name, label in zip(args.data, names) for seed in args.seeds]
    stage_walls = "\n".join(
        f"- {r['name']}, seed {r['seed']}: " + ", ".join(f"{stage} {wall:.0f} s" for stage, wall in
                                                        sorted(r["first"]["stage_walls"].items(),
                                                               key=lambda item: rp.STAGE_ORDER.index(item[0])))
        for r in results)
    folders_text = ", ".join(f"{name} = `{rp.shown(folders[arg])}`" if name != rp.shown(folders[arg]) else f"`{name}`"
                             for arg, name in zip(args.data, names))
    changed = (f" **Not the defaults**: the copy's params.yaml was changed first (`{' '.join(args.settings)}`)."
               if args.settings else "")
    heading = "Accuracy of the defaults, per seed" + ("" if args.section == "accuracy" else f": {', '.join(names)}")
    section = "" if args.section == "accuracy" else f" --section {args.section}"
    record.update_section(args.section, f"""## {heading}

`.venv/bin/python -m bench.accuracy --data {' '.join(names)} --seeds {' '.join(map(str, args.seeds))}{rp.set_options(args.settings)}{section}`:
for each data set ({folders_text}) and seed, a fresh git + DVC copy of the project with the
repository's params runs `dvc exp run -S data.dir=<folder> -S seed=<seed>` from a clean state
(nothing cached: the wall time is a user's first run, training included), then one `dvc exp run -S …`
per variant, each from the defaults' params and each rerunning none of prepare, embed, hog,
patches and selftrain (checked).{changed}

Pair accuracy: metrics/predict.json `pair_accuracy`, the share of the test pairs the submission
should get right (what Kaggle scores), estimated from the visualization images, which take the
competition images' path through every stage. Visualization: the permutation-invariant share of
the visualization images in their dataset's cluster (metrics/cluster.json). Accuracy cells: mean
over seeds (min–max); wall cells: median over seeds (min–max), one run per seed.

{summary(results, names)}

Per seed (variants: pair accuracy, wall time). Bootstrap check: what selftrain said of its
bootstrap clusters (trusted, or doubted and split again: data/selftrain/summary.json). Final ~
self-trained: the share of the pool whose final cluster agrees with the sign of the self-trained
score (data/cluster/summary.json `selftrain_agreement`; below 90 % the cluster stage warns):

{per_seed(results)}

Stage wall times of each first run (seconds each stage process was alive):

{stage_walls}

Machine: {record.machine()}. {note}
""")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
