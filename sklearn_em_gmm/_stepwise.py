"""Stepwise (online) EM for ``partial_fit`` (Cappé & Moulines 2009).

Each batch's sufficient statistics, per unit of weight, move a running average,
``s <- (1 - rho_t) s + rho_t s_batch`` with ``rho_t = (t + learning_offset) **
(-learning_decay)`` after ``t`` earlier steps, and an M-step follows from ``s`` at the
batch's weight. The first batch sets ``s``. With one batch of all the data and
``rho = 1`` a step is one batch EM step.
"""

from dataclasses import dataclass

import numpy as np

from .covariance import FULL, Structure
from .engine import ArraySource, expectation, maximization, total_weight
from .stats import SufficientStatistics


@dataclass(frozen=True)
class StepwiseState:
    """What the steps carry from one batch to the next.

    Attributes
    ----------
    statistics : SufficientStatistics
        The running average, per unit of weight.
    n_steps : int
        Steps taken.
    prior : ConjugatePrior or None
        Resolved from the first batch.
    """

    statistics: SufficientStatistics
    n_steps: int
    prior: object


def fitted_state(estimator, prior):
    """The state of a fitted mixture as if it were one step: its own statistics per
    unit of weight, so that the next batch moves it by ``rho`` rather than
    replacing it."""
    weights = estimator.weights_.astype(np.float64)
    covariances = estimator._full_covariances().astype(np.float64)
    statistics = SufficientStatistics(
        weights,
        estimator.means_.astype(np.float64),
        weights[:, np.newaxis, np.newaxis] * covariances,
        Structure(shared=False, form=FULL),
    )
    return StepwiseState(
        statistics.reduce(estimator._model.statistics_layout), 1, prior
    )


def step_size(n_steps, learning_offset, learning_decay):
    """``rho`` of the step after ``n_steps`` steps."""
    return (n_steps + learning_offset) ** (-learning_decay)


def stepwise_step(
    X,
    sample_weight,
    params,
    model,
    state,
    *,
    learning_offset,
    learning_decay,
    reg_covar,
    prior=None,
    repair=None,
):
    """One step on the batch ``X`` from ``params`` (a ``MixtureParameters``).

    ``state`` is None at the first step, whose ``prior`` is kept for the others.

    Returns
    -------
    params : MixtureParameters
        After the M-step.
    mean_log_likelihood : float
        Of the batch under the parameters the step started from.
    state : StepwiseState
    """
    source = ArraySource(X, sample_weight)
    source.prepare(model, source.mean(), len(params.weights))
    mean_log_likelihood, statistics = expectation(source, params, model)
    weight = total_weight(X, sample_weight)
    batch = statistics.scale(1.0 / weight)
    if state is None:
        running, n_steps = batch, 0
    else:
        rho = step_size(state.n_steps, learning_offset, learning_decay)
        running = state.statistics.scale(1.0 - rho).merge(batch.scale(rho))
        n_steps, prior = state.n_steps, state.prior
    params = maximization(
        running.scale(weight),
        model,
        reg_covar,
        source.dtype,
        previous=params,
        prior=prior,
        repair=repair,
    )
    return params, mean_log_likelihood, StepwiseState(running, n_steps + 1, prior)
