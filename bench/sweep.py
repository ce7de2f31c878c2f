"""Benchmark a queued parameter sweep: pca.dims 2, 16, 64, 256 run 2 at a time by DVC's queue.

    .venv/bin/python -m bench.sweep [--runs 3] [--dims 2 16 64 256] [--jobs 2] [--epochs 3]
                                    [--data hw7] [--set KEY=VALUE ...] [--no-sequential] [--keep]

In a throw-away git + DVC copy of the project on hw7 (embed.epochs and selftrain.epochs lowered to
save time: the sweep reruns only reduce → cluster → predict → plot → report; pca.dims
--baseline-dims, a value outside the sweep, so every point has work to do): one full `dvc repro`,
commit, then per run::

    dvc exp run --queue -S pca.dims=N      # once per value
    dvc queue start -j 2                   # wall time from here ...
                                           # ... until every queued experiment has its ref
    dvc exp show                           # (after the runs) the sweep side by side

DVC's run cache is cleared before each run (it would otherwise restore the stages of a value
swept before instead of running them). For comparison the same is timed with `-j 1` (unless
--no-sequential). Writes the ``sweep`` section of BENCHMARKS.md.

The copy's data.dir is the folder's absolute path, not ../shared/data/hw7 as elsewhere: a queued
experiment runs in a temporary copy of the repository under .dvc/tmp/exps, from which a relative
path that leaves the repository leads somewhere else. BENCHMARKS.md names the folder relative to
the repository all the same.
"""

from __future__ import annotations

import argparse
import json
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


def sweep(repo: Path, env: dict, dims: list[int], jobs: int, timeout: float = 1800) -> tuple[float, float]:
    """Queue one experiment per value of ``dims``, start ``jobs`` workers; return the seconds until
    all are done and how many cores the whole machine kept busy on average meanwhile."""
    rp.clear_run_cache(repo)  # every value is computed, not restored from an earlier run
    for value in dims:
        rp.dvc(repo, env, "exp", "run", "--queue", "-S", f"pca.dims={value}", monitor=False)
    before = exp_refs(repo)
    started, busy_before = time.perf_counter(), busy_seconds()
    rp.dvc(repo, env, "queue", "start", "-j", str(jobs), monitor=False)
    checked = started
    while len(exp_refs(repo) - before) < len(dims):
        now = time.perf_counter()
        if now - checked > 10:  # a failed experiment never gets its ref: look for one now and then
            checked = now
            status = rp.dvc(repo, env, "queue", "status", check=False, monitor=False)["output"]
            if "Failed" in status or now - started > timeout:
                raise RuntimeError(f"sweep of {dims}: an experiment failed or none finished after "
                                   f"{timeout} s:\n{status}\n{failed_logs(repo, env, status)}")
        time.sleep(0.2)
    wall = time.perf_counter() - started
    cores = (busy_seconds() - busy_before) / wall
    status = rp.dvc(repo, env, "queue", "status", check=False, monitor=False)["output"]
    if "Failed" in status:
        raise RuntimeError(f"sweep of {dims}: an experiment failed:\n{status}\n{failed_logs(repo, env, status)}")
    # The workers exit by themselves once the queue is empty: wait for that before the next sweep.
    deadline = time.monotonic() + 120
    while "Worker status: 0 active, 0 idle" not in status and time.monotonic() < deadline:
        time.sleep(2)
        status = rp.dvc(repo, env, "queue", "status", check=False, monitor=False)["output"]
    return wall, cores


def failed_logs(repo: Path, env: dict, status: str) -> str:
    """The end of `dvc queue logs` of each failed experiment in ``status`` (rows of task, name,
    created, status)."""
    names = [line.split()[0] for line in status.splitlines() if line.split()[-1:] == ["Failed"]]
    return "\n".join(rp.dvc(repo, env, "queue", "logs", name, check=False, monitor=False)["output"][-2000:]
                     for name in names)


def busy_seconds() -> float:
    """Core-seconds the whole machine has spent busy (not idle, not waiting for I/O) since boot."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def last_sweep(table: str, count: int) -> str:
    """`dvc exp show --md` cut to its header, the workspace, the baseline and the ``count``
    newest experiments (DVC lists a baseline's experiments newest first)."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    if len(lines) < 4:
        return table
    return "\n".join(lines[:4 + count])  # header, rule, workspace, baseline, experiments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 16, 64, 256])
    parser.add_argument("--baseline-dims", type=int, default=128,
                        help="pca.dims of the committed run, not one of --dims")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="embed.epochs and selftrain.epochs of the full run")
    parser.add_argument("--data", default="hw7", help="hw7, holdout, or a competition folder outside the repository")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copy's params.yaml; repeatable")
    parser.add_argument("--no-sequential", action="store_true", help="skip the -j 1 comparison")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    folder = rp.data_folder(args.data)
    if rp.missing_competition(folder):
        return 2
    if args.baseline_dims in args.dims or len(set(args.dims)) != len(args.dims):
        print("error: --dims: expected different values, none of them --baseline-dims", file=sys.stderr)
        return 2

    with rp.scratch("bench-sweep-", keep=args.keep) as tmp:
        settings = [args.jobs] + ([] if args.no_sequential or args.jobs == 1 else [1])
        walls: dict[int, list[float]] = {jobs: [] for jobs in settings}
        busy: dict[int, list[float]] = {jobs: [] for jobs in settings}  # cores busy on average, per run
        before = rp.load_note()
        # the absolute path: see the module's doc
        overrides = rp.with_settings({"data": {"dir": str(folder)}, "embed": {"epochs": args.epochs},
                                      "selftrain": {"epochs": args.epochs}, "pca": {"dims": args.baseline_dims}},
                                     args.settings)
        repo = rp.make_repo(tmp / "repo", overrides)
        env = rp.environment(tmp)
        print(f"full dvc repro in {repo} ...", flush=True)
        full = rp.dvc(repo, env, "repro", monitor=False, timeout=6 * 3600)
        rp.commit_all(repo, "bench: outputs")
        full_counts = [json.loads((repo / "data/prepared/summary.json").read_text())[key]
                       for key in ("images", "visualization_images", "pairs")]
        for run in range(args.runs):
            for jobs in settings:
                wall, cores = sweep(repo, env, args.dims, jobs)
                walls[jobs].append(wall)
                busy[jobs].append(cores)
                print(f"run {run + 1}: -j {jobs}, pca.dims {args.dims}: {walls[jobs][-1]:.1f} s, "
                      f"{busy[jobs][-1]:.2f} cores busy", flush=True)
        show = rp.dvc(repo, env, "exp", "show", "--no-pager", "--md", "--drop", ".*", "--keep",
                      r"^(Experiment|Created|pca\.dims|pair_accuracy|metrics/cluster\.json:visualization_accuracy"
                      r"|visualization_accuracy)$", check=False, monitor=False)["output"]
        show = last_sweep(show, len(args.dims))
        after = rp.load_note()

    rows = []
    for jobs in settings:
        rows.append([f"`dvc queue start -j {jobs}`", f"{record.median(walls[jobs]):.1f} s",
                     ", ".join(f"{w:.1f}" for w in walls[jobs]) + " s",
                     ", ".join(f"{cores:.2f}" for cores in busy[jobs]),
                     f"{record.median(walls[jobs]) / len(args.dims):.1f} s"])
    verdict = "Each experiment is mostly single-threaded Python (DVC, imports, scikit-learn on one thread), " \
        "so two workers can only gain where a second core is free. Cores busy: CPU time of the whole " \
        "machine (this sweep and anything else) over the wall time; 2.00 means both cores were busy " \
        "throughout, so anything above what the sweep itself needs was other work. "
    if len(settings) > 1:
        j, one = record.median(walls[args.jobs]), record.median(walls[1])
        cost = {k: record.median([c * w / len(args.dims) for c, w in zip(busy[k], walls[k])]) for k in settings}
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
    points = len(args.dims)
    prepared = ", ".join(f"{n:,} {what}" for n, what in zip(full_counts, ("images", "visualization images", "pairs")))
    markdown = f"""## Sweep: {points} values of pca.dims through DVC's queue

`.venv/bin/python -m bench.sweep --runs {args.runs} --dims {' '.join(map(str, args.dims))} --baseline-dims {args.baseline_dims} --jobs {args.jobs} --epochs {args.epochs} --data {rp.named(args.data)}{rp.set_options(args.settings)}`:
a throw-away git + DVC copy of the project on `{rp.shown(folder)}` ({prepared}) with the
repository's params but `embed.epochs: {args.epochs}`, `selftrain.epochs: {args.epochs}` (to save time; the
sweep does not retrain) and `pca.dims: {args.baseline_dims}` (not a swept value, so every experiment has
work to do), after one full `dvc repro` ({full['wall']:.0f} s) and a commit. One run of the sweep is

```
dvc exp run --queue -S pca.dims=N        # N = {', '.join(map(str, args.dims))}
dvc queue start -j {args.jobs}                    # timed from here until all {points} experiments have finished
dvc exp show                              # compare them
```

DVC's run cache is cleared before each run, so each experiment computes reduce → cluster →
predict → plot → report rather than restoring them from an earlier run of the same value.

Each queued experiment runs in its own temporary copy of the repository (.dvc/tmp/exps), so
two run at once without touching the workspace; results are kept as experiment refs
(`dvc exp apply <name>` brings one into the workspace). That is also why the copy's `data.dir`
is the folder's absolute path here: from .dvc/tmp/exps/<copy>, a relative path that leaves the
repository (`../shared/data/hw7`) names another folder, and prepare fails (no such file or directory).

| command | median wall time, queue start → all done | runs | cores busy during each run | per experiment |
|---|---|---|---|---|
{chr(10).join("| " + " | ".join(row) + " |" for row in rows)}

{verdict}

`dvc exp show` after the last run (columns trimmed to the swept param and the accuracies; rows to
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
