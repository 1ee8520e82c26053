"""Per-block kernels of the E-step: log-densities of every component, then moments.

The kernels share one interface, used by the EM driver for each block of rows: the
``coefficients`` of the current parameters, once per pass (the log-densities they
give may be shifted down by a ``log_offset``); ``expand`` the rows once;
``weighted_log_prob`` of the expanded rows; ``moments`` of the expanded rows under
the responsibilities, given unnormalised with a factor per row (additive over blocks
with ``+``); and ``statistics`` of the summed moments.
Log-densities and responsibilities are component-major, shape (n_components, n_rows):
reductions over components then run along contiguous rows.

The fast kernels expand about a reference point ``c`` inside the data, with
``x~ = x - c``, ``mu~ = mu - c`` and ``P = U U.T``. Their rounding grows with the
squared Mahalanobis distance ``D = mu~.T P mu~`` of a component's mean from ``c``,
so they serve the components with ``D <= 1e6``, the exact kernels the others
(:class:`SplitKernel` runs both in one pass).

:class:`QuadraticKernel` (full in few dimensions, diag, spherical)::

    (x - mu).T P (x - mu) = x~.T P x~ - 2 (P mu~).T x~ + mu~.T P mu~

so with features ``phi(x~) = [x~_i x~_j (i <= j), x~, 1]`` (one row per feature;
only the squares ``x~_j**2`` for diagonal ``P``, only ``||x~||**2`` for spherical)
the weighted log-densities of all components are one matrix product ``W @ phi``, and
the moments about ``c`` of all components are another, ``resp @ phi.T``.

:class:`SharedPrecisionKernel` (tied): the quadratic part ``||U.T x~||**2`` is
shared by all components, and the M-step needs only the pooled scatter.

:class:`ComponentKernel` (full and tied, exact) and :class:`AxisAlignedKernel`
(diag and spherical, exact) centre the rows on each component's current mean,
``delta = x - mu_k``: the densities are ``||U_k.T delta||**2`` and the moments
``sum r delta``, ``sum r delta delta.T``, whose difference from the new mean is
small, so the scatter ``sum r delta delta.T - nk shift shift.T`` cancels little.
"""

import functools
import math
from contextlib import nullcontext

import numpy as np
from scipy import linalg
from threadpoolctl import ThreadpoolController

from ._stats import SufficientStatistics
from ._workspace import Workspace

# Widest feature expansion worth one matrix product (full covariances up to d = 32).
_MAX_QUADRATIC_WIDTH = 600
# Largest squared Mahalanobis distance D of a component's mean from the reference for
# the expansions about it: their terms are then at most D times what they cancel to,
# costing at most 6 of 16 digits (variances to ~D eps = 2e-10 relative, log-densities
# to ~4 D eps = 1e-9 absolute), well inside the 1e-8 of sklearn parity.
_MAX_CANCELLATION = 1e6
# The same for float32 arithmetic, for the cancellation in the scatter (per feature
# for diagonal covariances): variances to ~1e-4 relative, below the rounding of
# sklearn's own float32 moments about the origin on data a few deviations from it.
# (At D ~ 1e5, two tight clusters came out with variances 1e-2 off.)
_MAX_CANCELLATION_FLOAT32 = 1e3
# Largest fraction of the components the exact kernel takes over from a float32 fast
# kernel, to keep the fast kernel in float32 (none below 8 components).
_MAX_FLOAT32_EXACT_FRACTION = 0.125
# float32 moments are summed in chunks of rows holding at most this many floats, at
# least 256 rows (fewer cost more matrix products than they save rounding), then in
# float64.
_FLOAT32_SUM_ELEMENTS = 1 << 16
_MIN_FLOAT32_SUM_ROWS = 256
# OpenBLAS (the SkylakeX kernels of the numpy and scipy wheels) runs a product with
# few components up to twice as fast per flop on its small-matrix path. It takes that
# path for a product over C-ordered features (one row per feature) up to about 1e6
# multiply-adds (measured at k = 16, 65 features: 75 against 36 GFLOP/s in float32),
# and for the log-densities of features built row by row up to about 1e3 results (at
# k = 15, 257 features: 70 against 44 in float32, 40 against 33 in float64). From
# k = 32 its general path is as fast. So the fast kernels' products over a block's
# rows are split into pieces of that size, of at least 256 rows for C-ordered
# features (fewer cost more calls than they save).
_SMALL_PRODUCT = 1_000_000
_SMALL_ROW_MAJOR_RESULT = 1024
_MAX_SMALL_PRODUCT_COMPONENTS = 16
_MIN_PRODUCT_ROWS = 256
# Features from which quadratic features are built row by row (diag, spherical).
_ROW_MAJOR_FEATURES = 64
# Features from which the exact diag/spherical kernel subtracts the means from rows
# as they lie in X (measured faster from d = 32); below, X is transposed first.
_ROW_MAJOR_DELTAS = 32
# Largest copy of the data, centred and transposed, kept for a fit (see centred_data):
# 16 MiB, a bound on a fit's memory whatever the size of X.
_MAX_CENTRED_DATA_BYTES = 1 << 24
# Floats in one pass's expanded rows above which BLAS threads are worth limiting
# (about one block's).
_LARGE_PASS = 1 << 18


def blas_threads(kernel, n_rows):
    """Context for a pass of ``kernel`` over ``n_rows``: small products on one thread.

    The quadratic and axis-aligned kernels make many small matrix products, which
    OpenBLAS's threads slow down (3.5x at n=1e5, d=8, k=16 on 2 cores); the
    per-component kernel's large products keep the threads they are given. Setting
    the limit costs about 10 us once the libraries are known, worth it for a pass
    over more than ``_LARGE_PASS`` expanded floats.
    """
    if kernel.large_products or n_rows * kernel.width < _LARGE_PASS:
        return nullcontext()
    return _thread_controller().limit(limits=1, user_api="blas")


@functools.cache
def _thread_controller():
    """The BLAS libraries loaded, found once: finding them costs milliseconds."""
    return ThreadpoolController()


def select_kernel(
    model, params, reference, data_dtype=None, second_moment=None, workspace=None
):
    """The kernel for ``model`` and the current ``params``.

    Every kernel has a ``width``: the floats per row of an expanded block.
    ``reference`` is a point inside the data, where the fast kernels centre; they
    serve the components that lie near it, the exact per-component kernels the
    others (far clusters, or components collapsed to a tiny covariance).
    ``data_dtype``, X's dtype, joins that of the parameters: float32 arithmetic
    needs both in float32. ``second_moment`` is the data's about ``reference``,
    which the statistics of a shared covariance need (see
    :class:`SharedPrecisionKernel`). The kernels take their blocks' arrays from
    ``workspace``.
    """
    n_components, n_features = params.means.shape
    dtype = np.result_type(params.means, data_dtype or params.means.dtype)
    distances = _mean_distances(model, params, reference)
    near = distances <= _MAX_CANCELLATION
    # float32 data are computed in float32 where that loses no more than sklearn's
    # float32 arithmetic; float64 otherwise. A few components beyond that (small
    # ones collapsing onto a few rows) cost less in the exact float32 kernel than
    # every component in float64.
    fast_dtype = np.float64
    if dtype == np.float32:
        unsafe = near & ~_float32_safe(model, params, reference, distances)
        n_unsafe = int(np.count_nonzero(unsafe))
        if n_unsafe == 0 or (
            not model.pooled_scatter
            and n_unsafe <= n_components * _MAX_FLOAT32_EXACT_FRACTION
        ):
            near &= ~unsafe
            fast_dtype = np.float32
    exact_dtype = dtype
    if model.pooled_scatter:
        if near.all():
            return SharedPrecisionKernel(
                n_features, model, reference, fast_dtype, second_moment, workspace
            )
        return ComponentKernel(n_features, n_components, model, exact_dtype, workspace)
    fast = QuadraticKernel(n_features, model, reference, fast_dtype, workspace)
    if _quadratic_too_wide(model, fast.width, n_components):
        near[:] = False
    if near.all():
        return fast
    exact_kernel = ComponentKernel if model.full_scatter else AxisAlignedKernel
    exact = exact_kernel(
        n_features, int(np.sum(~near)), model, exact_dtype, fast.workspace
    )
    if not near.any():
        return exact
    return SplitKernel(fast, exact, near)


def _quadratic_too_wide(model, width, n_components):
    """Whether full covariances' quadratic expansion of ``width`` features costs
    more than the per-component kernel.

    The expansion costs about ``width`` writes per row, the per-component kernel
    about ``2 k d`` (measured on one core: at d = 32 the expansion loses for k = 3
    and wins for k = 16).
    """
    max_width = min(_MAX_QUADRATIC_WIDTH, 40 * n_components)
    return model.full_scatter and width > max_width


def _float32_safe(model, params, reference, distances):
    """Which components a float32 fast kernel serves with no more loss than
    sklearn's float32 arithmetic; ``distances`` are their ``D``.

    Their rounding grows with each component's distance from the reference, in two
    places. The scatter cancels the square of the mean: along ``D`` for full
    covariances, per feature for diagonal ones (``mu~_j**2 P_jj``), and over all
    features for spherical ones (``D / d``); each stays within
    ``_MAX_CANCELLATION_FLOAT32``. The log-densities round to a few ``D eps``, as
    sklearn's float32 diag/spherical expansion about the origin rounds to a few
    ``D0 eps`` with ``D0 = mu.T P mu``: ``D`` stays within the same limit or within
    ``2 D0`` (for full and tied, the first limit already holds ``D`` within it).
    """
    n_features = params.means.shape[1]
    if model.full_scatter:
        return distances <= _MAX_CANCELLATION_FLOAT32
    if model.isotropic:
        cancellation = distances / n_features
    else:
        cancellation = np.max(_per_feature_distances(model, params, reference), axis=1)
    origin_distances = _mean_distances(model, params, np.zeros(n_features))
    rounding_limit = np.maximum(_MAX_CANCELLATION_FLOAT32, 2 * origin_distances)
    return (cancellation <= _MAX_CANCELLATION_FLOAT32) & (distances <= rounding_limit)


def _mean_distances(model, params, reference):
    """Squared Mahalanobis distance of each component's mean from ``reference``."""
    if model.full_scatter:
        centred_means, precisions = _centred_means_and_precisions(
            model, params, reference
        )
        return np.einsum("ki,kij,kj->k", centred_means, precisions, centred_means)
    return np.sum(_per_feature_distances(model, params, reference), axis=1)


def _per_feature_distances(model, params, reference):
    """``(mu_kj - c_j)**2 P_kj`` for axis-aligned models, shape (k, d)."""
    centred_means, precisions = _centred_means_and_precisions(model, params, reference)
    return centred_means**2 * precisions


def _centred_means_and_precisions(model, params, reference):
    """``mu - reference`` (k, d) and the precision matrices or diagonals, in float64."""
    n_components, n_features = params.means.shape
    precisions = model.component_precisions(
        params.precisions_cholesky.astype(np.float64), n_components, n_features
    )
    return params.means.astype(np.float64) - reference, precisions


def _copy_centred(out, X, reference, centred=None):
    """``out[:] = (X - reference).T`` in out's dtype; ``reference`` None: ``X.T``.

    ``centred``, if given in out's dtype, is these columns already computed (see
    :func:`centred_data`), which are copied instead.
    """
    if centred is not None and centred.dtype == out.dtype:
        np.copyto(out, centred)
        return
    # transposing first is faster than subtracting along a short trailing axis
    np.copyto(out, X.T)
    if reference is not None:
        out -= reference[:, np.newaxis].astype(out.dtype)


def centred_data(X, reference, model, n_components):
    """``(X - reference).T`` for the fast kernels of a whole fit, or None.

    Transposing and centring the rows costs a fast kernel's pass about 2 ns per
    value of X at d = 32, half the pass; a copy kept for the fit spares it in every
    iteration. The copy is in X's dtype, about ``reference`` rounded to it, as the
    kernels of that dtype compute it. It is kept only up to
    ``_MAX_CENTRED_DATA_BYTES``, so that a fit's memory stays bounded, and below
    ``_ROW_MAJOR_FEATURES``: from there diagonal and spherical expansions take the
    rows as they lie in X, and full and tied passes spend their time in products
    (measured: a copy made them slower at d = 128). Nor is it made for full
    covariances too wide for the quadratic kernel, whose exact kernel does not use it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    reference : ndarray of shape (n_features,)
    model : CovarianceModel
    n_components : int

    Returns
    -------
    centred : ndarray of shape (n_features, n_samples), or None
    """
    n_features = X.shape[1]
    if X.nbytes > _MAX_CENTRED_DATA_BYTES or n_features >= _ROW_MAJOR_FEATURES:
        return None
    if not model.pooled_scatter:
        width = QuadraticKernel(n_features, model, reference).width
        if _quadratic_too_wide(model, width, n_components):
            return None
    centred = np.empty(X.shape[::-1], dtype=X.dtype)
    _copy_centred(centred, X, reference)
    return centred


def _statistics_about(reference, nk, sums, second, eps):
    """Sufficient statistics from moments about ``reference``.

    ``sums`` (k, d) are the weighted sums of ``x~ = x - reference`` and ``second``
    their second moments ``sum r x~ x~.T`` (k, d, d), ``sum r x~**2`` (k, d) or
    ``sum r ||x~||**2`` (k,), accumulated with rounding ``eps``.
    """
    centred_means = np.divide(
        sums, nk[:, np.newaxis], out=np.zeros_like(sums), where=nk[:, None] > 0
    )
    if second.ndim == 1:
        # total scatter sum r ||x~||**2 - nk ||m~||**2, spread evenly over the
        # features: an isotropic model needs only its mean over them
        total = second - nk * np.sum(centred_means**2, axis=1)
        total = _variance_floor(total, second, eps)
        scatter = np.repeat(total[:, None] / sums.shape[1], sums.shape[1], axis=1)
    elif second.ndim == 2:
        # per-feature scatter: sum r x~**2 - nk m~**2
        scatter = _variance_floor(second - nk[:, None] * centred_means**2, second, eps)
    else:
        # centred scatter: sum r x~ x~.T - nk m~ m~.T
        scatter = second - nk[:, None, None] * (
            centred_means[:, :, None] * centred_means[:, None, :]
        )
        _floor_scatter(scatter, second, eps)
    return SufficientStatistics(nk, centred_means + reference, scatter)


def _floor_scatter(scatter, second, eps):
    """Zero the (d, d) scatter entries below the rounding error of their moments.

    In place. Like :func:`_variance_floor` for the diagonal; off the diagonal the
    raw moment ``sum r x~_i x~_j`` carries an error of a few
    ``eps * sqrt(sum r x~_i**2 * sum r x~_j**2)``.
    """
    diagonal = np.arange(scatter.shape[-1])
    variances = second[..., diagonal, diagonal]
    scale = np.sqrt(np.maximum(variances, 0.0))
    noise = 16 * eps * scale[..., :, None] * scale[..., None, :]
    scatter[np.abs(scatter) <= noise] = 0.0
    scatter[..., diagonal, diagonal] = _variance_floor(
        scatter[..., diagonal, diagonal], variances, eps
    )


def _log_density_constants(model, params, n_features, log_offset=0.0):
    """``log w_k + log det U_k - d log(2 pi) / 2 - log_offset`` for each component."""
    with np.errstate(divide="ignore"):  # a zero initial weight is a valid -inf
        log_weights = np.log(params.weights.astype(np.float64))
    log_det = model.log_det_cholesky(
        params.precisions_cholesky.astype(np.float64), n_features
    )
    return (
        log_weights + log_det - (0.5 * n_features * math.log(2 * math.pi) + log_offset)
    )


def log_density_bound(model, params):
    """An upper bound of every weighted log-density: its largest constant.

    ``log w_k + log N(x | mu_k, Sigma_k)`` is its constant minus half a squared
    distance, so at most the constant; 0 when no constant is finite.
    """
    constants = _log_density_constants(model, params, params.means.shape[1])
    finite = constants[np.isfinite(constants)]
    return float(finite.max()) if len(finite) else 0.0


def _small_products(n_components):
    """Whether products with ``n_components`` are worth splitting for OpenBLAS's
    small-matrix path (see ``_SMALL_PRODUCT``)."""
    return n_components <= _MAX_SMALL_PRODUCT_COMPONENTS


def _piece_rows(n_components, n_features, n_rows, row_major=False):
    """Rows per piece of a product over rows between (n_components, rows) and
    (n_features, rows) matrices: small enough for OpenBLAS's small-matrix path where
    that is faster (see ``_SMALL_PRODUCT``), else all ``n_rows``. ``row_major``: the
    log-densities of features built row by row."""
    if not _small_products(n_components):
        return max(1, n_rows)
    if row_major:
        return max(1, _SMALL_ROW_MAJOR_RESULT // max(1, n_components))
    products_per_row = max(1, n_components * n_features)
    return max(_MIN_PRODUCT_ROWS, _SMALL_PRODUCT // products_per_row)


def _product_by_columns(left, right, out):
    """``out = left @ right``, in pieces of right's columns (see ``_SMALL_PRODUCT``).

    ``left`` is (n_components, n_features), ``right`` (n_features, n_rows) in either
    order, ``out`` (n_components, n_rows).
    """
    n_components, n_rows = out.shape
    row_major = not right.flags.c_contiguous
    step = _piece_rows(n_components, len(right), n_rows, row_major)
    for start in range(0, n_rows, step):
        columns = slice(start, start + step)
        np.matmul(left, right[:, columns], out=out[:, columns])
    return out


def _sum_of_row_products(left, right):
    """``left @ right.T`` in float64: sums over rows (the trailing axis) of their
    products, in pieces of rows (see ``_SMALL_PRODUCT``).

    float32 pieces hold at most ``_FLOAT32_SUM_ELEMENTS`` floats (at least 256 rows)
    and are summed in float64: a sum's rounding grows with its rows, and the fast
    kernels' moments cancel up to ``_MAX_CANCELLATION_FLOAT32`` times (measured at
    d = 64, per-feature cancellation up to ~400: variances 3e-4 off over 1859 rows,
    5e-5 over 508).
    """
    step = _piece_rows(len(left), len(right), left.shape[1])
    if left.dtype == np.float32:
        step = min(
            step, max(_MIN_FLOAT32_SUM_ROWS, _FLOAT32_SUM_ELEMENTS // len(right))
        )
    n_rows = left.shape[1]
    if step >= n_rows and left.dtype == np.float64:
        # C-ordered, as the statistics drawn from it must be
        return np.ascontiguousarray(_row_products(left, right, slice(None)))
    total = np.zeros((len(left), len(right)))
    for start in range(0, n_rows, step):
        total += _row_products(left, right, slice(start, start + step))
    return total


def _row_products(left, right, rows):
    """``left[:, rows] @ right[:, rows].T``, the faster way round.

    A C-ordered ``right`` with at least as many rows as ``left`` goes first,
    ``(right @ left.T).T``: OpenBLAS is up to twice as fast that way (measured in
    float32 at 561 features: k = 3, 16), and up to 1.7 times slower for many
    components and few features (k = 64, 6 features).
    """
    if right.flags.c_contiguous and len(right) >= len(left):
        return (right[:, rows] @ left[:, rows].T).T
    return left[:, rows] @ right[:, rows].T


@functools.cache
def _upper_triangle(n_features):
    """Row and column indices of the upper triangle, diagonal included."""
    return np.triu_indices(n_features)


class QuadraticKernel:
    """Log-densities and moments from quadratic features of centred rows.

    Parameters
    ----------
    n_features : int
    model : CovarianceModel
        With full covariance matrices (``full_scatter``), the features hold every
        product ``x~_i x~_j``; with one variance per component (``isotropic``) only
        ``||x~||**2``; otherwise the squares ``x~_j**2``.
    reference : ndarray of shape (n_features,)
        The point ``c`` the rows are centred on; near the data's mean it keeps the
        expansion free of cancellation for data far from the origin.
    dtype : {np.float64, np.float32}
        Of the arithmetic; the moments of the blocks are summed in float64.
    """

    large_products = False  # many small products: see blas_threads

    def __init__(self, n_features, model, reference, dtype=np.float64, workspace=None):
        self.workspace = workspace or Workspace()
        self.model = model
        self.n_features = n_features
        # rounded to the arithmetic's dtype, so that expansion and moments agree
        self.reference = np.asarray(reference, dtype=dtype).astype(np.float64)
        self.dtype = dtype
        if model.full_scatter:
            self._rows, self._cols = _upper_triangle(n_features)
        else:
            self._rows = self._cols = np.arange(n_features)
        self.n_quadratic = 1 if model.isotropic else len(self._rows)
        self.width = self.n_quadratic + n_features + 1

    def expand(self, X, coefficients, centred=None):
        """``phi(x - c)`` for each row, shape (width, n_rows).

        ``centred`` is ``(X - c).T`` if already computed (see ``centred_data``).
        Built row by row (and returned transposed) where rows are long enough for
        that to be fast, which spares transposing X.
        """
        d, quadratic = self.n_features, self.n_quadratic
        if self.model.full_scatter or d < _ROW_MAJOR_FEATURES:
            shape = (self.width, X.shape[0])
            phi = self.workspace.empty("quadratic.phi", shape, self.dtype)
            _copy_centred(phi[quadratic : quadratic + d], X, self.reference, centred)
        else:
            shape = (X.shape[0], self.width)
            phi = self.workspace.empty("quadratic.phi", shape, self.dtype).T
            reference = self.reference.astype(self.dtype)
            np.subtract(X, reference, out=phi[quadratic : quadratic + d].T)
        linear = phi[quadratic : quadratic + d]
        if self.model.full_scatter:
            start = 0
            for i in range(d):
                np.multiply(linear[i], linear[i:], out=phi[start : start + d - i])
                start += d - i
        elif self.model.isotropic:
            np.einsum("in,in->n", linear, linear, out=phi[0])
        else:
            np.square(linear, out=phi[:d])
        phi[-1] = 1.0
        return phi

    def _precisions_and_centred_means(self, params):
        """Precision matrices (k, d, d), or their diagonals (k, d), and ``mu - c``."""
        centred_means, precisions = _centred_means_and_precisions(
            self.model, params, self.reference
        )
        if self.model.full_scatter:
            precision_means = np.einsum("kij,kj->ki", precisions, centred_means)
        else:
            precision_means = precisions * centred_means
        return precisions, centred_means, precision_means

    def coefficients(self, params, log_offset=0.0):
        """``W`` (n_components, width): ``W @ phi`` are the log-densities less
        ``log_offset``."""
        precisions, centred_means, precision_means = self._precisions_and_centred_means(
            params
        )
        if self.model.full_scatter:
            # x~.T P x~ sums P_ij x~_i x~_j over all i, j: off-diagonal terms twice
            quadratic = precisions[:, self._rows, self._cols]
            quadratic *= np.where(self._rows == self._cols, -0.5, -1.0)
        elif self.model.isotropic:
            quadratic = -0.5 * precisions[:, :1]
        else:
            quadratic = -0.5 * precisions
        constant = -0.5 * np.sum(centred_means * precision_means, axis=1)
        constant += _log_density_constants(
            self.model, params, self.n_features, log_offset
        )
        weights = np.hstack([quadratic, precision_means, constant[:, np.newaxis]])
        return weights.astype(self.dtype)

    def weighted_log_prob(self, phi, coefficients):
        """``log w_k + log N(x | mu_k, Sigma_k) - log_offset``, (n_components, rows)."""
        shape = (len(coefficients), phi.shape[1])
        log_prob = self.workspace.empty("quadratic.log_prob", shape, self.dtype)
        if (
            self.dtype == np.float32
            and not phi.flags.c_contiguous
            and not _small_products(len(coefficients))
        ):
            # OpenBLAS's float32 product with many components is faster on phi
            # built row by row taken as (rows, k), then transposed (measured at
            # d = 128, k = 64: 88 against 79 GFLOP/s; float64 gains nothing)
            row_major = self.workspace.empty(
                "quadratic.row_major_log_prob", shape[::-1], self.dtype
            )
            np.copyto(log_prob, np.matmul(phi.T, coefficients.T, out=row_major).T)
            return log_prob
        return _product_by_columns(coefficients, phi, log_prob)

    def moments(self, phi, resp, row_scale):
        """Moments about ``c`` of each component, shape (k, width).

        The responsibilities are ``resp * row_scale``; the factor goes on the
        narrower of ``resp`` and ``phi``, both spent.
        """
        if self.width < len(resp):
            phi *= row_scale
        else:
            resp *= row_scale
        return _sum_of_row_products(resp, phi)

    def statistics(self, moments, coefficients):
        """Sufficient statistics (centred) from moments summed over all rows."""
        d, quadratic = self.n_features, self.n_quadratic
        second = moments[:, :quadratic]
        if self.model.full_scatter:
            second = np.empty((len(moments), d, d))
            second[:, self._rows, self._cols] = moments[:, :quadratic]
            second[:, self._cols, self._rows] = moments[:, :quadratic]
        elif self.model.isotropic:
            second = moments[:, 0]
        sums = moments[:, quadratic : quadratic + d]
        nk = moments[:, -1].copy()
        eps = np.finfo(self.dtype).eps
        return _statistics_about(self.reference, nk, sums, second, eps)


class SharedPrecisionKernel:
    """Tied covariance: the quadratic part of the densities is shared.

    With ``z = U.T x~`` and ``v_k = U.T mu~_k``::

        -(x - mu_k).T P (x - mu_k) / 2 = -||z||**2 / 2 + v_k.T z - ||v_k||**2 / 2

    so with ``[z; -||z||**2 / 2; 1]`` the log-densities are one product. The M-step
    needs only the pooled scatter ``sum w x~ x~.T - sum_k nk m~_k m~_k.T``: each
    row's responsibilities sum to its weight ``w``, so its first term is the data's
    second moment about ``c``, the same in every iteration (sklearn's ``X.T @ X``),
    given as ``second_moment``; only the first moments ``resp @ x~.T`` are left to
    each pass.
    """

    large_products = False

    def __init__(
        self,
        n_features,
        model,
        reference,
        dtype=np.float64,
        second_moment=None,
        workspace=None,
    ):
        self.workspace = workspace or Workspace()
        self.model = model
        self.n_features = n_features
        # rounded to the arithmetic's dtype, so that expansion and moments agree
        self.reference = np.asarray(reference, dtype=dtype).astype(np.float64)
        self.dtype = dtype
        self.second_moment = second_moment
        self.width = 2 * n_features + 3

    def expand(self, X, coefficients, centred=None):
        """``[x~; 1]`` and ``[z; -||z||**2 / 2; 1]``, each of shape (d + 2, n_rows).

        ``centred`` is ``(X - c).T`` if already computed (see ``centred_data``).
        """
        d, n_rows = self.n_features, X.shape[0]
        shape = (d + 1, n_rows)
        centred_ones = self.workspace.empty("shared.centred", shape, self.dtype)
        _copy_centred(centred_ones[:d], X, self.reference, centred)
        centred_ones[-1] = 1.0
        shape = (d + 2, n_rows)
        features = self.workspace.empty("shared.features", shape, self.dtype)
        _project(coefficients[0], centred_ones[:d], out=features[:d])
        np.einsum("in,in->n", features[:d], features[:d], out=features[d])
        features[d] *= -0.5
        features[-1] = 1.0
        return centred_ones, features

    def coefficients(self, params, log_offset=0.0):
        factor = params.precisions_cholesky.astype(np.float64)
        projected_means = (params.means.astype(np.float64) - self.reference) @ factor
        constants = _log_density_constants(
            self.model, params, self.n_features, log_offset
        )
        constants -= 0.5 * np.sum(projected_means**2, axis=1)
        ones = np.ones((len(constants), 1))
        weights = np.hstack([projected_means, ones, constants[:, np.newaxis]])
        return factor.astype(self.dtype), weights.astype(self.dtype)

    def weighted_log_prob(self, block, coefficients):
        shape = (len(coefficients[1]), block[1].shape[1])
        log_prob = self.workspace.empty("shared.log_prob", shape, self.dtype)
        return _product_by_columns(coefficients[1], block[1], log_prob)

    def moments(self, block, resp, row_scale):
        """``[sum r_k x~, nk]`` of each component, shape (k, d + 1)."""
        resp *= row_scale
        return _sum_of_row_products(resp, block[0])

    def statistics(self, moments, coefficients):
        d = self.n_features
        nk = moments[:, d].copy()
        centred_means = np.divide(
            moments[:, :d],
            nk[:, np.newaxis],
            out=np.zeros((len(nk), d)),
            where=nk[:, None] > 0,
        )
        if self.second_moment is None:
            raise ValueError("the pooled scatter needs the data's second moment")
        between = np.einsum("k,ki,kj->ij", nk, centred_means, centred_means)
        scatter = self.second_moment - between
        _floor_scatter(scatter, self.second_moment, np.finfo(self.dtype).eps)
        return SufficientStatistics(
            nk, centred_means + self.reference, scatter[np.newaxis]
        )


def _variance_floor(scatter, raw_second_moment, eps):
    """Zero the scatter that is below the rounding error of its raw moments.

    ``sum r x~**2 - nk m~**2`` carries an error of a few ``eps * sum r x~**2`` (eps
    of the arithmetic that accumulated it): a
    smaller value is indistinguishable from zero (identical rows), and is zero.
    """
    noise = 16 * eps * raw_second_moment
    return np.where(scatter > noise, scatter, 0.0)


def _project(factor, columns, out):
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


class ComponentKernel:
    """Full and tied covariances, exactly: rows centred on each component's mean.

    An expanded block holds ``[x - mu_k; 1]`` for every component, shape
    (n_components, d + 1, n_rows). The densities are ``||U_k.T (x - mu_k)||**2``
    (one batched product); the moments of each component are one symmetric
    product ``B B.T`` for ``B = sqrt(r_k) [x - mu_k; 1]``, whose last row holds
    ``nk`` and ``sum r (x - mu_k)``. The new mean moves by ``delta``, the mean of
    ``x - mu_k``, and the scatter ``sum r (x - mu_k)(x - mu_k).T - nk delta delta.T``
    cancels little.
    """

    large_products = True  # per-component products that use BLAS threads

    def __init__(
        self, n_features, n_components, model, dtype=np.float64, workspace=None
    ):
        self.workspace = workspace or Workspace()
        self.model = model
        self.n_features = n_features
        self.dtype = dtype
        self.width = n_components * (n_features + 1)

    def coefficients(self, params, log_offset=0.0):
        constants = _log_density_constants(
            self.model, params, self.n_features, log_offset
        )
        return (
            params.means.astype(np.float64),
            np.ascontiguousarray(params.precisions_cholesky, dtype=self.dtype),
            constants[:, np.newaxis].astype(self.dtype),
        )

    def expand(self, X, coefficients, centred=None):
        # the rows are centred on each mean, from X itself: ``centred`` is unused
        means = coefficients[0]
        d, n_rows = self.n_features, X.shape[0]
        columns = self.workspace.empty("component.columns", (d, n_rows), self.dtype)
        _copy_centred(columns, X, None)
        shape = (len(means), d + 1, n_rows)
        deltas = self.workspace.empty("component.deltas", shape, self.dtype)
        np.subtract(
            columns, means[:, :, np.newaxis].astype(self.dtype), out=deltas[:, :d]
        )
        deltas[:, d] = 1.0
        return deltas

    def weighted_log_prob(self, block, coefficients):
        _, factors, constants = coefficients
        d = self.n_features
        n_rows = block.shape[2]
        shape = (len(constants), n_rows)
        log_prob = self.workspace.empty("component.log_prob", shape, self.dtype)
        projected = self.workspace.empty("component.projected", (d, n_rows), self.dtype)
        for k, centred in enumerate(block[:, :d]):
            factor = factors if factors.ndim == 2 else factors[k]
            _project(factor, centred, out=projected)  # U_k.T (x - mu_k)
            np.einsum("in,in->n", projected, projected, out=log_prob[k])
        log_prob *= -0.5
        log_prob += constants
        return log_prob

    def moments(self, block, resp, row_scale):
        """``sum r [x - mu_k; 1] [x - mu_k; 1].T``, shape (k, d + 1, d + 1)."""
        resp *= row_scale
        # numpy computes B @ B.T with the symmetric rank-k update: half the products
        block *= np.sqrt(resp, out=resp)[:, np.newaxis, :]
        return np.stack([component @ component.T for component in block])

    def statistics(self, moments, coefficients):
        d = self.n_features
        nk = moments[:, d, d].copy()
        second = np.ascontiguousarray(moments[:, :d, :d])
        eps = np.finfo(self.dtype).eps
        statistics = _statistics_about(np.zeros(d), nk, moments[:, d, :d], second, eps)
        return SufficientStatistics(
            nk, statistics.means + coefficients[0], statistics.scatter
        )


class AxisAlignedKernel:
    """Exact log-densities and moments for diagonal and spherical covariances.

    An expanded block holds ``delta = x - mu_k`` and ``delta**2`` for every
    component, each of shape (n_components, n_features, n_rows), or (n_components,
    n_rows, n_features) where rows are long enough to be subtracted as they lie in
    X, which spares transposing them; the densities and the moments are then
    batched matrix-vector products over components. As in :class:`ComponentKernel`,
    the scatter cancels little, so float32 data are computed in float32.
    """

    large_products = False

    def __init__(
        self, n_features, n_components, model, dtype=np.float64, workspace=None
    ):
        self.workspace = workspace or Workspace()
        self.model = model
        self.n_features = n_features
        self.dtype = dtype
        self.width = 2 * n_components * n_features
        self._row_major = n_features >= _ROW_MAJOR_DELTAS

    def coefficients(self, params, log_offset=0.0):
        n_components = len(params.weights)
        precisions = self.model.component_precisions(
            params.precisions_cholesky.astype(np.float64), n_components, self.n_features
        )
        constants = _log_density_constants(
            self.model, params, self.n_features, log_offset
        )
        return (
            params.means.astype(self.dtype),
            # -P/2, as a (d, 1) matrix per component
            (-0.5 * precisions[:, :, np.newaxis]).astype(self.dtype),
            constants[:, np.newaxis].astype(self.dtype),
        )

    def expand(self, X, coefficients, centred=None):
        # the rows are centred on each mean, from X itself: ``centred`` is unused
        means = coefficients[0]
        k, (n_rows, d) = len(means), X.shape
        if self._row_major:
            shape = (k, n_rows, d)
            deltas = self.workspace.empty("axis_aligned.deltas", shape, self.dtype)
            data = X.astype(self.dtype, copy=False)
            np.subtract(data[np.newaxis], means[:, np.newaxis], out=deltas)
        else:
            shape = (k, d, n_rows)
            deltas = self.workspace.empty("axis_aligned.deltas", shape, self.dtype)
            rows = self.workspace.empty("axis_aligned.rows", (d, n_rows), self.dtype)
            _copy_centred(rows, X, None)
            np.subtract(rows[np.newaxis], means[:, :, np.newaxis], out=deltas)
        squares = self.workspace.empty("axis_aligned.squares", shape, self.dtype)
        return deltas, np.square(deltas, out=squares)

    def weighted_log_prob(self, block, coefficients):
        _, half_precisions, constants = coefficients
        squares = block[1]
        n_rows = squares.shape[1] if self._row_major else squares.shape[2]
        log_prob = self.workspace.empty(
            "axis_aligned.log_prob", (len(constants), n_rows), self.dtype
        )
        # -(x - mu).T P (x - mu) / 2 = sum_j (-P_jj / 2) delta_j**2
        if self._row_major:
            np.matmul(squares, half_precisions, out=log_prob[:, :, np.newaxis])
        else:
            row_vectors = half_precisions.transpose(0, 2, 1)
            np.matmul(row_vectors, squares, out=log_prob[:, np.newaxis, :])
        log_prob += constants
        return log_prob

    def moments(self, block, resp, row_scale):
        """Per component: weight sum, ``sum r delta`` and ``sum r delta**2``."""
        deltas, squares = block
        weighted_resp = np.multiply(resp, row_scale, out=resp)
        if self._row_major:
            resp = weighted_resp[:, np.newaxis, :]
            first = np.matmul(resp, deltas)[:, 0, :]
            second = np.matmul(resp, squares)[:, 0, :]
        else:
            resp = weighted_resp[:, :, np.newaxis]
            first = np.matmul(deltas, resp)[:, :, 0]
            second = np.matmul(squares, resp)[:, :, 0]
        nk = weighted_resp.sum(axis=1)
        return np.hstack([nk[:, np.newaxis], first, second])

    def statistics(self, moments, coefficients):
        d = self.n_features
        nk = moments[:, 0].copy()
        first, second = moments[:, 1 : 1 + d], moments[:, 1 + d :]
        shift = np.divide(
            first, nk[:, np.newaxis], out=np.zeros_like(first), where=nk[:, None] > 0
        )
        scatter = _variance_floor(
            second - nk[:, np.newaxis] * shift**2, second, np.finfo(self.dtype).eps
        )
        return SufficientStatistics(nk, coefficients[0] + shift, scatter)


class SplitKernel:
    """Two kernels, each serving a subset of the components.

    The fast kernel serves the components near the reference, the exact one the
    rest; their log-densities fill the rows of one (n_components, n_rows) array.
    """

    def __init__(self, fast, exact, fast_components):
        self.workspace = fast.workspace
        self.kernels = (fast, exact)
        self.subsets = (fast_components, ~fast_components)
        self.width = fast.width + exact.width
        self.dtype = np.result_type(fast.dtype, exact.dtype)
        self.large_products = exact.large_products
        self._moment_shapes = None

    def coefficients(self, params, log_offset=0.0):
        return tuple(
            kernel.coefficients(_components(params, subset), log_offset)
            for kernel, subset in zip(self.kernels, self.subsets, strict=True)
        )

    def expand(self, X, coefficients, centred=None):
        return tuple(
            kernel.expand(X, coefs, centred)
            for kernel, coefs in zip(self.kernels, coefficients, strict=True)
        )

    def weighted_log_prob(self, block, coefficients):
        shape = (len(self.subsets[0]), block[0].shape[-1])
        log_prob = self.workspace.empty("split.log_prob", shape, self.dtype)
        for kernel, subset, part, coefs in zip(
            self.kernels, self.subsets, block, coefficients, strict=True
        ):
            log_prob[subset] = kernel.weighted_log_prob(part, coefs)
        return log_prob

    def moments(self, block, resp, row_scale):
        """Both kernels' moments, flattened into one array (additive over blocks)."""
        moments = []
        for kernel, subset, part in zip(self.kernels, self.subsets, block, strict=True):
            part_resp, part_scale = resp[subset], row_scale
            if part_resp.dtype != kernel.dtype:
                # a float32 part beside a float64 one: scaled in float64, where the
                # factors of rows no component explains (~e^700) stay finite
                part_resp = (part_resp * row_scale).astype(kernel.dtype)
                part_scale = np.ones(len(row_scale), dtype=kernel.dtype)
            moments.append(kernel.moments(part, part_resp, part_scale))
        self._moment_shapes = [m.shape for m in moments]
        return np.concatenate([m.ravel() for m in moments])

    def statistics(self, moments, coefficients):
        first_size = math.prod(self._moment_shapes[0])
        parts = (moments[:first_size], moments[first_size:])
        n_components = len(self.subsets[0])
        nk, means, scatter = None, None, None
        for kernel, subset, part, shape, coefs in zip(
            self.kernels,
            self.subsets,
            parts,
            self._moment_shapes,
            coefficients,
            strict=True,
        ):
            stats = kernel.statistics(part.reshape(shape), coefs)
            if nk is None:
                nk = np.empty(n_components)
                means = np.empty((n_components,) + stats.means.shape[1:])
                scatter = np.empty((n_components,) + stats.scatter.shape[1:])
            nk[subset], means[subset], scatter[subset] = (
                stats.nk,
                stats.means,
                stats.scatter,
            )
        return SufficientStatistics(nk, means, scatter)


def _components(params, subset):
    """``params`` of the components in ``subset`` (a boolean mask)."""
    return type(params)(*(array[subset] for array in params))
