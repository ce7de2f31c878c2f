"""The one exception type for mistakes a user can fix (bad data, bad params), and how an entry
point turns it into one line on stderr."""

from __future__ import annotations

import re
import sys
from typing import Callable


class InputError(Exception):
    """Bad input: the message names the file, row or column, what was expected and what was found.

    Stage scripts turn it into a single line on stderr and a non-zero exit, without a traceback.
    """


def one_line(message: object) -> str:
    """``message`` on one line: line breaks (and the spaces around them) become one space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(message).strip())


def main_guard(main: Callable[[list[str]], None]) -> None:
    """Run ``main(sys.argv[1:])``; a user's mistake becomes one line on stderr and exit status 2.

    A missing input file (a stage run by hand before the stage that writes it) counts as one.
    """
    try:
        main(sys.argv[1:])
    except InputError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        sys.exit(2)
    except FileNotFoundError as error:
        name = error.filename if error.filename is not None else one_line(error)
        print(f"error: {name}: expected an input file, found nothing (run the stages before this "
              f"one first: dvc repro)", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: no output of this stage was written", file=sys.stderr)
        sys.exit(130)
