"""The one user-facing error type. Its message says what happened and what to do about it."""


class BriefingError(Exception):
    """An error the user can act on; the CLI prints it without a traceback, the UI shows it."""
