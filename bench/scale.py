"""Benchmark scale: 1,000,000 32×32 images end to end, each stage's time and peak memory.

    .venv/bin/python -m bench.scale [--images 1000000] [--pairs 1000000] [--train-samples N]
                                    [--epochs 2] [--memory-cap-gib 12] [--data hw7] [--set KEY=VALUE ...]
                                    [--keep]

Generates a competition folder in /tmp: image i is hw7 image ((i - 1) mod 15,000) + 1, flipped
(none, left-right, up-down, both) and shifted by one pixel (9 shifts, with wrap-around) by
variant ((i - 1) div 15,000) mod 36, written as a quality-90 jpg (so images repeat after
540,000); ``--pairs`` random pairs; hw7's visualization.npy. Then every stage of dvc.yaml runs
once, in order, as `python -m pipeline.stages.<stage>` in a throw-away copy of the project (not
through DVC: hashing a million-file folder is not what is measured here) with the params for
scale: few epochs, pca.incremental: true (IncrementalPCA), cluster.minibatch: true (MiniBatchKMeans); the networks train on the samples the repository's
embed.train_samples and selftrain.train_samples cap them at (or --train-samples). The pool
(data/prepared/images.npy) is the --images competition images and then the visualization images.
Records each stage's wall time and peak RSS (the kernel's VmHWM of the stage process or any
process it started, sampled every 50 ms). A stage that passes --memory-cap-gib is stopped (so it
cannot take the memory of everything else on the machine) and the stages after it are not run.
Then, on the pool's images.npy, the memory of reading embed's training sample two ways (through
``np.load(mmap_mode="r")[sample]`` and with pipeline.lib.arrays.read_rows, as embed does), 3 runs
each. Writes the ``scale`` section of BENCHMARKS.md and deletes everything in /tmp (unless
--keep). Exit status 1 when a stage passes 4 GB. `--images 100000` is a quick check (minutes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from bench import _repo as rp
from bench import record
from pipeline.lib.config.params import read_section
from pipeline.lib.pool import Rows

TARGET_MIB = 4e9 / 2**20
SHIFTS = [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]
FLIPS = 4


def variant(image: np.ndarray, index: int) -> np.ndarray:
    flip, (dy, dx) = index % FLIPS, SHIFTS[index // FLIPS % len(SHIFTS)]
    if flip & 1:
        image = image[:, ::-1]
    if flip & 2:
        image = image[::-1]
    return np.ascontiguousarray(np.roll(image, (dy, dx), axis=(0, 1)))


def _write_range(job: tuple[str, str, int, int]) -> int:
    """Worker: write images ``start`` … ``stop`` - 1 (1-based numbers) from the sources in ``npy``."""
    from PIL import Image

    npy, folder, start, stop = job
    sources = np.load(npy)
    for number in range(start, stop):
        index = number - 1
        pixels = variant(sources[index % len(sources)], index // len(sources))
        Image.fromarray(pixels).save(f"{folder}/{number:07d}.jpg", quality=90)
    return stop - start


def make_competition(source: Path, target: Path, images: int, pairs: int, seed: int = 0) -> float:
    """Write the folder (see the module doc); return the seconds it took."""
    from pipeline.lib import layout, parallel

    started = time.perf_counter()
    (target / "images").mkdir(parents=True)
    sources = layout.decode_images(layout.image_paths(source / "images"), progress=False)
    np.save(target.parent / "sources.npy", sources)
    step = 20_000
    jobs = [(str(target.parent / "sources.npy"), str(target / "images"), s, min(s + step, images + 1))
            for s in range(1, images + 1, step)]
    done = 0
    with multiprocessing.get_context("spawn").Pool(parallel.usable_cpus()) as pool:
        for count in pool.imap_unordered(_write_range, jobs):
            done += count
            print(f"\r  {done:,} / {images:,} images written", end="", flush=True)
    print()
    (target.parent / "sources.npy").unlink()
    rng = np.random.default_rng(seed)
    names = rng.integers(1, images + 1, size=(pairs, 2))
    with open(target / "test_case.csv", "w", encoding="ascii") as f:
        f.write("id,image1_name,image2_name\n")
        for start in range(0, pairs, 100_000):
            block = names[start:start + 100_000]
            f.write("".join(f"{i},{a},{b}\n" for i, a, b in
                            zip(range(start, start + len(block)), *block.T.tolist())))
    shutil.copyfile(source / "visualization.npy", target / "visualization.npy")
    return time.perf_counter() - started


SAMPLE_SNIPPET = """
import re, sys, numpy as np
from pathlib import Path
from pipeline.lib import arrays
path, how, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = arrays.NpyFile(path).shape[0]
sample = np.sort(np.random.default_rng(0).choice(n, size=min(size, n), replace=False))
if how == "mmap":  # as embed does: the map stays open (embed keeps it for the whole stage)
    images = np.load(path, mmap_mode="r")
    train = np.asarray(images[sample])
else:
    train = arrays.read_rows(path, sample)
status = Path("/proc/self/status").read_text()
print("BENCH rss=" + str(int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024))
"""


def sample_rss(path: Path, how: str, size: int, env: dict) -> float:
    """RSS (MiB) of a fresh process right after reading a sorted random sample of rows of ``path``."""
    import re

    result = rp.run([str(rp.BIN / "python"), "-c", SAMPLE_SNIPPET, str(path), how, str(size)],
                    cwd=rp.REPO_ROOT, env=env)
    return float(re.search(r"rss=([\d.]+)", result["output"]).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--train-samples", type=int, default=None,
                        help="embed.train_samples and selftrain.train_samples (default: the repository's)")
    parser.add_argument("--epochs", type=int, default=2, help="embed.epochs and selftrain.epochs")
    parser.add_argument("--memory-cap-gib", type=float, default=12.0,
                        help="stop a stage whose peak RSS passes this (GiB), and the run there")
    parser.add_argument("--data", default="hw7", help="the competition folder the images are made from")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="change the copy's params.yaml; repeatable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    source = rp.data_folder(args.data)
    if rp.missing_competition(source):
        return 2

    with rp.scratch("bench-scale-", keep=args.keep) as tmp:
        samples = {} if args.train_samples is None else {"train_samples": args.train_samples}
        scale_params = rp.with_settings(
            {"data": {"dir": str(tmp / "competition")},
             "embed": {**samples, "epochs": args.epochs},
             "selftrain": {**samples, "epochs": args.epochs},
             "pca": {"incremental": True}, "cluster": {"minibatch": True}}, args.settings)
        rows, worst, stopped = [], 0.0, None
        before = rp.load_note()
        print(f"making {args.images:,} images and {args.pairs:,} pairs in {tmp / 'competition'} ...",
              flush=True)
        generated = make_competition(source, tmp / "competition", args.images, args.pairs)
        disk = sum(p.stat().st_size for p in (tmp / "competition" / "images").iterdir())
        print(f"  {generated:.0f} s, {disk / 2**20:,.0f} MiB of jpgs", flush=True)
        repo = rp.make_repo(tmp / "repo", scale_params)
        env = rp.environment(tmp)
        total = 0.0
        cap_mib = args.memory_cap_gib * 1024
        for name in rp.STAGE_ORDER:
            if stopped:
                rows.append([f"`{name}`", "not run", "", ""])
                continue
            result = rp.stage(name, repo, env, timeout=6 * 3600, memory_limit_mib=cap_mib)
            total += result["wall"]
            worst = max(worst, result["peak_mib"])
            if result["over_limit"]:
                stopped = name
                rows.append([f"`{name}`", f"stopped after {result['wall']:.1f} s",
                             f"> {args.memory_cap_gib:g} GiB (stopped)", rp.met(False)])
                print(f"{name}: stopped after {result['wall']:.1f} s at {result['peak_mib']:.0f} MiB", flush=True)
                continue
            rows.append([f"`{name}`", f"{result['wall']:.1f} s", f"{result['peak_mib']:.0f} MiB",
                         rp.met(result["peak_mib"] <= TARGET_MIB)])
            last = [line for line in result["output"].splitlines() if line.startswith(f"{name}:")]
            print(f"{name}: {result['wall']:.1f} s, peak {result['peak_mib']:.0f} MiB  {last[-1] if last else ''}",
                  flush=True)
        if not (repo / "data/prepared/rows.json").exists():
            raise RuntimeError(f"prepare stopped at {args.memory_cap_gib:g} GiB: nothing to measure")
        pool = Rows.read(repo / "data/prepared/rows.json")
        images_shape = np.load(repo / "data/prepared/images.npy", mmap_mode="r").shape
        if pool.competition != args.images or images_shape[0] != pool.total:
            raise RuntimeError(f"images.npy {images_shape}, rows.json {pool}: expected {args.images} "
                               f"competition images and the visualization images after them")
        checks = f"images.npy is {pool.total:,} × 32 × 32 × 3 uint8 ({pool.total * 3072 / 2**30:.2f} GiB: "
        checks += f"{pool.competition:,} competition and {pool.visualization:,} visualization images)"
        if not stopped:
            with open(repo / "submissions/submission.csv", "rb") as submission:
                submission_rows = sum(1 for _ in submission) - 1
            if submission_rows != args.pairs:
                raise RuntimeError(f"submission {submission_rows} rows: expected {args.pairs}")
            codes_mib = (repo / "data/embed/codes.npy").stat().st_size / 2**20
            checks += f", codes.npy {codes_mib:.0f} MiB; the submission has {submission_rows:,} rows"
        embed_samples = min(read_section("embed", repo / "params.yaml")["train_samples"] or pool.competition,
                            pool.competition)
        sampling = {how: [sample_rss(repo / "data/prepared/images.npy", how, embed_samples, env)
                          for _ in range(3)] for how in ("mmap", "read_rows")}
        after = rp.load_note()

    rows.append(["**all stages**" + (f" (to {stopped})" if stopped else ""), f"**{total:.0f} s**",
                 f"**{worst:.0f} MiB**", rp.met(worst <= TARGET_MIB and not stopped)])
    changed = f", `{' '.join(args.settings)}`" if args.settings else ""
    samples_option = "" if args.train_samples is None else f" --train-samples {args.train_samples}"
    samples_changed = ("" if args.train_samples is None else f"`embed.train_samples: {args.train_samples}`, "
                       f"`selftrain.train_samples: {args.train_samples}`, ")
    markdown = f"""## Scale: {args.images:,} images end to end

`.venv/bin/python -m bench.scale --images {args.images} --pairs {args.pairs}{samples_option} --epochs {args.epochs} --memory-cap-gib {args.memory_cap_gib:g} --data {rp.named(args.data)}{rp.set_options(args.settings)}`:
a competition folder in /tmp of {args.images:,} jpgs ({disk / 2**20:,.0f} MiB; made in {generated:.0f} s from
{rp.named(args.data)}'s images by flips and 1-pixel shifts) and {args.pairs:,} pairs; then every stage once, in
dvc.yaml's order, as `python -m pipeline.stages.<stage>` in a throw-away copy of the project (not
through DVC, whose hashing of a million-file folder is not what is measured), one run each, with
these params changed from the repository's: {samples_changed}`embed.epochs: {args.epochs}`, `selftrain.epochs: {args.epochs}`,
`pca.incremental: true`, `cluster.minibatch: true`{changed}. {checks}. Peak RSS: the kernel's VmHWM
of the stage process or any process it started (prepare's decoders), whichever is largest, sampled
every 50 ms; target ≤ 4 GB per stage. A stage past {args.memory_cap_gib:g} GiB is stopped there, and the
stages after it are not run.

{rp.table(["stage", "wall time", "peak RSS", "≤ 4 GB"], rows)}

Embed's training sample ({embed_samples:,} sorted random rows of that images.npy, page
cache warm), peak RSS (VmHWM) of a fresh process that reads it and keeps what it used, median of 3:
through the memory map (`np.asarray(np.load(path, mmap_mode="r")[sample])`)
{record.median(sampling["mmap"]):.0f} MiB; with `pipeline.lib.arrays.read_rows(path, sample)`, what embed
does, {record.median(sampling["read_rows"]):.0f} MiB. The kernel maps the cached pages around every row it
faults in, so a sample spread over the whole file maps most of it.

How memory stays flat, stage by stage (from the code): prepare decodes in worker processes and
appends each chunk to images.npy with plain writes (pipeline.lib.arrays.NpyWriter); embed trains
on a sorted random sample (read_rows) and encodes by reading images.npy in chunks
(pipeline.lib.arrays.iter_npy_chunks), writing codes the same way; hog and patches read the pool
in chunks and write their descriptors the same way; views fits IncrementalPCA on each view and
projects chunk by chunk (the views side by side are one array of the pool's rows, which it
holds), then fits the joint IncrementalPCA on that array; reduce streams the first pca.dims
columns of the joint components to its output in chunks; cluster loads
only the components for the MiniBatchKMeans fit and predicts in chunks; plot reads only the
visualization rows. selftrain does not stream: it reads the whole pool (images.npy) and fits its
bootstrap PCAs on whole views, with no incremental option, so its memory grows with the pool.

Machine: {record.machine()}. Before: {before}. After: {after}.
Measured {time.strftime("%Y-%m-%d %H:%M")}.
"""
    record.update_section("scale", markdown)
    print(markdown)
    return 0 if worst <= TARGET_MIB and not stopped else 1


if __name__ == "__main__":
    sys.exit(main())
