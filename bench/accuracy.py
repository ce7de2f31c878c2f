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
import shutil
import sys
import tempfile
from pathlib import Path

from bench import _repo as rp
from bench import record

DATA = {"hw7": rp.HW7, "holdout": rp.HW7.parent / "holdout"}
# Variants of the downstream stages: (label, -S assignments).
VARIANTS = [
    ("pca.dims=16", ["pca.dims=16"]),
    ("pca.dims=48", ["pca.dims=48"]),
    ("pca.dims=64", ["pca.dims=64"]),
    ("pca.dims=96", ["pca.dims=96"]),
    ("pca.whiten=false", ["pca.whiten=false"]),
    ("cluster.method=gmm", ["cluster.method=gmm"]),
]


def metrics(repo: Path) -> dict:
    read = lambda name: json.loads((repo / "metrics" / f"{name}.json").read_text())  # noqa: E731
    cluster, embed, reduce = read("cluster"), read("embed"), read("reduce")
    return {"accuracy": cluster["visualization_accuracy"],
            "alternative": cluster.get("alternative", {}).get("visualization_accuracy"),
            "loss": embed["reconstruction_loss"], "dims": reduce["dims"]}


def measure(name: str, data: Path, keep: bool) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-accuracy-{name}-"))
    try:
        repo = rp.make_repo(tmp / "repo", {})
        env = rp.environment(tmp)
        print(f"{name}: dvc exp run -S data.dir={data} in {repo} ...", flush=True)
        first = rp.dvc(repo, env, "exp", "run", "-S", f"data.dir={data}", monitor=True, timeout=3600)
        result = {"first": {**metrics(repo), "wall": first["wall"],
                            "embed_wall": first["stage_walls"].get("embed")}, "variants": []}
        print(f"  defaults: {result['first']}", flush=True)
        rp.commit_all(repo, f"defaults on {name}")  # each variant starts from these params
        for label, assignments in VARIANTS:
            rp.git(repo, "checkout", "--", "params.yaml")
            args = [arg for a in assignments for arg in ("-S", a)]
            run = rp.dvc(repo, env, "exp", "run", *args, monitor=False, timeout=1800)
            if "Running stage 'embed'" in run["output"]:
                raise RuntimeError(f"{label} retrained the autoencoder: {run['output'][-2000:]}")
            result["variants"].append({"label": label, **metrics(repo), "wall": run["wall"]})
            print(f"  {label}: {result['variants'][-1]}", flush=True)
        return result
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def table(results: dict) -> str:
    names = list(results)
    head = "| configuration | " + " | ".join(f"{n} accuracy | {n} wall" for n in names) + " |"
    rows = [head, "|---|" + "---|---|" * len(names)]

    def cells(entry):
        return f"{100 * entry['accuracy']:.2f} % | {entry['wall']:.0f} s"

    first = {n: results[n]["first"] for n in names}
    rows.append("| **defaults** (first run, training included) | "
                + " | ".join(cells(first[n]) for n in names) + " |")
    rows.append("| same run, alternative method (coordinates) | "
                + " | ".join(f"{100 * first[n]['alternative']:.2f} % | (same run)" for n in names) + " |")
    for index, (label, _) in enumerate(VARIANTS):
        rows.append(f"| `-S {label}` (embed skipped) | "
                    + " | ".join(cells(results[n]["variants"][index]) for n in names) + " |")
    losses = ", ".join(f"{n} {results[n]['first']['loss']:.5f}" for n in names)
    return "\n".join(rows) + f"\n\nReconstruction loss (MSE, pixels in [0, 1]) of the defaults: {losses}."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA))
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    args = parser.parse_args()
    missing = [name for name in args.data if not (DATA[name] / "images").is_dir()]
    if missing:
        print(f"error: {', '.join(str(DATA[n]) for n in missing)}: expected competition folders, "
              f"found nothing", file=sys.stderr)
        return 2
    note = rp.load_note()
    results = {name: measure(name, DATA[name], args.keep) for name in args.data}
    record.update_section("accuracy", f"""## Clustering accuracy of the defaults (issue 4)

`.venv/bin/python -m bench.accuracy --data {' '.join(args.data)}`: in a fresh git + DVC copy of the
project per data set, `dvc exp run -S data.dir=<folder>` with the repository's params (a clean
state: nothing cached, training included), then one `dvc exp run` per variant below (each
changes only what follows `embed`, which is skipped). Accuracy is the permutation-invariant
share of the 5,000 visualization images in the right cluster. One run each: the pipeline is
deterministic, so a rerun gives the same accuracy; wall times are single runs.

{table(results)}

Machine: {record.machine()}. {note}
""")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
