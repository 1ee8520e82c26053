"""The ``init_params`` methods, one registry entry each.

A method draws a start from the data alone, independently of the covariance model:
the component of each row for the hard methods, random responsibilities for
``'random'``. Randomness is consumed exactly as sklearn's GaussianMixture consumes
it, so the same ``random_state`` gives the same start; sample weights steer every
method, and with no weights the calls are sklearn's own.
"""

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from ..engine import row_blocks

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
    resp = np.empty((n_components, X.shape[0]))
    for rows in row_blocks(X.shape[0], max(n_components, X.shape[1])):
        # drawn block by block, the stream equals sklearn's single (n, k) draw
        block = random_state.uniform(size=(rows.stop - rows.start, n_components)).T
        resp[:, rows] = block / block.sum(axis=0)
    return None, resp


INIT_METHODS = {
    "kmeans": _kmeans,
    "k-means++": _kmeans_plusplus,
    "random": _random,
    "random_from_data": _random_from_data,
}
"""Each ``init_params`` name and its method: ``method(X, sample_weight,
n_components, random_state)`` returns ``(labels, resp)``, one of them None: the
component of each row (``-1`` for none), or responsibilities of shape
(n_components, n_samples)."""
