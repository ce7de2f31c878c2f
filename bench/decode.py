"""Benchmark the competition's full size: decoding 40,000 jpgs, and every stage's peak memory.

    .venv/bin/python -m bench.decode [--runs 3] [--images 40000] [--pairs 1000000] [--epochs 1]
                                     [--data hw7] [--set KEY=VALUE ...] [--skip-pipeline]

Builds a 40,000-image competition folder in /tmp by tiling hw7's 15,000 jpgs (image i is a
copy of hw7 image ((i - 1) mod 15,000) + 1), with 1,000,000 random pairs and hw7's
visualization.npy. Then (1) ``--runs`` times the prepare stage (`python -m pipeline.stages.prepare`):
its own decode time (printed by the stage: image list → images.npy, the pool of the competition
images and then the visualization images) and its peak RSS; (2) one full `dvc repro` of a
throw-away copy of the project on that folder (embed.epochs = selftrain.epochs = 1 to save time:
memory does not depend on it; the autoencoder and the CNNs train on all the pool's images), with
each stage process's peak RSS. Writes the ``decode`` section of BENCHMARKS.md; everything in /tmp is
removed afterwards. Exit status 1 when a target is missed: decode ≤ 15 s, every stage ≤ 3 GB.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from bench import _repo as rp
from bench import record

TARGET_DECODE_S, TARGET_STAGE_MIB = 15.0, 3e9 / 2**20


def make_competition(source: Path, target: Path, images: int, pairs: int, seed: int = 0) -> None:
    """A competition folder of ``images`` jpgs tiled from ``source``'s, ``pairs`` random pairs."""
    sources = sorted((source / "images").iterdir())
    (target / "images").mkdir(parents=True)
    for number in range(1, images + 1):
        shutil.copyfile(sources[(number - 1) % len(sources)], target / "images" / f"{number:06d}.jpg")
    rng = np.random.default_rng(seed)
    names = rng.integers(1, images + 1, size=(pairs, 2))
    with open(target / "test_case.csv", "w", encoding="ascii") as f:
        f.write("id,image1_name,image2_name\n")
        for start in range(0, pairs, 100_000):
            block = names[start:start + 100_000]
            ids = np.arange(start, start + len(block))
            f.write("".join(f"{i},{a},{b}\n" for i, a, b in zip(ids.tolist(), *block.T.tolist())))
    shutil.copyfile(source / "visualization.npy", target / "visualization.npy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data", default="hw7", help="the competition folder whose jpgs are tiled (hw7, holdout or a path)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copy's params.yaml for the full run; repeatable")
    parser.add_argument("--skip-pipeline", action="store_true", help="only time prepare")
    args = parser.parse_args()
    source = rp.data_folder(args.data)
    if rp.missing_competition(source):
        return 2

    with rp.scratch("bench-decode-") as tmp:
        before = rp.load_note()
        folder = tmp / "competition"
        print(f"making {args.images} images, {args.pairs} pairs in {folder} ...", flush=True)
        make_competition(source, folder, args.images, args.pairs)
        work = tmp / "prepare"
        work.mkdir()
        (work / "params.yaml").write_text(f"seed: 0\ndata:\n  dir: {folder}\n", encoding="utf-8")
        env = rp.environment(tmp)
        env["PYTHONPATH"] = str(rp.REPO_ROOT)
        decode, whole, peaks = [], [], []
        for _ in range(args.runs):
            shutil.rmtree(work / "data", ignore_errors=True)
            result = rp.stage("prepare", work, env)
            decode.append(float(re.search(r"decoded \d+ images in ([\d.]+) s", result["output"]).group(1)))
            whole.append(result["wall"])
            peaks.append(result["peak_mib"])
            print(f"prepare: decode {decode[-1]:.2f} s, whole {whole[-1]:.1f} s, peak {peaks[-1]:.0f} MiB",
                  flush=True)
        stage_peaks, full_wall = {}, None
        if not args.skip_pipeline:
            repo = rp.make_repo(tmp / "repo", rp.with_settings(
                {"data": {"dir": str(folder)}, "embed": {"epochs": args.epochs},
                 "selftrain": {"epochs": args.epochs}}, args.settings))
            print(f"full dvc repro in {repo} ...", flush=True)
            env.pop("PYTHONPATH")
            full = rp.dvc(repo, env, "repro", monitor=True, timeout=6 * 3600)
            stage_peaks, full_wall = full["stage_peaks"], full["wall"]
        after = rp.load_note()

    decode_median = record.median(decode)
    prepare_peak = max(peaks)
    worst = max([prepare_peak, *stage_peaks.values()])
    all_met = decode_median <= TARGET_DECODE_S and worst <= TARGET_STAGE_MIB
    fmt = lambda values, digits=2: ", ".join(f"{v:.{digits}f}" for v in values)
    figures = rp.table(["what", "command", "median", "runs", "target", "met"], [
        [f"decode {args.images:,} jpgs (prepare's own timer: image list → images.npy)",
         "`python -m pipeline.stages.prepare`", f"{decode_median:.2f} s", fmt(decode) + " s",
         f"≤ {TARGET_DECODE_S:.0f} s", rp.met(decode_median <= TARGET_DECODE_S)],
        [f"whole prepare stage ({args.pairs:,} pairs read and checked too)", "`python -m pipeline.stages.prepare`",
         f"{record.median(whole):.1f} s", fmt(whole, 1) + " s", "", ""],
        ["prepare peak RSS (largest VmHWM of the stage or one of its decoder processes)",
         "`python -m pipeline.stages.prepare`",
         f"{record.median(peaks):.0f} MiB", fmt(peaks, 0) + " MiB", "≤ 3 GB",
         rp.met(prepare_peak <= TARGET_STAGE_MIB)],
    ])
    pipeline = ""
    changed = f" and `{' '.join(args.settings)}`" if args.settings else ""
    if stage_peaks:
        order = [s for s in rp.STAGE_ORDER if s in stage_peaks] + \
            sorted(s for s in stage_peaks if s not in rp.STAGE_ORDER)
        pipeline = f"""
Every stage at {args.images:,} images: one `dvc repro` ({full_wall:.0f} s) of a throw-away copy of the
project with `data.dir` = that folder and `embed.epochs: {args.epochs}`, `selftrain.epochs: {args.epochs}`{changed}
(to save time; the autoencoder and the CNNs still train on all the pool's images, so memory is what
a full run needs). Peak RSS of each stage process (the kernel's VmHWM, sampled every 50 ms;
"(worker)" = processes a stage started, e.g. prepare's decoders, each on its own), target ≤ 3 GB
each, met: {rp.met(worst <= TARGET_STAGE_MIB)}:

{rp.table(["stage", *order], [["peak RSS (MiB)", *[f"{stage_peaks[s]:.0f}" for s in order]]])}
"""
    markdown = f"""## Decode and memory at 40,000 images

`.venv/bin/python -m bench.decode --runs {args.runs} --images {args.images} --pairs {args.pairs} --epochs {args.epochs} --data {rp.named(args.data)}{rp.set_options(args.settings)}{" --skip-pipeline" if args.skip_pipeline else ""}`:
a competition folder in /tmp with {args.images:,} jpgs tiled from {rp.named(args.data)}'s jpgs and {args.pairs:,} random
pairs; `prepare` run {args.runs} times in a fresh process each (files warm in the page cache after
the copy). The stage decodes in worker processes, one per core (pipeline.lib.layout.decode_chunks),
and writes images.npy, the pool (the competition images, then the visualization images), chunk
by chunk (pipeline.lib.arrays.NpyWriter), never through a memory map.

{figures}
{pipeline}
Machine: {record.machine()}. Before: {before}. After: {after}.
Measured {time.strftime("%Y-%m-%d %H:%M")}.
"""
    record.update_section("decode", markdown)
    print(markdown)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
