"""Threads by call size: small fits and predictions on one thread, large ones keep
the caller's threads but for their small products, a caller's limits hold, and
calls overlapping in several threads leave the thread counts as they found them."""

import threading
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm._threads import (
    MIN_PARALLEL_ROWS,
    MIN_PARALLEL_WORK,
    one_thread,
    parallel_call,
    thread_controller,
)
from sklearn_em_gmm.engine import _driver, _estep, _predict
from sklearn_em_gmm.init import _methods
from sklearn_em_gmm.kernels._products import _LARGE_PASS
from sklearn_em_gmm.kernels._quadratic import quadratic_width


def _threads_now():
    """The largest thread count of each API loaded, e.g. {"blas": 2, "openmp": 2}."""
    counts = {}
    for pool in thread_controller().info():
        api = pool["user_api"]
        counts[api] = max(counts.get(api, 0), pool["num_threads"])
    return counts


@pytest.fixture
def seen(monkeypatch):
    """The thread counts inside each E-step pass, M-step and k-means start."""
    record = {"estep": [], "mstep": [], "kmeans": []}
    pass_threads = _estep.blas_threads
    maximization = _driver.maximization

    @contextmanager
    def in_pass(kernel, n_rows):
        with pass_threads(kernel, n_rows):
            record["estep"].append(_threads_now())
            yield

    def in_m_step(*args, **kwargs):
        record["mstep"].append(_threads_now())
        return maximization(*args, **kwargs)

    class RecordingKMeans(KMeans):
        def fit(self, X, y=None, sample_weight=None):
            record["kmeans"].append(_threads_now())
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(_estep, "blas_threads", in_pass)
    monkeypatch.setattr(_driver, "maximization", in_m_step)
    monkeypatch.setattr(_methods, "KMeans", RecordingKMeans)
    return record


@pytest.fixture
def two_threads():
    with threadpool_limits(limits=2):
        if set(_threads_now().values()) != {2}:
            pytest.skip("the thread pools do not take two threads here")
        yield


def _data(n_rows, n_features=2):
    return np.random.default_rng(0).normal(size=(n_rows, n_features))


def _all_one(counts):
    return bool(counts) and all(set(count.values()) == {1} for count in counts)


def test_parallel_calls_are_the_large_ones():
    # the largest of the small-to-mid grid, and many rows of few features
    assert not parallel_call(10_000, 64, 10)
    assert not parallel_call(MIN_PARALLEL_ROWS - 1, 2, 3)
    assert parallel_call(MIN_PARALLEL_ROWS, 1, 1)
    # few rows, much work per row
    n_features = 1024
    n_rows = -(-MIN_PARALLEL_WORK // n_features**2)
    assert parallel_call(n_rows, n_features, 3)
    assert not parallel_call(n_rows - 1, n_features, 3)


def test_small_fit_runs_on_one_thread(seen, two_threads):
    GaussianMixture(n_components=2, random_state=0).fit(_data(500))
    for name in ("kmeans", "estep", "mstep"):
        assert _all_one(seen[name]), name
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
    assert _all_one(counts)
    assert set(_threads_now().values()) == {2}


def test_large_fit_keeps_threads_but_for_its_m_step(seen, two_threads):
    GaussianMixture(n_components=1, max_iter=2, random_state=0).fit(
        _data(MIN_PARALLEL_ROWS)
    )
    assert seen["mstep"] and all(count["blas"] == 1 for count in seen["mstep"])
    assert seen["kmeans"] and all(max(c.values()) == 2 for c in seen["kmeans"])
    # the fast kernel's many small products: one thread in a pass this large
    expanded = MIN_PARALLEL_ROWS * quadratic_width(2, "full")
    pass_threads = 1 if expanded >= _LARGE_PASS else 2
    assert seen["estep"]
    assert all(count["blas"] == pass_threads for count in seen["estep"])


def test_caller_limits_hold_in_a_large_fit(seen, two_threads):
    with threadpool_limits(limits=1):
        GaussianMixture(n_components=1, max_iter=2, random_state=0).fit(
            _data(MIN_PARALLEL_ROWS)
        )
        for name in ("kmeans", "estep", "mstep"):
            assert _all_one(seen[name]), name
    assert set(_threads_now().values()) == {2}


def test_overlapping_limits_leave_the_thread_counts_as_they_were(two_threads):
    # first in, first out: the second, leaving last, must not restore the one
    # thread it found
    entered, first_left = threading.Event(), threading.Event()

    def second():
        with one_thread():
            entered.set()
            first_left.wait()

    worker = threading.Thread(target=second)
    with one_thread():
        worker.start()
        entered.wait()
    first_left.set()
    worker.join()
    assert set(_threads_now().values()) == {2}
