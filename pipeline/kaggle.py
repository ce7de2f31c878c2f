"""Kaggle from the repository: download the competition, submit a run, fetch the public scores.

    python -m pipeline.kaggle data   [--competition SLUG] [--dest DIR]
    python -m pipeline.kaggle submit [--competition SLUG] [--file CSV] [--message TEXT] [--data DIR]
    python -m pipeline.kaggle scores [--competition SLUG] [--out CSV]

`make data`, `make submit` and `make scores` call these (COMPETITION, DATA, MESSAGE). Kaggle's CLI
and package run through pipeline.lib.kaggle_client, which checks, before anything is downloaded
or uploaded, that Kaggle's code will find credentials, and shows their output with every
credential value replaced by `***` (and so is everything this module prints or writes).

* data: `kaggle competitions download SLUG` into a staging folder beside DIR; the archive is
  unpacked (nested archives and one top folder too), checked with pipeline.lib.layout's readers
  (every image decoded, every pair's image numbers within the image count) and only then moved
  to DIR, so DIR is either a complete competition folder or absent. Prints the `dvc exp run`
  that trains on it.
* submit: offline, before any credential is looked up, checks CSV as predict would have written
  it for the competition's test pairs (ids 0…999999; and DIR's test_case.csv when DIR exists):
  a submission of the demo's data, or of any other pairs, is refused with one line. Then
  `kaggle competitions submit SLUG -f CSV -m MESSAGE`. The message says which experiment and
  commit the workspace holds, and its headline metric.
* scores: every page of the package's `list_submissions` → submissions/kaggle_scores.csv, with
  the experiment and commit that `submit` wrote into each description as columns of their own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from pipeline.lib import kaggle_client, layout, paths
from pipeline.lib.atomic import atomic_path
from pipeline.lib.errors import CommandLine, InputError, main_guard, one_line
from pipeline.lib.submission import read_submission

COMPETITION = "ml2019spring-hw7"
SUBMISSION = paths.SUBMISSION
SCORES = paths.KAGGLE_SCORES
HEADLINE_METRIC = "pair_accuracy"  # what Kaggle should score the submission, estimated by predict
PREDICT_METRICS = paths.PREDICT_METRICS


# --- make data ---------------------------------------------------------------------------------

def competition_root(unpacked: Path, what: str) -> Path:
    """The one folder under ``unpacked`` (itself, or up to 3 levels down) holding test_case.csv.

    A doubled ``images/images/`` (an archive of the folder unpacked into a folder of its name) is
    flattened. Anything else: one line naming what was found.
    """
    candidates = sorted({p.parent for p in unpacked.rglob("test_case.csv")
                         if len(p.relative_to(unpacked).parts) <= 4}, key=lambda p: len(p.parts))
    if len(candidates) != 1:
        listing = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in unpacked.iterdir())) or "nothing"
        found = f"{len(candidates)} folders with one" if candidates else f"no test_case.csv ({listing})"
        raise InputError(f"{what}: expected images/, test_case.csv and visualization.npy (at the top or in "
                         f"one folder), found {found}")
    root = candidates[0]
    images = root / "images"
    inner = images / "images"
    if inner.is_dir() and [p.name for p in images.iterdir() if not p.name.startswith(".")] == ["images"]:
        hop = root / ".images-flattened"
        inner.rename(hop)
        shutil.rmtree(images)
        hop.rename(images)
    return root


def check_competition(folder: Path, *, progress: bool = True) -> dict[str, int]:
    """Check ``folder`` as prepare will: the three files, images 1…N all decodable 32×32, every
    pair naming images within 1…N, visualization.npy (2k, 32, 32, 3) uint8. Returns the counts."""
    images_dir, pairs_csv, visualization_npy = layout.competition_files(folder)
    paths = layout.image_paths(images_dir)
    pairs = layout.read_pairs(pairs_csv, len(paths))
    visualization = layout.read_visualization(visualization_npy)
    for _ in layout.decode_chunks(paths, progress=progress):
        pass  # decoded to find a truncated or corrupt file now, not in the middle of a run
    return {"images": len(paths), "pairs": len(pairs), "visualization": len(visualization)}


def dvc_set_argument(key: str, value: str) -> str:
    """``-S KEY=VALUE`` for `dvc exp run`, quoted for a POSIX shell, VALUE written so DVC's Hydra
    override parser reads it back as exactly that string (spaces, parentheses, commas, quotes)."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    plain = re.fullmatch(r"[A-Za-z0-9_/.+@%:-]+", value) is not None
    candidates = ([f"{key}={value}"] if plain else []) + [f"{key}='{value}'", f"{key}='{escaped}'"]
    override = next((c for c in candidates if _hydra_reads(key, c) == value), None)
    if override is None:
        raise InputError(f"{value}: expected a folder path DVC can take as a parameter, found one it "
                         f"reads differently (move the data to a path without '${{' or quotes)")
    if re.fullmatch(r"[A-Za-z0-9_/.+@%:=-]+", override):
        return f"-S {override}"
    if not re.search(r'["$`\\!]', override):
        return f'-S "{override}"'
    return f"-S {shlex.quote(override)}"


def _hydra_reads(key: str, override: str) -> object:
    """What `dvc exp run -S OVERRIDE` would write under ``key`` into params.yaml (None: refused)."""
    import yaml
    from dvc.utils.hydra import apply_overrides

    section, _, name = key.rpartition(".")
    with tempfile.TemporaryDirectory() as scratch:
        params = Path(scratch) / "params.yaml"
        params.write_text(yaml.safe_dump({section: {name: "placeholder"}}), encoding="utf-8")
        try:
            apply_overrides(params, [override])
        except Exception:  # noqa: BLE001 - any refusal (parse error, interpolation) means "not this one"
            return None
        return (yaml.safe_load(params.read_text(encoding="utf-8")) or {}).get(section, {}).get(name)


def _repository_root() -> Path:
    found = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    return Path(found.stdout.strip()).resolve() if found.returncode == 0 else Path.cwd().resolve()


def check_destination(dest: Path) -> None:
    """Refuse a folder inside the repository that git would pick up: the competition's data is
    Kaggle's, and must not reach a commit or a public remote."""
    root = _repository_root()
    resolved = dest.resolve()
    if resolved != root and root not in resolved.parents:
        return
    ignored = subprocess.run(["git", "check-ignore", "-q", str(resolved)], cwd=root, check=False).returncode == 0
    if not ignored:
        raise InputError(f"{dest}: expected a folder outside the repository (or one git ignores), found one "
                         f"inside {root}: the competition's data must not be committed or pushed; "
                         f"use e.g. DATA=../{dest.name}")


def download(competition: str, dest: Path) -> dict[str, int]:
    """Download, unpack and check the competition into ``dest`` (absent or empty); return the counts."""
    if dest.exists() and not dest.is_dir():
        raise InputError(f"{dest}: expected a folder to download into, found a file (choose another DATA=)")
    kaggle_client.require_credentials()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.download-", dir=dest.parent))
    try:
        downloaded = kaggle_client.download(competition, staging)
        what = f"the download of {competition} ({', '.join(downloaded) or 'no file'})"
        root = competition_root(staging, what)
        counts = check_competition(root)
        if dest.exists():
            dest.rmdir()
        os.replace(root, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def data_command(competition: str, dest_text: str) -> None:
    dest = Path(os.path.expanduser(dest_text))
    shown = os.path.normpath(dest_text) if dest_text == os.path.expanduser(dest_text) else str(dest)
    check_destination(dest)
    if dest.is_dir() and any(dest.iterdir()):
        try:
            counts = check_competition(dest, progress=False)
        except InputError as error:
            raise InputError(f"{dest}: expected an empty or missing folder to download into, or a complete "
                             f"competition, found other files ({one_line(error)}); remove it, or choose "
                             f"another DATA=") from None
        status = "already there and complete (remove it to download again)"
    else:
        counts = download(competition, dest)
        status = "downloaded and checked"
    print(f"data: {shown}: {counts['images']} images, {counts['pairs']} pairs, {counts['visualization']} "
          f"visualization images, {status}")
    print(f"next: dvc exp run {dvc_set_argument('data.dir', shown)}")


# --- make submit -------------------------------------------------------------------------------

COMPETITION_PAIRS = 1_000_000  # the competition's test_case.csv: ids 0…999999, one row each
COMPETITION_IDS = "the competition's test_case.csv (ids 0…999999)"
DEMO_PAIRS = paths.DEMO_COMPETITION / "test_case.csv"  # written by the demo stage


def folder_ids(folder: Path) -> tuple[np.ndarray, str]:
    """(m,) int64 test ids of the competition folder ``folder``'s test_case.csv, and that file's path."""
    images_dir, pairs_csv, _ = layout.competition_files(folder)
    return layout.read_pairs(pairs_csv, len(layout.image_paths(images_dir)))[:, 0], str(pairs_csv)


def demo_ids(file: Path) -> np.ndarray | None:
    """The demo's test ids (:data:`DEMO_PAIRS`) when ``file`` answers exactly those, else None."""
    try:
        ids, source = folder_ids(DEMO_PAIRS.parent)
        read_submission(file, ids, source)
    except InputError:
        return None
    return ids


def check_submission(file: Path, data_dir: Path | None):
    """The submission table (id, label), once ``file`` is one predict writes for the competition:
    header id,label, labels 0/1, each id once, the ids exactly 0…999999, and exactly the ids of
    ``data_dir``'s test_case.csv when that folder exists. Returns (table, what was checked).

    Offline: needs no credential and no competition folder. The rule is the file's own ids, not
    params.yaml or dvc.lock, which name the last run's data, not the data of the run that wrote
    ``file``. Refused (InputError, one line): a submission of the demo's data, named as such;
    any other ids or row count, with the first id missing or extra.
    """
    try:
        table = read_submission(file, np.arange(COMPETITION_PAIRS, dtype=np.int64), COMPETITION_IDS)
    except InputError:
        demo = demo_ids(file)
        if demo is None:
            raise
        raise InputError(f"{file}: expected a submission for the competition's {COMPETITION_PAIRS:,} test "
                         f"pairs (ids 0…999999), found the demo's ({len(demo):,} pairs of {DEMO_PAIRS}), "
                         f"which Kaggle cannot score; train on the competition first: make data, then the "
                         f"dvc exp run it prints") from None
    checked = COMPETITION_IDS
    if data_dir is not None and data_dir.exists():
        ids, source = folder_ids(data_dir)
        if not np.array_equal(np.sort(ids), np.arange(COMPETITION_PAIRS)):
            read_submission(file, ids, source)  # raises, naming the first id missing or extra
        checked += f" and of {source}"
    return table, checked


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


NOT_THE_RUN = ":(exclude)" + str(SCORES)  # written by make scores, not by the run


def workspace_experiment(head: str) -> str | None:
    """The name of the DVC experiment the workspace holds (after `dvc exp run` or `dvc exp apply`),
    if any: one of HEAD's experiments whose tracked files are exactly the workspace's."""
    refs = _git("for-each-ref", "--sort=-committerdate", "--format=%(objectname) %(refname)",
                f"refs/exps/{head[:2]}/{head[2:]}/")
    applied = _git("rev-parse", "--verify", "-q", "refs/exps/exec/EXEC_APPLY")
    candidates = [line.split(" ", 1) for line in refs.splitlines() if " " in line]
    candidates.sort(key=lambda pair: pair[0] != applied)  # the applied one first, then newest first
    for sha, ref in candidates:
        same = subprocess.run(["git", "diff", "--quiet", sha, "--", ".", NOT_THE_RUN], capture_output=True,
                              check=False)
        if same.returncode == 0:
            return ref.rsplit("/", 1)[-1]
    return None


def headline_metric(metrics: Path = PREDICT_METRICS) -> tuple[str, float] | None:
    """(HEADLINE_METRIC, its value) from the predict stage's metrics, the stage that wrote the
    submission: what Kaggle should score it. None when the file or the key is not there."""
    try:
        value = json.loads(metrics.read_text(encoding="utf-8")).get(HEADLINE_METRIC)
    except (OSError, ValueError, AttributeError):  # no file, not JSON, not an object
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return HEADLINE_METRIC, float(value)
    return None


def default_message() -> str:
    """E.g. ``exp bushy-sled @ 1a2b3c4, pair_accuracy 0.9912`` (``commit 1a2b3c4`` when the
    workspace is a commit; ``+ uncommitted changes`` when it is neither)."""
    head = _git("rev-parse", "HEAD")
    short = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".", NOT_THE_RUN)
    experiment = workspace_experiment(head) if head and changed else None
    if experiment:
        message = f"exp {experiment} @ {short}"
    else:
        message = f"commit {short}" + (" + uncommitted changes" if changed else "")
    metric = headline_metric()
    return message + (f", {metric[0]} {metric[1]:.4f}" if metric else "")


def submit_command(competition: str, file: Path, message: str | None, data_dir: Path | None) -> None:
    table, checked = check_submission(file, data_dir)
    kaggle_client.require_credentials()
    message = message or default_message()
    print(f"submit: {file}: {len(table)} pairs, ids exactly those of {checked}; message: "
          f"{kaggle_client.Redactor(kaggle_client.secret_values()).redact(message)}")
    kaggle_client.submit(competition, file, message)
    print("submit: done; `make scores` fetches the public score once Kaggle has computed it")


# --- make scores -------------------------------------------------------------------------------

DESCRIBED = re.compile(r"(?:exp (?P<experiment>\S+) @ |commit )(?P<commit>[0-9a-f]{7,40})\b")


def submissions_table(rows: list[dict[str, str]]):
    """The submissions as a pandas table of text: kaggle_client's :data:`SUBMISSION_FIELDS`, then
    experiment and commit read from the descriptions that `submit` wrote ("" where a description
    has none)."""
    import pandas as pd

    table = pd.DataFrame(rows, columns=list(kaggle_client.SUBMISSION_FIELDS), dtype=str)
    found = table["description"].str.extract(DESCRIBED)
    table["experiment"] = found["experiment"].fillna("")
    table["commit"] = found["commit"].fillna("")
    return table


def scores_command(competition: str, out: Path) -> None:
    table = submissions_table(kaggle_client.list_submissions(competition))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    if len(table):
        print(table[["date", "description", "status", "publicScore", "privateScore"]].to_string(index=False))
    print(f"scores: {len(table)} submissions of {competition} → {out} (local metrics: dvc exp show)")


# --- command line ------------------------------------------------------------------------------

def parser() -> CommandLine:
    root = CommandLine(prog="python -m pipeline.kaggle", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="download, unpack and check the competition's files")
    submit = commands.add_parser("submit", help="check the submission offline (the competition's ids, not "
                                                "the demo's), then upload it")
    scores = commands.add_parser("scores", help="every submission of the competition and its scores → CSV")
    for command in (data, submit, scores):
        command.add_argument("--competition", default=COMPETITION, help=f"Kaggle slug (default {COMPETITION})")
    data.add_argument("--dest", default=f"../{COMPETITION}",
                      help="competition folder to create, outside the repository (default ../<competition>)")
    submit.add_argument("--file", type=Path, default=SUBMISSION, help=f"default {SUBMISSION}")
    submit.add_argument("--message", default="", help="default: the experiment, commit and headline metric")
    submit.add_argument("--data", default="", help="competition folder whose test_case.csv ids to check "
                                                   "against too, when it exists (the ids 0…999999 always)")
    scores.add_argument("--out", type=Path, default=SCORES, help=f"default {SCORES}")
    return root


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    if args.command == "data":
        data_command(args.competition, args.dest)
    elif args.command == "submit":
        data_dir = Path(os.path.expanduser(args.data)) if args.data else None
        submit_command(args.competition, args.file, args.message or None, data_dir)
    else:
        scores_command(args.competition, args.out)


if __name__ == "__main__":
    main_guard(main)
