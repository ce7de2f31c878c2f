"""pipeline.kaggle and the make targets data/submit/scores, against a stand-in Kaggle CLI (no network).

The stand-in (tests/kaggle_standin.py) is put first on PATH (the CLI) and on PYTHONPATH (the
package); it logs its calls, hands out a zip built here for `download`, and serves a CSV table of
submissions page by page to `list_submissions`.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, write_competition
from kaggle_standin import install, python_path, records

from pipeline.lib import paths
from pipeline import kaggle
from pipeline.lib import kaggle_client, layout
from pipeline.lib.errors import InputError
from pipeline.lib.submission import read_submission, write_submission

SLUG = "ml2019spring-hw7"
TOKEN = "kgat_0123456789abcdefFAKEtoken"  # fake: what a KAGGLE_API_TOKEN looks like


# --- helpers -----------------------------------------------------------------------------------

def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without any Kaggle setting, HOME an empty folder of the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAGGLE_", "STANDIN_"))}
    env.pop("XDG_CONFIG_HOME", None)
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


class Setup:
    """A test's world: HOME, the stand-in on PATH, its log, and a way to run the command module."""

    def __init__(self, tmp_path: Path, **extra: str):
        self.root = tmp_path
        self.log = tmp_path / "kaggle-calls.jsonl"
        standin = install(tmp_path / "standin-bin")
        self.package = python_path(standin)
        self.env = clean_environment(tmp_path / "home", STANDIN_LOG=str(self.log), **extra)
        self.env["PATH"] = f"{standin}{os.pathsep}/usr/bin{os.pathsep}/bin"
        self.env["PYTHONPATH"] = f"{self.package}{os.pathsep}{REPO}"

    def run(self, *args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
        cwd = cwd or self.root / "work"
        cwd.mkdir(parents=True, exist_ok=True)
        return subprocess.run([sys.executable, "-m", "pipeline.kaggle", *args], cwd=cwd, text=True,
                              capture_output=True, env={**self.env, **extra}, timeout=120, check=False)

    @property
    def calls(self) -> list[list[str]]:
        return records(self.log)


def zip_tree(tree: dict[str, bytes], path: Path) -> Path:
    """A zip of ``tree`` (archive name → bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(tree.items()):
            archive.writestr(name, data)
    return path


def competition_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_bytes(tree: dict[str, bytes], scratch: Path) -> bytes:
    return zip_tree(tree, scratch).read_bytes()


def kaggle_zip(shape: str, source: Path, scratch: Path) -> Path:
    """The competition at ``source`` zipped as Kaggle might serve it."""
    tree = competition_tree(source)
    images = {name: data for name, data in tree.items() if name.startswith("images/")}
    others = {name: data for name, data in tree.items() if not name.startswith("images/")}
    loose = {name.removeprefix("images/"): data for name, data in images.items()}
    if shape == "flat":
        layout_tree = tree
    elif shape == "top-folder":
        layout_tree = {f"{SLUG}/{name}": data for name, data in tree.items()}
    elif shape == "images-zip-of-loose-files":
        layout_tree = {f"{SLUG}/{n}": d for n, d in others.items()}
        layout_tree[f"{SLUG}/images.zip"] = zip_bytes(loose, scratch / "inner.zip")
    elif shape == "zip-per-file":
        layout_tree = {"images.zip": zip_bytes(images, scratch / "images.zip"),
                       "test_case.csv.zip": zip_bytes({"test_case.csv": others["test_case.csv"]},
                                                      scratch / "csv.zip"),
                       "visualization.npy": others["visualization.npy"]}
    elif shape == "doubled-images-folder":
        layout_tree = {**others, **{f"images/{name}": data for name, data in images.items()}}
    else:
        raise ValueError(shape)
    return zip_tree(layout_tree, scratch / f"{shape}.zip")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".download-" in p.name)


# --- credentials -------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CREDENTIAL_CASES = {
    # name: (files under HOME, environment (with {home} filled in), the source found or None)
    "nothing": ({}, {}, None),
    "token variable": ({}, {"KAGGLE_API_TOKEN": TOKEN}, "KAGGLE_API_TOKEN"),
    "token variable naming a file": ({"tok.txt": TOKEN + "\n"}, {"KAGGLE_API_TOKEN": "{home}/tok.txt"},
                                     "KAGGLE_API_TOKEN (the file"),
    "token file": ({".kaggle/access_token": TOKEN + "\n"}, {}, "~/.kaggle/access_token"),
    "empty token file": ({".kaggle/access_token": "\n"}, {}, None),
    "kaggle.json": ({".kaggle/kaggle.json": '{"username": "u", "key": "0123456789abcdef"}'}, {},
                    "{home}/.kaggle/kaggle.json"),
    "kaggle.json without a key": ({".kaggle/kaggle.json": '{"username": "u"}'}, {}, None),
    "KAGGLE_CONFIG_DIR": ({"conf/kaggle.json": '{"username": "u", "key": "0123456789abcdef"}'},
                          {"KAGGLE_CONFIG_DIR": "{home}/conf"}, "{home}/conf/kaggle.json"),
    "KAGGLE_CONFIG_DIR hides ~/.kaggle": ({".kaggle/kaggle.json": '{"username": "u", "key": "0123456789abcdef"}',
                                           "conf/other.txt": ""}, {"KAGGLE_CONFIG_DIR": "{home}/conf"}, None),
    "XDG config when ~/.kaggle is absent": (
        {".config/kaggle/kaggle.json": '{"username": "u", "key": "0123456789abcdef"}'}, {},
        "{home}/.config/kaggle/kaggle.json"),
    "username and key variables": ({}, {"KAGGLE_USERNAME": "u", "KAGGLE_KEY": "0123456789abcdef"},
                                   "KAGGLE_USERNAME and KAGGLE_KEY"),
    "key variable only": ({}, {"KAGGLE_KEY": "0123456789abcdef"}, None),
    "kaggle.json username, key variable": ({".kaggle/kaggle.json": '{"username": "u"}'},
                                           {"KAGGLE_KEY": "0123456789abcdef"}, "with KAGGLE_KEY"),
    "oauth (kaggle auth login)": ({".kaggle/credentials.json": '{"refresh_token": "refresh0123456789"}'}, {},
                                  "~/.kaggle/credentials.json"),
}


def credential_world(tmp_path: Path, case: str) -> dict[str, str]:
    files, variables, _ = CREDENTIAL_CASES[case]
    home = tmp_path / "home"
    home.mkdir()
    for name, text in files.items():
        write(home / name, text)
    env = clean_environment(home)
    env.update({k: v.format(home=home) for k, v in variables.items()})
    return env


@pytest.mark.parametrize("case", CREDENTIAL_CASES)
def test_credentials_are_found_where_the_kaggle_cli_looks(tmp_path, case):
    env = credential_world(tmp_path, case)
    expected = CREDENTIAL_CASES[case][2]
    sources = kaggle_client.credential_sources(env)
    if expected is None:
        assert sources == []
        with pytest.raises(InputError, match="no Kaggle credentials found"):
            kaggle_client.require_credentials(env)
    else:
        assert expected.format(home=tmp_path / "home") in kaggle_client.require_credentials(env)
        assert set(kaggle_client.secret_values(env)) & {TOKEN, "0123456789abcdef", "refresh0123456789"}


REAL_CLI_PROBE = """
import importlib.util, os, sys, types
# kaggle/__init__.py authenticates on import (online, with the token): load its modules without it.
package = types.ModuleType("kaggle")
package.__path__ = list(importlib.util.find_spec("kaggle").submodule_search_locations)
sys.modules["kaggle"] = package
from kagglesdk import get_access_token_from_env
from kagglesdk.kaggle_creds import KaggleCredentials
from kaggle.api.kaggle_api_extended import KaggleApi
api = KaggleApi()
api._load_config()
token = get_access_token_from_env()[0]
oauth = os.path.exists(os.path.expanduser(KaggleCredentials.DEFAULT_CREDENTIALS_FILE)) and \\
    '"refresh_token"' in open(os.path.expanduser(KaggleCredentials.DEFAULT_CREDENTIALS_FILE)).read()
print(bool(token) or api._authenticate_with_legacy_apikey() or oauth)
"""


@pytest.mark.parametrize("case", CREDENTIAL_CASES)
def test_credential_rules_agree_with_the_installed_kaggle_package(tmp_path, case):
    """The real kaggle 2.x code, asked offline (its token check with Kaggle left out): same answer."""
    if importlib.util.find_spec("kaggle") is None:  # found without importing it (see the probe)
        pytest.skip("the kaggle package is not installed")
    env = credential_world(tmp_path, case)
    probe = subprocess.run([sys.executable, "-c", REAL_CLI_PROBE], env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == str(CREDENTIAL_CASES[case][2] is not None)


@pytest.mark.parametrize("command", [["data", "--dest", "../hw7"], ["submit"], ["scores"]])
def test_without_credentials_one_line_and_kaggle_is_never_called(tmp_path, command):
    """submit: with a submission it accepts, since it checks the file first."""
    setup = Setup(tmp_path, STANDIN_ZIP=str(tmp_path / "absent.zip"))
    result = setup.run(*command, cwd=run_workspace(tmp_path) if command == ["submit"] else None)
    assert result.returncode == 2
    assert result.stderr == f"error: {kaggle_client.NO_CREDENTIALS}\n"
    assert "KAGGLE_API_TOKEN" in result.stderr and "kaggle.json" in result.stderr
    assert setup.calls == []
    assert not (tmp_path / "hw7").exists() and leftovers(tmp_path) == []


def test_redactor_hides_a_secret_split_between_pieces():
    redactor = kaggle_client.Redactor(["s3cr3t-value", "other-secret"])
    text = "a s3cr3t-value b other-secret c s3cr3t-value"
    for cut in range(len(text) + 1):
        shown = redactor.feed(text[:cut]) + redactor.feed(text[cut:]) + redactor.flush()
        assert shown == "a *** b *** c ***"
    chars = "".join(redactor.feed(c) for c in "xs3cr3t-valuey") + redactor.flush()
    assert chars == "x***y"


# --- make data, through the module -------------------------------------------------------------

@pytest.fixture
def source(tmp_path) -> Path:
    """The competition the stand-in serves: 12 images, 10 pairs, 8 visualization images."""
    return write_competition(tmp_path / "served", n_images=12, n_pairs=10, k=4, name=SLUG)


@pytest.mark.parametrize("shape", ["flat", "top-folder", "images-zip-of-loose-files", "zip-per-file",
                                   "doubled-images-folder"])
def test_data_downloads_unpacks_and_checks(tmp_path, source, shape):
    served = kaggle_zip(shape, source, tmp_path)
    setup = Setup(tmp_path, STANDIN_ZIP=str(served), KAGGLE_API_TOKEN=TOKEN)
    dest = tmp_path / "elsewhere" / "hw7"
    result = setup.run("data", "--dest", str(dest))
    assert result.returncode == 0, result.stderr
    [call] = setup.calls
    assert call[:3] == ["competitions", "download", SLUG] and call[3] == "-p"
    assert Path(call[4]).parent == dest.parent  # staged beside the destination, then moved in
    assert sorted(p.name for p in dest.iterdir()) == ["images", "test_case.csv", "visualization.npy"]
    assert competition_tree(dest) == competition_tree(source)
    assert kaggle.check_competition(dest, progress=False) == {"images": 12, "pairs": 10, "visualization": 8}
    assert f"data: {dest}: 12 images, 10 pairs, 8 visualization images, downloaded and checked" in result.stdout
    assert result.stdout.rstrip().endswith(f"next: dvc exp run -S data.dir={dest}")
    assert leftovers(dest.parent) == []

    again = setup.run("data", "--dest", str(dest))
    assert again.returncode == 0 and "already there and complete" in again.stdout
    assert len(setup.calls) == 1  # nothing downloaded the second time


def break_competition(source: Path, how: str) -> None:
    if how == "no visualization.npy":
        (source / "visualization.npy").unlink()
    elif how == "a pair names image 13 of 12":
        text = (source / "test_case.csv").read_text().splitlines()
        text[3] = "2,13,1"
        (source / "test_case.csv").write_text("\n".join(text) + "\n")
    elif how == "a truncated image":
        path = source / "images" / "000005.jpg"
        path.write_bytes(path.read_bytes()[:100])
    elif how == "no test_case.csv":
        (source / "test_case.csv").unlink()


BROKEN = {
    "no visualization.npy": "visualization.npy: expected the visualization array, found nothing",
    "a pair names image 13 of 12": "test_case.csv: line 4, column image1_name: expected an image number in 1…12, "
                                   "found 13",
    "a truncated image": "000005.jpg: expected a readable image, found a corrupt or truncated file",
    "no test_case.csv": f"the download of {SLUG} ({SLUG}.zip): expected images/, test_case.csv and "
                        f"visualization.npy (at the top or in one folder), found no test_case.csv",
}


@pytest.mark.parametrize("how", BROKEN)
def test_data_refuses_an_incomplete_download_and_leaves_nothing(tmp_path, source, how):
    break_competition(source, how)
    setup = Setup(tmp_path, STANDIN_ZIP=str(kaggle_zip("top-folder", source, tmp_path)), KAGGLE_API_TOKEN=TOKEN)
    dest = tmp_path / "elsewhere" / "hw7"
    result = setup.run("data", "--dest", str(dest))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and BROKEN[how] in last, result.stderr
    assert not dest.exists() and leftovers(dest.parent) == []


def test_data_refuses_a_damaged_archive(tmp_path):
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    setup = Setup(tmp_path, STANDIN_ZIP=str(damaged), KAGGLE_API_TOKEN=TOKEN)
    result = setup.run("data", "--dest", str(tmp_path / "hw7"))
    assert result.returncode == 2
    assert f"error: {SLUG}.zip: expected a complete archive, found a damaged one" in result.stderr
    assert not (tmp_path / "hw7").exists() and leftovers(tmp_path) == []


def test_data_reports_the_cli_failing_with_what_to_do(tmp_path):
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN, STANDIN_EXIT="1",
                  STANDIN_ERROR="403 Client Error: Forbidden for url: https://www.kaggle.com/api/v1/...")
    result = setup.run("data", "--dest", str(tmp_path / "hw7"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: kaggle competitions download {SLUG}: expected success, found exit status 1 (accept the "
        f"competition's rules first: https://www.kaggle.com/competitions/{SLUG}/rules)")
    assert not (tmp_path / "hw7").exists() and leftovers(tmp_path) == []


def git_repo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for args in (["init", "-q"], ["config", "user.name", "t"], ["config", "user.email", "t@example.invalid"],
                 ["config", "commit.gpgsign", "false"]):
        subprocess.run(["git", *args], cwd=folder, check=True)
    return folder


def test_data_refuses_a_folder_git_would_commit(tmp_path, source):
    repo = git_repo(tmp_path / "repo")
    setup = Setup(tmp_path, STANDIN_ZIP=str(kaggle_zip("flat", source, tmp_path)), KAGGLE_API_TOKEN=TOKEN)
    result = setup.run("data", "--dest", "data/kaggle", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.startswith("error: data/kaggle: expected a folder outside the repository (or one git "
                                     "ignores), found one inside")
    assert setup.calls == [] and not (repo / "data").exists()
    (repo / ".gitignore").write_text("/data/kaggle\n")
    ignored = setup.run("data", "--dest", "data/kaggle", cwd=repo)
    assert ignored.returncode == 0, ignored.stderr
    assert "next: dvc exp run -S data.dir=data/kaggle" in ignored.stdout


def test_data_does_not_overwrite_a_folder_in_the_way(tmp_path, source):
    setup = Setup(tmp_path, STANDIN_ZIP=str(kaggle_zip("flat", source, tmp_path)), KAGGLE_API_TOKEN=TOKEN)
    write(tmp_path / "hw7" / "notes.txt", "mine")
    result = setup.run("data", "--dest", str(tmp_path / "hw7"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'hw7'}: expected an empty or missing folder to "
                                    f"download into, or a complete competition, found other files (")
    assert result.stderr.count("\n") == 1
    assert (tmp_path / "hw7" / "notes.txt").read_text() == "mine" and setup.calls == []


@pytest.mark.parametrize("path, form", [
    ("../ml2019spring-hw7", "-S data.dir=../ml2019spring-hw7"),
    ("/data/hw7 copy", "-S \"data.dir='/data/hw7 copy'\""),
    ("/data/hw7 (1)", "-S \"data.dir='/data/hw7 (1)'\""),
    ("/data/a,b=c", None),
    ("/data/Müller's hw7", None),
    ("/data/$HOME/x", None),
    ("/data/~x", None),
    ("123", None),
])
def test_the_printed_dvc_argument_gives_dvc_exactly_the_path(tmp_path, path, form):
    from dvc.utils.hydra import apply_overrides

    argument = kaggle.dvc_set_argument("data.dir", path)
    if form is not None:
        assert argument == form
    words = shlex.split(f"dvc exp run {argument}")  # as a POSIX shell splits the printed line
    assert words[:4] == ["dvc", "exp", "run", "-S"] and len(words) == 5
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  dir: data/demo/competition\n")
    apply_overrides(params, [words[4]])  # what `dvc exp run -S` does with it
    assert yaml.safe_load(params.read_text())["data"]["dir"] == path


# --- make submit -------------------------------------------------------------------------------

def pairs_of(folder: Path) -> np.ndarray:
    return layout.read_pairs(folder / "test_case.csv", len(layout.image_paths(folder / "images")))


@functools.cache
def competition_pairs(n_images: int = 12) -> np.ndarray:
    """(1,000,000, 3) test pairs with the competition's ids 0…999999, images drawn from 1…n_images."""
    names = np.random.default_rng(0).integers(1, n_images + 1, size=(kaggle.COMPETITION_PAIRS, 2))
    return np.column_stack([np.arange(kaggle.COMPETITION_PAIRS), names])


def as_competition(folder: Path) -> Path:
    """Give the competition folder ``folder`` (12 images) the competition's 1,000,000 test pairs."""
    pd.DataFrame(competition_pairs(), columns=list(layout.PAIR_COLUMNS)).to_csv(
        folder / "test_case.csv", index=False, lineterminator="\n")
    return folder


def run_workspace(tmp_path: Path, pairs: np.ndarray | None = None) -> Path:
    """A committed git repo holding what a finished run leaves for submit: the submission of
    ``pairs`` (default the competition's) and the metrics."""
    repo = git_repo(tmp_path / "repo")
    write_submission(repo / kaggle.SUBMISSION, competition_pairs() if pairs is None else pairs, np.arange(12) % 2)
    write(repo / "dvc.yaml", yaml.safe_dump({"stages": {
        "groups": {"cmd": "x", "deps": ["data/prepared"], "outs": ["data/groups"],
                   "metrics": [{"metrics/groups.json": {"cache": False}}]},
        "unrelated": {"cmd": "x", "metrics": ["metrics/unrelated.json"]},
        "predict": {"cmd": "x", "deps": ["data/prepared/pairs.npy", "data/groups/labels.npy"],
                    "outs": ["submissions/submission.csv"], "metrics": ["metrics/predict.json"]}}}))
    write(repo / "metrics/unrelated.json", json.dumps({"pair_accuracy": 0.5}))
    write(repo / paths.PREDICT_METRICS, json.dumps({"pair_accuracy": 0.95, "pairs": 10}))
    write(repo / "metrics/groups.json", json.dumps({"visualization_accuracy": 0.9}))
    write(repo / "params.yaml", "pca:\n  dims: 8\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a run"], cwd=repo, check=True)
    return repo


def short_head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


CHECKED = "ids exactly those of the competition's test_case.csv (ids 0…999999)"


def test_submit_uploads_a_checked_submission_with_the_runs_name(tmp_path, source):
    repo = run_workspace(tmp_path)
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN)
    result = setup.run("submit", cwd=repo)
    assert result.returncode == 0, result.stderr
    message = f"commit {short_head(repo)}, pair_accuracy 0.9500"
    assert setup.calls == [["competitions", "submit", SLUG, "-f", "submissions/submission.csv", "-m", message]]
    assert f"submit: submissions/submission.csv: 1000000 pairs, {CHECKED}; message: {message}" in result.stdout
    assert f"Successfully submitted to {SLUG}" in result.stdout

    data = as_competition(source)
    given = setup.run("submit", "--message", "whitened PCA 48", "--data", str(data), cwd=repo)
    assert given.returncode == 0, given.stderr
    assert setup.calls[-1][-2:] == ["-m", "whitened PCA 48"]
    assert f"{CHECKED} and of {data / 'test_case.csv'}" in given.stdout
    absent = setup.run("submit", "--data", str(tmp_path / "no-such-folder"), cwd=repo)  # make's default DATA
    assert absent.returncode == 0, absent.stderr
    assert f"{CHECKED};" in absent.stdout and len(setup.calls) == 3


EXPECTED_IDS = "column id: expected the 1000000 test ids of the competition's test_case.csv (ids 0…999999)"
DAMAGES = {  # name: (how the submission is damaged, the line submit refuses it with)
    "header": (lambda t: t.replace("id,label", "id,prediction"),
               "submissions/submission.csv: line 1: expected the header id,label, found 'id,prediction'"),
    "one value": (lambda t: t.replace("\n3,", "\n3", 1),
                  "submissions/submission.csv: line 5: expected 2 values (id,label), found 1"),
    "a row less": (lambda t: t[:t.rindex("\n", 0, -1) + 1],
                   f"submissions/submission.csv: {EXPECTED_IDS}, found 999999 ids, 1 missing (e.g. id 999999)"),
    "a row more": (lambda t: t + "1000000,1\n",
                   f"{EXPECTED_IDS}, found 1000001 ids, 1 not a test id (e.g. id 1000000 on line 1000002)"),
    "ids from 1": (lambda t: "id,label\n" + "".join(f"{i + 1},{i % 2}\n" for i in range(1_000_000)),
                   f"{EXPECTED_IDS}, found 1000000 ids, 1 missing (e.g. id 0), 1 not a test id (e.g. id 1000000 "
                   f"on line 1000001)"),
    "label 2": (lambda t: t.replace("\n2,0\n", "\n2,2\n").replace("\n2,1\n", "\n2,2\n"),
                "submissions/submission.csv: line 4, column label: expected 0 or 1, found 2"),
    "repeated id": (lambda t: t.replace("\n4,", "\n3,", 1),
                    "submissions/submission.csv: column id: expected each id once, found id 3 on lines 5 and 6"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_submit_refuses_what_predict_would_not_write_before_credentials(tmp_path, damage):
    """No credentials configured: the answer is the refusal, not the missing credentials."""
    repo = run_workspace(tmp_path)
    path = repo / kaggle.SUBMISSION
    change, message = DAMAGES[damage]
    path.write_text(change(path.read_text()))
    setup = Setup(tmp_path)
    result = setup.run("submit", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert setup.calls == []


DEMO_REFUSED = ("error: submissions/submission.csv: expected a submission for the competition's 1,000,000 test "
                "pairs (ids 0…999999), found the demo's (7 pairs of data/demo/competition/test_case.csv), which "
                "Kaggle cannot score; train on the competition first: make data, then the dvc exp run it prints\n")


def demo_workspace(tmp_path: Path) -> Path:
    """A workspace after a run on the demo's data (data/demo/competition, 7 pairs here)."""
    demo = write_competition(tmp_path / "repo/data/demo", n_images=12, n_pairs=7)
    return run_workspace(tmp_path, pairs_of(demo))


def test_submit_refuses_the_demos_submission_offline_before_credentials(tmp_path):
    repo = demo_workspace(tmp_path)
    without = Setup(tmp_path)  # no credentials anywhere: refused for the data, not for them
    result = without.run("submit", cwd=repo)
    assert (result.returncode, result.stderr) == (2, DEMO_REFUSED)
    with_token = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN)
    for args in ([], ["--data", str(tmp_path / "no-such-folder")]):
        refused = with_token.run("submit", *args, cwd=repo)
        assert (refused.returncode, refused.stderr) == (2, DEMO_REFUSED)
    assert with_token.calls == []

    shutil.rmtree(repo / paths.DEMO)  # the demo's data gone: still refused, for its ids
    plain = with_token.run("submit", cwd=repo)
    assert plain.returncode == 2 and plain.stderr.count("\n") == 1
    assert f"{EXPECTED_IDS}, found 7 ids, 999993 missing (e.g. id 7)" in plain.stderr
    assert with_token.calls == []


def test_submit_looks_up_no_credential_before_the_check(tmp_path, monkeypatch):
    repo = demo_workspace(tmp_path)
    monkeypatch.chdir(repo)

    def looked_up(*_args, **_kwargs):
        raise AssertionError("a credential was looked up")

    for name in ("credential_sources", "secret_values", "require_credentials", "config_dir"):
        monkeypatch.setattr(kaggle_client, name, looked_up)
    with pytest.raises(InputError) as refused:
        kaggle.main(["submit"])
    assert f"error: {refused.value}\n" == DEMO_REFUSED


def test_submit_refuses_ids_other_than_the_competition_folders(tmp_path):
    """The competition's ids, but DATA's test_case.csv holds others: refused for DATA's."""
    repo = run_workspace(tmp_path)
    other = write_competition(tmp_path / "other", n_images=12, n_pairs=7)
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN)
    result = setup.run("submit", "--data", str(other), cwd=repo)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"expected the 7 test ids of {other / 'test_case.csv'}, found 1000000 ids, 999993 not a test id" \
        in result.stderr
    assert setup.calls == []


def test_the_reader_accepts_what_predict_writes(tmp_path):
    pairs = np.array([[5, 1, 2], [9, 2, 3], [7, 1, 3]])
    written = write_submission(tmp_path / "s.csv", pairs, np.array([0, 1, 1]))
    read = read_submission(tmp_path / "s.csv", pairs[:, 0], "test")
    assert read["id"].tolist() == written["id"].tolist() and read["label"].tolist() == written["label"].tolist()


def test_the_message_names_the_experiment_the_workspace_holds(tmp_path, source, monkeypatch):
    repo = run_workspace(tmp_path, pairs_of(source))
    monkeypatch.chdir(repo)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    short = short_head(repo)

    def experiment(name: str, dims: int) -> None:
        """An experiment commit on HEAD, stored where DVC stores them."""
        (repo / "params.yaml").write_text(f"pca:\n  dims: {dims}\n")
        subprocess.run(["git", "commit", "-qam", name], check=True)
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout
        subprocess.run(["git", "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/{name}", sha.strip()], check=True)
        subprocess.run(["git", "reset", "-q", "--hard", head], check=True)

    experiment("bushy-sled", 4)
    experiment("tidy-yarn", 16)
    assert kaggle.default_message() == f"commit {short}, pair_accuracy 0.9500"
    (repo / "params.yaml").write_text("pca:\n  dims: 4\n")
    assert kaggle.default_message() == f"exp bushy-sled @ {short}, pair_accuracy 0.9500"
    (repo / "params.yaml").write_text("pca:\n  dims: 16\n")
    assert kaggle.default_message().startswith(f"exp tidy-yarn @ {short}")
    (repo / "params.yaml").write_text("pca:\n  dims: 5\n")
    assert kaggle.default_message().startswith(f"commit {short} + uncommitted changes")


def test_the_headline_metric_is_the_predict_stages_estimate(tmp_path, source, monkeypatch):
    repo = run_workspace(tmp_path, pairs_of(source))
    monkeypatch.chdir(repo)
    assert kaggle.headline_metric() == ("pair_accuracy", 0.95)
    (repo / paths.PREDICT_METRICS).write_text('{"pairs": 10}')
    assert kaggle.headline_metric() is None  # never another stage's
    (repo / paths.PREDICT_METRICS).unlink()
    assert kaggle.headline_metric() is None


# --- make scores -------------------------------------------------------------------------------

KAGGLE_TABLE = """ref,fileName,date,description,status,publicScore,privateScore
41,submission.csv,2026-05-02 10:00:00,"exp bushy-sled @ 1a2b3c4, pair_accuracy 0.9912",\
SubmissionStatus.COMPLETE,0.98765,0.98700
40,submission.csv,2026-05-01 09:00:00,"commit 0f0e0d0, pair_accuracy 0.9700",\
SubmissionStatus.COMPLETE,0.96500,0.96400
39,submission.csv,2026-04-30 08:00:00,"first try, by hand",SubmissionStatus.ERROR,,
"""


def test_scores_writes_the_submissions_beside_the_run(tmp_path):
    table = write(tmp_path / "table.csv", KAGGLE_TABLE)
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN, STANDIN_SUBMISSIONS=str(table))
    work = tmp_path / "work"
    result = setup.run("scores", cwd=work)
    assert result.returncode == 0, result.stderr
    assert setup.calls == [["list_submissions", SLUG, str(kaggle_client.PAGE_SIZE), ""]]
    scores = pd.read_csv(work / kaggle.SCORES, dtype=str, keep_default_na=False)
    assert list(scores.columns) == ["ref", "fileName", "date", "description", "status", "publicScore",
                                    "privateScore", "experiment", "commit"]
    assert scores["ref"].tolist() == ["41", "40", "39"]
    assert scores["date"].tolist()[0] == "2026-05-02 10:00:00"
    assert scores["status"].tolist() == ["COMPLETE", "COMPLETE", "ERROR"]
    assert scores["publicScore"].tolist() == ["0.98765", "0.96500", ""]
    assert scores["experiment"].tolist() == ["bushy-sled", "", ""]
    assert scores["commit"].tolist() == ["1a2b3c4", "0f0e0d0", ""]
    assert "0.98765" in result.stdout and f"scores: 3 submissions of {SLUG} → {kaggle.SCORES}" in result.stdout

    none = Setup(tmp_path / "fresh", KAGGLE_API_TOKEN=TOKEN).run("scores", cwd=work)
    assert none.returncode == 0, none.stderr
    assert pd.read_csv(work / kaggle.SCORES).shape == (0, 9)


def test_scores_lists_every_page(tmp_path):
    """45 submissions, more than the CLI's one page of 20, from a server that sends at most 20 a page."""
    rows = [f'{ref},submission.csv,2026-05-{1 + ref % 28:02d} 10:00:00,"commit {ref:07x}, pair_accuracy 0.9",'
            f"SubmissionStatus.COMPLETE,0.{ref:05d},0.{ref:05d}" for ref in range(145, 100, -1)]
    table = write(tmp_path / "table.csv", KAGGLE_TABLE.splitlines()[0] + "\n" + "\n".join(rows) + "\n")
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN, STANDIN_SUBMISSIONS=str(table), STANDIN_PAGE_CAP="20")
    work = tmp_path / "work"
    result = setup.run("scores", cwd=work)
    assert result.returncode == 0, result.stderr
    assert setup.calls == [["list_submissions", SLUG, str(kaggle_client.PAGE_SIZE), token]
                           for token in ("", "after-20", "after-40")]
    scores = pd.read_csv(work / kaggle.SCORES, dtype=str, keep_default_na=False)
    assert scores["ref"].tolist() == [str(ref) for ref in range(145, 100, -1)]  # all, in Kaggle's order
    assert scores["commit"].tolist() == [f"{ref:07x}" for ref in range(145, 100, -1)]
    assert f"scores: 45 submissions of {SLUG}" in result.stdout


class LocalKaggle(http.server.BaseHTTPRequestHandler):
    """Kaggle's two calls behind `scores`, as JSON over HTTP: the token check, and ``total``
    submissions (refs total…1) at most ``cap`` a page, the page token being the next row's index."""

    total, cap, requests = 45, 20, []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        type(self).requests.append((self.path, body, self.headers.get("Authorization", "")))
        if self.path.endswith("/security.OAuthService/IntrospectToken"):
            answer = {"active": True, "username": "someone"}
        else:
            assert self.path.endswith("/competitions.CompetitionApiService/ListSubmissions"), self.path
            start = int(body.get("pageToken") or 0)
            end = min(start + min(body.get("pageSize") or 20, self.cap), self.total)
            answer = {"submissions": [{"ref": ref, "fileName": "submission.csv", "date": "2026-05-02T10:00:00Z",
                                       "description": f"commit {ref:07x}", "status": "COMPLETE",
                                       "publicScore": f"0.{ref:05d}"} for ref in range(self.total - start,
                                                                                       self.total - end, -1)],
                      "nextPageToken": str(end) if end < self.total else ""}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_kaggle():
    """LocalKaggle on http://localhost (port 80: where the kaggle package's LOCALHOST environment calls)."""
    if importlib.util.find_spec("kaggle") is None:
        pytest.skip("the kaggle package is not installed")
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 80), LocalKaggle)
    except OSError as error:
        pytest.skip(f"port 80 of localhost cannot be served here ({error})")
    LocalKaggle.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LocalKaggle
    server.shutdown()
    server.server_close()


def test_scores_pages_with_the_real_kaggle_package(tmp_path, local_kaggle):
    """The installed kaggle package, not the stand-in, against a local Kaggle: every page, and the
    token it prints with VERBOSE=1 hidden."""
    env = clean_environment(tmp_path / "home", KAGGLE_API_TOKEN=TOKEN, KAGGLE_API_ENVIRONMENT="LOCALHOST",
                            VERBOSE="1")
    result = subprocess.run([sys.executable, "-m", "pipeline.kaggle", "scores", "--out", str(tmp_path / "s.csv")],
                            cwd=tmp_path, env=env, text=True, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    listed = [(body["pageToken"], body["pageSize"]) for path, body, _ in local_kaggle.requests
              if path.endswith("/ListSubmissions")]
    assert listed == [(token, kaggle_client.PAGE_SIZE) for token in ("", "20", "40")]
    assert {auth for _, _, auth in local_kaggle.requests} == {f"Bearer {TOKEN}"}
    scores = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    assert scores["ref"].tolist() == [str(ref) for ref in range(45, 0, -1)]
    assert scores["status"].tolist() == ["COMPLETE"] * 45 and scores["commit"].tolist()[0] == f"{45:07x}"
    assert "Authorization: Bearer ***" in result.stdout  # printed by the package, hidden
    assert TOKEN not in result.stdout + result.stderr


def test_scores_reports_kaggle_refusing_with_what_to_do(tmp_path):
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN, STANDIN_EXIT="1",
                  STANDIN_ERROR="401 Client Error: Unauthorized for url: https://api.kaggle.com/v1/...")
    work = tmp_path / "work"
    result = setup.run("scores", cwd=work)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: kaggle API list_submissions {SLUG}: expected success, found exit status 1 (Kaggle rejected the "
        f"credentials: create a new token at {kaggle_client.TOKEN_PAGE})")
    assert not (work / kaggle.SCORES).exists()


# --- --help ------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["data"], ["submit"], ["scores"]])
def test_help_prints_the_usage_and_touches_nothing(tmp_path, command):
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN)
    work = tmp_path / "work"
    result = setup.run(*command, "--help", cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m pipeline.kaggle {' '.join(command)}".rstrip())
    assert result.stderr == "" and list(work.iterdir()) == [] and setup.calls == []


@pytest.mark.parametrize("command", [["--bogus"], ["submit", "--bogus"], ["scores", "extra"], ["upload"]])
def test_an_unknown_argument_is_one_error_line(tmp_path, command):
    setup = Setup(tmp_path, KAGGLE_API_TOKEN=TOKEN)
    work = tmp_path / "work"
    result = setup.run(*command, cwd=work)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and result.stderr.splitlines()[-1] == errors[0]
    assert list(work.iterdir()) == [] and setup.calls == []


# --- the make targets --------------------------------------------------------------------------

def project_copy(dest: Path) -> Path:
    """The project's files in a git repo, with a stand-in .venv that make takes as installed."""
    from tiny_repo import make_repo

    repo = make_repo(dest, params={})
    bin_dir = repo / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    write(bin_dir / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n').chmod(0o755)
    checksum = subprocess.run("cksum < requirements.lock | cut -d' ' -f1", shell=True, cwd=repo, text=True,
                              capture_output=True, check=True).stdout.strip()
    (repo / ".venv" / f".installed-{checksum}").touch()
    return repo


def make(setup: Setup, repo: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {**setup.env, **extra}
    env["PYTHONPATH"] = str(setup.package)  # make runs the module from the repository copy itself
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=repo, env=env, text=True,
                          capture_output=True, timeout=180, check=False)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_targets_call_the_cli_with_the_right_arguments(tmp_path, source):
    repo = project_copy(tmp_path / "repo")
    table = write(tmp_path / "table.csv", KAGGLE_TABLE)
    setup = Setup(tmp_path, STANDIN_ZIP=str(kaggle_zip("top-folder", source, tmp_path)),
                  STANDIN_SUBMISSIONS=str(table))

    refused = make(setup, repo, "data")
    assert refused.returncode != 0 and f"error: {kaggle_client.NO_CREDENTIALS}" in refused.stderr
    assert setup.calls == []
    demo = write_competition(repo / paths.DEMO, n_images=12, n_pairs=7)
    write_submission(repo / kaggle.SUBMISSION, pairs_of(demo), np.arange(12) % 2)
    demo_refused = make(setup, repo, "submit")  # no credentials, no ../<competition>: refused for its ids
    assert demo_refused.returncode != 0 and DEMO_REFUSED in demo_refused.stderr
    assert setup.calls == []

    setup.env["KAGGLE_API_TOKEN"] = TOKEN
    dest = tmp_path / "kaggle data" / "hw7"
    data = make(setup, repo, "data", f"DATA={dest}", "COMPETITION=other-slug")
    assert data.returncode == 0, data.stderr
    assert setup.calls[-1][:3] == ["competitions", "download", "other-slug"]
    assert f"next: dvc exp run -S \"data.dir='{dest}'\"" in data.stdout
    default = make(setup, repo, "data")
    assert default.returncode == 0, default.stderr
    assert (tmp_path / SLUG / "test_case.csv").is_file()  # ../<competition>, outside the repository
    assert f"next: dvc exp run -S data.dir=../{SLUG}" in default.stdout

    write_submission(repo / kaggle.SUBMISSION, competition_pairs(), np.arange(12) % 2)
    as_competition(dest)
    as_competition(tmp_path / SLUG)
    message = "it's \"quoted\" and $HOME `x`"
    submit = make(setup, repo, "submit", f"MESSAGE={message}", f"DATA={dest}")
    assert submit.returncode == 0, submit.stderr
    assert setup.calls[-1] == ["competitions", "submit", SLUG, "-f", "submissions/submission.csv", "-m", message]
    assert f"{CHECKED} and of {dest / 'test_case.csv'}" in submit.stdout
    plain = make(setup, repo, "submit")
    assert plain.returncode == 0, plain.stderr
    assert setup.calls[-1][-1].startswith(f"commit {short_head(repo)}")

    scores = make(setup, repo, "scores")
    assert scores.returncode == 0, scores.stderr
    assert setup.calls[-1] == ["list_submissions", SLUG, str(kaggle_client.PAGE_SIZE), ""]
    assert len(pd.read_csv(repo / kaggle.SCORES)) == 3


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_credentials_appear_in_no_output_file_or_commit(tmp_path, source):
    """With a CLI and a package that print their whole environment, the token and key reach nothing."""
    repo = project_copy(tmp_path / "repo")
    key = "fakeKEY0123456789abcdef0123456789"
    config = tmp_path / "kaggle-config"
    write(config / "kaggle.json", json.dumps({"username": "someone", "key": key})).chmod(0o600)
    table = write(tmp_path / "table.csv", KAGGLE_TABLE)
    setup = Setup(tmp_path, STANDIN_ZIP=str(kaggle_zip("flat", source, tmp_path)), STANDIN_LEAK="1",
                  STANDIN_SUBMISSIONS=str(table), KAGGLE_API_TOKEN=TOKEN, KAGGLE_KEY=key,
                  KAGGLE_CONFIG_DIR=str(config))
    dest = tmp_path / "hw7"
    outputs = [make(setup, repo, "data", f"DATA={dest}")]
    as_competition(dest)
    write_submission(repo / kaggle.SUBMISSION, competition_pairs(), np.arange(12) % 2)
    outputs += [make(setup, repo, "submit", f"DATA={dest}"), make(setup, repo, "scores")]
    for result in outputs:
        assert result.returncode == 0, result.stderr
    for result in (outputs[0], outputs[2]):  # the CLI's leak and the package's happened, hidden
        assert "debug: environment KAGGLE_API_TOKEN=***" in result.stdout
        assert "debug: environment KAGGLE_API_TOKEN=***" in result.stderr
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "everything the targets left"], cwd=repo, check=True)

    history = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, check=True,
                             capture_output=True).stdout  # every object, decompressed
    history += subprocess.run(["git", "log", "--all", "-p"], cwd=repo, check=True, capture_output=True).stdout
    files = [p for p in [*repo.rglob("*"), *dest.rglob("*")] if p.is_file()]
    assert len(files) > 50 and kaggle.SCORES.name in {p.name for p in files}
    for secret in (TOKEN, key):
        for result in outputs:
            assert secret not in result.stdout and secret not in result.stderr
        assert secret.encode() not in history
        assert [p for p in files if secret.encode() in p.read_bytes()] == []
