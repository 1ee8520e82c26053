"""Rows of a file mapped into memory (``np.memmap``), read chunk by chunk.

The pages a pass reads from a map stay in the process's resident memory until the
map is closed, so one pass over a map larger than memory would hold all of it. Each
chunk's pages are handed back once the chunk has been used (``MADV_DONTNEED``); the
file's page cache keeps them for the next pass.
"""

import mmap

import numpy as np

from ._blocks import positive_weight_rows

# Bytes of X per chunk: each chunk's pages are released after its pass, and each
# keeps a prepared summary of a few (n_features, n_features) arrays.
CHUNK_BYTES = 1 << 25


def chunk_rows(n_features, dtype):
    """Rows per chunk of a mapped array of ``n_features`` columns of ``dtype``."""
    return max(1, CHUNK_BYTES // (max(n_features, 1) * np.dtype(dtype).itemsize))


def _byte_bounds(array):
    """The addresses of ``array``'s first byte and one past its last."""
    low = high = array.ctypes.data
    for size, stride in zip(array.shape, array.strides, strict=True):
        if stride < 0:
            low += (size - 1) * stride
        else:
            high += (size - 1) * stride
    return low, high + array.itemsize


def release_pages(array):
    """Drop the pages of ``array``, a view of an ``np.memmap``, from resident memory.

    Nothing happens for other arrays, and for copy-on-write maps (mode ``'c'``),
    whose pages may hold changes that exist nowhere else; the pages of a shared
    map are the file's, which keeps them (written back if changed).
    """
    mapped = getattr(array, "_mmap", None)
    if (
        mapped is None
        or array.size == 0
        or getattr(array, "mode", "c") == "c"
        or not hasattr(mmap, "MADV_DONTNEED")
    ):
        return
    base = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    low, high = _byte_bounds(array)
    start = (low - base) // mmap.PAGESIZE * mmap.PAGESIZE
    mapped.madvise(mmap.MADV_DONTNEED, start, high - base - start)


def mapped_views(array, n_rows):
    """Consecutive views of ``n_rows`` rows of ``array``; each view's pages are
    released when the next is asked for, or the loop ends."""
    for start in range(0, array.shape[0], n_rows):
        view = array[start : start + n_rows]
        try:
            yield view
        finally:
            release_pages(view)


def mapped_chunks(X, sample_weight, n_rows, dtype, weight_unit=1.0):
    """Consecutive chunks of ``n_rows`` rows, each released once used.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Usually an ``np.memmap``.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative; may be an ``np.memmap`` too.
    n_rows : int
    dtype : dtype
        Of the chunks' rows (float32 or float64).
    weight_unit : float, default=1.0
        Divides the weights.

    Yields
    ------
    X_chunk : ndarray of shape (n_rows_i, n_features)
        C-ordered, in ``dtype``, without the rows of zero weight.
    weight_chunk : ndarray of shape (n_rows_i,), float64, or None
    """
    weight_views = None
    if sample_weight is not None:
        weight_views = mapped_views(sample_weight, n_rows)
    for X_view in mapped_views(X, n_rows):
        chunk = np.asarray(X_view, dtype=dtype, order="C")
        weights = None
        if weight_views is not None:
            weights = np.asarray(next(weight_views), dtype=np.float64) / weight_unit
        yield positive_weight_rows(chunk, weights)
    if weight_views is not None:
        weight_views.close()  # releases the last view


def read_rows(array, rows, n_rows, dtype):
    """``array[rows]`` in memory, in ``dtype``, read ``n_rows`` rows at a time.

    Parameters
    ----------
    array : ndarray of shape (n_samples, ...)
        Usually an ``np.memmap``.
    rows : ndarray of shape (n_chosen,)
        Sorted row indices. Reading them at once would bring in every page near
        one of them, which for a sample spread over a large map is all of it.
    n_rows : int
    dtype : dtype

    Returns
    -------
    chosen : ndarray of shape (n_chosen, ...)
    """
    chosen = np.empty((len(rows),) + array.shape[1:], dtype=dtype)
    bounds = np.searchsorted(rows, range(0, array.shape[0] + n_rows, n_rows))
    views = mapped_views(array, n_rows)
    for start, (view, low, high) in enumerate(
        zip(views, bounds[:-1], bounds[1:], strict=True)
    ):
        if low < high:
            chosen[low:high] = view[rows[low:high] - start * n_rows]
    return chosen


def positive_rows(sample_weight, ranks, n_rows):
    """The indices of the rows of positive weight of ranks ``ranks`` (sorted)
    among them, read ``n_rows`` weights at a time."""
    chosen = np.empty(len(ranks), dtype=np.intp)
    seen = 0
    for index, view in enumerate(mapped_views(sample_weight, n_rows)):
        positive = np.flatnonzero(np.asarray(view) > 0)
        low, high = np.searchsorted(ranks, [seen, seen + len(positive)])
        chosen[low:high] = positive[ranks[low:high] - seen] + index * n_rows
        seen += len(positive)
    return chosen
