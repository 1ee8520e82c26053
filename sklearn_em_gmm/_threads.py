"""Threads by call size: BLAS and OpenMP threads only where a call is large.

OpenBLAS and OpenMP synchronise their threads at every call, which costs more than a
small product saves, and a thread that shares its core with another process holds
every call up until it is scheduled again. A fit or prediction over fewer than
``MIN_PARALLEL_ROWS`` rows therefore runs on one thread throughout (k-means start
included); a larger one keeps the threads its caller allows for its large products
only. Limits only ever lower the thread counts, so a caller's own
``threadpool_limits`` holds. The measurements are in ``benchmarks/RESULTS.md``
("Threads by call size").
"""

import functools
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

MIN_PARALLEL_ROWS = 1 << 15


@functools.cache
def thread_controller():
    """The thread pools loaded, found once: finding them costs milliseconds."""
    return ThreadpoolController()


def call_threads(n_rows):
    """Context for a whole fit or prediction over ``n_rows``: one thread if small."""
    if n_rows >= MIN_PARALLEL_ROWS:
        return nullcontext()
    return thread_controller().limit(limits=1)


def serial_section(n_rows):
    """Context for small products inside a call over ``n_rows`` (an M-step's
    factorizations): one BLAS thread, which a small call has already."""
    if n_rows < MIN_PARALLEL_ROWS:
        return nullcontext()
    return thread_controller().limit(limits=1, user_api="blas")
