"""Kaggle from the repository: download the competition, submit a run, fetch the public scores.

    python -m pipeline.kaggle data   [--competition SLUG] [--dest DIR]
    python -m pipeline.kaggle submit [--competition SLUG] [--file CSV] [--message TEXT] [--data DIR]
    python -m pipeline.kaggle scores [--competition SLUG] [--out CSV]

`make data`, `make submit` and `make scores` call these (COMPETITION, DATA, MESSAGE). data and
submit run the real Kaggle CLI (`kaggle`, found on PATH: the venv's) in a subprocess; scores runs
the `kaggle` package's API in a child interpreter. Each checks here, before anything is
downloaded or uploaded, that Kaggle's code will find credentials.

* data: `kaggle competitions download SLUG -p <staging folder>`, beside DIR; the archive is
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

Secrets: the output of the CLI and of the package's child (both streams), and everything this
module prints or writes, pass through a filter that replaces every credential value it can find
with `***`.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from pipeline.lib import layout
from pipeline.lib.atomic import atomic_path
from pipeline.lib.errors import CommandLine, InputError, main_guard, one_line
from pipeline.lib.submission import read_submission

COMPETITION = "ml2019spring-hw7"
SUBMISSION = Path("submissions/submission.csv")
SCORES = Path("submissions/kaggle_scores.csv")
HEADLINE_METRIC = "pair_accuracy"  # what Kaggle should score the submission, estimated by predict
PREDICT_METRICS = Path("metrics/predict.json")
TOKEN_PAGE = "https://www.kaggle.com/settings/api"
NO_CREDENTIALS = (
    "no Kaggle credentials found: set KAGGLE_API_TOKEN or save the token to ~/.kaggle/access_token "
    f"(create one at {TOKEN_PAGE}), or put kaggle.json in ~/.kaggle (or in $KAGGLE_CONFIG_DIR), "
    "or set KAGGLE_USERNAME and KAGGLE_KEY"
)
MIN_SECRET = 6  # shorter values are not credentials, and hiding them would garble ordinary text


# --- credentials, read as kaggle 2.2.5 (and kagglesdk) read them --------------------------------

def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def config_dir(environ: Mapping[str, str]) -> Path:
    """Where the CLI looks for kaggle.json: $KAGGLE_CONFIG_DIR, else ~/.kaggle; on Linux, when
    ~/.kaggle does not exist, $XDG_CONFIG_HOME/kaggle (default ~/.config/kaggle)."""
    if environ.get("KAGGLE_CONFIG_DIR"):
        return Path(environ["KAGGLE_CONFIG_DIR"])
    dot_kaggle = _home(environ) / ".kaggle"
    if sys.platform.startswith("linux") and not dot_kaggle.exists():
        return Path(environ.get("XDG_CONFIG_HOME") or _home(environ) / ".config") / "kaggle"
    return dot_kaggle


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() if path.is_file() else ""
    except OSError:
        return ""


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def credential_sources(environ: Mapping[str, str] = os.environ) -> list[tuple[str, list[str]]]:
    """Every set of credentials the Kaggle CLI would try, in its order: (where, secret values).

    1. an access token: $KAGGLE_API_TOKEN (the token, or the path of a file holding it), else
       ~/.kaggle/access_token (or access_token.txt);
    2. a legacy API key: username and key from kaggle.json in :func:`config_dir`, each
       overridden by $KAGGLE_USERNAME / $KAGGLE_KEY;
    3. OAuth: ~/.kaggle/credentials.json holding a refresh token (`kaggle auth login`).

    The CLI checks an access token with Kaggle before using it (it falls through to the next
    kind when Kaggle rejects it); this offline check only says whether one is there.
    Own code, not the package's: its one public lookup, ``KaggleApi.authenticate()`` (which
    ``import kaggle`` runs), POSTs a token to api.kaggle.com's IntrospectToken before it answers.
    """
    home = _home(environ)
    sources: list[tuple[str, list[str]]] = []
    token = environ.get("KAGGLE_API_TOKEN", "")
    if token:
        from_file = Path(token)
        if from_file.exists():  # the CLI reads such a file and looks no further for a token
            if _read_text(from_file):
                sources.append((f"KAGGLE_API_TOKEN (the file {from_file})", [_read_text(from_file)]))
        else:
            sources.append(("KAGGLE_API_TOKEN", [token]))
    else:
        for name in ("access_token", "access_token.txt"):
            if _read_text(home / ".kaggle" / name):
                sources.append((f"~/.kaggle/{name}", [_read_text(home / ".kaggle" / name)]))
                break
    kaggle_json = config_dir(environ) / "kaggle.json"
    legacy = {key: str(value) for key, value in _read_json(kaggle_json).items() if key in ("username", "key")}
    overridden = [name for name in ("KAGGLE_USERNAME", "KAGGLE_KEY") if environ.get(name)]
    for name in overridden:
        legacy[name.removeprefix("KAGGLE_").lower()] = environ[name]
    if legacy.get("username") and legacy.get("key"):
        where = " and ".join(overridden) if len(overridden) == 2 else \
            " with ".join([str(kaggle_json), *overridden])
        sources.append((where, [legacy["key"]]))
    oauth = _read_json(home / ".kaggle" / "credentials.json")
    if oauth.get("refresh_token"):
        sources.append(("~/.kaggle/credentials.json (kaggle auth login)",
                        [str(oauth[key]) for key in ("refresh_token", "access_token") if oauth.get(key)]))
    return sources


def secret_values(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every credential value in reach, found or not usable, for :class:`Redactor`."""
    values = [secret for _, secrets in credential_sources(environ) for secret in secrets]
    token = environ.get("KAGGLE_API_TOKEN", "")
    values += [environ.get("KAGGLE_KEY", ""), "" if Path(token).exists() else token]
    values += [_read_text(_home(environ) / ".kaggle" / name) for name in ("access_token", "access_token.txt")]
    values.append(str(_read_json(config_dir(environ) / "kaggle.json").get("key", "")))
    return sorted({value for value in values if len(value) >= MIN_SECRET}, key=len, reverse=True)


def require_credentials(environ: Mapping[str, str] = os.environ) -> str:
    """Where the CLI will find credentials; raises InputError (one line, what to set) if nowhere."""
    sources = credential_sources(environ)
    if not sources:
        raise InputError(NO_CREDENTIALS)
    return sources[0][0]


class Redactor:
    """Replaces secret values with ``***`` in text that arrives in pieces.

    A secret may be split between two pieces: the last ``len(longest secret) - 1`` characters
    are held back until the next piece (or :meth:`flush`) shows whether they start one.
    """

    MASK = "***"

    def __init__(self, secrets: Iterable[str]):
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.hold = max((len(s) for s in self.secrets), default=1) - 1
        self.pending = ""

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, self.MASK)
        return text

    def feed(self, piece: str) -> str:
        text = self.redact(self.pending + piece)
        cut = max(len(text) - self.hold, 0)
        self.pending = text[cut:]
        return text[:cut]

    def flush(self) -> str:
        text, self.pending = self.redact(self.pending), ""
        return text


# --- running the CLI ---------------------------------------------------------------------------

def kaggle_executable() -> str:
    found = shutil.which("kaggle")
    if found is None:
        raise InputError("kaggle: expected the Kaggle CLI on PATH (make installs it into .venv), found "
                         "nothing; run through make, or source .venv/bin/activate first")
    return found


TAIL = 4000  # characters of the CLI's output kept for :func:`failure` to read the HTTP status from


def _pump(source, sink, redactor: Redactor, kept: list[str]) -> None:
    """Copy a child's pipe through ``redactor`` to ``sink`` as it arrives; ``kept`` holds the last
    :data:`TAIL` characters."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = os.read(source.fileno(), 65536)
        text = redactor.feed(decoder.decode(chunk, final=not chunk))
        if not chunk:
            text += redactor.flush()
        if text:
            sink.write(text)
            sink.flush()
            kept[:] = ["".join(kept)[-TAIL:] + text]
        if not chunk:
            return


def run_redacted(command: list[str], environ: Mapping[str, str] = os.environ) -> tuple[int, str]:
    """Run ``command``; return (its exit status, the last of its output, both streams).

    Both streams pass through a :class:`Redactor` of :func:`secret_values`, shown as they come,
    never with a credential in them.
    """
    secrets = secret_values(environ)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=dict(environ))
    out: list[str] = []
    err: list[str] = []
    pumps = [threading.Thread(target=_pump, args=(process.stdout, sys.stdout, Redactor(secrets), out)),
             threading.Thread(target=_pump, args=(process.stderr, sys.stderr, Redactor(secrets), err))]
    for pump in pumps:
        pump.start()
    for pump in pumps:
        pump.join()
    code = process.wait()
    return code, ("".join(out)[-TAIL:] + "\n" + "".join(err))[-2 * TAIL:]


def failure(what: str, code: int, output: str, competition: str) -> InputError:
    """The one line for a failed call ``what`` (e.g. "kaggle competitions submit SLUG"), with what
    to do for the usual HTTP errors."""
    hints = (
        (r"\b401\b|Unauthorized|Invalid credentials",
         f"Kaggle rejected the credentials: create a new token at {TOKEN_PAGE}"),
        (r"\b403\b|Forbidden",
         f"accept the competition's rules first: https://www.kaggle.com/competitions/{competition}/rules"),
        (r"\b404\b|Not Found", f"no competition '{competition}' on Kaggle: check COMPETITION="),
        (r"\b429\b|limit", "Kaggle's limit for now is reached (e.g. submissions per day): try later"),
    )
    hint = next((text for pattern, text in hints if re.search(pattern, output, re.IGNORECASE)),
                "see Kaggle's message above")
    return InputError(f"{what}: expected success, found exit status {code} ({hint})")


def kaggle_checked(args: list[str], competition: str) -> None:
    """Run ``kaggle ARGS`` once credentials are found; InputError (one line) if it fails."""
    require_credentials()
    code, tail = run_redacted([kaggle_executable(), *args])
    if code != 0:
        raise failure(f"kaggle {' '.join(args[:2])} {competition}", code, tail, competition)


# --- make data ---------------------------------------------------------------------------------

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
MAX_NESTING = 3  # archives inside archives inside the download, e.g. hw7.zip → images.zip


def _archives(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES))


def extract_archive(archive: Path) -> None:
    """Unpack ``archive`` beside itself, then delete it.

    An archive that holds only images, no folder (``images.zip`` → ``0001.jpg …``), is unpacked
    into a folder named after it. Member paths cannot leave the folder (zipfile drops ``..`` and
    leading ``/``; tarfile's "data" filter refuses them, links and devices). The sizes the
    archive declares must fit on the disk before anything is written.
    """
    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as opened:
                names = [info.filename for info in opened.infolist()]
                size = sum(info.file_size for info in opened.infolist())
                target = _target(archive, names, size)
                opened.extractall(target)
        else:
            with tarfile.open(archive) as opened:
                members = opened.getmembers()
                target = _target(archive, [m.name + ("/" if m.isdir() else "") for m in members],
                                 sum(m.size for m in members))
                opened.extractall(target, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise InputError(f"{archive.name}: expected a complete archive, found a damaged one ({error}); "
                         f"run make data again") from None
    archive.unlink()


def _target(archive: Path, names: list[str], size: int) -> Path:
    free = shutil.disk_usage(archive.parent).free
    if size > free:
        raise InputError(f"{archive.name}: expected room to unpack {size / 2**30:.1f} GiB, found "
                         f"{free / 2**30:.1f} GiB free on {archive.parent}")
    loose_images = names and all("/" not in n.rstrip("/") and Path(n).suffix.lower() in layout.IMAGE_SUFFIXES
                                 for n in names)
    if loose_images:
        target = archive.parent / archive.name.split(".")[0]
        target.mkdir(exist_ok=True)
        return target
    return archive.parent


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
    require_credentials()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.download-", dir=dest.parent))
    try:
        args = ["competitions", "download", competition, "-p", str(staging)]
        kaggle_checked(args, competition)
        downloaded = sorted(p.name for p in staging.iterdir())
        for _ in range(MAX_NESTING):
            archives = _archives(staging)
            if not archives:
                break
            for archive in archives:
                extract_archive(archive)
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
DEMO_PAIRS = Path("data/demo/competition/test_case.csv")  # written by the demo stage


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
    value = _read_json(metrics).get(HEADLINE_METRIC)
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
    require_credentials()
    message = message or default_message()
    print(f"submit: {file}: {len(table)} pairs, ids exactly those of {checked}; message: "
          f"{Redactor(secret_values()).redact(message)}")
    kaggle_checked(["competitions", "submit", competition, "-f", str(file), "-m", message], competition)
    print("submit: done; `make scores` fetches the public score once Kaggle has computed it")


# --- make scores -------------------------------------------------------------------------------

SUBMISSION_FIELDS = {  # kaggle_scores.csv's columns (the CLI's names): the ApiSubmission attribute
    "ref": "ref", "fileName": "file_name", "date": "date", "description": "description", "status": "status",
    "publicScore": "public_score", "privateScore": "private_score"}
PAGE_SIZE = 100  # submissions asked for per call; Kaggle may send fewer: its page token says if more follow
DESCRIBED = re.compile(r"(?:exp (?P<experiment>\S+) @ |commit )(?P<commit>[0-9a-f]{7,40})\b")

LIST_SUBMISSIONS = """
import enum, json, sys
from kaggle import api  # authenticates, as the kaggle CLI does before each command
from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsRequest

competition, page_size, out, fields = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])


def text(value):
    return "" if value is None else value.name if isinstance(value, enum.Enum) else str(value)


rows, token, seen = [], "", set()
try:
    with api.build_kaggle_client() as client:
        while True:
            request = ApiListSubmissionsRequest()
            request.competition_name = competition
            request.page_size = page_size
            request.page_token = token
            response = client.competitions.competition_api_client.list_submissions(request)
            rows += [{column: text(getattr(submission, attribute)) for column, attribute in fields.items()}
                     for submission in response.submissions or []]
            seen.add(token)
            token = response.next_page_token
            if not token:
                break
            if token in seen:
                raise RuntimeError(f"Kaggle sent the page token {token!r} twice")
except Exception as error:  # one line, as the kaggle CLI prints it, not a traceback
    sys.exit(f"{type(error).__name__}: {error}")
with open(out, "w", encoding="utf-8") as file:
    json.dump(rows, file)
"""


def list_submissions(competition: str, environ: Mapping[str, str] = os.environ) -> list[dict[str, str]]:
    """Every submission of ``competition``, in Kaggle's order (by date), one dict of
    :data:`SUBMISSION_FIELDS` (text; "" for none) each: the `kaggle` package's ``list_submissions``,
    page after page until Kaggle sends no next page token (the CLI's own command shows one page
    of 20 and no token).

    It runs in a child interpreter, its output through :func:`run_redacted`: ``import kaggle``
    authenticates, and with VERBOSE=1 prints the token in the request it sends.
    """
    require_credentials(environ)
    with tempfile.TemporaryDirectory(prefix="kaggle-submissions-") as scratch:
        listing = Path(scratch) / "submissions.json"
        code, tail = run_redacted([sys.executable, "-c", LIST_SUBMISSIONS, competition, str(PAGE_SIZE),
                                   str(listing), json.dumps(SUBMISSION_FIELDS)], environ)
        if code != 0:
            raise failure(f"kaggle API list_submissions {competition}", code, tail, competition)
        rows = json.loads(listing.read_text(encoding="utf-8"))
    redactor = Redactor(secret_values(environ))
    return [{column: redactor.redact(row[column]) for column in SUBMISSION_FIELDS} for row in rows]


def submissions_table(rows: list[dict[str, str]]):
    """The submissions as a pandas table of text: :data:`SUBMISSION_FIELDS`, then experiment and
    commit read from the descriptions that `submit` wrote ("" where a description has none)."""
    import pandas as pd

    table = pd.DataFrame(rows, columns=list(SUBMISSION_FIELDS), dtype=str)
    found = table["description"].str.extract(DESCRIBED)
    table["experiment"] = found["experiment"].fillna("")
    table["commit"] = found["commit"].fillna("")
    return table


def scores_command(competition: str, out: Path) -> None:
    table = submissions_table(list_submissions(competition))
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
