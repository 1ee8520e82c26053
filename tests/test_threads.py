"""Threads by call size: small fits and predictions on one thread, large ones keep
the caller's threads but for their small products, and a caller's limits hold."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm._threads import MIN_PARALLEL_ROWS, thread_controller
from sklearn_em_gmm.engine import _driver, _predict, _sources
from sklearn_em_gmm.init import _methods
from sklearn_em_gmm.init._memo import forget_starts


def _threads_now():
    """The largest thread count of each API loaded: {"blas": n, "openmp": n}."""
    counts = {}
    for pool in thread_controller().info():
        api = pool["user_api"]
        counts[api] = max(counts.get(api, 0), pool["num_threads"])
    return counts


@pytest.fixture
def seen(monkeypatch):
    """The thread counts at each E-step pass, M-step and k-means start of a fit."""
    forget_starts()
    record = {"estep": [], "mstep": [], "kmeans": []}

    def recording(name, function):
        def wrapper(*args, **kwargs):
            record[name].append(_threads_now())
            return function(*args, **kwargs)

        return wrapper

    class RecordingKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            record["kmeans"].append(_threads_now())
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(
        _sources, "expectation_pass", recording("estep", _sources.expectation_pass)
    )
    monkeypatch.setattr(
        _driver, "maximization", recording("mstep", _driver.maximization)
    )
    monkeypatch.setattr(_methods, "KMeans", RecordingKMeans)
    return record


@pytest.fixture
def two_threads():
    with threadpool_limits(limits=2):
        if set(_threads_now().values()) != {2}:
            pytest.skip("the thread pools do not take two threads here")
        yield


def _data(n_rows):
    return np.random.default_rng(0).normal(size=(n_rows, 2))


def test_small_fit_runs_on_one_thread(seen, two_threads):
    GaussianMixture(n_components=2, random_state=0).fit(_data(500))
    counts = seen["kmeans"] + seen["estep"] + seen["mstep"]
    assert seen["kmeans"] and seen["estep"] and seen["mstep"]
    assert all(set(count.values()) == {1} for count in counts)
    assert set(_threads_now().values()) == {2}


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples"])
def test_small_prediction_runs_on_one_thread(monkeypatch, two_threads, method):
    model = GaussianMixture(n_components=2, random_state=0).fit(_data(500))
    counts = []
    pass_threads = _predict.blas_threads

    def recording(kernel, n_rows):
        counts.append(_threads_now())
        return pass_threads(kernel, n_rows)

    monkeypatch.setattr(_predict, "blas_threads", recording)
    getattr(model, method)(_data(300))
    assert counts and all(set(count.values()) == {1} for count in counts)
    assert set(_threads_now().values()) == {2}


def test_large_fit_keeps_threads_but_for_its_m_step(seen, two_threads):
    GaussianMixture(n_components=1, max_iter=2, random_state=0).fit(
        _data(MIN_PARALLEL_ROWS)
    )
    assert all(count["blas"] == 1 for count in seen["mstep"])
    # d = 2: the quadratic kernel's pass is small enough to keep the caller's threads
    assert all(count["blas"] == 2 for count in seen["estep"])
    assert all(count["openmp"] == 2 for count in seen["kmeans"])


def test_caller_limits_hold_in_a_large_fit(seen, two_threads):
    with threadpool_limits(limits=1):
        GaussianMixture(n_components=1, max_iter=2, random_state=0).fit(
            _data(MIN_PARALLEL_ROWS)
        )
        counts = seen["kmeans"] + seen["estep"] + seen["mstep"]
        assert all(set(count.values()) == {1} for count in counts)
    assert set(_threads_now().values()) == {2}
