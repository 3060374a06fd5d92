"""Errors that are the user's mistake: printed as one line, never as a traceback."""


class UserError(Exception):
    """Bad input or usage. ``str(err)`` is the one-line message shown to the user."""
