"""A covariance model the package does not have, defined here alone.

``pooled_spherical`` (fictional code XII) has one variance shared by every
component, ``Sigma_k = lambda I``, stored with shape (1,); ``pooled_diagonal``
(XEI) one shared diagonal. Defined and registered in this file with no edit
anywhere else, they must fit, predict, score, give BIC/AIC with their parameter
count, persist, and work in GridSearchCV and the CLI; and their fits must be those
of a naive EM written here from the formulas, as must those of the package's own
EII and EEI, the same models in the package's layout.
"""

import json
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import (
    DIAGONAL,
    ISOTROPIC,
    CovarianceModel,
    Structure,
    canonical_models,
    get_covariance_model,
    ill_defined_covariance_error,
    register,
    unregister,
)
from sklearn_em_gmm.engine import ArraySource, MixtureParameters, run_em
from sklearn_em_gmm.kernels import Components, select_kernel


class PooledSphericalCovariance(CovarianceModel):
    """One variance shared by all components: ``Sigma_k = lambda I`` (as EII).

    ``covariances_`` holds that variance, shape (1,).
    """

    name = "pooled_spherical"
    mclust_code = "XII"
    structure = Structure(shared=True, form=ISOTROPIC)

    def parameter_shape(self, n_components, n_features):
        return (1,)

    def n_covariance_parameters(self, n_components, n_features):
        return 1

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        # the pooled scatter's trace over the total weight, per feature
        n_features = stats.means.shape[1]
        return np.reshape(stats.scatter / (nk.sum() * n_features) + reg_covar, (1,))

    def precisions_cholesky(self, covariances):
        if not np.all(covariances > 0) or not np.all(np.isfinite(covariances)):
            raise ill_defined_covariance_error(covariances.dtype)
        return 1.0 / np.sqrt(covariances)

    def precisions_cholesky_from_precisions(self, precisions):
        return np.sqrt(precisions)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky**2

    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        return 1.0 / precisions_cholesky**2

    def check_precisions(self, precisions):
        if np.any(precisions <= 0):
            raise ValueError(f"'{self.name} precision' should be positive")

    def degenerate_components(self, covariances, n_components):
        valid = np.all(covariances > 0) and np.all(np.isfinite(covariances))
        return np.full(n_components, not valid)

    def add_to_diagonal(self, covariances, components, amounts):
        return covariances + amounts.mean() if components.any() else covariances

    def reset(self, covariances, components, variances):
        return covariances

    def sample(self, rng, means, covariances, counts):
        n_features = means.shape[1]
        scale = np.sqrt(covariances)  # (1,) or, for XEI, (d,)
        return np.vstack(
            [
                mean + scale * rng.standard_normal(size=(count, n_features))
                for mean, count in zip(means, counts, strict=True)
            ]
        )


MODEL = PooledSphericalCovariance()


class PooledDiagonalCovariance(PooledSphericalCovariance):
    """One diagonal covariance shared by all components (as EEI), shape (d,).

    Its factor is shared but not one number: a kernel that sliced it by component
    would fail when ``n_components != n_features``.
    """

    name = "pooled_diagonal"
    mclust_code = "XEI"
    structure = Structure(shared=True, form=DIAGONAL)

    def parameter_shape(self, n_components, n_features):
        return (n_features,)

    def n_covariance_parameters(self, n_components, n_features):
        return n_features

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        return stats.scatter / nk.sum() + reg_covar

    def add_to_diagonal(self, covariances, components, amounts):
        return covariances + amounts if components.any() else covariances


SHARED_DIAGONAL = PooledDiagonalCovariance()


@pytest.fixture(autouse=True)
def registered():
    register(MODEL)
    register(SHARED_DIAGONAL)
    yield
    unregister(MODEL)
    unregister(SHARED_DIAGONAL)


def _blobs(n_samples=300, random_state=0):
    X, _ = make_blobs(
        n_samples=n_samples, centers=3, cluster_std=1.5, random_state=random_state
    )
    return X


def _eii_variance(X, resp, means):
    """EII's M-step: one variance over every component and feature."""
    squared = ((X[:, None, :] - means[None]) ** 2).sum(axis=2)
    return (resp * squared).sum() / X.size + 1e-6


def _eei_variances(X, resp, means):
    """EEI's M-step: one variance per feature, pooled over components."""
    squared = (X[:, None, :] - means[None]) ** 2  # (n, k, d)
    return np.einsum("nk,nkd->d", resp, squared) / len(X) + 1e-6


def _naive_em(X, weights, means, variance, n_steps, m_step=_eii_variance):
    """EM from the formulas, with scipy's densities: the reference."""
    n_samples = X.shape[0]
    bounds = []
    for _ in range(n_steps):
        log_prob = np.column_stack(
            [
                np.log(w) + stats.multivariate_normal(m, variance).logpdf(X)
                for w, m in zip(weights, means, strict=True)
            ]
        )
        log_norm = np.logaddexp.reduce(log_prob, axis=1)
        bounds.append(log_norm.mean())
        resp = np.exp(log_prob - log_norm[:, None])
        nk = resp.sum(axis=0)
        weights = nk / n_samples
        means = resp.T @ X / nk[:, None]
        variance = m_step(X, resp, means)
    return weights, means, variance, bounds


def test_the_registry_lists_it_and_the_estimator_accepts_both_names():
    assert MODEL in canonical_models()
    X = _blobs()
    for name in ("pooled_spherical", "XII", "xii"):
        gm = GaussianMixture(3, covariance_type=name, random_state=0).fit(X)
        assert gm.covariances_.shape == (1,)


@pytest.mark.parametrize(
    ("code", "variance", "m_step"),
    [
        ("XII", [4.0], _eii_variance),
        ("XEI", [4.0, 2.0], _eei_variances),
        ("EII", [4.0], _eii_variance),
        ("EEI", [4.0, 2.0], _eei_variances),
    ],
)
@pytest.mark.parametrize("far", [False, True], ids=["near", "far"])
def test_em_steps_are_those_of_the_formulas(code, variance, m_step, far):
    model = get_covariance_model(code)
    # three components in two dimensions
    X = _blobs()
    if far:
        # a component far from the data's mean: the exact kernel, not the shared one
        X[:60] += 1e4
    weights = np.full(3, 1 / 3)
    means = X[[0, 100, 200]]
    variance = np.array(variance)
    params = MixtureParameters(
        weights, means, variance, model.precisions_cholesky(variance)
    )
    source = ArraySource(X)
    source.prepare(model, source.mean(), 3)
    kernel = select_kernel(
        Components.of(params, model), model.statistics_layout, source.mean(), X.dtype
    )
    expected = "AxisAlignedKernel" if far else "SharedPrecisionKernel"
    assert type(kernel).__name__ == expected

    class Silent:
        def iteration_end(self, n_iter, change):
            pass

        def init_end(self, lower_bound, converged):
            pass

    result = run_em(
        source,
        params,
        model,
        reg_covar=1e-6,
        tol=0.0,
        max_iter=8,
        lower_bound=-np.inf,
        progress=Silent(),
    )
    initial = variance.reshape(-1)[0] if variance.size == 1 else variance
    ref_weights, ref_means, ref_variance, ref_bounds = _naive_em(
        X, weights, means, initial, 8, m_step
    )
    assert_allclose(result.lower_bounds, ref_bounds, rtol=1e-12)
    assert_allclose(result.params.weights, ref_weights, rtol=1e-10)
    assert_allclose(result.params.means, ref_means, rtol=1e-10)
    assert result.params.covariances.shape == variance.shape
    assert_allclose(
        result.params.covariances, np.reshape(ref_variance, variance.shape), rtol=1e-10
    )


def test_fit_predict_score_sample_and_criteria():
    X = _blobs()
    gm = GaussianMixture(3, covariance_type="XII", random_state=0).fit(X)
    assert gm.converged_
    variance = gm.covariances_[0]
    # scores are scipy's mixture density under the fitted parameters
    densities = np.column_stack(
        [
            w * stats.multivariate_normal(m, variance).pdf(X)
            for w, m in zip(gm.weights_, gm.means_, strict=True)
        ]
    )
    assert_allclose(gm.score_samples(X), np.log(densities.sum(axis=1)), rtol=1e-10)
    assert_allclose(
        gm.predict_proba(X),
        densities / densities.sum(axis=1, keepdims=True),
        atol=1e-10,
    )
    assert_array_equal(gm.predict(X), densities.argmax(axis=1))
    assert_allclose(gm.precisions_, 1 / gm.covariances_)
    # weights 2 + means 3 * 2 + one variance
    n_parameters = 2 + 6 + 1
    n = len(X)
    log_likelihood = gm.score(X) * n
    assert gm.bic(X) == pytest.approx(-2 * log_likelihood + n_parameters * np.log(n))
    assert gm.aic(X) == pytest.approx(-2 * log_likelihood + 2 * n_parameters)
    samples, labels = gm.sample(2000)
    assert samples.shape == (2000, 2) and set(labels) <= {0, 1, 2}
    within = samples - gm.means_[labels]
    assert within.var() == pytest.approx(variance, rel=0.1)


def test_persistence_round_trips():
    X = _blobs()
    gm = GaussianMixture(3, covariance_type="XII", random_state=0).fit(X)
    for data in (
        gm.to_dict(),
        json.loads(json.dumps(gm.to_dict(json_compatible=True))),
    ):
        restored = GaussianMixture.from_dict(data)
        assert_array_equal(restored.covariances_, gm.covariances_)
        assert_array_equal(restored.precisions_, gm.precisions_)
        assert_array_equal(restored.predict_proba(X), gm.predict_proba(X))
    bad = gm.to_dict()
    bad["attributes"]["covariances_"] = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="covariances_"):
        GaussianMixture.from_dict(bad)
    unpickled = pickle.loads(pickle.dumps(gm))
    assert_array_equal(unpickled.score_samples(X), gm.score_samples(X))


def test_grid_search_chooses_among_it_and_the_others():
    X = _blobs()
    grid = {"n_components": [2, 3], "covariance_type": ["XII", "full", "spherical"]}
    search = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3).fit(X)
    assert len(search.cv_results_["params"]) == 6
    assert all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_command_line_fits_it(capsys):
    from sklearn_em_gmm.cli import main

    status = main(["--components", "2,3", "--covariance-types", "XII,full"])
    out = capsys.readouterr().out
    assert status == 0
    assert "pooled_spherical" in out
    assert "BIC" in out


def test_unregistered_it_is_rejected():
    unregister(MODEL)
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(covariance_type="XII").fit(_blobs())
    register(MODEL)


def test_a_shared_diagonal_fits_samples_and_persists():
    X = _blobs()
    gm = GaussianMixture(3, covariance_type="XEI", random_state=0).fit(X)
    assert gm.covariances_.shape == (2,)
    restored = GaussianMixture.from_dict(gm.to_dict())
    assert_array_equal(restored.predict_proba(X), gm.predict_proba(X))
    samples, labels = gm.sample(4000)
    within = samples - gm.means_[labels]
    assert_allclose(within.var(axis=0), gm.covariances_, rtol=0.1)
