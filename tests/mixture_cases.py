"""Parameters, data and independent references for the kernel and E-step tests.

The references are scipy's densities and moments written out here with numpy, never
the code under test. Parameters and references take their shapes from each model's
declared structure, so a newly registered model is drawn and checked like the others.
"""

import numpy as np
from scipy import special, stats

from sklearn_em_gmm.covariance import (
    DIAGONAL,
    FULL,
    ISOTROPIC,
    get_covariance_model,
    richer_form,
)
from sklearn_em_gmm.engine import MixtureParameters
from sklearn_em_gmm.kernels import AxisAlignedKernel, ComponentKernel


def common_precisions(model, n_components, variances):
    """The precision ``diag(1 / variances)`` for every component, in ``model``'s
    shape: within every model's constraints (one variance for isotropic forms)."""
    shape = model.parameter_shape(n_components, len(variances))
    if model.structure.form == FULL:
        return np.broadcast_to(np.diag(1 / variances), shape).copy()
    if model.structure.form == DIAGONAL:
        return np.broadcast_to(1 / variances, shape).copy()
    return np.full(shape, 1 / np.mean(variances))


def random_parameters(covariance_type, n_components=3, n_features=4, seed=0):
    """A registered model and random parameters for it, in sklearn's layout."""
    model = get_covariance_model(covariance_type)
    rng = np.random.RandomState(seed)
    weights = rng.dirichlet(np.ones(n_components))
    means = rng.normal(scale=3.0, size=(n_components, n_features))

    def spd():
        a = rng.normal(size=(n_features, n_features))
        return a @ a.T + n_features * np.eye(n_features)

    # every kind drawn, in one order: a model's parameters do not depend on its kind
    drawn = {
        (False, FULL): np.stack([spd() for _ in range(n_components)]),
        (True, FULL): spd(),
        DIAGONAL: rng.uniform(0.5, 2.0, size=(n_components, n_features)),
        ISOTROPIC: rng.uniform(0.5, 2.0, size=n_components),
    }
    structure = model.structure
    if structure.form == FULL:
        covariances = drawn[structure.shared, FULL]
    else:
        covariances = drawn[structure.form]
        if structure.shared:
            covariances = covariances[0]
    covariances = covariances.reshape(model.parameter_shape(n_components, n_features))
    params = MixtureParameters(
        weights, means, covariances, model.precisions_cholesky(covariances)
    )
    return model, params


def dense_covariance(model, covariances, k, n_features):
    """Component ``k``'s matrix (d, d) of covariances (or precisions) as sklearn
    stores them for ``model``."""
    matrix = covariances if model.structure.shared else covariances[k]
    if model.structure.form == FULL:
        return matrix
    return np.diag(np.broadcast_to(matrix, (n_features,)))


def scipy_weighted_log_prob(model, params, X):
    """``log w_k + log N(x | mu_k, Sigma_k)`` by scipy, shape (n_rows, n_components)."""
    return np.column_stack(
        [
            np.log(params.weights[k])
            + stats.multivariate_normal(
                params.means[k],
                dense_covariance(model, params.covariances, k, X.shape[1]),
            ).logpdf(X)
            for k in range(len(params.weights))
        ]
    )


def expected_statistics(model, params, X, sample_weight=None):
    """Mean log-likelihood, ``nk``, means and scatter (k, d, d) by scipy, in float64."""
    log_prob = scipy_weighted_log_prob(model, params, X)
    weights = np.ones(len(X)) if sample_weight is None else sample_weight
    bound = np.average(special.logsumexp(log_prob, axis=1), weights=weights)
    resp = special.softmax(log_prob, axis=1) * weights[:, np.newaxis]
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    scatter = np.stack(
        [(resp[:, k] * (X - means[k]).T) @ (X - means[k]) for k in range(len(nk))]
    )
    return bound, nk, means, scatter


def in_layout(scatter, layout):
    """A reference scatter (k, d, d) in a statistics ``layout``: its diagonals
    (diagonal) or their sums (isotropic), summed over components when pooled."""
    if layout.form != FULL:
        scatter = np.diagonal(scatter, axis1=1, axis2=2)
    if layout.form == ISOTROPIC:
        scatter = scatter.sum(axis=1)
    if layout.shared:
        scatter = scatter.sum(axis=0)
    return scatter


def exact_kernel_class(model):
    """The kernel that serves ``model``'s components far from the reference."""
    form = richer_form(model.structure.form, model.statistics_layout.form)
    return ComponentKernel if form == FULL else AxisAlignedKernel


def blobs_with_a_far_cluster(covariance_type, seed=0):
    """Two ordinary blobs and a third whose mean is far from the data's mean in its
    own metric: far tighter, or (for one shared covariance) far away, though not so
    far that sklearn's raw moments about the origin lose 1e-8."""
    rng = np.random.RandomState(seed)
    far = (
        rng.normal(1500.0, 1.0, size=(50, 3))
        if get_covariance_model(covariance_type).structure.shared
        else rng.normal(-6.0, 1e-4, size=(50, 3))
    )
    return np.vstack(
        [rng.normal(0.0, 1.0, size=(200, 3)), rng.normal(6.0, 1.0, size=(200, 3)), far]
    )
