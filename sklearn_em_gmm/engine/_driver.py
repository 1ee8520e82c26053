"""The EM driver: E- and M-steps against a data source until the bound settles."""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._threads import parallel_call, serial_section
from .._workspace import Workspace
from ..kernels import Components, log_density_bound


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


def expectation(source, params, model, workspace=None):
    """E-step of ``params`` against ``source`` (prepared for ``model``).

    Returns
    -------
    mean_log_likelihood : float
        Weighted mean over rows of ``log p(x)`` under ``params``.
    stats : SufficientStatistics
        In ``model.statistics_layout``.
    """
    components = Components.of(params, model)
    log_offset = log_density_bound(components)
    sums = source.expectation(
        components, model.statistics_layout, log_offset, workspace or Workspace()
    )
    return sums.mean_log_likelihood(log_offset), sums.statistics()


def maximization(
    stats, model, reg_covar, dtype, previous=None, prior=None, repair=None
):
    """M-step: the parameters that maximise the expected log-likelihood.

    ``previous`` are the parameters that gave ``stats`` and ``prior`` a conjugate
    prior, both passed to ``model.m_step``; ``repair``, if given, mends degenerate
    components before their precisions are factorized (see
    ``_recovery.DegenerateRepair``).
    """
    estimates = model.m_step(
        stats, reg_covar=reg_covar, dtype=dtype, previous=previous, prior=prior
    )
    nk = estimates.nk
    means = estimates.means.astype(dtype, copy=False)
    covariances = estimates.covariances.astype(dtype, copy=False)
    weights = (nk / nk.sum()).astype(dtype, copy=False)
    if repair is not None:
        weights, means, covariances = repair(nk, weights, means, covariances)
    return MixtureParameters(
        weights, means, covariances, model.precisions_cholesky(covariances)
    )


def run_em(
    source,
    params,
    model,
    *,
    reg_covar,
    tol,
    max_iter,
    lower_bound,
    progress,
    prior=None,
    repair=None,
    stopping_rule="sklearn",
    total_weight=None,
):
    """Iterate E- and M-steps from ``params`` until the lower bound gains under ``tol``.

    ``source`` is prepared for ``model`` (see :class:`ArraySource`). ``lower_bound``
    is the bound of ``params`` if known (warm start), else ``-inf``. The lower bound
    recorded at each iteration is the mean log-likelihood of the parameters that
    entered it, as in sklearn. A ``prior``
    (:class:`~sklearn_em_gmm.prior.ConjugatePrior`) makes the M-steps MAP steps; the
    bound stays the log-likelihood.

    ``stopping_rule="sklearn"`` stops when the mean log-likelihood changed by less
    than ``tol`` and returns the parameters of the M-step that follows, as sklearn
    does. ``"mclust"`` stops when the total log-likelihood ``L`` (the mean times
    ``total_weight``) changed by at most ``tol * (1 + |L|)``, and returns the
    parameters whose log-likelihood met the rule, as mclust's ``me`` does.
    """
    if max_iter == 0:
        return EMResult(params, -math.inf, [], 0, False)
    lower_bounds = []
    workspace = Workspace()
    parallel = parallel_call(source.n_samples, source.n_features, len(params.weights))
    if stopping_rule not in ("sklearn", "mclust"):
        raise ValueError(f"unknown stopping_rule {stopping_rule!r}")
    mclust = stopping_rule == "mclust"
    if mclust and total_weight is None:
        raise ValueError("stopping_rule='mclust' needs the total weight")
    for n_iter in range(1, max_iter + 1):
        previous_lower_bound = lower_bound
        lower_bound, stats = expectation(source, params, model, workspace)
        change = lower_bound - previous_lower_bound
        if mclust:
            total = total_weight * lower_bound
            converged = bool(abs(total_weight * change) <= tol * (1 + abs(total)))
        else:
            converged = bool(abs(change) < tol)
        # mclust keeps the parameters whose log-likelihood met its rule
        if not (mclust and converged):
            with serial_section(parallel):
                params = maximization(
                    stats,
                    model,
                    reg_covar,
                    source.dtype,
                    previous=params,
                    prior=prior,
                    repair=repair,
                )
        lower_bounds.append(lower_bound)
        progress.iteration_end(n_iter, change)
        if converged:
            break
    progress.init_end(lower_bound, converged)
    return EMResult(params, lower_bound, lower_bounds, n_iter, converged)
