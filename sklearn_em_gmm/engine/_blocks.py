"""Row blocks of the passes over the data, sized by the temporaries they make."""

import numpy as np

# Rows per block of the passes that prepare a fit (the data's mean and second
# moment, the initial statistics): about this many bytes of temporaries (2 MiB).
_BLOCK_BYTES = 1 << 21
_MIN_BLOCK_ROWS = 256
# The kernels' passes take blocks of up to 8 MiB of temporaries, of which up to 2
# MiB of expanded rows, which the moments product then reads again from cache.
_PASS_BYTES = 1 << 23
_EXPANDED_BYTES = 1 << 21


def row_blocks(n_samples, row_width, dtype=np.float64):
    """Consecutive slices covering ``range(n_samples)``, sized for ``row_width``.

    ``row_width`` counts the floats of temporaries per row, in ``dtype``.
    """
    row_bytes = max(row_width, 1) * np.dtype(dtype).itemsize
    return _slices(n_samples, _BLOCK_BYTES // row_bytes)


def _slices(n_samples, block_rows):
    """Consecutive slices of ``block_rows`` (at least ``_MIN_BLOCK_ROWS``) rows."""
    block_rows = max(_MIN_BLOCK_ROWS, block_rows)
    for start in range(0, n_samples, block_rows):
        yield slice(start, min(start + block_rows, n_samples))


def kernel_row_blocks(kernel, n_components, n_samples):
    """Row blocks of a pass of ``kernel``, sized by ``_PASS_BYTES`` for its
    temporaries (its expanded rows, then the log-densities and the two or so
    (n_components, rows) temporaries of the log-sum-exp) and by ``_EXPANDED_BYTES``
    for its expanded rows alone."""
    itemsize = np.dtype(kernel.dtype).itemsize
    block_rows = min(
        _PASS_BYTES // ((kernel.width + 3 * n_components) * itemsize),
        _EXPANDED_BYTES // (max(kernel.width, 1) * itemsize),
    )
    return _slices(n_samples, block_rows)


def data_mean(X, sample_weight):
    """Weighted mean of the rows in float64, whatever X's dtype and memory layout.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    mean : ndarray of shape (n_features,), float64
    """
    return data_sum(X, sample_weight) / total_weight(X, sample_weight)


def data_sum(X, sample_weight):
    """Weighted sum of the rows in float64 (see :func:`data_mean`)."""
    total = np.zeros(X.shape[1])
    for rows in row_blocks(X.shape[0], X.shape[1]):
        # C-ordered float64: the same sums for C- and Fortran-ordered X
        block = np.asarray(X[rows], dtype=np.float64, order="C")
        total += (
            block.sum(axis=0) if sample_weight is None else sample_weight[rows] @ block
        )
    return total


def total_weight(X, sample_weight):
    """The rows' weight sum: their number without weights."""
    return X.shape[0] if sample_weight is None else sample_weight.sum()


def positive_weight_rows(X, sample_weight):
    """The rows of positive weight: a zero weight removes its row, as in memory."""
    if sample_weight is None or np.all(sample_weight > 0):
        return X, sample_weight
    kept = sample_weight > 0
    return X[kept], sample_weight[kept]
