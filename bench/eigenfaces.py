"""Benchmark the eigenfaces stage at the homework's real size: 415 colour faces of 600x600.

    .venv/bin/python -m bench.eigenfaces [--runs 3] [--faces ../shared/data/aberdeen]

The 415 faces are made from the 100 Aberdeen faces (as is, mirrored, shifted, mirrored and
shifted) in a temporary folder; the stage (``python -m pipeline.stages.eigenfaces``, k = 5, 4
reconstructions, plots included) and the course's pca.sh contract (``python -m pipeline.eigenfaces
faces 0.jpg rebuilt.jpg``: the top 5 eigenfaces of the folder, one face rebuilt) run there as
subprocesses ``--runs`` times each. The median wall times and the peak resident memory go into
the ``eigenfaces`` section of BENCHMARKS.md. Exit status 1 when a target (30 s, 3 GB) is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench import _repo as rp
from bench import record
from pipeline.lib import faces as fc

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES, K, REBUILD = 415, 5, 4
TARGET_S, TARGET_BYTES = 30.0, 3e9


def make_faces(source: Path, target: Path, count: int = IMAGES) -> tuple[int, int]:
    """Write ``count`` jpg faces into ``target`` made from the faces in ``source``; return (h, w)."""
    _, faces = fc.load_face_folder(source)
    variants = [
        lambda f: f,
        lambda f: f[:, ::-1],
        lambda f: np.roll(f, 12, axis=1),
        lambda f: np.roll(f[:, ::-1], -12, axis=1),
        lambda f: np.roll(f, 8, axis=0),
    ]
    target.mkdir(parents=True)
    for i in range(count):
        variant, face = variants[i // len(faces) % len(variants)], faces[i % len(faces)]
        Image.fromarray(np.ascontiguousarray(variant(face))).save(target / f"{i}.jpg", quality=95)
    return faces.shape[1], faces.shape[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faces", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "aberdeen")
    args = parser.parse_args()
    if not args.faces.is_dir():
        print(f"error: {args.faces}: expected the folder of Aberdeen faces, found nothing", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-eigenfaces-") as tmp:
        work = Path(tmp)
        print(f"making {IMAGES} faces from {args.faces} in {work} ...", flush=True)
        h, w = make_faces(args.faces, work / "faces")
        (work / "params.yaml").write_text(f"seed: 0\neigenfaces:\n  dir: faces\n  k: {K}\n  rebuild: {REBUILD}\n")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        commands = {"stage": [sys.executable, "-m", "pipeline.stages.eigenfaces"],
                    "course": [sys.executable, "-m", "pipeline.eigenfaces", "faces", "0.jpg", "rebuilt.jpg"]}
        load = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, float] = {}
        for name, command in commands.items():
            for run in range(args.runs):
                result = rp.run(command, cwd=work, env=env)
                times[name].append(result["wall"])
                peaks[name] = max(peaks.get(name, 0.0), result["peak_mib"])
                print(f"{name} run {run + 1}/{args.runs}: {result['wall']:.1f} s, peak RSS {result['peak_mib']:.0f} MiB",
                      flush=True)

    rows, met = [], True
    for name, command in (("stage", "`python -m pipeline.stages.eigenfaces` (k = 5, 4 rebuilds, 3 plots)"),
                          ("course", "`python -m pipeline.eigenfaces faces 0.jpg rebuilt.jpg` (pca.sh)")):
        median = record.median(times[name])
        ok = median <= TARGET_S and peaks[name] * 2**20 <= TARGET_BYTES
        met &= ok
        rows.append(f"| {command} | {median:.1f} s | {', '.join(f'{t:.1f}' for t in times[name])} s | "
                    f"{peaks[name]:.0f} MiB | "
                    f"≤ {TARGET_S:.0f} s, ≤ {TARGET_BYTES / 1e9:.0f} GB | {'yes' if ok else '**no**'} |")
    markdown = f"""## Eigenfaces (HW7 part 1)

`.venv/bin/python -m bench.eigenfaces --runs {args.runs}`: {IMAGES} colour faces of {w}x{h} (the 100
Aberdeen faces as is, mirrored, shifted) in a folder `faces`, params.yaml `eigenfaces: {{dir: faces,
k: {K}, rebuild: {REBUILD}}}`; {args.runs} runs of each command in a fresh process each. Peak RSS: the
largest of the runs' (the kernel's VmHWM of the process, sampled every 50 ms).

| command | median wall time | runs | peak RSS | target | met |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Machine: {record.machine()}; load average {load:.1f} at the start. Measured {time.strftime("%Y-%m-%d")}.
"""
    record.update_section("eigenfaces", markdown)
    print(markdown)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
