"""Progress of a slow grid on stderr: ``fitted 40/126 models (6 s)``.

Nothing is printed for a grid that ends within :data:`QUIET_SECONDS`, so a fast
run keeps stderr clean; after that, at most one update every
:data:`EVERY_SECONDS`.
"""

import time

QUIET_SECONDS = 5.0
EVERY_SECONDS = 1.0


class Progress:
    """``progress(done, total)`` callback for ``GaussianMixtureIC._fit``.

    Parameters
    ----------
    stream : file object
        Where to write, usually ``sys.stderr``. A terminal gets one line rewritten
        in place; a file or pipe gets one line per update.
    """

    def __init__(self, stream):
        self.stream = stream
        self.start = time.monotonic()
        self.last = None  # when the last update was printed
        self.in_place = stream.isatty()

    def __call__(self, done, total):
        now = time.monotonic()
        if now - self.start <= QUIET_SECONDS:
            return
        if self.last is not None and now - self.last < EVERY_SECONDS and done < total:
            return
        self.last = now
        text = f"fitted {done}/{total} models ({now - self.start:.0f} s)"
        if self.in_place:
            self.stream.write(f"\r{text}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def finish(self):
        """End the line rewritten in place, if any was printed."""
        if self.in_place and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()
