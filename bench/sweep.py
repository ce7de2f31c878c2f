"""Benchmark a queued parameter sweep: 4 values of pca.dims run 2 at a time by DVC's queue.

    .venv/bin/python -m bench.sweep [--runs 3] [--points 4] [--jobs 2] [--epochs 3] [--no-sequential]

In a throw-away git + DVC copy of the project on hw7 (embed.epochs lowered to save time,
refine.rounds 0: no self-training; the sweep reruns only reduce → cluster → refine (passing the
clusters through) → predict → plot → report): one full `dvc repro`, commit, then
per run::

    dvc exp run --queue -S pca.dims=N      # once per point
    dvc queue start -j 2                   # wall time from here ...
                                           # ... until every queued experiment has its ref
    dvc exp show                           # (after the runs) the sweep side by side

Each run uses new pca.dims values (DVC's run cache would otherwise restore a stage instead of
running it). For comparison the same is timed with `-j 1` (unless --no-sequential). Writes the
``sweep`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench import _repo as rp
from bench import record

EXP_REF = re.compile(r"^refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/\S+$")


def exp_refs(repo: Path) -> set[str]:
    out = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout.split()
    return {ref for ref in out if EXP_REF.match(ref)}


def sweep(repo: Path, env: dict, dims: list[int], jobs: int, timeout: float = 1200) -> tuple[float, float]:
    """Queue one experiment per value of ``dims``, start ``jobs`` workers; return the seconds until
    all are done and how many cores the whole machine kept busy on average meanwhile."""
    for value in dims:
        rp.dvc(repo, env, "exp", "run", "--queue", "-S", f"pca.dims={value}")
    before = exp_refs(repo)
    started, busy_before = time.perf_counter(), busy_seconds()
    rp.dvc(repo, env, "queue", "start", "-j", str(jobs))
    while len(exp_refs(repo) - before) < len(dims):
        if time.perf_counter() - started > timeout:
            status = rp.dvc(repo, env, "queue", "status", check=False)["output"]
            raise RuntimeError(f"sweep of {dims}: not done after {timeout} s:\n{status}")
        time.sleep(0.2)
    wall = time.perf_counter() - started
    cores = (busy_seconds() - busy_before) / wall
    status = rp.dvc(repo, env, "queue", "status", check=False)["output"]
    if "Failed" in status:
        raise RuntimeError(f"sweep of {dims}: an experiment failed:\n{status}")
    # The workers exit by themselves once the queue is empty: wait for that before the next sweep.
    deadline = time.monotonic() + 120
    while "Worker status: 0 active, 0 idle" not in status and time.monotonic() < deadline:
        time.sleep(2)
        status = rp.dvc(repo, env, "queue", "status", check=False)["output"]
    return wall, cores


def busy_seconds() -> float:
    """Core-seconds the whole machine has spent busy (not idle, not waiting for I/O) since boot."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def last_sweep(table: str, dims: list[int]) -> str:
    """`dvc exp show --md` cut to its header, workspace, baseline and the experiments of ``dims``."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    if len(lines) < 3:
        return table
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    column = head.index("pca.dims") if "pca.dims" in head else None
    kept = lines[:2]
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] in ("workspace", "master", "main") or column is None or cells[column] in map(str, dims):
            kept.append(line)
    return "\n".join(kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=rp.HW7)
    parser.add_argument("--no-sequential", action="store_true", help="skip the -j 1 comparison")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    if rp.missing_competition(args.data):
        return 2

    with rp.scratch("bench-sweep-", keep=args.keep) as tmp:
        settings = [args.jobs] + ([] if args.no_sequential or args.jobs == 1 else [1])
        walls: dict[int, list[float]] = {jobs: [] for jobs in settings}
        busy: dict[int, list[float]] = {jobs: [] for jobs in settings}  # cores busy on average, per run
        values = iter(range(8, 129))  # pca.dims ≤ embed.code_size (128); a fresh value each time
        before = rp.load_note()
        repo = rp.make_repo(tmp / "repo", {"data": {"dir": str(args.data)}, "embed": {"epochs": args.epochs},
                                           "refine": {"rounds": 0}})  # the quick loop, no self-training
        env = rp.environment(tmp)
        print(f"full dvc repro in {repo} ...", flush=True)
        rp.dvc(repo, env, "repro", timeout=3600)
        rp.commit_all(repo, "bench: outputs")
        first_dims = None
        for run in range(args.runs):
            for jobs in settings:
                dims = [next(values) for _ in range(args.points)]
                first_dims = first_dims or dims
                wall, cores = sweep(repo, env, dims, jobs)
                walls[jobs].append(wall)
                busy[jobs].append(cores)
                print(f"run {run + 1}: -j {jobs}, pca.dims {dims}: {walls[jobs][-1]:.1f} s, "
                      f"{busy[jobs][-1]:.2f} cores busy", flush=True)
        show = rp.dvc(repo, env, "exp", "show", "--no-pager", "--md", "--drop",
                      r"^(?!Experiment|Created|pca\.dims|visualization_accuracy|explained_variance_percent).*$",
                      check=False)["output"]
        show = last_sweep(show, dims)
        after = rp.load_note()

    rows = []
    for jobs in settings:
        rows.append([f"`dvc queue start -j {jobs}`", f"{record.median(walls[jobs]):.1f} s",
                     ", ".join(f"{w:.1f}" for w in walls[jobs]) + " s",
                     ", ".join(f"{cores:.2f}" for cores in busy[jobs]),
                     f"{record.median(walls[jobs]) / args.points:.1f} s"])
    verdict = "Each experiment is mostly single-threaded Python (DVC, imports, scikit-learn on one thread), " \
        "so two workers can only gain where a second core is free. Cores busy: CPU time of the whole " \
        "machine (this sweep and anything else) over the wall time; 2.00 means both cores were busy " \
        "throughout, so anything above what the sweep itself needs was other work. "
    if len(settings) > 1:
        j, one = record.median(walls[args.jobs]), record.median(walls[1])
        cost = {k: record.median([c * w / args.points for c, w in zip(busy[k], walls[k])]) for k in settings}
        verdict += (f"Here `-j {args.jobs}` took {j / one:.2f}× the time of `-j 1` (medians), with the machine "
                    f"spending {cost[args.jobs]:.1f} core-seconds per experiment against {cost[1]:.1f}.")
        if j >= one and cost[args.jobs] > 1.3 * cost[1]:
            verdict += (f" So running {args.jobs} at once made each experiment cost about "
                        f"{cost[args.jobs] / cost[1]:.1f}× the CPU, and the second core bought no throughput on "
                        "this 2-vCPU virtual machine (whether from contention inside DVC's queue or from "
                        "the vCPUs sharing hardware, this benchmark does not tell).")
        elif j >= one:
            verdict += " Other work running meanwhile left no core free for the second worker."
    verdict += (" A queued experiment also costs more than `dvc exp run` in the workspace (see the "
                "iteration section): DVC first makes a temporary copy of the repository for it (a git "
                "clone, then a checkout of the cached inputs) and hands it to a worker process.")
    markdown = f"""## Sweep: {args.points} values of pca.dims through DVC's queue

`.venv/bin/python -m bench.sweep --runs {args.runs} --points {args.points} --jobs {args.jobs} --epochs {args.epochs}`:
a throw-away git + DVC copy of the project on hw7 (15,000 images, 1,000,000 pairs) with the
repository's params but `embed.epochs: {args.epochs}` (to save time; the sweep does not retrain), after
one full `dvc repro` and a commit. One run of the sweep is

```
dvc exp run --queue -S pca.dims=N        # × {args.points}, new values each run (e.g. {', '.join(map(str, first_dims or []))})
dvc queue start -j {args.jobs}                    # timed from here until all {args.points} experiments have finished
dvc exp show                              # compare them
```

Each queued experiment runs in its own temporary copy of the repository (.dvc/tmp/exps), so
two run at once without touching the workspace; results are kept as experiment refs
(`dvc exp apply <name>` brings one into the workspace).

| command | median wall time, queue start → all done | runs | cores busy during each run | per experiment |
|---|---|---|---|---|
{chr(10).join("| " + " | ".join(row) + " |" for row in rows)}

{verdict}

`dvc exp show` after the last run (columns trimmed to the swept param and two metrics; rows to
the baseline and that run's experiments):

{show.strip()}

Machine: {record.machine()}. Before: {before}. After: {after}.
Measured {time.strftime("%Y-%m-%d %H:%M")}.
"""
    record.update_section("sweep", markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
