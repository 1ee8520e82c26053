"""``stopping_rule='mclust'``: mclust's relative rule on the total log-likelihood,
keeping the parameters whose log-likelihood met it, against mclust 6.0.0's ``me``."""

import numpy as np
import pytest
from _mclust_reference import bic_lookup, load_dataset, meta
from numpy.testing import assert_allclose
from sklearn.datasets import make_blobs

from sklearn_em_gmm import GaussianMixture

MCLUST_DEFAULTS = dict(init_params="hc", reg_covar=0.0, stopping_rule="mclust")


@pytest.mark.parametrize("model", ["VVV", "VEV"])
def test_log_likelihood_per_iteration_is_mes(model):
    X = load_dataset("iris")
    trace = meta()["me_iteration_trace_iris_G3"][model]["loglik_me_itmax_1_to_5"]
    fit = GaussianMixture(
        3, covariance_type=model, tol=0.0, max_iter=5, **MCLUST_DEFAULTS
    )
    with pytest.warns(UserWarning):  # not converged after 5 iterations
        fit.fit(X)
    assert_allclose(np.array(fit.lower_bounds_) * len(X), trace, rtol=1e-12)


@pytest.mark.parametrize("cell", sorted(meta()["published_bic"]))
def test_iterations_and_log_likelihood_are_mes(cell):
    name, model, n_components = cell.split("_")
    X = load_dataset(name)
    reference = bic_lookup("default")[(name, model, int(n_components))]
    fit = GaussianMixture(
        int(n_components), covariance_type=model, tol=1e-5, **MCLUST_DEFAULTS
    ).fit(X)
    assert fit.converged_
    assert fit.n_iter_ == reference["n_iter"]
    assert_allclose(fit.lower_bound_ * len(X), reference["loglik"], rtol=1e-10)


def test_kept_parameters_are_those_of_the_last_log_likelihood():
    X, _ = make_blobs(300, 2, centers=3, cluster_std=2.0, random_state=1)
    params = dict(n_components=3, tol=1e-4, random_state=0)
    mclust = GaussianMixture(stopping_rule="mclust", **params).fit(X)
    assert mclust.lower_bound_ == pytest.approx(mclust.score(X), rel=1e-12)
    assert mclust.lower_bounds_[-1] == mclust.lower_bound_
    # sklearn's rule keeps the M-step after its last bound, which is higher
    sklearn = GaussianMixture(**params).fit(X)
    assert sklearn.score(X) > sklearn.lower_bound_


def test_rule_is_relative_to_the_total_log_likelihood():
    X, _ = make_blobs(400, 2, centers=3, cluster_std=2.0, random_state=1)
    fit = GaussianMixture(
        3, tol=1e-6, random_state=0, max_iter=1000, stopping_rule="mclust"
    ).fit(X)
    totals = np.array(fit.lower_bounds_) * len(X)
    changes = np.abs(np.diff(totals)) / (1 + np.abs(totals[1:]))
    assert changes[-1] <= 1e-6
    assert np.all(changes[:-1] > 1e-6)


def test_frequency_weights_are_repeated_rows():
    X, _ = make_blobs(200, 2, centers=3, cluster_std=2.0, random_state=2)
    counts = np.random.RandomState(0).randint(1, 4, len(X))
    repeated = np.repeat(X, counts, axis=0)
    params = dict(
        n_components=3,
        tol=1e-8,
        max_iter=1000,
        stopping_rule="mclust",
        weights_init=np.full(3, 1 / 3),
        means_init=X[:3],
        precisions_init=np.repeat(np.eye(2)[np.newaxis], 3, axis=0),
    )
    weighted = GaussianMixture(**params).fit(X, sample_weight=counts)
    expanded = GaussianMixture(**params).fit(repeated)
    assert weighted.n_iter_ == expanded.n_iter_
    assert_allclose(weighted.means_, expanded.means_, rtol=1e-10)


def test_invalid_rule_is_named():
    with pytest.raises(ValueError, match="'stopping_rule' parameter"):
        GaussianMixture(stopping_rule="R").fit(np.eye(3))
