"""Initial parameters: responsibilities from ``init_params``, then one M-step.

Randomness is consumed exactly as sklearn's GaussianMixture consumes it, so the same
``random_state`` gives the same start. Sample weights steer every method; with no
weights the calls are sklearn's own.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ._em import (
    MixtureParameters,
    estimate_gaussian,
    row_blocks,
    statistics_of_resp_blocks,
)

_NO_COMPONENT = -1


def _hard_labels(X, sample_weight, n_components, init_params, random_state):
    """Component of each row for the hard initialisations; ``-1`` for none."""
    n_samples = X.shape[0]
    if init_params == "kmeans":
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=random_state)
        return kmeans.fit(X, sample_weight=sample_weight).labels_
    labels = np.full(n_samples, _NO_COMPONENT)
    if init_params == "k-means++":
        _, indices = kmeans_plusplus(
            X, n_components, random_state=random_state, sample_weight=sample_weight
        )
    else:  # random_from_data
        probabilities = None
        # equal weights draw as no weights, so unit weights reproduce sklearn
        if sample_weight is not None and np.ptp(sample_weight) > 0:
            probabilities = sample_weight / sample_weight.sum()
        indices = random_state.choice(
            n_samples, size=n_components, replace=False, p=probabilities
        )
    labels[indices] = np.arange(n_components)
    return labels


def _resp_blocks(X, sample_weight, n_components, init_params, random_state):
    """Yield ``(rows, sample_weight * resp)``, resp of shape (n_components, n_rows)."""
    labels = None
    if init_params != "random":
        labels = _hard_labels(X, sample_weight, n_components, init_params, random_state)
    components = np.arange(n_components)[:, np.newaxis]
    for rows in row_blocks(X.shape[0], max(n_components, X.shape[1])):
        if labels is None:
            # drawn block by block, the stream equals sklearn's single (n, k) draw
            resp = random_state.uniform(size=(rows.stop - rows.start, n_components)).T
            resp /= resp.sum(axis=0)
        else:
            resp = (labels[rows] == components).astype(np.float64)
        if sample_weight is not None:
            resp *= sample_weight[rows]
        yield rows, resp


def initial_parameters(
    X,
    sample_weight,
    model,
    *,
    n_components,
    init_params,
    reg_covar,
    random_state,
    weights_init=None,
    means_init=None,
    precisions_init=None,
    repair=None,
):
    """Starting parameters of one EM run.

    User-given ``weights_init``, ``means_init`` and ``precisions_init`` (validated, in
    ``X``'s dtype) replace the estimated ones. As in sklearn, responsibilities are
    computed, and randomness consumed, unless all three are given, and the initial
    covariances are those of the responsibilities even when ``means_init`` is given.
    """
    weights, means, covariances = weights_init, means_init, None
    if weights_init is None or means_init is None or precisions_init is None:
        stats = statistics_of_resp_blocks(
            X,
            _resp_blocks(X, sample_weight, n_components, init_params, random_state),
            model.full_scatter,
        )
        nk, estimated_means, covariances = estimate_gaussian(
            stats, model, reg_covar, X.dtype
        )
        if weights_init is None:
            # sklearn divides by the number of samples, not by sum(nk): after a
            # one-point-per-component start the weights sum to k / n until the
            # first M-step, which shifts the first lower bound.
            total_weight = X.shape[0] if sample_weight is None else sample_weight.sum()
            weights = (nk / total_weight).astype(X.dtype, copy=False)
        means = estimated_means if means_init is None else means_init
        if repair is not None and precisions_init is None:
            weights, means, covariances = repair(nk, weights, means, covariances)
    if precisions_init is None:
        precisions_cholesky = model.precisions_cholesky(covariances)
    else:
        precisions_cholesky = model.precisions_cholesky_from_precisions(precisions_init)
        covariances = model.covariances_from_precisions_cholesky(precisions_cholesky)
    return MixtureParameters(weights, means, covariances, precisions_cholesky)
