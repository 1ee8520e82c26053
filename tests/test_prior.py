"""The conjugate prior: its defaults, its MAP M-step and what it changes in a fit.

The MAP step is checked against the posterior mode found by a general-purpose
optimizer on the log posterior written out here from its densities (scipy.stats),
and against R mclust's own M-step with its default prior when R is present.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import FULL, ISOTROPIC, get_covariance_model
from sklearn_em_gmm.prior import resolve_prior
from sklearn_em_gmm.stats import SufficientStatistics

# the models whose covariances are per component or shared, in each form
MAP_MODELS = ["full", "tied", "diag", "spherical"]


def _small_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (7, 2)), rng.normal(3, 0.5, (5, 2))])
    resp = rng.dirichlet([1.0, 1.0], size=len(X))
    return X, resp


def _dense(model, covariances, n_components, n_features):
    return model.dense_covariances(covariances, n_components, n_features)


def _log_posterior(model, prior, X, resp, means, matrices):
    """Expected complete-data log-likelihood plus the log prior density, from the
    densities themselves."""
    n_components, n_features = means.shape
    total = 0.0
    for k in range(n_components):
        total += resp[:, k] @ stats.multivariate_normal(means[k], matrices[k]).logpdf(X)
        total += stats.multivariate_normal(
            prior.mean, matrices[k] / prior.shrinkage
        ).logpdf(means[k])
    # the covariance's prior: once per distinct matrix (or variance)
    distinct = matrices[:1] if model.structure.shared else matrices
    for matrix in distinct:
        if model.structure.form == FULL:
            total += stats.invwishart(prior.dof, prior.scale).logpdf(matrix)
        elif model.structure.form == ISOTROPIC:
            total += stats.invgamma(prior.dof / 2, scale=prior.scale / 2).logpdf(
                matrix[0, 0]
            )
        else:
            total += np.sum(
                stats.invgamma(prior.dof / 2, scale=prior.scale / 2).logpdf(
                    np.diag(matrix)
                )
            )
    return total


def _unpack(model, theta, n_components, n_features):
    """Means and covariances of ``model`` from unconstrained numbers."""
    means = theta[: n_components * n_features].reshape(n_components, n_features)
    rest = theta[n_components * n_features :]
    shape = model.parameter_shape(n_components, n_features)
    if model.structure.form == FULL:
        n_matrices = 1 if model.structure.shared else n_components
        rows, cols = np.tril_indices(n_features)
        chol = np.zeros((n_matrices, n_features, n_features))
        chol[:, rows, cols] = rest.reshape(n_matrices, -1)
        chol[:, np.arange(n_features), np.arange(n_features)] = np.exp(
            chol[:, np.arange(n_features), np.arange(n_features)]
        )
        covariances = (chol @ np.swapaxes(chol, 1, 2)).reshape(shape)
    else:
        covariances = np.exp(rest).reshape(shape)
    return means, covariances


@pytest.mark.parametrize("covariance_type", MAP_MODELS)
def test_map_step_is_the_posterior_mode(covariance_type):
    model = get_covariance_model(covariance_type)
    X, resp = _small_problem()
    n_components, n_features = resp.shape[1], X.shape[1]
    prior = resolve_prior("default", X, None, 1.0, model, n_components)
    stats_ = SufficientStatistics.from_rows(X, resp, model.statistics_layout)
    estimates = model.m_step(stats_, reg_covar=0.0, dtype=np.float64, prior=prior)

    def negative(theta):
        means, covariances = _unpack(model, theta, n_components, n_features)
        matrices = _dense(model, covariances, n_components, n_features)
        return -_log_posterior(model, prior, X, resp, means, matrices)

    n_covariance_values = int(np.prod(model.parameter_shape(n_components, 2)))
    if model.structure.form == FULL:
        n_matrices = 1 if model.structure.shared else n_components
        n_covariance_values = n_matrices * 3
    theta0 = np.concatenate([stats_.means.ravel(), np.zeros(n_covariance_values)])
    found = optimize.minimize(negative, theta0, method="BFGS", options={"gtol": 1e-9})
    means, covariances = _unpack(model, found.x, n_components, n_features)
    assert_allclose(estimates.means, means, rtol=1e-5, atol=1e-6)
    assert_allclose(estimates.covariances, covariances, rtol=1e-4)


def test_default_hyperparameters_follow_fraley_and_raftery():
    X, _ = _small_problem()
    full = resolve_prior("default", X, None, 1.0, get_covariance_model("full"), 3)
    assert full.shrinkage == 0.01
    assert full.dof == X.shape[1] + 2
    assert_allclose(full.mean, X.mean(axis=0))
    # a G-th of the data's volume: the covariance over G ** (2 / d)
    assert_allclose(full.scale, np.cov(X.T) / 3 ** (2 / 2))
    spherical = resolve_prior("default", X, None, 1.0, get_covariance_model("VII"), 3)
    assert spherical.scale == pytest.approx(np.trace(np.cov(X.T)) / 2 / 3)


def test_dict_prior_replaces_defaults_and_bad_values_name_the_key():
    X, _ = _small_problem()
    model = get_covariance_model("full")
    prior = resolve_prior({"shrinkage": 0.5, "dof": 7}, X, None, 1.0, model, 2)
    assert (prior.shrinkage, prior.dof) == (0.5, 7.0)
    with pytest.raises(ValueError, match=r"prior\['dof'\]"):
        resolve_prior({"dof": -1}, X, None, 1.0, model, 2)
    with pytest.raises(ValueError, match=r"prior\['scale'\]"):
        resolve_prior({"scale": np.eye(3)}, X, None, 1.0, model, 2)
    with pytest.raises(ValueError, match="unknown keys"):
        resolve_prior({"nu": 3}, X, None, 1.0, model, 2)
    with pytest.raises(ValueError, match="prior"):
        GaussianMixture(prior="flat").fit(X)


@pytest.mark.parametrize("covariance_type", MAP_MODELS)
def test_prior_keeps_a_singular_fit_finite(covariance_type):
    # two duplicated rows would collapse a component without reg_covar
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.1, 4.9], [4.8, 5.2]])
    means_init = np.array([[0.0, 0.0], [5.0, 5.0]])
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        GaussianMixture(
            2, covariance_type="full", reg_covar=0.0, means_init=means_init
        ).fit(X)
    fit = GaussianMixture(
        2,
        covariance_type=covariance_type,
        reg_covar=0.0,
        means_init=means_init,
        prior="default",
    ).fit(X)
    assert np.all(np.isfinite(fit.covariances_))
    assert np.isfinite(fit.score(X))


@pytest.mark.parametrize("covariance_type", MAP_MODELS)
def test_prior_weights_act_as_repeated_rows(covariance_type):
    X, _ = _small_problem(1)
    counts = np.arange(len(X)) % 3 + 1
    model = get_covariance_model(covariance_type)
    shape = model.parameter_shape(2, 2)
    identity = np.eye(2) if model.structure.form == FULL else np.ones(2)
    common = dict(
        n_components=2,
        covariance_type=covariance_type,
        prior="default",
        weights_init=[0.5, 0.5],
        means_init=X[[0, -1]],
        precisions_init=np.broadcast_to(identity, shape) if shape else 1.0,
        tol=1e-10,
    )
    weighted = GaussianMixture(**common).fit(X, sample_weight=counts)
    repeated = GaussianMixture(**common).fit(np.repeat(X, counts, axis=0))
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-6)
