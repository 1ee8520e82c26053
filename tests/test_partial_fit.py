"""partial_fit: stepwise (online) EM, Cappé & Moulines 2009."""

import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklearn_em_gmm import GaussianMixture


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(3000, 2, centers=3, cluster_std=1.5, random_state=0)
    return X


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_batch_with_rho_one_is_one_em_step(blobs, covariance_type):
    params = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    online = GaussianMixture(**params, learning_decay=0.0).partial_fit(blobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        batch = GaussianMixture(**params, max_iter=1).fit(blobs)
    for name in ("weights_", "means_", "covariances_"):
        assert_allclose(getattr(online, name), getattr(batch, name), rtol=1e-10)
    assert online.lower_bound_ == pytest.approx(batch.lower_bound_, rel=1e-12)
    assert online.n_batch_iter_ == 1


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_shuffled_passes_reach_batch_em(blobs, covariance_type):
    params = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    batch = GaussianMixture(**params, tol=1e-8, max_iter=1000).fit(blobs)
    online = GaussianMixture(**params)
    rng = np.random.RandomState(1)
    for _ in range(4):
        for rows in np.array_split(rng.permutation(len(blobs)), 20):
            online.partial_fit(blobs[rows])
    assert online.n_batch_iter_ == 80
    assert abs(online.score(blobs) - batch.score(blobs)) < 1e-2


def test_step_sizes_follow_the_schedule():
    rng = np.random.RandomState(0)
    first, second = rng.normal(0, 1, (50, 2)), rng.normal(3, 1, (70, 2))
    online = GaussianMixture(1, learning_offset=4.0, learning_decay=0.6)
    online.partial_fit(first).partial_fit(second)
    rho = (1 + 4.0) ** -0.6
    expected = (1 - rho) * first.mean(axis=0) + rho * second.mean(axis=0)
    assert_allclose(online.means_[0], expected, rtol=1e-12)
    assert online.n_batch_iter_ == 2
    assert len(online.lower_bounds_) == 2


def test_later_batches_need_the_same_features(blobs):
    online = GaussianMixture(2, random_state=0).partial_fit(blobs[:100])
    means = online.means_.copy()
    with pytest.raises(ValueError, match="features"):
        online.partial_fit(np.hstack([blobs[:100], blobs[:100, :1]]))
    assert_array_equal(online.means_, means)


def test_failed_first_step_leaves_nothing(blobs):
    online = GaussianMixture(5)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        online.partial_fit(blobs[:3])
    assert not hasattr(online, "means_")
    assert not hasattr(online, "n_batch_iter_")


def test_fit_then_partial_fit_continues_and_fit_resets(blobs):
    model = GaussianMixture(3, random_state=0).fit(blobs)
    means = model.means_.copy()
    model.partial_fit(blobs[:500])
    assert model.n_batch_iter_ == 1
    assert not np.array_equal(model.means_, means)
    assert np.abs(model.means_ - means).max() < 0.5
    model.fit(blobs)
    assert not hasattr(model, "n_batch_iter_")


def test_zero_weights_are_removed_rows(blobs):
    weights = np.ones(600)
    weights[::3] = 0
    weighted, removed = (
        GaussianMixture(3, random_state=0, learning_offset=2.0) for _ in range(2)
    )
    for start in (0, 600):
        rows = slice(start, start + 600)
        weighted.partial_fit(blobs[rows], sample_weight=weights)
        removed.partial_fit(blobs[rows][weights > 0])
    assert_allclose(weighted.means_, removed.means_, rtol=1e-12)
    assert len(weighted.labels_) == 600


def test_float32_stays_float32(blobs):
    online = GaussianMixture(3, random_state=0).partial_fit(blobs.astype(np.float32))
    online.partial_fit(blobs[:200])  # a float64 batch joins the float32 fit
    assert online.means_.dtype == online.covariances_.dtype == np.float32


@pytest.mark.parametrize("params", [{"learning_decay": 1.5}, {"learning_offset": -1.0}])
def test_bad_schedule_is_named(blobs, params):
    with pytest.raises(ValueError, match=f"'{next(iter(params))}' parameter"):
        GaussianMixture(2, **params).partial_fit(blobs)


def test_after_fit_the_fitted_mixture_is_the_first_step(blobs):
    batch = blobs[:40] + 1.0
    model = GaussianMixture(1, learning_offset=4.0, learning_decay=0.6).fit(blobs)
    model.partial_fit(batch)
    rho = (1 + 4.0) ** -0.6
    expected = (1 - rho) * blobs.mean(axis=0) + rho * batch.mean(axis=0)
    assert_allclose(model.means_[0], expected, rtol=1e-10)
    # a handful of rows moves a fit on 3000 by a step, not to themselves
    fitted = GaussianMixture(3, random_state=0).fit(blobs)
    before = fitted.score(blobs)
    fitted.partial_fit(blobs[:5])
    assert fitted.score(blobs) > before - 0.1
    assert fitted.n_batch_iter_ == 1


def test_changed_parameters_need_fit(blobs):
    model = GaussianMixture(3, random_state=0).partial_fit(blobs)
    model.set_params(n_components=2)
    with pytest.raises(ValueError, match="call fit"):
        model.partial_fit(blobs)
    with pytest.raises(ValueError, match="'n_components' parameter"):
        GaussianMixture(True).partial_fit(blobs)
