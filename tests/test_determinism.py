"""Determinism and thread safety.

The same ``random_state`` gives bit-identical fitted arrays run after run and in a
fresh interpreter, and one fitted model answers concurrent predictions from many
threads exactly as it answers serial calls.
"""

import hashlib
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, INIT_PARAMS
from sklearn.base import clone
from sklearn.datasets import make_blobs
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

FITTED_ARRAYS = (
    "weights_",
    "means_",
    "covariances_",
    "precisions_cholesky_",
    "precisions_",
    "labels_",
)

X, _ = make_blobs(
    n_samples=400, n_features=4, centers=4, cluster_std=2.0, random_state=3
)


def fit(covariance_type, init_params, dtype=np.float64):
    return GaussianMixture(
        n_components=4,
        covariance_type=covariance_type,
        init_params=init_params,
        n_init=2,
        max_iter=20,
        random_state=42,
    ).fit(X.astype(dtype))


def fitted_digest(model):
    """sha256 of the fitted arrays' bytes (with their dtypes and shapes)."""
    digest = hashlib.sha256()
    arrays = [getattr(model, name) for name in FITTED_ARRAYS]
    arrays.append(np.asarray(model.lower_bounds_))
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(f"{model.n_iter_} {model.converged_}".encode())
    return digest.hexdigest()


def all_digests():
    """Digest of every (covariance_type, init_params) fit, as a JSON-ready dict."""
    with threadpool_limits(limits=1):
        return {
            f"{covariance_type} {init_params}": fitted_digest(
                fit(covariance_type, init_params)
            )
            for covariance_type in COVARIANCE_TYPES
            for init_params in INIT_PARAMS
        }


@pytest.fixture
def single_blas_thread():
    """Tiny fits: BLAS threads only add contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield


def assert_same_bits(first, second):
    for name in FITTED_ARRAYS:
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert first.lower_bounds_ == second.lower_bounds_
    assert (first.n_iter_, first.converged_) == (second.n_iter_, second.converged_)


@pytest.mark.usefixtures("single_blas_thread")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init_params", INIT_PARAMS)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_random_state_same_bits(covariance_type, init_params, dtype):
    assert_same_bits(
        fit(covariance_type, init_params, dtype),
        fit(covariance_type, init_params, dtype),
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_bits_with_default_blas_threads():
    assert_same_bits(fit("full", "kmeans"), fit("full", "kmeans"))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_bits_in_a_fresh_process():
    code = (
        "import json, sys, warnings; "
        f"sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
        "warnings.simplefilter('ignore'); "
        "import test_determinism; "
        "print(json.dumps(test_determinism.all_digests()))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    in_other_process = json.loads(completed.stdout.strip().splitlines()[-1])
    assert in_other_process == all_digests()


# --------------------------------------------------------------------------------
# threads

N_THREADS = 8
PREDICTIONS = ("predict", "predict_proba", "score_samples")


@pytest.fixture(scope="module")
def big_X():
    # large enough that calls from different threads overlap in time
    return np.random.RandomState(0).normal(scale=4.0, size=(200_000, 4))


@pytest.mark.usefixtures("single_blas_thread")  # the concurrency is in our threads
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_concurrent_predictions_equal_serial(covariance_type, big_X):
    model = fit(covariance_type, "kmeans")
    X_before = big_X.copy()
    serial = {method: getattr(model, method)(big_X) for method in PREDICTIONS}
    serial["sample"] = model.sample(1000)
    barrier = threading.Barrier(N_THREADS)

    def predict_all(thread):
        barrier.wait()  # start together
        # each thread calls the methods in a different order, to mix them
        order = PREDICTIONS[thread % 3 :] + PREDICTIONS[: thread % 3]
        results = {method: getattr(model, method)(big_X) for method in order}
        results["sample"] = model.sample(1000)
        return results

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        concurrent = list(pool.map(predict_all, range(N_THREADS)))

    for results in concurrent:
        for method in PREDICTIONS:
            assert results[method].dtype == serial[method].dtype
            assert np.array_equal(results[method], serial[method]), method
        for got, expected in zip(results["sample"], serial["sample"], strict=True):
            assert np.array_equal(got, expected)
    assert np.array_equal(big_X, X_before)


@pytest.mark.usefixtures("single_blas_thread")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_concurrent_fits_of_clones_equal_serial():
    template = GaussianMixture(
        n_components=4, covariance_type="full", n_init=2, random_state=0
    )
    serial = fitted_digest(clone(template).fit(X))
    barrier = threading.Barrier(N_THREADS)

    def fit_clone(_):
        barrier.wait()
        return fitted_digest(clone(template).fit(X))

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        assert list(pool.map(fit_clone, range(N_THREADS))) == [serial] * N_THREADS
