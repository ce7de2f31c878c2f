"""Stand-ins for Kaggle, for tests without network: ``install(folder)`` puts an executable
``folder/kaggle`` that behaves like the kaggle 2.x CLI for the two commands the pipeline runs, and a
package ``kaggle`` under :func:`python_path` (``folder``) whose ``api`` serves ``list_submissions``
as the real package's client does: kagglesdk's own request and response types, page by page.

Each appends its arguments, as one JSON list per call, to $STANDIN_LOG (when set):

* ``competitions download SLUG -p DIR``: copies $STANDIN_ZIP to DIR/SLUG.zip (as kaggle names it);
* ``competitions submit SLUG -f FILE -m MESSAGE``: prints kaggle's success line;
* ``api.build_kaggle_client().competitions.competition_api_client.list_submissions(request)``
  (logged as ``["list_submissions", SLUG, PAGE_SIZE, PAGE_TOKEN]``): the rows of
  $STANDIN_SUBMISSIONS (a CSV file in the CLI's columns; none when unset), at most
  ``request.page_size`` of them, and fewer when $STANDIN_PAGE_CAP is smaller (as a server
  that caps page sizes), with the next page's token while rows remain.

$STANDIN_EXIT: fail (the CLI: exit with this status; the package: raise requests' HTTPError)
with $STANDIN_ERROR (e.g. "403 Client Error: Forbidden"). $STANDIN_LEAK: print every KAGGLE_*
value of the environment on both streams, as a careless CLI or package might: what reaches the
user must still hold none of them.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path
from types import SimpleNamespace


def install(folder: Path) -> Path:
    """Write ``folder/kaggle`` (run by this interpreter) and the package under :func:`python_path`;
    return the folder, to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "kaggle"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} \"$@\"\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    package = python_path(folder) / "kaggle"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from kaggle_standin import StandinApi\napi = StandinApi()\n", encoding="utf-8")
    return folder


def python_path(folder: Path) -> Path:
    """The folder to put first on PYTHONPATH so that ``import kaggle`` finds the stand-in package."""
    return folder / "python"


def records(log: Path) -> list[list[str]]:
    """The argument lists of every call logged to ``log``, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


class StandinApi:
    """``kaggle.api`` as the pipeline uses it: ``build_kaggle_client()``, a context manager whose
    ``competitions.competition_api_client.list_submissions`` pages through $STANDIN_SUBMISSIONS."""

    def __init__(self):
        leak()  # at import, as the real package authenticates (and may print) at import
        # the real package prints this on stdout too: the listing must not be read from stdout
        print("Warning: Looks like you're using an outdated `kaggle` version, please consider updating")

    def build_kaggle_client(self):
        return _Client()


class _Client:
    def __init__(self):
        self.competitions = SimpleNamespace(competition_api_client=self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def list_submissions(self, request):
        from kagglesdk.competitions.types.competition_api_service import (ApiListSubmissionsRequest,
                                                                         ApiListSubmissionsResponse)

        assert isinstance(request, ApiListSubmissionsRequest)
        log(["list_submissions", request.competition_name, str(request.page_size), request.page_token])
        if os.environ.get("STANDIN_EXIT"):
            import requests

            raise requests.HTTPError(os.environ.get("STANDIN_ERROR", "error"))
        rows = _submissions()
        start = int(request.page_token.removeprefix("after-") or 0)
        size = min(request.page_size or 20, int(os.environ.get("STANDIN_PAGE_CAP") or 10**9))
        response = ApiListSubmissionsResponse()
        response.submissions = rows[start:start + size]
        response.next_page_token = f"after-{start + size}" if start + size < len(rows) else ""
        return response


def _submissions() -> list:
    """$STANDIN_SUBMISSIONS's rows as kagglesdk's ApiSubmission objects."""
    import csv
    from datetime import datetime

    from kagglesdk.competitions.types.competition_api_service import ApiSubmission
    from kagglesdk.competitions.types.submission_status import SubmissionStatus

    table = os.environ.get("STANDIN_SUBMISSIONS")
    if not table:
        return []
    submissions = []
    with open(table, encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            submission = ApiSubmission()
            submission.ref = int(row["ref"])
            submission.file_name = row["fileName"]
            submission.date = datetime.fromisoformat(row["date"])
            submission.description = row["description"]
            submission.status = SubmissionStatus[row["status"].removeprefix("SubmissionStatus.")]
            submission.public_score = row["publicScore"] or None
            submission.private_score = row["privateScore"] or None
            submissions.append(submission)
    return submissions


def log(call: list[str]) -> None:
    if os.environ.get("STANDIN_LOG"):
        with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as file:
            file.write(json.dumps(call) + "\n")


def leak() -> None:
    if os.environ.get("STANDIN_LEAK"):
        leaked = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("KAGGLE_"))
        print(f"debug: environment {leaked}", flush=True)
        print(f"debug: environment {leaked}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    log(argv)
    leak()
    if os.environ.get("STANDIN_EXIT"):
        print(os.environ.get("STANDIN_ERROR", "error"), file=sys.stderr)
        return int(os.environ["STANDIN_EXIT"])
    command = argv[:2]
    slug = argv[2] if len(argv) > 2 and not argv[2].startswith("-") else None
    if command == ["competitions", "download"]:
        folder = Path(argv[argv.index("-p") + 1]) if "-p" in argv else Path.cwd()
        shutil.copyfile(os.environ["STANDIN_ZIP"], folder / f"{slug}.zip")
        print(f"Downloading {slug}.zip to {folder}")
        print("100%|##########| 1.00k/1.00k [00:00<00:00, 1.00kB/s]", file=sys.stderr)
    elif command == ["competitions", "submit"]:
        print(f"Successfully submitted to {slug}")
    else:
        print(f"stand-in kaggle: unexpected arguments {argv}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
