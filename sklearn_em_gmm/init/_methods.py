"""The ``init_params`` methods, one registry entry each.

A method draws a start from the data alone, independently of the covariance model:
the component of each row for the hard methods, random responsibilities for
``'random'``. Randomness is consumed exactly as sklearn's GaussianMixture consumes
it, so the same ``random_state`` gives the same start; sample weights steer every
method, and with no weights the calls are sklearn's own.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ._hc import hc_subset_labels

NO_COMPONENT = -1


def _kmeans(X, sample_weight, n_components, random_state):
    kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=random_state)
    return kmeans.fit(X, sample_weight=sample_weight).labels_, None


def _one_row_each(X, indices, n_components):
    labels = np.full(X.shape[0], NO_COMPONENT)
    labels[indices] = np.arange(n_components)
    return labels, None


def _kmeans_plusplus(X, sample_weight, n_components, random_state):
    _, indices = kmeans_plusplus(
        X, n_components, random_state=random_state, sample_weight=sample_weight
    )
    return _one_row_each(X, indices, n_components)


def _random_from_data(X, sample_weight, n_components, random_state):
    probabilities = None
    # equal weights draw as no weights, so unit weights reproduce sklearn
    if sample_weight is not None and np.ptp(sample_weight) > 0:
        probabilities = sample_weight / sample_weight.sum()
    indices = random_state.choice(
        X.shape[0], size=n_components, replace=False, p=probabilities
    )
    return _one_row_each(X, indices, n_components)


def _random(X, sample_weight, n_components, random_state):
    resp = random_state.uniform(size=(X.shape[0], n_components))
    resp /= resp.sum(axis=1)[:, np.newaxis]
    return None, resp


def _hc(X, sample_weight, n_components, random_state):
    rows, labels = hc_subset_labels(X, sample_weight, n_components, random_state)
    if rows is None:
        return labels, None
    # rows outside the subset wait for the first E-step, as in mclust
    all_labels = np.full(X.shape[0], NO_COMPONENT)
    all_labels[rows] = labels
    return all_labels, None


INIT_METHODS = {
    "kmeans": _kmeans,
    "k-means++": _kmeans_plusplus,
    "random": _random,
    "random_from_data": _random_from_data,
    "hc": _hc,
}
"""Each ``init_params`` name and its method: ``method(X, sample_weight,
n_components, random_state)`` returns ``(labels, resp)``, one of them None: the
component of each row (``-1`` for none), or responsibilities of shape
(n_samples, n_components)."""
