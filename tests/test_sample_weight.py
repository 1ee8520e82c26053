"""Sample weights mean frequencies: weight k fits as k copies, 0 as removal."""

import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, relative_difference
from test_parity import FITTED_ARRAYS, _starting_point

from sklearn_em_gmm import GaussianMixture


def _data(seed=0, n_samples=120, n_features=3):
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=4.0, size=(3, n_features))
    X = centres[rng.randint(3, size=n_samples)] + rng.normal(
        size=(n_samples, n_features)
    )
    weights = rng.randint(0, 4, size=n_samples)
    return X, weights


def _assert_same_fit(a, b, rtol=1e-10, first_bound=0):
    for name in FITTED_ARRAYS:
        assert relative_difference(getattr(a, name), getattr(b, name)) < rtol, name
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_
    assert (
        relative_difference(
            a.lower_bounds_[first_bound:], b.lower_bounds_[first_bound:]
        )
        < rtol
    )


def _fit(X, sample_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(**params).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_equal_repeated_rows_from_a_given_start(covariance_type):
    X, weights = _data()
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        tol=1e-8,
        max_iter=200,
        **_starting_point(X, 3, covariance_type),
    )
    weighted = _fit(X, weights, **params)
    repeated = _fit(np.repeat(X, weights, axis=0), **params)
    _assert_same_fit(weighted, repeated)
    assert weighted.n_iter_ > 3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
def test_one_component_fit_is_weight_equivalent(covariance_type, init_params):
    X, weights = _data(seed=1)
    params = dict(
        n_components=1,
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=0,
    )
    # The start is one drawn row, which weighs its weight in one fit and one copy in
    # the other, so only the first lower bound (the start's) may differ; with one
    # component the first M-step lands on the weighted moments in both.
    _assert_same_fit(
        _fit(X, weights, **params),
        _fit(np.repeat(X, weights, axis=0), **params),
        first_bound=1,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_kmeans_start_is_steered_by_weights(covariance_type):
    # rows keep their order, so k-means draws the same rows in both fits
    X, weights = _data(seed=2)
    params = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    weighted = _fit(X, weights, **params)
    repeated = _fit(np.repeat(X, weights, axis=0), **params)
    _assert_same_fit(weighted, repeated)
    unweighted = _fit(X, **params)
    assert relative_difference(weighted.means_, unweighted.means_) > 1e-3


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_points_of_zero_weight_are_never_drawn(init_params):
    X, _ = _data(seed=3)
    weights = np.zeros(len(X))
    weights[:10] = 1.0
    for seed in range(5):
        start = _fit(
            X,
            weights,
            n_components=3,
            init_params=init_params,
            random_state=seed,
            max_iter=0,
        )
        # initial means are the drawn rows, shrunk by nk / (nk + 10 eps)
        drawn = np.isclose(start.means_[:, None, :], X[None, :, :], rtol=1e-12)
        drawn = drawn.all(axis=2)
        assert drawn.any(axis=1).all()
        assert not drawn[:, 10:].any()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_zero_weight_equals_removing_the_row(covariance_type):
    X, _ = _data(seed=4)
    weights = np.ones(len(X))
    weights[::3] = 0.0
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        tol=1e-8,
        **_starting_point(X, 3, covariance_type),
    )
    _assert_same_fit(_fit(X, weights, **params), _fit(X[weights > 0], **params))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_unit_weights_equal_no_weights(covariance_type, init_params):
    X, _ = _data(seed=5)
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=0,
    )
    _assert_same_fit(_fit(X, np.ones(len(X)), **params), _fit(X, **params))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scaling_all_weights_does_not_change_the_fit(covariance_type):
    X, weights = _data(seed=6)
    weights = weights + np.random.RandomState(0).uniform(size=len(X))
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        **_starting_point(X, 3, covariance_type),
    )
    _assert_same_fit(
        _fit(X, weights, **params), _fit(X, 7.5 * weights, **params), rtol=1e-9
    )


def test_one_component_matches_weighted_moments():
    X, _ = _data(seed=7)
    weights = np.random.RandomState(1).uniform(0.1, 3.0, size=len(X))
    fit = _fit(X, weights, reg_covar=0.0)
    np.testing.assert_allclose(fit.means_[0], np.average(X, axis=0, weights=weights))
    np.testing.assert_allclose(
        fit.covariances_[0], np.cov(X.T, aweights=weights, bias=True), rtol=1e-10
    )


def test_weighted_score_bic_and_aic_count_the_weights():
    X, weights = _data(seed=8)
    fit = _fit(X, weights, n_components=2, random_state=0)
    repeated = np.repeat(X, weights, axis=0)
    assert fit.score(X, sample_weight=weights) == pytest.approx(
        fit.score(repeated), rel=1e-12
    )
    assert fit.bic(X, sample_weight=weights) == pytest.approx(
        fit.bic(repeated), rel=1e-12
    )
    assert fit.aic(X, sample_weight=weights) == pytest.approx(
        fit.aic(repeated), rel=1e-12
    )


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        (-np.ones(10), "Negative values"),
        (np.r_[np.nan, np.ones(9)], "sample_weight.*NaN"),
        (np.r_[np.inf, np.ones(9)], "sample_weight.*infinity"),
        (np.zeros(10), "All sample_weight values are zero"),
        (np.ones(9), r"sample_weight.shape == \(9,\), expected \(10,\)"),
        (np.ones((10, 1)), r"sample_weight.shape == \(10, 1\), expected \(10,\)"),
        (np.r_[np.ones(2), np.zeros(8)], "n_samples >= n_components"),
    ],
)
def test_invalid_sample_weight_is_a_clear_error(sample_weight, message):
    X = np.random.RandomState(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=message):
        GaussianMixture(n_components=3).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e-9, 1e-3, 1e6])
def test_weights_of_any_scale_give_the_unweighted_fit(dtype, scale):
    # the 10 * eps floor on component weights must not grow relative to tiny weights
    X, _ = _data(seed=9)
    X = (X + 1e4).astype(dtype)
    params = dict(n_components=3, random_state=0)
    unweighted = _fit(X, **params)
    weighted = _fit(X, np.full(len(X), scale), **params)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for name in FITTED_ARRAYS:
        assert (
            relative_difference(getattr(weighted, name), getattr(unweighted, name))
            < rtol
        )


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_a_zero_weight_row_far_away_is_removed(init_params):
    # e.g. a float32 fill value: its distances overflow, yet weight 0 removes it
    X, _ = _data(seed=10)
    X = X.astype(np.float32)
    filled = np.vstack([X, np.full((1, X.shape[1]), 9.96921e36, dtype=np.float32)])
    weights = np.r_[np.ones(len(X)), 0.0]
    params = dict(n_components=3, init_params=init_params, random_state=0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        weighted = _fit(filled, weights, **params)
        assert weighted.labels_.shape == (len(filled),)
        assert weighted.score(filled, sample_weight=weights) == pytest.approx(
            weighted.score(X)
        )
    _assert_same_fit(weighted, _fit(X, **params), rtol=1e-6)


def test_fit_predict_returns_a_copy_of_labels():
    X, _ = _data(seed=11)
    gm = GaussianMixture(n_components=2, random_state=0)
    labels = gm.fit_predict(X)
    labels[:] = -1
    assert gm.labels_.min() >= 0
