"""The command line's one error type, and how an exception is said on one line."""


class UsageError(Exception):
    """Bad options or a bad data file: reported on one line, exit status 2."""


def describe(exc):
    """A one-line description of an exception, without its class for OSErrors."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__
