"""Shared by the bench scripts: time a command a few times and record the figures in BENCHMARKS.md.

Each script owns one section of BENCHMARKS.md, between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``, and rewrites only that section, so scripts can run in any order.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import time
from pathlib import Path

import psutil

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nWritten by the scripts in `bench/`; each section says how to reproduce it.\n"


def machine() -> str:
    """One line naming this machine: CPU model, cores, memory, OS."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, {platform.system()} {platform.release()}"


def run_timed(command: list[str] | str, *, cwd: str | os.PathLike | None = None, env=None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak resident memory in MiB of it and its children).

    Peak memory is the largest ``ru_maxrss`` among waited-for children (Linux reports KiB).
    It is sampled by the kernel, not polled, so short peaks are not missed.
    """
    import resource

    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, shell=isinstance(command, str),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mib


def median(values: list[float]) -> float:
    return statistics.median(values)


def update_section(name: str, markdown: str) -> None:
    """Replace (or append) this script's section of BENCHMARKS.md."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEADER
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
