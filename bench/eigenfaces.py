"""Benchmark the eigenfaces stage at the homework's real size: 415 colour faces of 600x600.

    .venv/bin/python -m bench.eigenfaces [--runs 3] [--faces ../shared/data/aberdeen]

The 415 faces are made from the 100 Aberdeen faces (as is, mirrored, shifted, mirrored and
shifted) in a temporary folder; the stage (``python -m pipeline.eigenfaces``, k = 5, 4
reconstructions, plots included) runs there as a subprocess ``--runs`` times. The median wall time
and the peak resident memory go into the ``eigenfaces`` section of BENCHMARKS.md.
Exit status 1 when a target (30 s, 3 GB) is missed.
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

from bench import record
from pipeline.lib import faces as fc

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES, K, REBUILD = 415, 5, 4
TARGET_S, TARGET_BYTES = 30.0, 3e9


def make_faces(source: Path, target: Path, count: int = IMAGES) -> tuple[int, int]:
    """Write ``count`` jpg faces into ``target`` made from the faces in ``source``; return (h, w)."""
    names, faces = fc.load_face_folder(source)
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
        command = [sys.executable, "-m", "pipeline.eigenfaces"]
        load = os.getloadavg()[0]
        times, peak_mib = [], 0.0
        for run in range(args.runs):
            wall, peak = record.run_timed(command, cwd=work, env=env)
            times.append(wall)
            peak_mib = max(peak_mib, peak)
            print(f"run {run + 1}/{args.runs}: {wall:.1f} s, peak RSS so far {peak_mib:.0f} MiB", flush=True)

    median = record.median(times)
    met = median <= TARGET_S and peak_mib * 2**20 <= TARGET_BYTES
    runs = ", ".join(f"{t:.1f}" for t in times)
    target = f"≤ {TARGET_S:.0f} s, ≤ {TARGET_BYTES / 1e9:.0f} GB"
    markdown = f"""## Eigenfaces (HW7 part 1)

`.venv/bin/python -m bench.eigenfaces --runs {args.runs}`: the stage `python -m pipeline.eigenfaces` on
{IMAGES} colour faces of {w}x{h} (the 100 Aberdeen faces as is, mirrored, shifted), k = {K},
{REBUILD} reconstructions and the three plots included; {args.runs} runs in a fresh process each.

| median wall time | runs | peak RSS | target | met |
|---|---|---|---|---|
| {median:.1f} s | {runs} s | {peak_mib:.0f} MiB | {target} | {"yes" if met else "**no**"} |

Machine: {record.machine()}; load average {load:.1f} at the start. Measured {time.strftime("%Y-%m-%d")}.
"""
    record.update_section("eigenfaces", markdown)
    print(markdown)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
