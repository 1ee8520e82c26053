"""fit on an np.memmap of more rows than init_sample_size: out of core, the in-memory
EM over chunks whose pages are released once read; smaller maps fit in memory."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklearn_em_gmm import GaussianMixture, _mapped_fit
from sklearn_em_gmm.engine._mapped import release_pages

SAMPLE = 500  # init_sample_size below the maps' rows: out of core


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(3000, 3, centers=4, cluster_std=1.8, random_state=0)
    weights = np.random.RandomState(0).randint(0, 4, len(X)).astype(float)
    return X, weights


def _map(tmp_path, array, mode="r", name="X.dat"):
    path = tmp_path / name
    writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
    writer[:] = array
    writer.flush()
    del writer
    return np.memmap(path, dtype=array.dtype, mode=mode, shape=array.shape)


def _fit(X, weights=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(**params).fit(X, sample_weight=weights)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_fit_as_in_memory_from_the_same_start(
    tmp_path, monkeypatch, data, covariance_type, weighted
):
    X, weights = data
    monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype: 700)
    weights = weights if weighted else None
    start = _fit(
        X,
        weights,
        n_components=4,
        covariance_type=covariance_type,
        max_iter=2,
        random_state=0,
    )
    params = dict(
        n_components=4,
        covariance_type=covariance_type,
        tol=1e-6,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        init_sample_size=SAMPLE,
    )
    in_memory = _fit(X, weights, **params)
    mapped = _fit(_map(tmp_path, X), weights, **params)
    assert not hasattr(mapped, "labels_")
    assert mapped.n_iter_ == in_memory.n_iter_
    assert_allclose(mapped.lower_bounds_, in_memory.lower_bounds_, rtol=1e-10)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert_allclose(getattr(mapped, name), getattr(in_memory, name), rtol=1e-10)


@pytest.mark.parametrize("init_params", ["kmeans", "random_from_data", "hc"])
def test_the_start_is_the_dask_start(tmp_path, data, init_params):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X, weights = data
    weights = weights.copy()
    weights[::5] = 0
    params = dict(
        n_components=4,
        init_params=init_params,
        init_sample_size=SAMPLE,
        n_init=2,
        random_state=7,
    )
    mapped = _fit(_map(tmp_path, X), weights, **params)
    with dask.config.set(scheduler="sync"):
        lazy = _fit(da.from_array(X, chunks=(700, 3)), weights, **params)
    assert mapped.n_iter_ == lazy.n_iter_
    assert_allclose(mapped.means_, lazy.means_, rtol=1e-10)
    assert_allclose(mapped.lower_bounds_, lazy.lower_bounds_, rtol=1e-10)


def test_a_map_of_few_rows_fits_in_memory(tmp_path, data):
    X, weights = data
    mapped = _fit(_map(tmp_path, X), weights, n_components=4, random_state=0)
    in_memory = _fit(X, weights, n_components=4, random_state=0)
    assert_array_equal(mapped.means_, in_memory.means_)
    assert_array_equal(mapped.labels_, in_memory.labels_)


def test_fit_predict_predicts_and_the_model_saves_without_labels(tmp_path, data):
    X, _ = data
    X_map = _map(tmp_path, X)
    model = GaussianMixture(4, random_state=0, init_sample_size=SAMPLE)
    labels = model.fit_predict(X_map)
    assert_array_equal(labels, model.predict(X))
    restored = GaussianMixture.from_dict(model.to_dict(json_compatible=True))
    assert not hasattr(restored, "labels_")
    assert_array_equal(restored.predict(X), labels)
    # a later in-memory fit keeps labels again
    assert_array_equal(model.fit(X).labels_, model.predict(X))


def test_dtypes(tmp_path, data):
    X, _ = data
    params = dict(n_components=3, random_state=0, init_sample_size=SAMPLE)
    single = _fit(_map(tmp_path, X.astype(np.float32), name="f32.dat"), **params)
    assert single.means_.dtype == np.float32
    integers = np.round(X * 100).astype(np.int32)
    from_int = _fit(_map(tmp_path, integers, name="i32.dat"), **params)
    as_float = _fit(
        _map(tmp_path, integers.astype(np.float64), name="f64.dat"), **params
    )
    assert from_int.means_.dtype == np.float64
    assert_array_equal(from_int.means_, as_float.means_)


def test_warm_start_resumes_as_in_memory(tmp_path, data):
    X, _ = data
    start = _fit(X, n_components=4, max_iter=1, random_state=0)
    params = dict(
        n_components=4,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        init_sample_size=SAMPLE,
        warm_start=True,
        max_iter=2,
    )
    models = []
    for rows in (X, _map(tmp_path, X)):
        model = _fit(rows, **params)
        model.set_params(max_iter=100)
        models.append(model.fit(rows))  # resumes
    in_memory, mapped = models
    assert mapped.converged_ and in_memory.converged_
    assert mapped.n_iter_ == in_memory.n_iter_
    assert_allclose(mapped.means_, in_memory.means_, rtol=1e-10)


def _set(array, index, value):
    array = array.copy()
    array[index] = value
    return array


BAD_INPUTS = {
    "NaN in X": lambda X, w: (_set(X, (2500, 1), np.nan), None),
    "inf in X": lambda X, w: (_set(X, (7, 0), np.inf), None),
    "inf in float16 X": lambda X, w: (_set(X.astype(np.float16), (7, 0), np.inf), w),
    "negative weight": lambda X, w: (X, -w),
    "zero weights": lambda X, w: (X, 0 * w),
    "weights' shape": lambda X, w: (X, w[:-1]),
    "NaN weight": lambda X, w: (X, _set(w, 2900, np.nan)),
    # X is checked first, then the weights' values, then their signs
    "NaN in X, negative weight": lambda X, w: (
        _set(X, (2500, 1), np.nan),
        _set(w, 3, -1.0),
    ),
    "negative weight, NaN weight": lambda X, w: (
        X,
        _set(_set(w, 3, -1.0), 2900, np.nan),
    ),
    "NaN in X, weights' shape": lambda X, w: (_set(X, (2500, 1), np.nan), w[:-1]),
}


@pytest.mark.parametrize("make", BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_bad_input_gets_the_in_memory_error(tmp_path, monkeypatch, data, make):
    X, w = make(*data)
    # chunks of 256 rows: the errors lie in different chunks
    monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype: 256)
    messages = []
    for rows in (X, _map(tmp_path, X)):
        model = GaussianMixture(2, init_sample_size=SAMPLE)
        with pytest.raises(ValueError) as error:
            model.fit(rows, sample_weight=w)
        assert not hasattr(model, "means_")
        messages.append(str(error.value))
    assert messages[1] == messages[0]
    assert "X" in messages[0] or "sample_weight" in messages[0]


def test_few_rows_of_positive_weight_start_as_in_memory(tmp_path, data):
    # the start's sample is drawn among the rows of positive weight: with fewer
    # than init_sample_size of them, it is all of them, the in-memory start
    X, _ = data
    weights = np.zeros(len(X))
    weights[::300] = 1.0
    weights[::7] = 2.0
    params = dict(n_components=4, random_state=0, init_sample_size=SAMPLE)
    in_memory = _fit(X, weights, **params)
    mapped = _fit(_map(tmp_path, X), weights, **params)
    assert mapped.n_iter_ == in_memory.n_iter_
    assert_allclose(mapped.means_, in_memory.means_, rtol=1e-10)


def test_joblib_workers_maps_fit_as_in_memory(data):
    # joblib hands arrays over 1 MB to its workers as maps: n_jobs changes nothing
    joblib = pytest.importorskip("joblib")
    X = np.tile(data[0], (20, 1))  # 1.4 MB
    params = dict(n_components=4, random_state=0, init_sample_size=SAMPLE)

    def fit(X):
        model = GaussianMixture(**params).fit(X)
        return type(X).__name__, model.means_, model.labels_

    in_process = fit(X)
    (worker,) = joblib.Parallel(n_jobs=2)(joblib.delayed(fit)(X) for _ in range(1))
    assert worker[0] == "memmap"
    assert_array_equal(worker[1], in_process[1])
    assert_array_equal(worker[2], in_process[2])


def test_a_grids_cells_on_a_map_are_its_fits_out_of_core(tmp_path, data):
    # a cell does not depend on the grid's other covariance types
    from sklearn_em_gmm.selection import fit_grid

    X_map = _map(tmp_path, data[0])
    params = dict(random_state=0, init_sample_size=SAMPLE)
    both = fit_grid(GaussianMixture, X_map, [3], ["full", "diag"], params)
    for covariance_type in ("full", "diag"):
        alone = fit_grid(GaussianMixture, X_map, [3], [covariance_type], params)
        fit = _fit(X_map, n_components=3, covariance_type=covariance_type, **params)
        for grid in (both, alone):
            cell = grid[(3, covariance_type)].model
            assert not hasattr(cell, "labels_")  # read out of core
            assert_array_equal(cell.means_, fit.means_)


def test_tied_models_keep_nothing_per_chunk(tmp_path, monkeypatch):
    # a pooled model's second moment is d x d per chunk: made per pass, not kept
    import tracemalloc

    X, _ = make_blobs(4096, 64, centers=3, random_state=0)
    X_map = _map(tmp_path, X)
    peaks = []
    for rows in (4096, 16):  # one chunk, then 256 chunks: 8 MiB of moments
        monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype, rows=rows: rows)
        tracemalloc.start()
        _fit(X_map, n_components=3, covariance_type="tied", max_iter=2,
             random_state=0, init_sample_size=SAMPLE)  # fmt: skip
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 2**20


def test_scores_of_a_map_are_the_in_memory_ones(tmp_path, monkeypatch, data):
    X, w = data
    monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype: 700)
    model = GaussianMixture(3, random_state=0).fit(X)
    X_map = _map(tmp_path, X)
    for weights in (None, w, 2.5):
        for method in ("score", "bic", "aic"):
            score = getattr(model, method)
            assert score(X_map, sample_weight=weights) == pytest.approx(
                score(X, sample_weight=weights), rel=1e-12
            )
    X_nan = _set(X, (2500, 1), np.nan)
    bad_inputs = [
        (X, _set(w, 5, -1.0)),
        (X, _set(w, 2900, np.nan)),
        (X, w[:-1]),
        (X, 0 * w),
        (X_nan, _set(w, 5, -1.0)),  # X's error first
        (X_nan, w[:-1]),
    ]
    for rows, weights in bad_inputs:
        messages = []
        for array in (rows, _map(tmp_path, rows, name="bad.dat")):
            with pytest.raises(ValueError) as error:
                model.score(array, sample_weight=weights)
            messages.append(str(error.value))
        assert messages[1] == messages[0]


def test_scores_of_a_map_hold_no_row_sized_array(tmp_path, monkeypatch):
    import tracemalloc

    X, _ = make_blobs(1 << 18, 2, centers=3, random_state=0)
    weights = np.ones(len(X))
    model = GaussianMixture(3, random_state=0).fit(X[:5000])
    X_map = _map(tmp_path, X)
    monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype: 1 << 12)
    tracemalloc.start()
    model.score(X_map)
    model.aic(X_map, sample_weight=weights)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < len(X) * 8 / 2  # a float per row would be 2 MiB


def test_too_many_components_for_the_rows_of_positive_weight(tmp_path, data):
    X, weights = data
    weights = np.zeros(len(X))
    weights[:3] = 1
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(4, init_sample_size=SAMPLE).fit(
            _map(tmp_path, X), sample_weight=weights
        )


def test_the_map_is_not_modified(tmp_path, data):
    X, _ = data
    X_map = _map(tmp_path, X, mode="r+")
    before = Path(tmp_path / "X.dat").read_bytes()
    GaussianMixture(3, random_state=0, init_sample_size=SAMPLE).fit(X_map)
    assert Path(tmp_path / "X.dat").read_bytes() == before
    assert_array_equal(X_map, X)


def test_a_copy_on_write_map_keeps_its_changes(tmp_path, data):
    # a private map's changed pages exist nowhere else: they must not be dropped
    X, _ = data
    X_map = _map(tmp_path, X, mode="c")
    X_map[:, 0] += 1000.0
    model = GaussianMixture(3, random_state=0, init_sample_size=SAMPLE).fit(X_map)
    assert_allclose(X_map[:, 0], X[:, 0] + 1000.0)
    assert model.means_[:, 0].min() > 900


def _resident_kib(path):
    """Resident KiB of this process's maps of ``path`` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and "-" in fields[0] and not fields[0].endswith(":"):
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/smaps")
def test_pages_are_released(tmp_path):
    X = np.ones((1 << 20, 8))  # 64 MiB
    X_map = _map(tmp_path, X)
    path = tmp_path / "X.dat"
    assert X_map.sum() == X.size  # every page read
    assert _resident_kib(path) > 60 * 1024
    release_pages(X_map[: len(X) // 2])
    assert 28 * 1024 < _resident_kib(path) < 36 * 1024
    release_pages(X_map[::-2])  # any strides
    assert _resident_kib(path) < 8
    X_map[:2].sum()  # the kernel reads ahead, not the whole file
    assert 0 < _resident_kib(path) < 1024


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/smaps")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_a_fit_holds_no_more_than_a_chunk(tmp_path, monkeypatch, weighted):
    X, _ = make_blobs(1 << 18, 8, centers=3, random_state=0)  # 16 MiB
    X_map = _map(tmp_path, X)
    weights = None
    if weighted:
        weights = _map(tmp_path, np.ones(len(X)), name="w.dat")
    monkeypatch.setattr(_mapped_fit, "chunk_rows", lambda d, dtype: 1 << 14)  # 1 MiB
    resident = []

    def watched(array):
        # every read of the map ends with a release: the most resident before it
        resident.append(_resident_kib(tmp_path / "X.dat"))
        release_pages(array)

    monkeypatch.setattr("sklearn_em_gmm.engine._mapped.release_pages", watched)
    model = GaussianMixture(
        n_components=3,
        max_iter=2,
        random_state=0,
        init_sample_size=5000,  # rows spread over every chunk
        prior="default" if weighted else None,  # a pass for the scatter
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(X_map, sample_weight=weights)
    resident.append(_resident_kib(tmp_path / "X.dat"))
    proba = model.predict_proba(X_map)
    resident.append(_resident_kib(tmp_path / "X.dat"))
    bic = model.bic(X_map, sample_weight=weights)
    resident.append(_resident_kib(tmp_path / "X.dat"))
    assert len(resident) > 16 * 4
    assert max(resident) <= 2 * 1024 + 8
    assert _resident_kib(tmp_path / "X.dat") < 1024
    assert_array_equal(labels, model.predict(X))
    assert_allclose(proba, model.predict_proba(X), rtol=1e-12)
    assert_allclose(model.score_samples(X_map), model.score_samples(X), rtol=1e-12)
    weights_in_memory = None if weights is None else np.asarray(weights)
    assert bic == pytest.approx(model.bic(X, sample_weight=weights_in_memory))
