"""Remembered starts: a repeated draw gives the same labels and leaves the random
generator where the draw would, and the memory they take is bounded."""

import numpy as np
import pytest

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.init import INIT_METHODS, _methods
from sklearn_em_gmm.init._memo import _StartMemo, forget_starts


@pytest.fixture
def kmeans_fits(monkeypatch):
    """Counts the k-means fits, starting from no remembered start."""
    forget_starts()
    calls = []

    class CountingKMeans(_methods.KMeans):
        def fit(self, X, y=None, sample_weight=None):
            calls.append(len(X))
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(_methods, "KMeans", CountingKMeans)
    yield calls
    forget_starts()


def _data(seed=0):
    return np.random.default_rng(seed).normal(size=(200, 3))


def test_repeated_draw_is_remembered_with_the_generator_state(kmeans_fits):
    draw = INIT_METHODS["kmeans"]
    X = _data()
    first_state = np.random.RandomState(7)
    first, _ = draw(X, None, 3, first_state)
    again_state = np.random.RandomState(7)
    again, _ = draw(X, None, 3, again_state)
    assert kmeans_fits == [200]
    np.testing.assert_array_equal(again, first)
    assert again is not first
    # the generator continues as after the draw itself
    assert first_state.randint(1 << 30) == again_state.randint(1 << 30)


def test_other_data_weights_or_state_draw_again(kmeans_fits):
    draw = INIT_METHODS["kmeans"]
    X = _data()
    draw(X, None, 3, np.random.RandomState(0))
    changed = X.copy()
    changed[5, 1] += 1e-12
    draw(changed, None, 3, np.random.RandomState(0))
    draw(X, np.ones(len(X)), 3, np.random.RandomState(0))
    draw(X, None, 3, np.random.RandomState(1))
    draw(X, None, 2, np.random.RandomState(0))
    draw(X.astype(np.float32), None, 3, np.random.RandomState(0))
    assert len(kmeans_fits) == 6


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_fits_from_remembered_starts_are_the_same(kmeans_fits, covariance_type):
    X = _data(1)
    fits = [
        GaussianMixture(
            3, covariance_type=covariance_type, n_init=2, random_state=0
        ).fit(X)
        for _ in range(2)
    ]
    assert len(kmeans_fits) == 2  # one per init, the second fit remembered both
    for name in ("weights_", "means_", "precisions_cholesky_", "lower_bound_"):
        np.testing.assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))


def test_remembered_labels_are_bounded_in_bytes():
    memo = _StartMemo(max_bytes=3 * 800)
    for key in range(4):
        memo.put(key, np.zeros(100, dtype=np.int64), None)
    assert memo.get(0) is None
    assert all(memo.get(key) is not None for key in (1, 2, 3))
    memo.put("large", np.zeros(400, dtype=np.int64), None)
    assert memo.get("large") is None


def test_large_data_are_not_remembered(kmeans_fits, monkeypatch):
    from sklearn_em_gmm.init import _memo

    monkeypatch.setattr(_memo, "_MAX_VALUES", 599)
    draw = INIT_METHODS["kmeans"]
    for _ in range(2):
        draw(_data(), None, 3, np.random.RandomState(0))
    assert len(kmeans_fits) == 2
