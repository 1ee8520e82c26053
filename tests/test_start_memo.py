"""Remembered starts: a fit from an int seed draws each start once; the next fit of
the same data takes its labels, and the generator continues where the draws left it
for the starts not remembered; other seeds, data or generators draw again."""

import numpy as np
import pytest

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.init import Start, StartDraws, _memo, _methods, forget_starts
from sklearn_em_gmm.init._memo import _StartMemo


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


def _drawn_in_turn(X, n_draws, seed=7):
    """The labels of ``n_draws`` starts drawn one after another, unremembered."""
    generator = np.random.RandomState(seed)
    return [Start.draw(X, None, 3, "kmeans", generator).labels for _ in range(n_draws)]


def test_remembered_starts_are_the_drawn_ones(kmeans_fits):
    X = _data()
    expected = _drawn_in_turn(X, 3)
    n_drawn = len(kmeans_fits)
    first = StartDraws(X, None, 3, "kmeans", 7)
    np.testing.assert_array_equal(first.draw(0).labels, expected[0])
    again = StartDraws(X, None, 3, "kmeans", 7)
    np.testing.assert_array_equal(again.draw(0).labels, expected[0])
    assert len(kmeans_fits) == n_drawn + 1
    # not remembered: drawn from the generator as the first draw left it
    np.testing.assert_array_equal(again.draw(1).labels, expected[1])
    np.testing.assert_array_equal(again.draw(2).labels, expected[2])
    assert len(kmeans_fits) == n_drawn + 3


def test_other_data_weights_seeds_or_generators_draw_again(kmeans_fits):
    X = _data()
    StartDraws(X, None, 3, "kmeans", 0).draw(0)
    changed = X.copy()
    changed[5, 1] += 1e-12
    StartDraws(changed, None, 3, "kmeans", 0).draw(0)
    StartDraws(X, np.ones(len(X)), 3, "kmeans", 0).draw(0)
    StartDraws(X, None, 3, "kmeans", 1).draw(0)
    StartDraws(X, None, 2, "kmeans", 0).draw(0)
    StartDraws(X.astype(np.float32), None, 3, "kmeans", 0).draw(0)
    for _ in range(2):
        StartDraws(X, None, 3, "kmeans", np.random.RandomState(0)).draw(0)
        StartDraws(X, None, 3, "kmeans", None).draw(0)
    assert len(kmeans_fits) == 10


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


def test_large_data_are_not_remembered(kmeans_fits, monkeypatch):
    monkeypatch.setattr(_memo, "_MAX_VALUES", 599)
    for _ in range(2):
        StartDraws(_data(), None, 3, "kmeans", 0).draw(0)
    assert len(kmeans_fits) == 2


def test_remembered_labels_and_states_are_bounded_in_bytes():
    state = np.random.RandomState(0).get_state()
    entry_bytes = 800 + state[1].nbytes
    memo = _StartMemo(max_bytes=3 * entry_bytes)
    for key in range(4):
        memo.put(key, np.zeros(100, dtype=np.int64), state)
    assert memo.get(0) is None
    assert all(memo.get(key) is not None for key in (1, 2, 3))
    memo.put("large", np.zeros(3 * entry_bytes // 8, dtype=np.int64), state)
    assert memo.get("large") is None


def test_same_data_in_another_order_or_seed_type_is_remembered(kmeans_fits):
    X = _data()
    StartDraws(X, None, 3, "kmeans", 5).draw(0)
    StartDraws(np.asfortranarray(X), None, 3, "kmeans", np.int64(5)).draw(0)
    assert len(kmeans_fits) == 1


def test_fits_that_may_use_threads_are_not_remembered(kmeans_fits, monkeypatch):
    monkeypatch.setattr(_memo, "parallel_call", lambda *shape: True)
    for _ in range(2):
        StartDraws(_data(), None, 3, "kmeans", 0).draw(0)
    assert len(kmeans_fits) == 2
