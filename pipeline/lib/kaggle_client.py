"""Kaggle's CLI and package, run so that no credential reaches the screen or a file.

Credentials are looked up offline, where the Kaggle CLI looks (:func:`credential_sources`);
without any, :func:`require_credentials` raises one line saying what to set. The CLI (`kaggle`,
found on PATH: the venv's) and the package (in a child interpreter) run with both output
streams through a :class:`Redactor` of every credential value in reach (:func:`run_redacted`),
and a failure becomes one line with what to do for the usual HTTP errors (:func:`failure`):

* :func:`download`: the competition's files into a folder, every archive unpacked;
* :func:`submit`: a file, with its description;
* :func:`list_submissions`: every submission, page after page.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from pipeline.lib import layout
from pipeline.lib.errors import InputError

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
    ``import kaggle`` runs), POSTs a token to api.kaggle.com's IntrospectToken before it answers,
    and finding nothing prints its help and calls exit(1); kagglesdk's readers take no environment.
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


# --- running the CLI and the package ------------------------------------------------------------

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
    to do for the usual HTTP errors, read from ``output``: the CLI exits 1 whatever Kaggle answered."""
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


def run_cli(args: list[str], competition: str) -> None:
    """Run ``kaggle ARGS`` once credentials are found; InputError (one line) if it fails."""
    require_credentials()
    code, tail = run_redacted([kaggle_executable(), *args])
    if code != 0:
        raise failure(f"kaggle {' '.join(args[:2])} {competition}", code, tail, competition)


def submit(competition: str, file: Path, message: str) -> None:
    """`kaggle competitions submit COMPETITION -f FILE -m MESSAGE`."""
    run_cli(["competitions", "submit", competition, "-f", str(file), "-m", message], competition)


# --- download -----------------------------------------------------------------------------------

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
    Own unpacking, not the CLI's ``--unzip`` (tried, kaggle 2.2.5): it unpacks the outer zip alone
    (an images.zip inside stays packed) and answers a damaged one with "please report this issue".
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


def download(competition: str, folder: Path) -> list[str]:
    """`kaggle competitions download COMPETITION -p FOLDER`, then every archive in ``folder``
    unpacked (archives in archives too, :data:`MAX_NESTING` deep). Returns the names downloaded."""
    run_cli(["competitions", "download", competition, "-p", str(folder)], competition)
    downloaded = sorted(p.name for p in folder.iterdir())
    for _ in range(MAX_NESTING):
        archives = _archives(folder)
        if not archives:
            break
        for archive in archives:
            extract_archive(archive)
    return downloaded


# --- submissions --------------------------------------------------------------------------------

SUBMISSION_FIELDS = {  # kaggle_scores.csv's columns (the CLI's names): the ApiSubmission attribute
    "ref": "ref", "fileName": "file_name", "date": "date", "description": "description", "status": "status",
    "publicScore": "public_score", "privateScore": "private_score"}
PAGE_SIZE = 100  # submissions asked for per call; Kaggle may send fewer: its page token says if more follow

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
    authenticates, and with VERBOSE=1 prints the token in the request it sends. Own paging, not
    ``KaggleApi.competition_submissions``: that returns a page's rows and drops the next page token.
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
