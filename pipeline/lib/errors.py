"""The one exception type for mistakes a user can fix (bad data, bad params), and how an entry
point turns it into one line on stderr."""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Callable

# A disk that fills up (or a quota that runs out) while a stage writes: not a mistake in the
# input, but the user's to fix, so it gets one line too (see main_guard).
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class InputError(Exception):
    """Bad input: the message names the file, row or column, what was expected and what was found.

    Stage scripts turn it into a single line on stderr and a non-zero exit, without a traceback.
    """


def one_line(message: object) -> str:
    """``message`` on one line: line breaks (and the spaces around them) become one space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(message).strip())


def printable(value: object, limit: int | None = None) -> str:
    """``str(value)`` safe to echo in a one-line message: every unprintable character escaped.

    Control characters (NUL, ESC, line breaks, tabs, DEL, C1), format characters (bidi overrides),
    line and paragraph separators and unassigned code points become the escapes Python's repr()
    writes (``\\x00``, ``\\n``, ``\\u202e``); a byte of a file name that is not UTF-8 (which
    Python decodes to a lone surrogate) becomes ``\\xNN``, the byte itself. Everything printable,
    non-ASCII letters and spaces included (``/data/競賽 資料 (copy)``), is left as it is, and so is
    a backslash: escaping twice changes nothing. With ``limit``, text longer than ``limit``
    characters is cut there and ends in ``…``.
    """
    text = str(value)
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(char if char.isprintable() else _escape(char) for char in text)
    return text + "…" if cut else text


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: the undecodable byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return repr(char)[1:-1]


def main_guard(main: Callable[[list[str]], None]) -> None:
    """Run ``main(sys.argv[1:])``; a user's mistake becomes one line on stderr and exit status 2.

    A missing input file (a stage run by hand before the stage that writes it) counts as one.
    A full disk is one line and exit status 1: ``error: <file>: expected free disk space to write
    it, found the disk full …`` (:func:`pipeline.lib.atomic.atomic_path` names the output it was
    writing and removes the partial file). Every message goes through :func:`printable`, so no
    control character from the input reaches the terminal.
    """
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"error: {printable(one_line(error))}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:
        name = error.filename if error.filename is not None else one_line(error)
        print(f"error: {printable(name)}: expected an input file, found nothing (run the stages before "
              f"this one first: dvc repro)", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        if error.errno not in NO_SPACE:
            raise
        name = error.filename if error.filename is not None else "an output"
        print(f"error: {printable(name)}: expected free disk space to write it, found the disk full "
              f"({error.strerror or os.strerror(error.errno)}); nothing of it was kept: free some space "
              f"and run dvc repro again", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted: no output of this stage was written", file=sys.stderr)
        sys.exit(130)
