"""The one exception type the CLI turns into a clean one-line error (exit status 2, no traceback).

Example:
    >>> raise UserError("no such file: data/train.jsonl")
    Traceback (most recent call last):
    ...
    tooln1.errors.UserError: no such file: data/train.jsonl
"""


class UserError(Exception):
    """Bad input from the user (missing file, unknown key, malformed line): reported in one line, exit 2."""
