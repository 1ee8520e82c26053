"""The EM driver on plain arrays.

One pass over the rows, block by block, gives the responsibilities, the log-likelihood
and the sufficient statistics (E-step); the statistics give the next parameters
(M-step). Nothing here knows which covariance model it runs: that is ``model``'s job.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._stats import accumulate_statistics

# Rows per block are chosen so a block's (rows x max(n_components, n_features))
# temporaries hold about this many floats: small enough for cache, large for BLAS.
_BLOCK_ELEMENTS = 1 << 16
_MIN_BLOCK_ROWS = 256


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


def row_blocks(n_samples, row_width):
    """Consecutive slices covering ``range(n_samples)``, sized for ``row_width``."""
    block_rows = max(_MIN_BLOCK_ROWS, _BLOCK_ELEMENTS // max(row_width, 1))
    for start in range(0, n_samples, block_rows):
        yield slice(start, min(start + block_rows, n_samples))


def weighted_log_prob(X, params, model):
    """``log(weights_k) + log N(x | mean_k, cov_k)`` for each row and component.

    Returns
    -------
    ndarray of shape (n_rows, n_components)
    """
    n_features = X.shape[1]
    log_prob = model.squared_mahalanobis(X, params.means, params.precisions_cholesky)
    # log N = -(d log(2 pi) + mahalanobis^2) / 2 + log det(U), with precision = U U.T
    log_prob += n_features * math.log(2 * math.pi)
    log_prob *= -0.5
    log_prob += model.log_det_cholesky(params.precisions_cholesky, n_features)
    with np.errstate(divide="ignore"):  # a zero initial weight is a valid -inf
        log_prob += np.log(params.weights)
    return log_prob


def log_norm_and_resp(X, params, model):
    """Per-row log-likelihood and responsibilities.

    Returns
    -------
    log_norm : ndarray of shape (n_rows,)
        ``log p(x)``, the log-sum-exp of :func:`weighted_log_prob` over components.
    resp : ndarray of shape (n_rows, n_components)
        Posterior probability of each component.
    """
    resp = weighted_log_prob(X, params, model)
    row_max = resp.max(axis=1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0.0
    resp -= row_max
    np.exp(resp, out=resp)
    row_sum = resp.sum(axis=1, keepdims=True)
    resp /= row_sum
    log_norm = np.log(row_sum) + row_max
    return log_norm[:, 0], resp


def map_row_blocks(X, n_components, block_function, out):
    """Fill ``out[rows] = block_function(X[rows])`` block by block; return ``out``."""
    for rows in row_blocks(X.shape[0], max(n_components, X.shape[1])):
        out[rows] = block_function(X[rows])
    return out


def expectation(X, sample_weight, params, model):
    """E-step: one pass giving the mean log-likelihood and the sufficient statistics.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    params : MixtureParameters
    model : CovarianceModel

    Returns
    -------
    mean_log_likelihood : float
        Weighted mean over rows of ``log p(x)`` under ``params``.
    stats : SufficientStatistics
    """
    n_samples, n_features = X.shape
    log_likelihood = []

    def weighted_resp_blocks():
        for rows in row_blocks(n_samples, max(len(params.weights), n_features)):
            log_norm, resp = log_norm_and_resp(X[rows], params, model)
            if sample_weight is None:
                log_likelihood.append(np.sum(log_norm, dtype=np.float64))
            else:
                weights = sample_weight[rows]
                log_likelihood.append(weights @ log_norm.astype(np.float64))
                resp *= weights[:, np.newaxis]
            yield rows, resp

    stats = accumulate_statistics(X, weighted_resp_blocks(), model.full_scatter)
    total_weight = n_samples if sample_weight is None else sample_weight.sum()
    return math.fsum(log_likelihood) / total_weight, stats


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


def maximization(stats, model, reg_covar, dtype):
    """M-step: the parameters that maximise the expected log-likelihood."""
    nk, means, covariances = estimate_gaussian(stats, model, reg_covar, dtype)
    weights = (nk / nk.sum()).astype(dtype, copy=False)
    return MixtureParameters(
        weights, means, covariances, model.precisions_cholesky(covariances)
    )


def run_em(
    X, sample_weight, params, model, *, reg_covar, tol, max_iter, lower_bound, progress
):
    """Iterate E- and M-steps from ``params`` until the lower bound gains under ``tol``.

    ``lower_bound`` is the bound of ``params`` if known (warm start), else ``-inf``.
    The lower bound recorded at each iteration is the mean log-likelihood of the
    parameters that entered it, as in sklearn.
    """
    if max_iter == 0:
        return EMResult(params, -math.inf, [], 0, False)
    lower_bounds = []
    converged = False
    for n_iter in range(1, max_iter + 1):
        previous_lower_bound = lower_bound
        lower_bound, stats = expectation(X, sample_weight, params, model)
        params = maximization(stats, model, reg_covar, X.dtype)
        lower_bounds.append(lower_bound)
        change = lower_bound - previous_lower_bound
        progress.iteration_end(n_iter, change)
        if abs(change) < tol:
            converged = True
            break
    progress.init_end(lower_bound, converged)
    return EMResult(params, lower_bound, lower_bounds, n_iter, converged)
