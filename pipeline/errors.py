"""The one exception type for mistakes a user can fix (bad data, bad params)."""


class InputError(Exception):
    """Bad input: the message names the file, row or column, what was expected and what was found.

    Stage scripts turn it into a single line on stderr and a non-zero exit, without a traceback.
    """
