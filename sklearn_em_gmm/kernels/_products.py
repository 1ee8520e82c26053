"""Matrix products of the kernels, shaped for OpenBLAS, and the BLAS threads of a pass.

OpenBLAS runs products with few components up to twice as fast per flop on its
small-matrix path, so products over a block's rows are split into pieces that take
it; the measurements behind each size are in ``benchmarks/RESULTS.md``
("Measurements behind the kernels' constants").
"""

import functools
from contextlib import nullcontext

import numpy as np
from scipy import linalg

from .._threads import one_thread

# Largest product over C-ordered features (multiply-adds) and largest result of one
# over features built row by row, that take the small-matrix path; above 16
# components its general path is about as fast.
_SMALL_PRODUCT = 1_000_000
_SMALL_ROW_MAJOR_RESULT = 1024
_MAX_SMALL_PRODUCT_COMPONENTS = 16
# fewer rows per piece cost more calls than they save
_MIN_PRODUCT_ROWS = 256
# float32 moments are summed in pieces of at most this many floats (at least 256
# rows), then in float64: a float32 sum's rounding grows with its rows.
_FLOAT32_SUM_ELEMENTS = 1 << 16
_MIN_FLOAT32_SUM_ROWS = 256
# Floats in one pass's expanded rows above which BLAS threads are worth limiting
# (about one block's): setting the limit costs about 10 us.
_LARGE_PASS = 1 << 18


def blas_threads(kernel, n_rows):
    """Context for a pass of ``kernel`` over ``n_rows``: small products on one thread.

    Many small products are slowed down by OpenBLAS's threads; a kernel whose
    products are large (``kernel.large_products``) keeps the threads it is given
    (one in a small fit or prediction, see ``_threads.call_threads``).
    """
    if kernel.large_products or n_rows * kernel.width < _LARGE_PASS:
        return nullcontext()
    return one_thread()


def small_products(n_components):
    """Whether products with ``n_components`` are worth splitting for OpenBLAS's
    small-matrix path."""
    return n_components <= _MAX_SMALL_PRODUCT_COMPONENTS


def piece_rows(n_components, n_features, n_rows, row_major=False):
    """Rows per piece of a product over rows between (n_components, rows) and
    (n_features, rows) matrices: small enough for OpenBLAS's small-matrix path where
    that is faster, else all ``n_rows``. ``row_major``: the log-densities of
    features built row by row."""
    if not small_products(n_components):
        return max(1, n_rows)
    if row_major:
        return max(1, _SMALL_ROW_MAJOR_RESULT // max(1, n_components))
    products_per_row = max(1, n_components * n_features)
    return max(_MIN_PRODUCT_ROWS, _SMALL_PRODUCT // products_per_row)


def product_by_columns(left, right, out):
    """``out = left @ right``, in pieces of right's columns.

    ``left`` is (n_components, n_features), ``right`` (n_features, n_rows) in either
    order, ``out`` (n_components, n_rows).
    """
    n_components, n_rows = out.shape
    row_major = not right.flags.c_contiguous
    step = piece_rows(n_components, len(right), n_rows, row_major)
    for start in range(0, n_rows, step):
        columns = slice(start, start + step)
        np.matmul(left, right[:, columns], out=out[:, columns])
    return out


def sum_of_row_products(left, right):
    """``left @ right.T`` in float64: sums over rows (the trailing axis) of their
    products, in pieces of rows.

    float32 pieces hold at most ``_FLOAT32_SUM_ELEMENTS`` floats and are summed in
    float64, since the fast kernels' moments cancel.
    """
    step = piece_rows(len(left), len(right), left.shape[1])
    if left.dtype == np.float32:
        step = min(
            step, max(_MIN_FLOAT32_SUM_ROWS, _FLOAT32_SUM_ELEMENTS // len(right))
        )
    n_rows = left.shape[1]
    if step >= n_rows and left.dtype == np.float64:
        # C-ordered, as the statistics drawn from it must be
        return np.ascontiguousarray(row_products(left, right, slice(None)))
    total = np.zeros((len(left), len(right)))
    for start in range(0, n_rows, step):
        total += row_products(left, right, slice(start, start + step))
    return total


def row_products(left, right, rows):
    """``left[:, rows] @ right[:, rows].T``, the faster way round.

    A C-ordered ``right`` with at least as many rows as ``left`` goes first,
    ``(right @ left.T).T``, which OpenBLAS runs faster; with many components and
    few features the other way round is faster.
    """
    if right.flags.c_contiguous and len(right) >= len(left):
        return (right[:, rows] @ left[:, rows].T).T
    return left[:, rows] @ right[:, rows].T


def project(factor, columns, out):
    """``out = factor.T @ columns`` for an upper-triangular ``factor`` (d, d) and
    C-ordered ``columns`` and ``out`` (d, n_rows).

    By the triangular product (half a general one's work) in place, on the
    Fortran-ordered views ``out.T`` (n_rows, d) and the lower ``factor.T``:
    ``out.T = columns.T @ factor``.
    """
    np.copyto(out, columns)
    _triangular_product(out.dtype)(
        1.0, factor.T, out.T, side=1, lower=1, trans_a=1, overwrite_b=1
    )


@functools.cache
def _triangular_product(dtype):
    """BLAS's trmm for ``dtype``, found once: finding it costs more than a small
    product."""
    return linalg.blas.get_blas_funcs("trmm", dtype=dtype)
