"""Shared by the bench scripts: name the machine and record the figures in BENCHMARKS.md.

Each script owns one section of BENCHMARKS.md, between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``, and rewrites only that section, so scripts can run in any order.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

import psutil

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nWritten by the scripts in `bench/`; each section says how to reproduce it.\n"


def cpu_model() -> str:
    """The CPU as lscpu names it: "Model name", then family, model and the widest vector
    instructions it offers (a virtual machine's model name is often only "… Processor"; the
    instruction sets say what oneDNN can use). Falls back to /proc/cpuinfo's model name."""
    try:
        listing = subprocess.run(["lscpu"], capture_output=True, text=True, check=True,
                                 env={**os.environ, "LC_ALL": "C"}).stdout
    except (OSError, subprocess.CalledProcessError):
        listing = ""
    fields = dict(line.split(":", 1) for line in listing.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    name = fields.get("Model name")
    if name is None:
        try:
            name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                        if line.startswith("model name"))
        except (OSError, StopIteration):
            return platform.processor() or platform.machine()
    details = [f"family {fields['CPU family']} model {fields['Model']}"] if "CPU family" in fields and "Model" in fields else []
    flags = set(fields.get("Flags", "").split())
    vector = [label for label, flag in (("AVX2", "avx2"), ("AVX-512", "avx512f"), ("AMX", "amx_tile")) if flag in flags]
    if vector:
        details.append(" ".join(vector))
    return f"{name} ({'; '.join(details)})" if details else name


def machine() -> str:
    """One line naming this machine: CPU model, cores, memory, OS, and ONEDNN_MAX_CPU_ISA.

    ONEDNN_MAX_CPU_ISA caps the instructions TensorFlow's oneDNN kernels use (e.g. AVX2 on an
    AVX-512 machine), which changes training time and can change the trained weights, so the
    figures of a run say whether it was set.
    """
    memory_gib = psutil.virtual_memory().total / 2**30
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = f"{os.cpu_count()} cores" + ("" if usable == os.cpu_count() else f" ({usable} usable)")
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    isa_note = f"ONEDNN_MAX_CPU_ISA={isa}" if isa else "ONEDNN_MAX_CPU_ISA not set"
    return (f"{cpu_model()}, {cores}, {memory_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"{isa_note}")


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
