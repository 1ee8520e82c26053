"""fit on dask arrays: the same statistics as in memory, summed over chunks on a
LocalCluster (2 worker processes, 1 thread each), started once per test run."""

import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklearn_em_gmm import GaussianMixture

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="session")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(4000, 3, centers=4, cluster_std=1.8, random_state=0)
    weights = np.random.RandomState(0).randint(0, 4, len(X)).astype(float)
    return X, weights


def _chunked(array):
    # uneven chunks of rows
    return da.from_array(array, chunks=(700,) + array.shape[1:])


def _fits(params, X, weights=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = GaussianMixture(**params).fit(X, sample_weight=weights)
        lazy = GaussianMixture(**params).fit(
            _chunked(X), sample_weight=None if weights is None else _chunked(weights)
        )
    return in_memory, lazy


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_fit_as_in_memory(data, covariance_type, weighted):
    X, weights = data
    params = dict(
        n_components=4, covariance_type=covariance_type, random_state=0, tol=1e-6
    )
    in_memory, lazy = _fits(params, X, weights if weighted else None)
    assert lazy.n_iter_ == in_memory.n_iter_
    assert_allclose(lazy.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert isinstance(getattr(lazy, name), np.ndarray)
        assert_allclose(getattr(lazy, name), getattr(in_memory, name), rtol=1e-10)


@pytest.mark.usefixtures("client")
def test_predictions_are_lazy_and_equal(data):
    X, weights = data
    in_memory, lazy = _fits(dict(n_components=4, random_state=0), X)
    X_lazy = _chunked(X)
    for method in ("predict", "predict_proba", "score_samples"):
        result = getattr(lazy, method)(X_lazy)
        assert isinstance(result, da.Array)
        assert_allclose(result.compute(), getattr(in_memory, method)(X), rtol=1e-12)
    assert isinstance(lazy.labels_, da.Array)
    assert_array_equal(lazy.labels_.compute(), in_memory.labels_)
    w_lazy = _chunked(weights)
    assert lazy.score(X_lazy) == pytest.approx(in_memory.score(X), rel=1e-12)
    assert lazy.score(X_lazy, sample_weight=w_lazy) == pytest.approx(
        in_memory.score(X, sample_weight=weights), rel=1e-12
    )
    assert lazy.bic(X_lazy) == pytest.approx(in_memory.bic(X), rel=1e-12)
    assert lazy.aic(X_lazy, sample_weight=w_lazy) == pytest.approx(
        in_memory.aic(X, sample_weight=weights), rel=1e-12
    )


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "hc"])
def test_start_from_a_sample_is_reproducible(data, init_params):
    X, _ = data
    params = dict(n_components=4, init_params=init_params, init_sample_size=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = GaussianMixture(**params, n_init=2, random_state=3).fit(_chunked(X))
        again = GaussianMixture(**params, n_init=2, random_state=3).fit(_chunked(X))
        once = GaussianMixture(**params, random_state=3).fit(_chunked(X))
    assert_array_equal(first.means_, again.means_)
    assert first.lower_bounds_ == again.lower_bounds_
    # the better of two starts, the first of which is the single fit's
    assert first.lower_bound_ >= once.lower_bound_


def test_default_scheduler_without_a_client(data):
    X, _ = data
    with dask.config.set(scheduler="threads"):
        in_memory, lazy = _fits(dict(n_components=3, random_state=0), X)
    assert_allclose(lazy.means_, in_memory.means_, rtol=1e-10)


def test_predict_checks_the_features(data):
    X, _ = data
    lazy = GaussianMixture(2, random_state=0).fit(_chunked(X))
    with pytest.raises(ValueError, match="features"):
        lazy.predict(_chunked(X[:, :2]))


def test_a_dask_fit_saves_as_an_in_memory_one(data):
    X, _ = data
    lazy = GaussianMixture(2, random_state=0).fit(_chunked(X))
    restored = GaussianMixture.from_dict(lazy.to_dict(json_compatible=True))
    assert_array_equal(restored.labels_, lazy.labels_.compute())
    assert_array_equal(restored.predict(X), lazy.predict(X))


@pytest.mark.parametrize("init_params", ["kmeans", "random", "hc"])
def test_zero_weights_remove_rows_as_in_memory(data, init_params):
    X, _ = data
    X = X.copy()
    weights = np.random.RandomState(1).uniform(0.5, 2, len(X))
    weights[::4] = 0
    X[::4][:5] = 1e160  # rows of zero weight count for nothing, even huge ones
    params = dict(n_components=3, init_params=init_params, random_state=0)
    with dask.config.set(scheduler="threads"):
        in_memory, lazy = _fits(params, X, weights)
    assert lazy.n_iter_ == in_memory.n_iter_
    assert_allclose(lazy.means_, in_memory.means_, rtol=1e-10)


def test_pickle_holds_labels_not_the_data(data):
    import pickle

    X, _ = data
    with dask.config.set(scheduler="threads"):
        lazy = GaussianMixture(2, random_state=0).fit(_chunked(X))
        restored = pickle.loads(pickle.dumps(lazy))
        assert isinstance(restored.labels_, np.ndarray)
        assert_array_equal(restored.labels_, lazy.labels_.compute())


def test_warm_start_resumes_as_in_memory(data):
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = GaussianMixture(4, max_iter=1, random_state=0).fit(X)
        models = []
        for rows in (X, _chunked(X)):
            model = GaussianMixture(
                4,
                weights_init=start.weights_,
                means_init=start.means_,
                precisions_init=start.precisions_,
                warm_start=True,
                max_iter=2,
            )
            with dask.config.set(scheduler="threads"):
                model.fit(rows)
                model.set_params(max_iter=100)
                models.append(model.fit(rows))  # resumes
    in_memory, lazy = models
    assert lazy.converged_ and in_memory.converged_
    assert lazy.n_iter_ == in_memory.n_iter_
    assert_allclose(lazy.means_, in_memory.means_, rtol=1e-10)


def test_few_rows_of_positive_weight_start_as_in_memory(data):
    # the start's sample is drawn among the rows of positive weight
    X, _ = data
    weights = np.zeros(len(X))
    weights[::300] = 1.0
    weights[::9] = 2.0
    params = dict(n_components=4, random_state=0, init_sample_size=1000)
    with dask.config.set(scheduler="threads"):
        in_memory, lazy = _fits(params, X, weights)
    assert lazy.n_iter_ == in_memory.n_iter_
    assert_allclose(lazy.means_, in_memory.means_, rtol=1e-10)


def test_empty_chunks_and_chunks_of_zero_weight(data):
    X, _ = data
    weights = np.ones(len(X))
    weights[700:1400] = 0  # the second chunk weighs nothing
    params = dict(n_components=3, random_state=0)
    with dask.config.set(scheduler="threads"):
        in_memory, lazy = _fits(params, X, weights)
        assert lazy.n_iter_ == in_memory.n_iter_
        assert_allclose(lazy.means_, in_memory.means_, rtol=1e-10)
        empty_chunk = da.from_array(X, chunks=((2000, 0, 2000), (3,)))
        fitted = GaussianMixture(**params).fit(empty_chunk)
        assert_allclose(fitted.means_, _fits(params, X)[0].means_, rtol=1e-10)
        keep = np.ones(len(X), dtype=bool)
        keep[:700] = False  # a boolean mask empties the first chunk
        masked = _chunked(X)[da.from_array(keep, chunks=700)]
        for method in ("predict", "predict_proba", "score_samples"):
            result = getattr(fitted, method)(masked).compute()
            assert_allclose(result, getattr(fitted, method)(X[keep]), rtol=1e-12)


def _bad(X, w, index, value, in_weights=False):
    X, w = X.copy(), w.copy()
    if in_weights:
        w[index] = value
    else:
        X[index] = value
    return X, w


DASK_BAD_INPUTS = {
    "NaN in X": lambda X, w: (_bad(X, w, (3500, 1), np.nan)[0], None),
    "inf in X": lambda X, w: (_bad(X, w, (10, 0), np.inf)[0], None),
    "NaN in X, negative weight": lambda X, w: (
        _bad(X, w, (3500, 1), np.nan)[0],
        _bad(X, w, 3, -1.0, in_weights=True)[1],
    ),
    "negative weight": lambda X, w: (X, -w),
    "NaN weight": lambda X, w: _bad(X, w, 3900, np.nan, in_weights=True),
    "inf weight": lambda X, w: _bad(X, w, 3900, np.inf, in_weights=True),
    "zero weights": lambda X, w: (X, 0 * w),
}


@pytest.mark.parametrize("make", DASK_BAD_INPUTS.values(), ids=DASK_BAD_INPUTS)
def test_bad_input_gets_the_in_memory_error(data, make):
    X, w = make(*data)
    messages = []
    for rows, weights in ((X, w), (_chunked(X), None if w is None else _chunked(w))):
        with pytest.raises(ValueError) as error:
            GaussianMixture(2).fit(rows, sample_weight=weights)
        messages.append(str(error.value))
    assert messages[1] == messages[0]
