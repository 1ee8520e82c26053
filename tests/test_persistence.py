"""Persistence: pickle, skops and the pickle-free dict format round-trip bit-exactly.

A round trip must give back the same parameters and fitted arrays (same values, same
dtype, same Python types) and therefore identical predictions and samples. Loading a
dict trusts nothing: each invalid case raises a ValueError naming the key.
"""

import copy
import functools
import json
import pickle
import re

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.persistence import FORMAT, model_from_dict, model_to_dict

DTYPES = [np.float64, np.float32]

X, _ = make_blobs(n_samples=200, n_features=3, centers=3, random_state=0)


@functools.lru_cache
def _fitted(covariance_type="full", dtype=np.float64):
    """A fitted mixture, shared between tests: copy it before changing it."""
    return GaussianMixture(
        n_components=3, covariance_type=covariance_type, random_state=0
    ).fit(X.astype(dtype))


def _assert_same_value(actual, desired, name):
    assert type(actual) is type(desired), name
    if isinstance(desired, np.ndarray):
        assert actual.dtype == desired.dtype, name
        assert np.array_equal(actual, desired), name
    elif isinstance(desired, list):
        assert len(actual) == len(desired), name
        for a, d in zip(actual, desired, strict=True):
            _assert_same_value(a, d, name)
    else:
        assert actual == desired, name


def assert_identical(loaded, original):
    """Same parameters and fitted attributes, bit for bit; same predictions."""
    assert type(loaded) is type(original)
    params = original.get_params()
    assert loaded.get_params().keys() == params.keys()
    for name, value in params.items():
        _assert_same_value(loaded.get_params()[name], value, name)
    fitted = {name for name in vars(original) if name.endswith("_")}
    assert {name for name in vars(loaded) if name.endswith("_")} == fitted
    for name in fitted:
        _assert_same_value(getattr(loaded, name), getattr(original, name), name)

    rows = X.astype(original.means_.dtype)
    for method in ("predict", "predict_proba", "score_samples"):
        _assert_same_value(
            getattr(loaded, method)(rows), getattr(original, method)(rows), method
        )
    assert loaded.score(rows) == original.score(rows)
    for a, d in zip(loaded.sample(50), original.sample(50), strict=True):
        _assert_same_value(a, d, "sample")


# --------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_round_trip(covariance_type, dtype):
    original = _fitted(covariance_type, dtype)
    assert_identical(pickle.loads(pickle.dumps(original)), original)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_skops_round_trip(covariance_type, dtype):
    sio = pytest.importorskip("skops.io")
    original = _fitted(covariance_type, dtype)
    blob = sio.dumps(original)
    untrusted = sio.get_untrusted_types(data=blob)
    # only our own estimator (and numpy/sklearn types) need to be trusted
    assert "sklearn_em_gmm._estimator.GaussianMixture" in untrusted
    for name in untrusted:
        assert name.startswith(("sklearn_em_gmm.", "numpy.", "sklearn.")), name
    assert_identical(sio.loads(blob, trusted=untrusted), original)


@pytest.mark.parametrize("json_compatible", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_dict_round_trip(covariance_type, dtype, json_compatible):
    original = _fitted(covariance_type, dtype)
    data = original.to_dict(json_compatible=json_compatible)
    assert data["format"] == FORMAT and data["version"] == 1
    assert_identical(GaussianMixture.from_dict(data), original)
    restored = model_from_dict(model_to_dict(original), estimator_class=GaussianMixture)
    assert_identical(restored, original)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_json_round_trip(covariance_type, dtype):
    original = _fitted(covariance_type, dtype)
    text = json.dumps(original.to_dict(json_compatible=True), allow_nan=False)
    assert_identical(GaussianMixture.from_dict(json.loads(text)), original)


def _walk(value):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def test_dict_holds_only_plain_values_and_arrays():
    data = _fitted().to_dict()
    for value in _walk(data):
        assert value is None or isinstance(value, (bool, int, float, str, np.ndarray))
    for value in _walk(_fitted().to_dict(json_compatible=True)):
        assert value is None or type(value) in (bool, int, float, str)
    assert set(data["attributes"]) == {
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
        "converged_",
        "n_iter_",
        "lower_bound_",
        "lower_bounds_",
        "labels_",
        "n_features_in_",
    }


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_round_trip_feature_names_and_initial_parameters():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    original = GaussianMixture(
        n_components=2,
        covariance_type="VVI",  # an mclust alias
        weights_init=np.array([0.4, 0.6]),
        means_init=np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=np.float32),
        precisions_init=np.ones((2, 3)),
        random_state=7,
        max_iter=5,
        tol=0.0,
    )
    with pytest.warns(Warning, match="did not converge"):
        original.fit(frame)
    text = json.dumps(original.to_dict(json_compatible=True), allow_nan=False)
    for data in (original.to_dict(), json.loads(text)):
        loaded = GaussianMixture.from_dict(data)
        assert_identical(loaded, original)
        assert list(loaded.feature_names_in_) == ["a", "b", "c"]
        np.testing.assert_array_equal(loaded.predict(frame), original.predict(frame))


def test_round_trip_without_em_step():
    """With max_iter=0 the bound is sklearn's -inf, stored as None."""
    original = GaussianMixture(2, max_iter=0, random_state=0).fit(X)
    assert original.lower_bound_ == -np.inf and original.n_iter_ == 0
    data = original.to_dict(json_compatible=True)
    assert data["attributes"]["lower_bound_"] is None
    text = json.dumps(data, allow_nan=False)
    assert_identical(GaussianMixture.from_dict(json.loads(text)), original)


def test_from_dict_copies_and_leaves_the_dict_alone():
    original = _fitted()
    data = original.to_dict()
    before = copy.deepcopy(data)
    loaded = GaussianMixture.from_dict(data)
    for name, value in before["attributes"].items():
        _assert_same_value(data["attributes"][name], value, name)
    data["attributes"]["means_"][:] = 0.0
    assert np.array_equal(loaded.means_, original.means_)
    assert not np.shares_memory(
        original.means_, original.to_dict()["attributes"]["means_"]
    )


def test_from_dict_builds_the_calling_class():
    class MyMixture(GaussianMixture):
        pass

    loaded = MyMixture.from_dict(_fitted().to_dict())
    assert type(loaded) is MyMixture


def test_precisions_are_recomputed_not_read():
    original = _fitted("tied")
    loaded = GaussianMixture.from_dict(original.to_dict())
    prec_chol = loaded.precisions_cholesky_
    np.testing.assert_array_equal(loaded.precisions_, prec_chol @ prec_chol.T)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_loaded_model_refits_like_the_original(covariance_type):
    data = X + np.random.RandomState(1).normal(scale=0.5, size=X.shape)
    original = copy.deepcopy(_fitted(covariance_type))
    loaded = GaussianMixture.from_dict(
        json.loads(json.dumps(original.to_dict(json_compatible=True)))
    )
    for model in (original, loaded):
        model.set_params(warm_start=True, max_iter=200).fit(data)
    assert_identical(loaded, original)
    # a cold refit too
    for model in (original, loaded):
        model.set_params(warm_start=False).fit(X)
    assert_identical(loaded, original)


# --------------------------------------------------------------------------------
# refusals


def test_to_dict_of_unfitted_mixture_raises():
    with pytest.raises(NotFittedError):
        GaussianMixture().to_dict()
    with pytest.raises(NotFittedError):
        model_to_dict(GaussianMixture())


@pytest.mark.parametrize(
    "random_state", [np.random.RandomState(0), np.random.default_rng(0)]
)
def test_to_dict_needs_int_or_none_random_state(random_state):
    model = copy.deepcopy(_fitted()).set_params(random_state=random_state)
    with pytest.raises(ValueError, match="random_state to be an int or None"):
        model.to_dict()


def _set(section, name, value):
    def mutate(data):
        data[section][name] = value
        return data

    return mutate


def _delete(section, name):
    def mutate(data):
        del data[section][name]
        return data

    return mutate


def _edit_array(name, edit, section="attributes"):
    """Apply ``edit`` to a copy of the raw array ``data[section][name]``."""

    def mutate(data):
        array = data[section][name].copy()
        data[section][name] = edit(array)
        return data

    return mutate


def _assign(index, value):
    def edit(array):
        array[index] = value if not callable(value) else value(array[index])
        return array

    return edit


def _edit_json(name, edit):
    def mutate(data):
        edit(data["attributes"][name])
        return data

    return mutate


def _top(name, value=None, delete=False):
    def mutate(data):
        if delete:
            del data[name]
        else:
            data[name] = value
        return data

    return mutate


# (id, covariance_type, form, mutate, key named in the message, regex)
INVALID_CASES = [
    ("not-a-dict", "full", "raw", lambda d: [d], "'data'", "expected a dict"),
    ("missing-format", "full", "raw", _top("format", delete=True), "format", "missing"),
    ("wrong-format", "full", "raw", _top("format", "pickle"), "'format'", "expected"),
    ("future-version", "full", "raw", _top("version", 2), "'version'", "expected 1"),
    ("bool-version", "full", "raw", _top("version", True), "'version'", "expected 1"),
    ("extra-top-key", "full", "raw", _top("code", "rm -rf"), "code", "unexpected"),
    ("params-list", "full", "raw", _top("params", []), "'params'", "expected a dict"),
    ("missing-param", "full", "raw", _delete("params", "tol"), "tol", "missing"),
    ("extra-param", "full", "raw", _set("params", "foo", 1), "foo", "unexpected"),
    ("invalid-tol", "full", "raw", _set("params", "tol", -1.0), "'tol'", "range"),
    (
        "invalid-covariance-type",
        "full",
        "raw",
        _set("params", "covariance_type", "XYZ"),
        "'covariance_type'",
        "must be",
    ),
    (
        "float-n-components",
        "full",
        "raw",
        _set("params", "n_components", 3.0),
        "'n_components'",
        "int",
    ),
    (
        "str-random-state",
        "full",
        "raw",
        _set("params", "random_state", "seed"),
        "random_state",
        "int or None",
    ),
    (
        "param-object",
        "full",
        "raw",
        _set("params", "verbose", object()),
        "verbose",
        "plain value",
    ),
    (
        "means-init-shape",
        "full",
        "raw",
        _set("params", "means_init", np.zeros((2, 3))),
        "means_init",
        "shape",
    ),
    (
        "weights-init-list",
        "full",
        "raw",
        _set("params", "weights_init", [0.5, 0.5]),
        "weights_init",
        "numpy array",
    ),
    (
        "missing-attribute",
        "full",
        "raw",
        _delete("attributes", "covariances_"),
        "covariances_",
        "missing",
    ),
    (
        "precisions-given",
        "full",
        "raw",
        _set("attributes", "precisions_", np.eye(3)),
        "precisions_",
        "unexpected",
    ),
    (
        "n-components-mismatch",
        "full",
        "raw",
        _set("params", "n_components", 4),
        "weights_",
        r"shape \(4,\)",
    ),
    (
        "n-features-mismatch",
        "full",
        "raw",
        _set("attributes", "n_features_in_", 4),
        "means_",
        r"shape \(3, 4\)",
    ),
    (
        "bool-n-features",
        "full",
        "raw",
        _set("attributes", "n_features_in_", True),
        "n_features_in_",
        "int",
    ),
    (
        "covariance-type-mismatch",
        "full",
        "raw",
        _set("params", "covariance_type", "diag"),
        "precisions_cholesky_",
        r"shape \(3, 3\)",
    ),
    (
        "covariances-shape",
        "full",
        "raw",
        _set("attributes", "covariances_", np.ones((3, 3))),
        "covariances_",
        "shape",
    ),
    (
        "int-dtype",
        "full",
        "raw",
        _edit_array("means_", lambda a: a.astype(np.int64)),
        "means_",
        "dtype",
    ),
    (
        "float16-dtype",
        "full",
        "raw",
        _edit_array("weights_", lambda a: a.astype(np.float16)),
        "weights_",
        "dtype",
    ),
    (
        "mixed-dtypes",
        "full",
        "raw",
        _edit_array("means_", lambda a: a.astype(np.float32)),
        "means_",
        "dtype of weights_",
    ),
    (
        "object-array",
        "full",
        "raw",
        _edit_array("means_", lambda a: a.astype(object)),
        "means_",
        "dtype",
    ),
    (
        "nan-mean",
        "full",
        "raw",
        _edit_array("means_", _assign((0, 0), np.nan)),
        "means_",
        "finite",
    ),
    (
        "inf-covariance",
        "diag",
        "raw",
        _edit_array("covariances_", _assign((1, 1), np.inf)),
        "covariances_",
        "finite",
    ),
    (
        "negative-weight",
        "full",
        "raw",
        _edit_array("weights_", lambda a: a * np.array([-1.0, 1.0, 1.0])),
        "weights_",
        r"\[0, 1\]",
    ),
    (
        "weights-sum",
        "full",
        "raw",
        _edit_array("weights_", lambda a: a * 0.9),
        "weights_",
        "sum of 1",
    ),
    (
        "lower-triangle",
        "full",
        "raw",
        _edit_array("precisions_cholesky_", _assign((0, 1, 0), 0.1)),
        "precisions_cholesky_",
        "upper-triangular",
    ),
    (
        "negative-diagonal",
        "tied",
        "raw",
        _edit_array("precisions_cholesky_", lambda a: -a),
        "precisions_cholesky_",
        "strictly positive diagonal",
    ),
    (
        "zero-diag-precision",
        "diag",
        "raw",
        _edit_array("precisions_cholesky_", _assign((0, 0), 0.0)),
        "precisions_cholesky_",
        "strictly positive",
    ),
    (
        "negative-spherical-precision",
        "spherical",
        "raw",
        _edit_array("precisions_cholesky_", lambda a: -a),
        "precisions_cholesky_",
        "strictly positive",
    ),
    (
        "covariances-scaled",
        "full",
        "raw",
        _edit_array("covariances_", lambda a: a * 1.01),
        "covariances_",
        "inconsistent",
    ),
    (
        "covariance-off-diagonal",
        "tied",
        "raw",
        _edit_array("covariances_", _assign((0, 1), lambda v: v + 0.01)),
        "covariances_",
        "inconsistent",
    ),
    (
        "diag-covariance",
        "diag",
        "raw",
        _edit_array("covariances_", _assign((2, 0), lambda v: v * (1 + 1e-4))),
        "covariances_",
        "inconsistent",
    ),
    (
        "str-converged",
        "full",
        "raw",
        _set("attributes", "converged_", "yes"),
        "converged_",
        "bool",
    ),
    (
        "negative-n-iter",
        "full",
        "raw",
        _set("attributes", "n_iter_", -1),
        "n_iter_",
        ">= 0",
    ),
    (
        "float-n-iter",
        "full",
        "raw",
        _set("attributes", "n_iter_", 2.0),
        "n_iter_",
        "int",
    ),
    (
        "lower-bounds-length",
        "full",
        "raw",
        _set("attributes", "n_iter_", 5),
        "lower_bounds_",
        r"shape \(5,\)",
    ),
    (
        "nan-lower-bound",
        "full",
        "raw",
        _set("attributes", "lower_bound_", float("nan")),
        "lower_bound_",
        "finite",
    ),
    (
        "no-lower-bound-after-steps",
        "full",
        "raw",
        _set("attributes", "lower_bound_", None),
        "lower_bound_",
        "finite float",
    ),
    (
        "label-out-of-range",
        "full",
        "raw",
        _edit_array("labels_", _assign(0, 3)),
        "labels_",
        r"\[0, 3\)",
    ),
    (
        "float-labels",
        "full",
        "raw",
        _edit_array("labels_", lambda a: a.astype(np.float64)),
        "labels_",
        "dtype",
    ),
    (
        "feature-names-length",
        "full",
        "raw",
        _set("attributes", "feature_names_in_", ["a", "b"]),
        "feature_names_in_",
        "3 strings",
    ),
    (
        "json-dtype-name",
        "full",
        "json",
        _edit_json("means_", lambda a: a.update(dtype="complex128")),
        "means_",
        "dtype",
    ),
    (
        "json-strings",
        "full",
        "json",
        _edit_json("means_", lambda a: a["data"][0].__setitem__(0, "1.5")),
        "means_",
        "numbers",
    ),
    (
        "json-bools",
        "diag",
        "json",
        _edit_json("weights_", lambda a: a.update(data=[True, False, False])),
        "weights_",
        "numbers",
    ),
    (
        "json-ragged",
        "full",
        "json",
        _edit_json("means_", lambda a: a["data"][0].pop()),
        "means_",
        "regular nested list",
    ),
    (
        "json-shape-mismatch",
        "full",
        "json",
        _edit_json("means_", lambda a: a.update(shape=[3, 2])),
        "means_",
        "does not match",
    ),
    (
        "json-extra-array-key",
        "full",
        "json",
        _edit_json("means_", lambda a: a.update(order="F")),
        "means_",
        "unexpected",
    ),
    (
        "json-missing-array-key",
        "full",
        "json",
        _edit_json("means_", lambda a: a.pop("shape")),
        "means_",
        "missing",
    ),
]


@pytest.mark.parametrize(
    "covariance_type, form, mutate, key, match",
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_invalid_dict_raises_naming_the_key(covariance_type, form, mutate, key, match):
    data = _fitted(covariance_type).to_dict(json_compatible=form == "json")
    data = mutate(data)
    with pytest.raises(ValueError) as excinfo:
        GaussianMixture.from_dict(data)
    message = str(excinfo.value)
    assert key in message, message
    assert re.search(match, message), message


def test_lower_bound_must_be_finite_in_the_fitted_dtype():
    data = _fitted("diag", np.float32).to_dict()
    data["attributes"]["lower_bound_"] = 1e300  # finite as float64, inf as float32
    with pytest.raises(ValueError, match="'attributes.lower_bound_'.*finite"):
        GaussianMixture.from_dict(data)


def test_a_file_written_before_the_added_parameters_loads():
    X = np.random.RandomState(0).normal(size=(40, 2))
    data = GaussianMixture(2, random_state=0).fit(X).to_dict(json_compatible=True)
    for name in ("stopping_rule", "learning_offset", "learning_decay"):
        del data["params"][name]
    del data["params"]["init_sample_size"]
    restored = GaussianMixture.from_dict(data)
    assert restored.get_params() == GaussianMixture(2, random_state=0).get_params()
