"""The E-step over rows in memory: one pass, block by block, giving sums.

Each block's weighted log-densities become responsibilities (log-sum-exp), whose
moments the kernel sums; the pass returns the log-likelihood sum, the weight sum
and the sufficient statistics (:class:`PassSums`), which add up over chunks of
rows.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._workspace import Workspace
from ..kernels import blas_threads, centred_data, pooled_pass, select_kernel
from ..stats import SufficientStatistics
from ._blocks import kernel_row_blocks, row_blocks, total_weight
from ._logsumexp import (
    LOG_NEGLIGIBLE,
    MAX_FLOOR_SCALE,
    MAX_OWN_SHIFT_FRACTION,
    exponentiate_below_bound,
    exponentiate_log_prob,
)


@dataclass(frozen=True, eq=False)
class PassSums:
    """What one E-step pass over some rows gives; sums of two add up (``+``).

    Attributes
    ----------
    log_likelihood : float
        ``sum_i w_i (log p(x_i) - log_offset)`` for the pass's ``log_offset``.
    weight : float
        ``sum_i w_i``.
    stats : SufficientStatistics
    floor_weight : float
        The most a component can weigh from terms at or below the floor of the
        log-sum-exp alone: its moments are rounding noise below twice that.
    """

    log_likelihood: float
    weight: float
    stats: SufficientStatistics
    floor_weight: float

    def __add__(self, other):
        return PassSums(
            self.log_likelihood + other.log_likelihood,
            self.weight + other.weight,
            self.stats.merge(other.stats),
            self.floor_weight + other.floor_weight,
        )

    def mean_log_likelihood(self, log_offset):
        """The weighted mean of ``log p(x)``."""
        return self.log_likelihood / self.weight + log_offset

    def statistics(self):
        """The statistics with the components whose responsibilities are all below
        the floor emptied: like sklearn, whose responsibilities underflow to zero
        there."""
        return self.stats.without_components(self.stats.nk <= 2 * self.floor_weight)


@dataclass(frozen=True, eq=False)
class PreparedData:
    """What the E-steps of a fit share, computed once from its rows.

    Attributes
    ----------
    reference : ndarray of shape (n_features,)
        A point inside the data (its mean), on which the fast kernels centre the
        rows: float64 holding a value of X's dtype, so that kernels of either dtype
        centre on it exactly.
    centred : ndarray of shape (n_features, n_samples) or None
        ``(X - reference).T``, if kept (see ``centred_data``).
    second_moment : ndarray of shape (n_features, n_features) or None
        ``sum_n w_n (x_n - reference)(x_n - reference).T`` in float64, for pooled
        statistics under a shared precision (see ``SharedPrecisionKernel``).
    """

    reference: np.ndarray
    centred: np.ndarray | None
    second_moment: np.ndarray | None


def prepare_data(X, sample_weight, model, reference, n_components, keep_centred=True):
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
    keep_centred : bool, default=True
        Whether a centred copy of X may be kept (see ``centred_data``).

    Returns
    -------
    prepared : PreparedData
    """
    reference = np.asarray(reference, dtype=X.dtype).astype(np.float64)
    second_moment = None
    if pooled_pass(model.structure, model.statistics_layout):
        n_features = X.shape[1]
        second_moment = np.zeros((n_features, n_features))
        for rows in row_blocks(X.shape[0], 2 * n_features):
            scaled = X[rows] - reference  # in float64
            if sample_weight is not None:
                scaled *= np.sqrt(sample_weight[rows])[:, np.newaxis]
            # S.T @ S: numpy's symmetric product, half the work, exactly symmetric
            second_moment += scaled.T @ scaled
    centred = None
    if keep_centred:
        centred = centred_data(X, reference, model, n_components)
    return PreparedData(reference, centred, second_moment)


def expectation_pass(
    X, sample_weight, components, layout, prepared, log_offset, workspace=None
):
    """E-step over the rows ``X``: one pass giving the sums of :class:`PassSums`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    components : Components
    layout : Structure
        Of the statistics.
    prepared : PreparedData
        ``prepare_data(X, sample_weight, model, reference, n_components)``.
    log_offset : float
        An upper bound of the weighted log-densities, subtracted from them.
    workspace : Workspace, optional
        Where the blocks' arrays are taken from: one for all passes of a fit.

    Returns
    -------
    sums : PassSums
    """
    n_samples = X.shape[0]
    n_components = len(components.weights)
    workspace = workspace or Workspace()
    kernel = select_kernel(
        components,
        layout,
        prepared.reference,
        X.dtype,
        prepared.second_moment,
        workspace,
    )
    coefficients = kernel.coefficients(components, log_offset)
    # one component: its own shift makes every responsibility exactly 1, as in sklearn
    shared_shift = n_components > 1
    log_likelihood = 0.0
    floor_weight = 0.0
    moments = None
    centred = prepared.centred
    with blas_threads(kernel, n_samples):
        for rows in kernel_row_blocks(kernel, n_components, n_samples):
            columns = None if centred is None else centred[:, rows]
            block = kernel.expand(X[rows], coefficients, columns)
            log_prob = kernel.weighted_log_prob(block, coefficients)
            if shared_shift:
                resp = workspace.empty("resp", log_prob.shape, log_prob.dtype)
                log_norm, row_sum, n_own = exponentiate_below_bound(
                    log_prob, resp, workspace
                )
                shared_shift = n_own <= MAX_OWN_SHIFT_FRACTION * len(row_sum)
            else:
                resp = log_prob
                log_norm, row_sum = exponentiate_log_prob(resp, workspace)
            floor_scale = workspace.empty("floor_scale", row_sum.shape, row_sum.dtype)
            if sample_weight is None:
                log_likelihood += float(log_norm.sum(dtype=np.float64))
                row_scale = np.reciprocal(row_sum, out=row_sum)
                # a float64 term at its floor weighs exp(floor) / row_sum; beyond
                # MAX_FLOOR_SCALE only in rows no component explains
                np.minimum(row_scale, MAX_FLOOR_SCALE, out=floor_scale)
            else:
                weights = sample_weight[rows]
                log_likelihood += float(weights @ log_norm)
                row_scale = np.divide(weights, row_sum, out=row_sum)
                np.multiply(weights, MAX_FLOOR_SCALE, out=floor_scale)
                np.minimum(row_scale, floor_scale, out=floor_scale)
            floor_weight += float(floor_scale.sum(dtype=np.float64))
            block_moments = kernel.moments(block, resp, row_scale)
            # blocks in float32 are summed in float64
            if moments is None:
                moments = block_moments.astype(np.float64)
            else:
                moments += block_moments
    weight = total_weight(X, sample_weight)
    if resp.dtype == np.float32:
        # unfloored: a term below exp(floor) times its row's largest weighs less
        # than exp(floor) times the row's weight
        floor_weight = weight
    floor_weight *= math.exp(LOG_NEGLIGIBLE[resp.dtype])
    stats = kernel.statistics(moments, coefficients)
    return PassSums(log_likelihood, float(weight), stats, floor_weight)
