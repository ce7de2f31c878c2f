"""The one exception type for mistakes a user can fix (bad data, bad params), and how an entry
point turns it, or a wrong command line, into one line on stderr."""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from typing import Callable, NoReturn

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


class CommandLine(argparse.ArgumentParser):
    """argparse's parser, with the description printed as written and errors on one line.

    ``--help`` prints the usage and the description and exits 0 before anything else runs. A
    wrong command line (an unknown option, a stray or missing argument) prints
    ``error: command line: <what argparse found>; usage: <the usage line>`` on stderr and exits
    with status 2, like every other mistake a user can fix (:func:`main_guard`). Subcommands made
    with ``add_subparsers`` are parsers of this class too.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: command line: {printable(one_line(message))}; {one_line(self.format_usage())}",
              file=sys.stderr)
        sys.exit(2)


def stage_command_line(main: Callable[[], None]) -> CommandLine:
    """The command line of the stage module that defines ``main``: no argument but ``--help``.

    The program is named as it is run (``python -m pipeline.stages.reduce``, also when the module
    runs as ``__main__``); the description is the module's docstring.
    """
    module = sys.modules.get(main.__module__)
    spec = getattr(module, "__spec__", None)
    name = spec.name if spec is not None else main.__module__
    return CommandLine(prog=f"python -m {name}", description=getattr(module, "__doc__", None),
                       epilog="DVC runs it (dvc repro, dvc exp run); dvc.yaml lists its deps, params "
                              "and outs.")


def stage_guard(main: Callable[[], None]) -> None:
    """A stage's entry point: ``--help`` or a wrong argument is handled first, then ``main()`` runs
    as :func:`main_guard` runs a command.

    Stages take no arguments (DVC passes none: params.yaml holds their settings, and
    pipeline.lib.paths their files), so ``--help`` prints the stage's docstring and exits 0 before
    any params or input are read and anything is written; any argument but ``-h``/``--help`` is
    one line and exit status 2 (:class:`CommandLine`).
    """
    stage_command_line(main).parse_args(sys.argv[1:])
    main_guard(lambda argv: main())


def main_guard(main: Callable[[list[str]], None]) -> None:
    """Run ``main(sys.argv[1:])``; a user's mistake becomes one line on stderr and exit status 2.

    A command that takes arguments parses them in ``main`` with a :class:`CommandLine`, whose
    ``--help`` and wrong arguments end the process there; a stage uses :func:`stage_guard`.
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
