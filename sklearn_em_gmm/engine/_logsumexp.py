"""Log-sum-exp over components: responsibilities and log p(x) from log-densities.

Log-densities are component-major, shape (n_components, n_rows). float64 terms are
floored far below each row's largest, which keeps exp out of its slow subnormal
range; predictions can ask for sklearn's exact tail instead.
"""

import math

import numpy as np

from .._workspace import Workspace

# float64 terms are floored at this fraction of their shift (each row's largest term,
# or the bound), which keeps exp out of its slow subnormal range, and the moments'
# products of floored terms with small features too: exp(-600) ~ 3e-261. (float32
# exp has no slow range; its terms below exp(-80) ~ 2e-35 times the row's largest
# count as floored.)
LOG_NEGLIGIBLE = {np.dtype(np.float64): -600.0, np.dtype(np.float32): -80.0}
# float64 exp(x) rounds to zero below log(2**-1075) = -745.13
_LOG_UNDERFLOW = -746.0
# Log-densities shifted by a bound rather than by each row's largest term: a row whose
# terms sum to less than exp(-40) is shifted by its own largest term instead, so that
# floored or underflowed terms stay negligible beside it. Once a block has more than
# this fraction of such rows, the pass's later blocks shift every row by its own.
_LOG_MIN_ROW_SUM = -40.0
MAX_OWN_SHIFT_FRACTION = 0.125
MAX_FLOOR_SCALE = math.exp(-_LOG_MIN_ROW_SUM)


def _exp_above_floor(log_prob, out, workspace):
    """``exp(log_prob)`` into ``out``, float64 terms floored at ``exp(-600)``.

    float64 exp is 30 times slower where its result is subnormal; what is cut off
    weighs less than 1e-260 beside the shift. (A floor per row is a faster fmax than
    a scalar floor.) float32 exp has no slow range and is not floored.
    """
    if log_prob.dtype == np.float64:
        floor = workspace.empty("floor", log_prob.shape[1:], np.float64)
        floor.fill(LOG_NEGLIGIBLE[log_prob.dtype])
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
        by ``row_sum``. Terms are floored at ``exp(LOG_NEGLIGIBLE)`` in float64; in
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
            floor = math.exp(LOG_NEGLIGIBLE[log_prob.dtype])
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
        Whether the float64 terms below the floor (``exp(LOG_NEGLIGIBLE)`` times
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
    below = log_prob < LOG_NEGLIGIBLE[log_prob.dtype]
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
