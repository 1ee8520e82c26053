"""Threads by call size: BLAS and OpenMP threads only where a call is large.

OpenBLAS and OpenMP synchronise their threads at every call, which costs more than a
small product saves, and a thread that shares its core with another process holds
every call up until it is scheduled again. A fit or prediction whose work is small
(``parallel_call``) therefore runs on one thread throughout, k-means start included;
a larger one keeps the threads its caller allows for its large products only. Limits
only ever lower the thread counts, so a caller's own ``threadpool_limits`` holds.
The measurements are in ``benchmarks/RESULTS.md`` ("Threads by call size").

OpenBLAS's thread count is the process's: threadpoolctl lets one Python thread
control it (the first to set it), and ignores the others' limits, so that calls
overlapping in several threads never leave it changed; OpenMP's counts are each
thread's own.
"""

import functools
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

# Rows from which a call may use threads, and, below that, the work (rows times
# features times the larger of features and components) from which it may.
MIN_PARALLEL_ROWS = 1 << 18
MIN_PARALLEL_WORK = 1 << 27


@functools.cache
def thread_controller():
    """The thread pools loaded, found once: finding them costs milliseconds."""
    return ThreadpoolController()


def one_thread():
    """Context in which every BLAS and OpenMP pool has one thread."""
    return thread_controller().limit(limits=1)


def parallel_call(n_rows, n_features, n_components):
    """Whether a fit or prediction of this size may use threads."""
    if n_rows >= MIN_PARALLEL_ROWS:
        return True
    return n_rows * n_features * max(n_features, n_components) >= MIN_PARALLEL_WORK


def call_threads(n_rows, n_features, n_components):
    """Context for a whole fit or prediction: one thread unless ``parallel_call``."""
    if parallel_call(n_rows, n_features, n_components):
        return nullcontext()
    return one_thread()


def serial_section(parallel):
    """Context for small products inside a call (an M-step's factorizations): one
    thread, which a call that is not ``parallel`` has already."""
    return one_thread() if parallel else nullcontext()
