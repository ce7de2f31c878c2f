"""Measure the defaults' clustering accuracy on real data, as DVC experiments, and the cheap variants.

    .venv/bin/python -m bench.accuracy [--data hw7 holdout] [--keep]

For each data set, in a throw-away git + DVC copy of the project with the repository's params:
one `dvc exp run -S data.dir=…` from a clean state (no cache, nothing run before: the wall time
is a user's first run, training included), then one `dvc exp run -S …` per variant that only
changes what comes after `embed` (PCA size, whitening, clustering method), so each reuses the
trained autoencoder. Every run is a DVC experiment of that repository (`dvc exp show` lists
them with --keep). Writes the ``accuracy`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import _repo as rp
from bench import record

DATA = {"hw7": rp.HW7, "holdout": rp.HW7.parent / "holdout"}
# Variants of the downstream stages: (label, -S assignments).
# Each without self-training (refine.rounds=0), so each takes seconds: the rounds of the defaults'
# own run are in its metrics/refine.json and shown below the variants.
VARIANTS = [
    ("no self-training", ["refine.rounds=0"]),
    ("no self-training, 64 joint dims", ["refine.rounds=0", "pca.dims=64"]),
    ("no self-training, not whitened", ["refine.rounds=0", "pca.whiten=false"]),
    ("no self-training, Gaussian mixture", ["refine.rounds=0", "cluster.method=gmm"]),
]


def metrics(repo: Path) -> dict:
    read = lambda name: json.loads((repo / "metrics" / f"{name}.json").read_text())  # noqa: E731
    cluster, embed, reduce, refine = read("cluster"), read("embed"), read("reduce"), read("refine")
    return {"accuracy": refine["visualization_accuracy"],  # the final labels: the submission's
            "clusters": cluster["visualization_accuracy"],
            "alternative": cluster.get("alternative", {}).get("visualization_accuracy"),
            "loss": embed["reconstruction_loss"], "dims": reduce["dims"],
            "rounds": refine["visualization_accuracy_by_round"],
            "classifier": refine["classifier_visualization_accuracy"],
            "linear": refine["linear_visualization_accuracy"]}


def measure(name: str, data: Path, keep: bool) -> dict:
    with rp.scratch(f"bench-accuracy-{name}-", keep=keep) as tmp:
        repo = rp.make_repo(tmp / "repo", {})
        env = rp.environment(tmp)
        print(f"{name}: dvc exp run -S data.dir={data} in {repo} ...", flush=True)
        first = rp.dvc(repo, env, "exp", "run", "-S", f"data.dir={data}", monitor=True, timeout=3600)
        result = {"first": {**metrics(repo), "wall": first["wall"],
                            "stage_walls": first["stage_walls"]}, "variants": []}
        print(f"  defaults: {result['first']}", flush=True)
        rp.commit_all(repo, f"defaults on {name}")  # each variant starts from these params
        for label, assignments in VARIANTS:
            rp.git(repo, "checkout", "--", "params.yaml")
            args = [arg for a in assignments for arg in ("-S", a)]
            run = rp.dvc(repo, env, "exp", "run", *args, monitor=False, timeout=1800)
            if "Running stage 'embed'" in run["output"] or "Running stage 'hog'" in run["output"]:
                raise RuntimeError(f"{label} reran embed or hog: {run['output'][-2000:]}")
            result["variants"].append({"label": label, **metrics(repo), "wall": run["wall"]})
            print(f"  {label}: {result['variants'][-1]}", flush=True)
        return result


def table(results: dict) -> str:
    names = list(results)
    head = "| configuration | " + " | ".join(f"{n} accuracy | {n} wall" for n in names) + " |"
    rows = [head, "|---|" + "---|---|" * len(names)]

    def cells(entry):
        return f"{100 * entry['accuracy']:.2f} % | {entry['wall']:.0f} s"

    first = {n: results[n]["first"] for n in names}
    rows.append("| **defaults** (first run, training included) | "
                + " | ".join(cells(first[n]) for n in names) + " |")
    rows.append("| same run, clusters before self-training (`cluster.method`) | "
                + " | ".join(f"{100 * first[n]['clusters']:.2f} % | (same run)" for n in names) + " |")
    rows.append("| same run, alternative method (coordinates), before self-training | "
                + " | ".join(f"{100 * first[n]['alternative']:.2f} % | (same run)" for n in names) + " |")
    for index, (label, assignments) in enumerate(VARIANTS):
        rows.append(f"| {label}: `-S {' -S '.join(assignments)}` (embed, hog skipped) | "
                    + " | ".join(cells(results[n]["variants"][index]) for n in names) + " |")
    # The steps inside the defaults' run, from metrics/refine.json.
    rows.append("| *inside the defaults' run (metrics/refine.json):* |" + " |" * (2 * len(names)))
    for step in first[names[0]]["rounds"]:
        if step == "clusters":
            text = "k-means on the joined views (self-training starts here)"
        else:
            text = (f"after self-training {step.replace('_', ' ')}: CNN alone "
                    + " / ".join(f"{100 * first[n]['classifier'][step]:.2f} %" for n in names)
                    + ", linear alone " + " / ".join(f"{100 * first[n]['linear'][step]:.2f} %" for n in names)
                    + ", both")
        rows.append(f"| {text} | " + " | ".join(f"{100 * first[n]['rounds'][step]:.2f} % | (same run)"
                                                for n in names) + " |")
    losses = ", ".join(f"{n} {results[n]['first']['loss']:.5f}" for n in names)
    walls = "; ".join(n + ": " + ", ".join(f"{stage} {wall:.0f} s" for stage, wall in first[n]["stage_walls"].items())
                      for n in names)
    return ("\n".join(rows) + f"\n\nReconstruction loss (MSE, pixels in [0, 1]) of the defaults: {losses}."
            f"\n\nStage wall times of the first run: {walls}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA))
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    args = parser.parse_args()
    if any([rp.missing_competition(DATA[name]) for name in args.data]):
        return 2  # each missing folder named on stderr
    note = rp.load_note()
    results = {name: measure(name, DATA[name], args.keep) for name in args.data}
    record.update_section("accuracy", f"""## Clustering accuracy of the defaults (issue 4)

`.venv/bin/python -m bench.accuracy --data {' '.join(args.data)}`: in a fresh git + DVC copy of the
project per data set, `dvc exp run -S data.dir=<folder>` with the repository's params (a clean
state: nothing cached, training included), then one `dvc exp run` per variant below (each
changes only what follows `embed` and `hog`, which are skipped). Accuracy is the permutation-invariant
share of the 5,000 visualization images in the right cluster. One run each: the pipeline is
deterministic, so a rerun gives the same accuracy; wall times are single runs.

{table(results)}

Machine: {record.machine()}. {note}
""")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
