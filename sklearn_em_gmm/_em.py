"""The EM driver on plain arrays.

One pass over the rows, block by block, gives the responsibilities, the log-likelihood
and the sufficient statistics (E-step); the statistics give the next parameters
(M-step). Nothing here knows which covariance model it runs: that is ``model``'s job.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._kernels import blas_threads, centred_data, log_density_bound, select_kernel
from ._stats import SufficientStatistics
from ._workspace import Workspace

# Rows per block of the passes that prepare a fit (the data's mean and second
# moment, the initial statistics) are chosen so that a block's temporaries hold about
# this many bytes (2 MiB).
_BLOCK_BYTES = 1 << 21
_MIN_BLOCK_ROWS = 256
# The kernels' passes (every EM iteration, predict and score) take blocks of up to
# 8 MiB of temporaries, of which up to 2 MiB of expanded rows: the E-step's moments
# product reads those again, from cache. Measured over 20 configurations of the
# benchmark's grid against 2 MiB for all: 1.08x (geometric mean; up to 1.2x at d = 8,
# k = 16, where the cost of each numpy call spreads over more rows; 0.93x at worst,
# d = 32, k = 16 spherical); predict up to 1.25x.
_PASS_BYTES = 1 << 23
_EXPANDED_BYTES = 1 << 21
# float64 terms are floored at this fraction of their shift (each row's largest term,
# or the bound), which keeps exp out of its slow subnormal range: exp(-700) ~ 1e-304
# is normal. (float32 exp has no slow range; its terms below exp(-80) ~ 2e-35 times
# the row's largest count as floored.)
_LOG_NEGLIGIBLE = {np.dtype(np.float64): -700.0, np.dtype(np.float32): -80.0}
# float64 exp(x) rounds to zero below log(2**-1075) = -745.13
_LOG_UNDERFLOW = -746.0
# Log-densities shifted by a bound rather than by each row's largest term: a row whose
# terms sum to less than exp(-40) is shifted by its own largest term instead, so that
# floored or underflowed terms stay negligible beside it. Once a block has more than
# this fraction of such rows, the pass's later blocks shift every row by its own.
_LOG_MIN_ROW_SUM = -40.0
_MAX_OWN_SHIFT_FRACTION = 0.125
_MAX_FLOOR_SCALE = math.exp(-_LOG_MIN_ROW_SUM)


class MixtureParameters(NamedTuple):
    """Parameters of a Gaussian mixture, laid out as sklearn's fitted attributes."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    precisions_cholesky: np.ndarray


@dataclass
class EMResult:
    """Outcome of one EM run from one initialisation."""

    params: MixtureParameters
    lower_bound: float
    lower_bounds: list
    n_iter: int
    converged: bool


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
    total = np.zeros(X.shape[1])
    for rows in row_blocks(X.shape[0], X.shape[1]):
        # a C-ordered float64 copy: the same sums for C- and Fortran-ordered X
        block = np.array(X[rows], dtype=np.float64, order="C")
        total += (
            block.sum(axis=0) if sample_weight is None else sample_weight[rows] @ block
        )
    return total / (X.shape[0] if sample_weight is None else sample_weight.sum())


def _exp_above_floor(log_prob, out, workspace):
    """``exp(log_prob)`` into ``out``, float64 terms floored at ``exp(-700)``.

    float64 exp is 30 times slower where its result is subnormal; what is cut off
    weighs less than 1e-300 beside the shift. (A floor per row is a faster fmax than
    a scalar floor.) float32 exp has no slow range and is not floored.
    """
    if log_prob.dtype == np.float64:
        floor = workspace.empty("floor", log_prob.shape[1:], np.float64)
        floor.fill(_LOG_NEGLIGIBLE[log_prob.dtype])
        np.fmax(log_prob, floor, out=out)
        np.exp(out, out=out)
    else:
        np.exp(log_prob, out=out)


def exponentiate_log_prob(log_prob, workspace=None):
    """Turn weighted log-densities into unnormalised responsibilities, in place.

    Parameters
    ----------
    log_prob : ndarray of shape (n_components, n_rows)
        ``log w_k + log N(x | mu_k, Sigma_k)``; on return ``exp(log_prob - m)`` for
        each row's largest term ``m``, which the responsibilities are once divided
        by ``row_sum``. Terms are floored at ``exp(_LOG_NEGLIGIBLE)`` in float64; in
        float32 only in rows that sum to zero or NaN.
    workspace : Workspace, optional
        Where the returned arrays are taken from: valid until its next use.

    Returns
    -------
    log_norm : ndarray of shape (n_rows,)
        ``log p(x)``, the log-sum-exp over components.
    row_sum : ndarray of shape (n_rows,)
        Sum over components of the returned terms.
    """
    workspace = workspace or Workspace()
    shifted = _shift_by_row_max(log_prob, workspace)
    return _exponentiate_shifted(log_prob, shifted, workspace)


def _shift_by_row_max(log_prob, workspace):
    """Subtract each row's largest finite term from ``log_prob``, in place.

    Returns ``(row_max, finite, shift)``: the largest terms (fmax skips NaN: a
    density whose terms overflowed, inf - inf, counts as zero), whether each is
    finite, and what was subtracted (0 where it is not).
    """
    row_max = workspace.empty("row_max", log_prob.shape[1:], log_prob.dtype)
    np.fmax.reduce(log_prob, axis=0, out=row_max)
    finite = np.isfinite(row_max)
    shift = row_max if finite.all() else np.where(finite, row_max, 0.0)
    log_prob -= shift
    return row_max, finite, shift


def _exponentiate_shifted(log_prob, shifted, workspace):
    """:func:`exponentiate_log_prob` after :func:`_shift_by_row_max`."""
    row_max, finite, shift = shifted
    n_rows, dtype = log_prob.shape[1], log_prob.dtype
    _exp_above_floor(log_prob, log_prob, workspace)
    row_sum = np.add.reduce(
        log_prob, axis=0, out=workspace.empty("row_sum", (n_rows,), dtype)
    )
    if log_prob.dtype != np.float64:
        # the floor's work where it changes more than rounding: rows of zero or
        # NaN terms (no component explains them, or their densities overflowed)
        unexplained = ~(row_sum > 0)
        if unexplained.any():
            floor = math.exp(_LOG_NEGLIGIBLE[log_prob.dtype])
            terms = np.fmax(log_prob[:, unexplained], floor)
            log_prob[:, unexplained] = terms
            row_sum[unexplained] = np.add.reduce(terms, axis=0)
    log_norm = np.log(row_sum, out=workspace.empty("log_norm", (n_rows,), dtype))
    log_norm += shift
    if not finite.all():
        # a row no component can explain keeps log p(x) = -inf (NaN: overflowed)
        infinite_max = row_max[~finite]
        log_norm[~finite] = np.where(np.isnan(infinite_max), -np.inf, infinite_max)
    return log_norm, row_sum


def exponentiate_below_bound(log_prob, out, workspace=None):
    """:func:`exponentiate_log_prob` for log-densities already shifted below 0.

    The shift is a bound common to all rows (see ``log_density_bound``), which spares
    the pass finding each row's largest term and the pass subtracting it.

    Parameters
    ----------
    log_prob : ndarray of shape (n_components, n_rows)
        Weighted log-densities minus their bound; left as they are.
    out : ndarray of shape (n_components, n_rows)
        Receives the unnormalised responsibilities.
    workspace : Workspace, optional
        Where the returned arrays are taken from: valid until its next use.

    Returns
    -------
    log_norm : ndarray of shape (n_rows,)
        ``log p(x)`` minus the bound.
    row_sum : ndarray of shape (n_rows,)
        Sum over components of the terms in ``out``.
    n_own_shift : int
        Rows whose terms sum to less than ``exp(_LOG_MIN_ROW_SUM)``, computed by
        :func:`exponentiate_log_prob` instead.
    """
    workspace = workspace or Workspace()
    n_rows, dtype = log_prob.shape[1], log_prob.dtype
    _exp_above_floor(log_prob, out, workspace)
    row_sum = np.add.reduce(
        out, axis=0, out=workspace.empty("row_sum", (n_rows,), dtype)
    )
    own_shift = ~(row_sum >= math.exp(_LOG_MIN_ROW_SUM))
    n_own_shift = int(np.count_nonzero(own_shift))
    if n_own_shift:
        row_sum[own_shift] = 1.0  # replaced below; keeps log quiet
    log_norm = np.log(row_sum, out=workspace.empty("log_norm", (n_rows,), dtype))
    if n_own_shift:
        terms = log_prob[:, own_shift]
        # not in ``workspace``: its arrays would be views of row_sum and log_norm
        log_norm[own_shift], row_sum[own_shift] = exponentiate_log_prob(terms)
        out[:, own_shift] = terms
    return log_norm, row_sum, n_own_shift


def normalize_log_prob(log_prob, exact_tail=False):
    """Turn weighted log-densities into responsibilities, in place.

    Parameters
    ----------
    log_prob : ndarray of shape (n_components, n_rows)
        ``log w_k + log N(x | mu_k, Sigma_k)``; holds the responsibilities on return.
    exact_tail : bool, default=False
        Whether the float64 terms below the floor (``exp(_LOG_NEGLIGIBLE)`` times
        the row's largest) come out as sklearn computes them, ``exp(log_prob -
        log_norm)``: normal down to ``exp(-708)``, subnormal below, zero below
        ``exp(-745.13)``. Otherwise they are the floor over the row's sum.

    Returns
    -------
    log_norm : ndarray of shape (n_rows,)
        ``log p(x)``, the log-sum-exp over components.
    """
    workspace = Workspace()
    shifted = _shift_by_row_max(log_prob, workspace)
    tail = _floored_tail(log_prob, shifted[1]) if exact_tail else None
    log_norm, row_sum = _exponentiate_shifted(log_prob, shifted, workspace)
    log_prob /= row_sum
    if tail is not None:
        _set_exact_tail(log_prob, *tail, row_sum)
    return log_norm


def _floored_tail(log_prob, finite):
    """The float64 terms below the floor, or None if there are none.

    ``log_prob`` is shifted by each row's largest term, ``finite`` whether that is
    finite: rows with no finite term keep the floored pass's even terms. Returns
    ``(tail, kept, terms)``: the flat indices of the terms below the floor, those of
    the ones exp does not round to zero (at most ``_LOG_UNDERFLOW`` below their
    row's largest, usually few), and the shifted log-densities of those.
    """
    if log_prob.dtype != np.float64:
        return None
    below = log_prob < _LOG_NEGLIGIBLE[log_prob.dtype]
    if not finite.all():
        below[:, ~finite] = False
    # flat indices: a fraction of the cost of 2-d ones
    tail = np.flatnonzero(below)
    if not len(tail):
        return None
    terms = np.take(log_prob, tail)
    kept = terms >= _LOG_UNDERFLOW
    return tail, tail[kept], terms[kept]


def _set_exact_tail(resp, tail, kept, terms, row_sum):
    """``resp`` at the flat indices ``tail`` as sklearn computes it,
    ``exp(log_prob - log p(x))``: zero but at ``kept``, where it is
    ``exp(terms - log(row_sum))`` of each term's row."""
    np.put(resp, tail, 0.0)
    if len(kept):
        rows = kept % resp.shape[1]
        np.put(resp, kept, np.exp(terms - np.log(row_sum[rows])))


def component_argmax(log_prob):
    """``log_prob.argmax(axis=0)`` for shape (n_components, n_rows), faster.

    numpy's argmax along the short leading axis is several times slower. Here each
    row's maxima are ranked ``n_components - k`` in small integers, so the first
    maximum is the largest rank: two passes over the floats (the maxima, the
    comparison), then the ranking and its maximum in bytes (uint16 past 255).
    """
    n_components = len(log_prob)
    row_max = np.max(log_prob, axis=0)
    is_max = log_prob == row_max
    rank_dtype = np.min_scalar_type(n_components)
    ranks = (
        is_max.view(np.uint8) if rank_dtype == np.uint8 else is_max.astype(rank_dtype)
    )
    ranks *= np.arange(n_components, 0, -1, dtype=rank_dtype)[:, np.newaxis]
    labels = np.subtract(n_components, ranks.max(axis=0), dtype=np.intp)
    nan_rows = np.isnan(row_max)
    if nan_rows.any():
        labels[nan_rows] = log_prob[:, nan_rows].argmax(axis=0)
    return labels


def _kernel_row_blocks(kernel, n_components, n_samples):
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


def map_log_prob_blocks(X, params, model, block_function, out):
    """Fill ``out[rows]`` with ``block_function`` of the rows' weighted log-densities.

    The kernel is centred on the mixture's mean, a point inside the data.
    """
    n_components = len(params.weights)
    reference = params.weights @ params.means
    kernel = select_kernel(model, params, reference, X.dtype)
    coefficients = kernel.coefficients(params)
    with blas_threads(kernel, X.shape[0]):
        for rows in _kernel_row_blocks(kernel, n_components, X.shape[0]):
            block = kernel.expand(X[rows], coefficients)
            log_prob = kernel.weighted_log_prob(block, coefficients)
            out[rows] = block_function(log_prob)
    return out


def statistics_of_resp_blocks(X, resp_blocks, full_scatter):
    """Exact sufficient statistics of ``(rows, weighted resp of shape (k, n_rows))``.

    Used for the initial responsibilities, which have no parameters to centre on.
    """
    total = None
    for rows, weighted_resp in resp_blocks:
        block = SufficientStatistics.from_rows(X[rows], weighted_resp.T, full_scatter)
        total = block if total is None else total + block
    return total


@dataclass(frozen=True, eq=False)
class PreparedData:
    """What the E-steps of a fit share, computed once from its data.

    Attributes
    ----------
    reference : ndarray of shape (n_features,)
        A point inside the data (its mean), on which the fast kernels centre the
        rows: float64 holding a value of X's dtype, so that kernels of either dtype
        centre on it exactly.
    centred : ndarray of shape (n_features, n_samples) or None
        ``(X - reference).T``, if kept (see ``centred_data``).
    second_moment : ndarray of shape (n_features, n_features) or None
        ``sum_n w_n (x_n - reference)(x_n - reference).T`` in float64, for a
        shared covariance (see ``SharedPrecisionKernel``).
    """

    reference: np.ndarray
    centred: np.ndarray | None
    second_moment: np.ndarray | None


def prepare_data(X, sample_weight, model, reference, n_components):
    """What the E-steps of a fit of ``X`` share, computed once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative.
    model : CovarianceModel
    reference : ndarray of shape (n_features,)
        A point inside the data (its mean); rounded to X's dtype.
    n_components : int

    Returns
    -------
    prepared : PreparedData
    """
    reference = np.asarray(reference, dtype=X.dtype).astype(np.float64)
    second_moment = None
    if model.pooled_scatter:
        n_features = X.shape[1]
        second_moment = np.zeros((n_features, n_features))
        for rows in row_blocks(X.shape[0], 2 * n_features):
            scaled = X[rows] - reference  # in float64
            if sample_weight is not None:
                scaled *= np.sqrt(sample_weight[rows])[:, np.newaxis]
            # S.T @ S: numpy's symmetric product, half the work, exactly symmetric
            second_moment += scaled.T @ scaled
    centred = centred_data(X, reference, model, n_components)
    return PreparedData(reference, centred, second_moment)


def expectation(X, sample_weight, params, model, prepared, workspace=None):
    """E-step: one pass giving the mean log-likelihood and the sufficient statistics.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    params : MixtureParameters
    model : CovarianceModel
    prepared : PreparedData
        ``prepare_data(X, sample_weight, model, reference, n_components)``.
    workspace : Workspace, optional
        Where the blocks' arrays are taken from: one for all passes of a fit.

    Returns
    -------
    mean_log_likelihood : float
        Weighted mean over rows of ``log p(x)`` under ``params``.
    stats : SufficientStatistics
    """
    n_samples = X.shape[0]
    n_components = len(params.weights)
    workspace = workspace or Workspace()
    kernel = select_kernel(
        model, params, prepared.reference, X.dtype, prepared.second_moment, workspace
    )
    log_bound = log_density_bound(model, params)
    coefficients = kernel.coefficients(params, log_bound)
    # one component: its own shift makes every responsibility exactly 1, as in sklearn
    shared_shift = n_components > 1
    log_likelihood = 0.0
    floor_weight = 0.0
    moments = None
    centred = prepared.centred
    with blas_threads(kernel, n_samples):
        for rows in _kernel_row_blocks(kernel, n_components, n_samples):
            columns = None if centred is None else centred[:, rows]
            block = kernel.expand(X[rows], coefficients, columns)
            log_prob = kernel.weighted_log_prob(block, coefficients)
            if shared_shift:
                resp = workspace.empty("resp", log_prob.shape, log_prob.dtype)
                log_norm, row_sum, n_own = exponentiate_below_bound(
                    log_prob, resp, workspace
                )
                shared_shift = n_own <= _MAX_OWN_SHIFT_FRACTION * len(row_sum)
            else:
                resp = log_prob
                log_norm, row_sum = exponentiate_log_prob(resp, workspace)
            floor_scale = workspace.empty("floor_scale", row_sum.shape, row_sum.dtype)
            if sample_weight is None:
                log_likelihood += float(log_norm.sum(dtype=np.float64))
                row_scale = np.reciprocal(row_sum, out=row_sum)
                # a float64 term at its floor weighs exp(floor) / row_sum; beyond
                # exp(-_LOG_MIN_ROW_SUM) only in rows no component explains
                np.minimum(row_scale, _MAX_FLOOR_SCALE, out=floor_scale)
            else:
                weights = sample_weight[rows]
                log_likelihood += float(weights @ log_norm)
                row_scale = np.divide(weights, row_sum, out=row_sum)
                np.multiply(weights, _MAX_FLOOR_SCALE, out=floor_scale)
                np.minimum(row_scale, floor_scale, out=floor_scale)
            floor_weight += float(floor_scale.sum(dtype=np.float64))
            block_moments = kernel.moments(block, resp, row_scale)
            # blocks in float32 are summed in float64
            if moments is None:
                moments = block_moments.astype(np.float64)
            else:
                moments += block_moments
    total_weight = n_samples if sample_weight is None else sample_weight.sum()
    stats = kernel.statistics(moments, coefficients)
    if resp.dtype == np.float32:
        # unfloored: a term below exp(floor) times its row's largest weighs less
        # than exp(floor) times the row's weight
        floor_weight = total_weight
    floor_weight *= math.exp(_LOG_NEGLIGIBLE[resp.dtype])
    stats = _without_floor_weight(stats, floor_weight)
    return log_likelihood / total_weight + log_bound, stats


def _without_floor_weight(stats, floor_weight):
    """``stats`` with the components whose responsibilities are all below the floor.

    ``floor_weight`` is what a component would weigh at most with every term at or
    below the floor ``exp(_LOG_NEGLIGIBLE)``. Such a component's moments are
    rounding noise; like sklearn, whose responsibilities underflow to zero there, it
    is empty.
    """
    empty = stats.nk <= 2 * floor_weight
    if not empty.any():
        return stats
    scatter = stats.scatter.copy()
    if len(scatter) == len(empty):  # not pooled over components
        scatter[empty] = 0.0
    return SufficientStatistics(
        np.where(empty, 0.0, stats.nk),
        np.where(empty[:, None], 0.0, stats.means),
        scatter,
    )


def estimate_gaussian(stats, model, reg_covar, dtype):
    """Component weight sums, means and covariances from sufficient statistics.

    As in sklearn, ``10 * eps`` is added to every component's weight sum, which keeps
    an emptied component finite: its mean shrinks to zero and its covariance to
    ``reg_covar``.

    Returns
    -------
    nk : ndarray of shape (n_components,), float64
    means : ndarray of shape (n_components, n_features), in ``dtype``
    covariances : ndarray, in ``dtype``
    """
    nk = stats.nk + 10 * np.finfo(dtype).eps
    means = stats.means * (stats.nk / nk)[:, np.newaxis]
    covariances = model.estimate_covariances(stats.scatter, nk, reg_covar)
    return nk, means.astype(dtype, copy=False), covariances.astype(dtype, copy=False)


def maximization(stats, model, reg_covar, dtype, repair=None):
    """M-step: the parameters that maximise the expected log-likelihood.

    ``repair``, if given, mends degenerate components before their precisions are
    factorized (see ``_recovery.DegenerateRepair``).
    """
    nk, means, covariances = estimate_gaussian(stats, model, reg_covar, dtype)
    weights = (nk / nk.sum()).astype(dtype, copy=False)
    if repair is not None:
        weights, means, covariances = repair(nk, weights, means, covariances)
    return MixtureParameters(
        weights, means, covariances, model.precisions_cholesky(covariances)
    )


def run_em(
    X,
    sample_weight,
    params,
    model,
    *,
    prepared,
    reg_covar,
    tol,
    max_iter,
    lower_bound,
    progress,
    repair=None,
):
    """Iterate E- and M-steps from ``params`` until the lower bound gains under ``tol``.

    ``prepared`` is ``prepare_data(X, sample_weight, model, reference, n_components)``.
    ``lower_bound`` is the bound of ``params`` if known (warm start), else ``-inf``.
    The lower bound recorded at each iteration is the mean log-likelihood of the
    parameters that entered it, as in sklearn.
    """
    if max_iter == 0:
        return EMResult(params, -math.inf, [], 0, False)
    lower_bounds = []
    converged = False
    workspace = Workspace()
    for n_iter in range(1, max_iter + 1):
        previous_lower_bound = lower_bound
        lower_bound, stats = expectation(
            X, sample_weight, params, model, prepared, workspace
        )
        params = maximization(stats, model, reg_covar, X.dtype, repair)
        lower_bounds.append(lower_bound)
        change = lower_bound - previous_lower_bound
        progress.iteration_end(n_iter, change)
        if abs(change) < tol:
            converged = True
            break
    progress.init_end(lower_bound, converged)
    return EMResult(params, lower_bound, lower_bounds, n_iter, converged)
