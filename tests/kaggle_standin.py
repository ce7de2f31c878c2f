"""A stand-in for the Kaggle CLI, for tests without network: ``install(folder)`` puts an
executable ``folder/kaggle`` that behaves like kaggle 2.x for the three commands the pipeline uses.

It appends its arguments, as one JSON list per call, to $STANDIN_LOG (when set), and:

* ``competitions download SLUG -p DIR``: copies $STANDIN_ZIP to DIR/SLUG.zip (as kaggle names it);
* ``competitions submit SLUG -f FILE -m MESSAGE``: prints kaggle's success line;
* ``competitions submissions SLUG --csv``: prints a warning line (as the real CLI may, before
  the table), then $STANDIN_SUBMISSIONS (a CSV file) or "No submissions found".

$STANDIN_EXIT: exit with this status after printing $STANDIN_ERROR (e.g. "403 Client Error:
Forbidden"). $STANDIN_LEAK: print every KAGGLE_* value of its environment on both streams, as a
careless CLI might: what reaches the user must still hold none of them.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path


def install(folder: Path) -> Path:
    """Write ``folder/kaggle`` (run by this interpreter) and return the folder, to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "kaggle"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} \"$@\"\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def records(log: Path) -> list[list[str]]:
    """The argument lists of every call logged to ``log``, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def main(argv: list[str]) -> int:
    if os.environ.get("STANDIN_LOG"):
        with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(argv) + "\n")
    if os.environ.get("STANDIN_LEAK"):
        leaked = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("KAGGLE_"))
        print(f"debug: environment {leaked}", flush=True)
        print(f"debug: environment {leaked}", file=sys.stderr, flush=True)
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
    elif command == ["competitions", "submissions"]:
        print("Warning: Looks like you're using an outdated `kaggle` version, please consider updating")
        table = os.environ.get("STANDIN_SUBMISSIONS")
        print(Path(table).read_text(encoding="utf-8").rstrip("\n") if table else "No submissions found")
    else:
        print(f"stand-in kaggle: unexpected arguments {argv}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
