"""Shared by the pipeline benchmarks (not a benchmark itself: `make bench` skips bench/_*.py).

A throw-away copy of the project as its own git + DVC repository (never the checkout itself:
`dvc repro` there would overwrite the checkout's outputs; the copy is made by
devtools/scratch_repo.py, which the tests use too), DVC kept away from the machine's site cache
and config, commands timed with their peak resident memory, and the stage processes that DVC
starts watched for their own peak memory.

Data folders are named in BENCHMARKS.md by their path relative to the repository
(``../shared/data/hw7``), never by a machine's absolute path: :func:`place_repo` puts the copy
where that relative path leads to the same folder, so the commands shown are the commands run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

from devtools import scratch_repo
from devtools.scratch_repo import commit_all, git, make_repo, write_params  # noqa: F401 (the benchmarks' API)

REPO_ROOT = scratch_repo.PROJECT
BIN = scratch_repo.BIN  # the venv's bin: stage commands say `python`, and dvc lives here
HW7 = Path(os.environ.get("HW7_DATA", REPO_ROOT.parent / "shared" / "data" / "hw7"))
DATA_SETS = {"hw7": HW7, "holdout": HW7.parent / "holdout"}
STAGE_ORDER = tuple(yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"])
# The stages that learn (minutes); a change of pca.* or cluster.* must rerun none of them.
LEARNING = ("prepare", "embed", "hog", "patches", "selftrain")
DOWNSTREAM = ("views", "reduce", "cluster", "predict", "plot", "report")  # what `-S pca.…` can rerun


@contextlib.contextmanager
def scratch(prefix: str, keep: bool = False):
    """A temporary folder for one benchmark (named ``prefix``…), removed afterwards, however the
    benchmark ends, unless ``keep`` (then its path is printed)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def data_folder(name: str) -> Path:
    """The folder of a data set named on the command line: hw7, holdout, or a path (relative to
    the current folder). Not resolved through symlinks: it is shown as given."""
    return DATA_SETS[name] if name in DATA_SETS else Path(os.path.abspath(name))


def shown(folder: Path) -> str:
    """``folder`` as BENCHMARKS.md names it: relative to the repository (../shared/data/hw7)."""
    return os.path.relpath(folder, REPO_ROOT)


def named(name: str) -> str:
    """A --data argument as BENCHMARKS.md shows it: hw7, holdout, or the folder relative to the repository."""
    return name if name in DATA_SETS else shown(data_folder(name))


def place_repo(tmp: Path, folders: list[Path]) -> Path:
    """Where to make the throw-away repository under ``tmp`` so that each of ``folders`` is
    reached from it by the same relative path as from the checkout: the repository goes as
    deep under ``tmp`` as the deepest ``..`` chain, and the first folder after each chain is a
    symlink to the real one (../shared → <checkout>/../shared). Folders inside the checkout are
    refused: the copy does not have them (and DVC would hash them as part of the repository).
    """
    relative = [Path(shown(folder)) for folder in folders]
    ups = [len(list(itertools.takewhile(lambda part: part == "..", rel.parts))) for rel in relative]
    if any(up == 0 for up in ups):
        inside = folders[ups.index(0)]
        raise SystemExit(f"error: {inside}: expected a data folder outside the repository {REPO_ROOT}, "
                         f"found one inside it")
    repo = tmp.joinpath("root", *["sub"] * (max(ups, default=1) - 1), "repo")
    for rel, up in zip(relative, ups):
        top = rel.parts[up]
        link, target = repo.parents[up - 1] / top, REPO_ROOT.parents[up - 1] / top
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    return repo


def missing_competition(folder: Path) -> bool:
    """True, after one line on stderr, when ``folder`` holds no competition layout (no images/)."""
    if (folder / "images").is_dir():
        return False
    print(f"error: {shown(folder)}: expected a competition folder (images/, test_case.csv, "
          f"visualization.npy), found nothing", file=sys.stderr)
    return True


def parse_settings(assignments: list[str]) -> dict:
    """``["embed.epochs=3", "seed=1"]`` (the --set options) → {"embed": {"epochs": 3}, "seed": 1},
    for :func:`write_params`; values read as YAML (3 → int, false → bool, [8, 16] → list)."""
    overrides: dict = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --set {assignment}: expected KEY=VALUE (e.g. embed.epochs=3)")
        section, _, name = key.partition(".")
        parsed = yaml.safe_load(value)
        if name:
            overrides.setdefault(section, {})[name] = parsed
        else:
            overrides[section] = parsed
    return overrides


def with_settings(overrides: dict, assignments: list[str]) -> dict:
    """``overrides`` (section → {key: value}) with the --set options on top."""
    merged = {section: dict(values) if isinstance(values, dict) else values for section, values in overrides.items()}
    for section, values in parse_settings(assignments).items():
        merged[section] = {**merged.get(section, {}), **values} if isinstance(values, dict) else values
    return merged


def set_options(assignments: list[str]) -> str:
    """The --set options as they appear in a command line shown in BENCHMARKS.md ('' for none)."""
    return "".join(f" --set {a}" for a in assignments)


def environment(root: Path) -> dict[str, str]:
    """The tests' environment for DVC and the stages (the venv first on PATH, no PYTHONPATH), with
    DVC's site cache and global/system config under ``root``."""
    return scratch_repo.environment(dvc_home=root / "dvc-home")


def clear_run_cache(repo: Path) -> None:
    """Forget the stage runs DVC remembers (.dvc/cache/runs), so that a stage whose params were
    tried before is run again, not restored: what the first try of a value costs."""
    shutil.rmtree(repo / ".dvc" / "cache" / "runs", ignore_errors=True)


def reset_params(repo: Path) -> None:
    """params.yaml as last committed (a `dvc exp run -S` leaves its change in the workspace)."""
    git(repo, "checkout", "--", "params.yaml")


def stage_of(cmdline: list[str]) -> str | None:
    """'prepare' for `python -m pipeline.stages.prepare`; None for anything else."""
    for index, arg in enumerate(cmdline[:-1]):
        if arg == "-m" and cmdline[index + 1].startswith("pipeline.stages."):
            return cmdline[index + 1].rsplit(".", 1)[1]
    return None


def high_water_mib(pid: int) -> float:
    """The kernel's peak resident set size (VmHWM) of a live process, in MiB; 0 if gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


class StageMonitor:
    """Watch the process tree under ``pid`` and keep, per pipeline stage, the largest VmHWM
    (the kernel's own peak RSS, so peaks between two samples are not lost: only growth in a
    stage's last ~50 ms can be). Worker processes of a stage count under "<stage> (worker)"."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.root, self.interval = psutil.Process(pid), interval
        self.peaks: dict[str, float] = {}
        self.stages: dict[int, str] = {}
        self.seen: dict[int, list[float]] = {}  # pid → [first seen, last seen] (perf_counter)
        self.tree_peak = 0.0  # the largest VmHWM of the root or any descendant
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                children = self.root.children(recursive=True)
            except psutil.Error:
                children = []
            self.tree_peak = max(self.tree_peak, high_water_mib(self.root.pid))
            for child in children:
                self.tree_peak = max(self.tree_peak, high_water_mib(child.pid))
                try:
                    if child.pid not in self.stages:
                        stage = stage_of(child.cmdline())
                        if stage is None:
                            parent = child.parent()
                            owner = self.stages.get(parent.pid) if parent else None
                            stage = f"{owner} (worker)" if owner and "(worker)" not in owner else None
                        if stage is None:
                            continue
                        self.stages[child.pid] = stage
                    stage = self.stages[child.pid]
                    peak = high_water_mib(child.pid)
                    if peak:  # 0: gone (or a zombie) before it could be read, not a measurement
                        self.peaks[stage] = max(self.peaks.get(stage, 0.0), peak)
                    now = time.perf_counter()
                    self.seen.setdefault(child.pid, [now, now])[1] = now
                except psutil.Error:
                    continue
            self._stop.wait(self.interval)

    def timeline(self, origin: float) -> list[tuple[str, float, float]]:
        """(stage, start, end) of each stage process, seconds after ``origin``, in start order."""
        rows = [(self.stages[pid], first - origin, last - origin) for pid, (first, last) in self.seen.items()
                if "(worker)" not in self.stages[pid]]
        return sorted(rows, key=lambda row: row[1])

    def walls(self) -> dict[str, float]:
        """Seconds each stage process was seen alive (to the sampling interval), summed per stage."""
        walls: dict[str, float] = {}
        for pid, (first, last) in self.seen.items():
            stage = self.stages[pid]
            if "(worker)" not in stage:
                walls[stage] = walls.get(stage, 0.0) + last - first + self.interval
        return walls

    def __enter__(self) -> StageMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def kill_tree(process: subprocess.Popen) -> None:
    """Kill ``process`` and every process under it (a stage's worker processes too)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
    process.kill()


def run(command: list[str], *, cwd: Path, env: dict, monitor: bool = True, timeout: float | None = None,
        check: bool = True, memory_limit_mib: float | None = None) -> dict:
    """Run ``command``; return wall seconds, CPU seconds (from wait4: it and every descendant it
    waited for), peak RSS in MiB (the largest VmHWM of it or any descendant, one process at a
    time), its output and the per-stage peaks and times of the pipeline stages it ran.

    ``memory_limit_mib`` (needs ``monitor``): once one of its processes has been that large, the
    command and its descendants are killed, and the result says ``over_limit`` (not an error, even
    with ``check``): a benchmark that finds a stage too large stops it before it takes the
    machine's memory from everything else (it can overshoot by what it allocates in ~50 ms).

    Peak RSS is not wait4's ru_maxrss: that also counts the memory of this (parent) process
    that the child had between fork and exec, so no command measures below this process's own
    RSS (~140 MiB with numpy and Pillow loaded). VmHWM is the exec'd program's own high water.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(process.stdout), daemon=True)
    reader.start()
    watcher = StageMonitor(process.pid) if monitor else None
    if watcher:
        watcher.__enter__()
    deadline = None if timeout is None else time.monotonic() + timeout
    over_limit = False
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                kill_tree(process)
                process.wait()
                raise TimeoutError(f"{' '.join(command)}: still running after {timeout} s")
            if memory_limit_mib is not None and watcher and watcher.tree_peak > memory_limit_mib and not over_limit:
                over_limit = True
                kill_tree(process)
            time.sleep(0.01)
    finally:
        if watcher:
            watcher.__exit__(None, None, None)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    output = b"".join(chunks).decode("utf-8", "replace")
    if check and process.returncode != 0 and not over_limit:
        raise RuntimeError(f"`{' '.join(map(str, command))}` in {cwd} exited {process.returncode}:\n"
                           f"{output[-5000:]}")
    peak = watcher.tree_peak if watcher and watcher.tree_peak else usage.ru_maxrss / 1024
    return {"wall": wall, "output": output, "peak_mib": peak, "wait4_mib": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime,  # itself and every waited-for descendant
            "stage_peaks": dict(watcher.peaks) if watcher else {},
            "stage_walls": watcher.walls() if watcher else {},
            "timeline": watcher.timeline(start) if watcher else [], "returncode": process.returncode,
            "over_limit": over_limit}


def dvc(repo: Path, env: dict, *args: str, **kwargs) -> dict:
    return run([str(BIN / "dvc"), *args], cwd=repo, env=env, **kwargs)


def stage(name: str, repo: Path, env: dict, **kwargs) -> dict:
    """`python -m pipeline.stages.<name>` in ``repo``, timed, with its peak RSS (MiB)."""
    return run([str(BIN / "python"), "-m", f"pipeline.stages.{name}"], cwd=repo, env=env, **kwargs)


def metrics(repo: Path, stage: str) -> dict:
    """What ``stage`` measured in ``repo``'s workspace: its data/<folder>/summary.json (the stage's
    metrics and the rest; the folder is the stage's name, but data/prepared for prepare)."""
    folder = "prepared" if stage == "prepare" else stage
    return json.loads((repo / "data" / folder / "summary.json").read_text())


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def variant_options(assignment: str) -> list[str]:
    """``"a=1 b=2"`` (assignments separated by spaces) as `dvc exp run` options: -S a=1 -S b=2."""
    return [arg for part in assignment.split() for arg in ("-S", part)]


def downstream_experiment(repo: Path, env: dict, assignment: str, *, monitor: bool = False) -> dict:
    """`dvc exp run -S ASSIGNMENT` from the committed params.yaml, with DVC's run cache cleared
    (see :func:`clear_run_cache`); :func:`run`'s result plus ``ran``, the stages it ran. Raises
    when it reran a learning stage: a change after them must not. Several assignments, separated
    by spaces, are each given their own -S."""
    reset_params(repo)
    clear_run_cache(repo)
    result = dvc(repo, env, "exp", "run", *variant_options(assignment), monitor=monitor, timeout=1800)
    result["ran"] = ran_stages(result["output"])
    learned = [stage for stage in result["ran"] if stage in LEARNING]
    if learned:
        raise RuntimeError(f"`dvc exp run -S {assignment}` reran {', '.join(learned)}, which a change after the "
                           f"learning stages must not:\n{result['output'][-3000:]}")
    return result


def load_note() -> str:
    """What else is running: the load average and the busiest other processes right now."""
    me = {os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))}
    busy = []
    for process in psutil.process_iter(["pid", "name", "cmdline", "cpu_percent"]):
        if process.info["pid"] in me:
            continue
        try:
            process.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(1.0)
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.info["pid"] in me:
            continue
        try:
            cpu = process.cpu_percent(None)
        except psutil.Error:
            continue
        if cpu >= 20:
            command = " ".join(process.info["cmdline"] or [])[:60] or process.name()
            busy.append(f"`{command}` at {cpu:.0f} % CPU")
    load = os.getloadavg()
    others = "; other processes: " + ", ".join(busy) if busy else "; no other busy process"
    return f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min){others}"


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"
