"""A start drawn once from the data, and the initial parameters it gives a model.

A :class:`Start` is independent of the covariance model, so one start per
``n_components`` serves every model of a selection grid; each model takes the
statistics of the start's responsibilities in its own layout, then one M-step.
"""

import numpy as np

from ..engine import MixtureParameters, row_blocks
from ..engine._blocks import total_weight
from ..stats import SufficientStatistics
from ._methods import INIT_METHODS


class Start:
    """Initial responsibilities of the rows of ``X``: labels or responsibilities.

    The start keeps ``X`` and ``sample_weight``, whose statistics it gives.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    n_components : int
    labels : ndarray of shape (n_samples,), optional
        The component of each row (negative for none).
    resp : ndarray of shape (n_samples, n_components), optional
        Responsibilities, if not ``labels``.
    """

    def __init__(self, X, sample_weight, n_components, *, labels=None, resp=None):
        self.X = X
        self.sample_weight = sample_weight
        self.n_components = n_components
        self.labels, self.resp = labels, resp
        self._statistics = {}

    @classmethod
    def draw(cls, X, sample_weight, n_components, init_params, random_state):
        """A start drawn by ``INIT_METHODS[init_params]``, which consumes
        ``random_state`` (a ``RandomState``) as sklearn does."""
        method = INIT_METHODS[init_params]
        labels, resp = method(X, sample_weight, n_components, random_state)
        return cls(X, sample_weight, n_components, labels=labels, resp=resp)

    def _block_statistics(self, rows, layout):
        """Exact statistics of the start's responsibilities over ``rows``."""
        X, weights = self.X[rows], self.sample_weight
        weights = None if weights is None else weights[rows]
        if self.labels is not None:
            return SufficientStatistics.from_labels(
                X, self.labels[rows], weights, self.n_components, layout
            )
        resp = self.resp[rows]
        if weights is not None:
            resp = resp * weights[:, np.newaxis]
        return SufficientStatistics.from_rows(X, resp, layout)

    def statistics(self, layout):
        """Exact sufficient statistics of the start's responsibilities in ``layout``
        (kept for the next model that asks)."""
        if layout not in self._statistics:
            total = None
            n_samples, n_features = self.X.shape
            for rows in row_blocks(n_samples, max(self.n_components, n_features)):
                block = self._block_statistics(rows, layout)
                total = block if total is None else total + block
            self._statistics[layout] = total
        return self._statistics[layout]


def initial_parameters(
    X,
    sample_weight,
    model,
    *,
    start,
    reg_covar,
    weights_init=None,
    means_init=None,
    precisions_init=None,
    prior=None,
    repair=None,
):
    """Starting parameters of one EM run of ``model``.

    User-given ``weights_init``, ``means_init`` and ``precisions_init`` (validated, in
    ``X``'s dtype) replace the estimated ones; ``start`` (a :class:`Start` drawn
    from ``X`` and ``sample_weight``) is needed unless all three are given, as
    sklearn then draws nothing. As in sklearn,
    the initial covariances are those of the responsibilities even when
    ``means_init`` is given.
    """
    weights, means, covariances = weights_init, means_init, None
    if weights_init is None or means_init is None or precisions_init is None:
        stats = start.statistics(model.statistics_layout)
        estimates = model.m_step(stats, reg_covar=reg_covar, dtype=X.dtype, prior=prior)
        nk = estimates.nk
        covariances = estimates.covariances.astype(X.dtype, copy=False)
        if weights_init is None:
            # sklearn divides by the number of samples, not by sum(nk): after a
            # one-point-per-component start the weights sum to k / n until the
            # first M-step, which shifts the first lower bound.
            weights = (nk / total_weight(X, sample_weight)).astype(X.dtype, copy=False)
        if means_init is None:
            means = estimates.means.astype(X.dtype, copy=False)
        if repair is not None and precisions_init is None:
            weights, means, covariances = repair(nk, weights, means, covariances)
    if precisions_init is None:
        precisions_cholesky = model.precisions_cholesky(covariances)
    else:
        precisions_cholesky = model.precisions_cholesky_from_precisions(precisions_init)
        covariances = model.covariances_from_precisions_cholesky(precisions_cholesky)
    return MixtureParameters(weights, means, covariances, precisions_cholesky)
