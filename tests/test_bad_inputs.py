"""A matrix of bad inputs: one row per input, method and exact outcome.

Each row of ``CASES`` is a :class:`Case`: an id, a callable that builds the inputs
(the estimator's parameters, ``X`` and ``sample_weight``), the method called, and the
expected outcome: :class:`Raises` (an exception type and a regex for a message that
names the problem) or :class:`Returns` (the call succeeds and its result passes a
check).

Every row is also checked for what must hold whatever the outcome:

- no input is modified: ``X``, ``sample_weight`` and every array given as a
  parameter equal copies taken before the call, with the same memory layout;
- a call that succeeds lets no numpy RuntimeWarning (overflow, invalid value)
  escape; a fit that succeeds leaves only finite fitted arrays, and refitting an
  already fitted estimator gives the same fit as a new one;
- a call that raises leaves a new estimator without any attribute ending in ``_``,
  and an already fitted estimator with its fitted attributes unchanged.

``test_errors.py`` compares our exceptions with sklearn's case by case; this matrix
covers the same ground and more in one table, with the outcomes sklearn has no
equivalent for (``sample_weight``) or where we differ on purpose.
"""

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import COVARIANCE_TYPES, SKLEARN_COVARIANCE_TYPES, relative_difference
from mixture_cases import common_precisions
from numpy.testing import assert_array_equal
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import get_covariance_model

X_TRAIN, _ = make_blobs(60, centers=3, random_state=1)
X_TRAIN.flags.writeable = False  # shared by the rows: a write would raise
DEFAULT_PARAMS = {"n_components": 2, "random_state": 0}
FIT_METHODS = {"fit", "fit_predict"}
FITTED_ARRAYS = ["weights_", "means_", "covariances_", "precisions_"]
ILL_DEFINED = r"ill-defined empirical covariance .* increase reg_covar, or scale"


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny fits: OpenMP/BLAS threads only add contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield


# --------------------------------------------------------------------------------
# the harness


@dataclass
class Inputs:
    """What one call receives: constructor parameters, ``X`` and ``sample_weight``.

    ``params`` update ``DEFAULT_PARAMS``. Fitted methods are called on an estimator
    with these parameters fitted on ``X_TRAIN``.
    """

    X: object
    params: dict = field(default_factory=dict)
    sample_weight: object = None


@dataclass(frozen=True)
class Raises:
    type: type
    match: str


@dataclass(frozen=True)
class Returns:
    """The call succeeds; ``check(call)`` asserts on the :class:`Call`."""

    check: Callable = None


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable
    method: str
    expected: Raises | Returns
    marks: tuple = ()
    # a successful call must not let numpy RuntimeWarnings escape
    quiet: bool = True


@dataclass(frozen=True)
class Call:
    """A call that succeeded: the estimator, the result, the inputs and the method."""

    est: GaussianMixture
    result: object
    inputs: Inputs
    method: str


@dataclass(frozen=True)
class _ArraySnapshot:
    values: np.ndarray
    c_contiguous: bool
    f_contiguous: bool


def _snapshot(value):
    """A deep copy of ``value`` to compare with after the call."""
    if sp.issparse(value):
        return value.copy()
    if isinstance(value, np.ndarray):
        flags = value.flags
        return _ArraySnapshot(value.copy(), flags.c_contiguous, flags.f_contiguous)
    if isinstance(value, dict):
        return {key: _snapshot(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_snapshot(item) for item in value)
    return value


def _assert_unchanged(before, after, name):
    if sp.issparse(before):
        assert type(after) is type(before) and after.format == before.format, name
        assert after.dtype == before.dtype, name
        assert (after != before).nnz == 0, name
    elif isinstance(before, _ArraySnapshot):
        assert_array_equal(after, before.values, strict=True, err_msg=name)
        assert after.flags.c_contiguous == before.c_contiguous, name
        assert after.flags.f_contiguous == before.f_contiguous, name
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), name
        for key in before:
            _assert_unchanged(before[key], after[key], f"{name}[{key!r}]")
    elif isinstance(before, list | tuple):
        assert type(after) is type(before) and len(after) == len(before), name
        for i, (item_before, item_after) in enumerate(zip(before, after, strict=True)):
            _assert_unchanged(item_before, item_after, f"{name}[{i}]")
    else:
        np.testing.assert_equal(after, before, err_msg=name)


def _fitted_state(est):
    return {
        name: _snapshot(value)
        for name, value in vars(est).items()
        if name.endswith("_") and not name.startswith("_")
    }


def _assert_same_state(actual, desired):
    assert actual.keys() == desired.keys()
    for name, value in desired.items():
        if isinstance(value, _ArraySnapshot):
            value = value.values
        other = actual[name]
        if isinstance(other, _ArraySnapshot):
            other = other.values
        if isinstance(value, np.ndarray):
            assert_array_equal(other, value, strict=True, err_msg=name)
        else:
            np.testing.assert_equal(other, value, err_msg=name)


def _call(est, method, inputs):
    kwargs = {}
    if inputs.sample_weight is not None:
        kwargs["sample_weight"] = inputs.sample_weight
    return getattr(est, method)(inputs.X, **kwargs)


def _outcome(est, method, inputs):
    """``(result, exception, runtime warnings)`` of one call."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            result, error = _call(est, method, inputs), None
        except Exception as exc:  # noqa: BLE001
            result, error = None, exc
    runtime = [str(w.message) for w in record if w.category is RuntimeWarning]
    return result, error, runtime


def _assert_expected(case, result, error, est, inputs):
    expected = case.expected
    if isinstance(expected, Raises):
        assert error is not None, f"no exception; expected {expected.type.__name__}"
        assert type(error) is expected.type, repr(error)
        assert re.search(expected.match, str(error), flags=re.DOTALL), str(error)
    else:
        assert error is None, repr(error)
        if expected.check is not None:
            expected.check(Call(est, result, inputs, case.method))


def _assert_finite_fit(est):
    for name in FITTED_ARRAYS + ["precisions_cholesky_"]:
        assert np.all(np.isfinite(getattr(est, name))), name
    assert np.isfinite(est.lower_bound_) or est.n_iter_ == 0


def _new(params):
    return GaussianMixture(**{**DEFAULT_PARAMS, **params})


def _run_case(case):
    inputs = case.build()
    before = _snapshot(vars(inputs))
    raises = isinstance(case.expected, Raises)

    if case.method in FIT_METHODS:
        est = _new(inputs.params)
        result, error, runtime = _outcome(est, case.method, inputs)
        _assert_expected(case, result, error, est, inputs)
        assert raises or not case.quiet or runtime == [], runtime
        for name, value in inputs.params.items():
            assert est.get_params()[name] is value, name
        if raises:
            assert [name for name in vars(est) if name.endswith("_")] == []
        else:
            _assert_finite_fit(est)

        # the same call on an estimator fitted before
        refitted = _new({}).fit(X_TRAIN)
        previous = _fitted_state(refitted)
        refitted.set_params(**inputs.params)
        _, error, runtime = _outcome(refitted, case.method, inputs)
        assert raises or not case.quiet or runtime == [], runtime
        if raises:
            assert type(error) is case.expected.type, repr(error)
            _assert_same_state(_fitted_state(refitted), previous)
        else:
            assert error is None, repr(error)
            _assert_same_state(_fitted_state(refitted), _fitted_state(est))
    else:
        est = _new(inputs.params).fit(X_TRAIN)
        previous = _fitted_state(est)
        result, error, runtime = _outcome(est, case.method, inputs)
        _assert_expected(case, result, error, est, inputs)
        assert raises or not case.quiet or runtime == [], runtime
        _assert_same_state(_fitted_state(est), previous)
        if raises:
            new = _new(inputs.params)
            with pytest.raises(NotFittedError):
                _call(new, case.method, inputs)
            assert [name for name in vars(new) if name.endswith("_")] == []

    _assert_unchanged(before, vars(inputs), "inputs")


# --------------------------------------------------------------------------------
# checks of successful calls


def _fit_reference(X, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _new(params).fit(X)


def same_fit_as(reference_X, rtol=1e-10):
    """The fit equals the fit of ``reference_X(inputs)`` with the same parameters."""

    def check(call):
        reference = _fit_reference(reference_X(call.inputs), call.inputs.params)
        for name in FITTED_ARRAYS:
            actual, desired = getattr(call.est, name), getattr(reference, name)
            assert actual.dtype == desired.dtype, name
            assert relative_difference(actual, desired) <= rtol, name
        assert_array_equal(call.est.labels_, reference.labels_)

    return check


def same_result_as(reference_X):
    """A fitted method returns what it returns for ``reference_X(inputs)``."""

    def check(call):
        expected = getattr(call.est, call.method)(reference_X(call.inputs))
        assert_array_equal(call.result, expected, strict=True)

    return check


def fits_like_sklearn(call):
    """Where sklearn fits the same data finitely, we find the same mixture."""
    params = {**DEFAULT_PARAMS, **call.inputs.params}
    if params.get("covariance_type", "full") not in SKLEARN_COVARIANCE_TYPES:
        return  # a model sklearn does not have
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = SklearnGaussianMixture(**params).fit(call.inputs.X)
        except ValueError:
            return  # ours fitted finitely where sklearn raised
    if all(np.all(np.isfinite(getattr(theirs, name))) for name in FITTED_ARRAYS):
        for name in ["weights_", "means_", "covariances_"]:
            difference = relative_difference(
                getattr(call.est, name), getattr(theirs, name)
            )
            assert difference < 1e-6, (name, difference)
        assert_array_equal(call.est.labels_, theirs.predict(call.inputs.X))


def scales_like_unscaled_data(scale):
    """Far from reg_covar, scaling the data scales means and covariances."""

    def check(call):
        fits_like_sklearn(call)
        est = call.est
        unscaled = _fit_reference(X_TRAIN, call.inputs.params)
        assert relative_difference(est.means_ / scale, unscaled.means_) < 1e-6
        covariances = est.covariances_ / scale**2
        assert relative_difference(covariances, unscaled.covariances_) < 1e-5
        assert_array_equal(est.labels_, unscaled.labels_)

    return check


def _check_identical_rows(call):
    est, row = call.est, call.inputs.X[0]
    # all rows in one component; the other is empty, with the weight floor of
    # 10 eps, a zero mean and reg_covar as covariance, as in sklearn
    heavy = np.argmax(est.weights_)
    np.testing.assert_allclose(est.weights_[heavy], 1.0, rtol=1e-12)
    np.testing.assert_allclose(est.means_[heavy], row, rtol=1e-12)
    covariance = est.reg_covar * np.eye(len(row))
    np.testing.assert_allclose(est.covariances_, [covariance] * 2, rtol=1e-9)
    assert np.all(est.labels_ == heavy)


def _check_recovered_identical_rows(call):
    est, row = call.est, call.inputs.X[0]
    heavy = np.argmax(est.weights_)
    np.testing.assert_allclose(est.means_[heavy], row, rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(est.covariances_) > 0)
    assert np.all(est.labels_ == heavy)


def _check_constant_column(call):
    est = call.est
    np.testing.assert_allclose(est.means_[:, -1], 7.0, rtol=1e-12)
    np.testing.assert_allclose(est.covariances_[:, -1, -1], est.reg_covar, rtol=1e-6)
    np.testing.assert_allclose(est.covariances_[:, -1, :-1], 0.0, atol=1e-12)


def _check_duplicated_column(call):
    est = call.est
    np.testing.assert_allclose(est.means_[:, 0], est.means_[:, -1], rtol=1e-12)
    # a covariance of rank one in the duplicated plane, lifted by reg_covar
    plane = est.covariances_[:, :, [0, -1]][:, [0, -1]]
    eigenvalues = np.linalg.eigvalsh(plane)
    np.testing.assert_allclose(eigenvalues[:, 0], est.reg_covar, rtol=1e-4)


def _check_offset(call):
    est = call.est
    unshifted = _fit_reference(X_TRAIN, call.inputs.params)
    np.testing.assert_allclose(est.means_ - 1e8, unshifted.means_, atol=1e-6)
    np.testing.assert_allclose(est.covariances_, unshifted.covariances_, rtol=1e-6)
    assert_array_equal(est.labels_, unshifted.labels_)


def _separated_clusters(half_distance):
    """Two clusters of unit spread at ``-half_distance`` and ``+half_distance``."""
    rng = np.random.default_rng(0)
    return np.r_[
        rng.normal(size=(30, 2)) - half_distance,
        rng.normal(size=(30, 2)) + half_distance,
    ]


def _dense_covariances(est):
    """The covariance of each component as a full matrix."""
    n_components, n_features = est.means_.shape
    model = get_covariance_model(est.covariance_type)
    return model.dense_covariances(
        np.asarray(est.covariances_), n_components, n_features
    )


def _check_separated_clusters(call):
    """Each cluster's own moments, and log-densities as scipy computes them."""
    est, X = call.est, call.inputs.X
    clusters = [X[:30], X[30:]]
    scatter = [np.cov(rows.T, bias=True) for rows in clusters]
    pooled = np.mean(scatter, axis=0)
    # the models with a closed-form M-step; the iterative ones (VEI, EVI, VEE, EVE,
    # VVE, EEV, VEV, EVV) are checked through their means and log-densities only
    expected = {
        "full": scatter,
        "tied": [pooled] * 2,
        "diag": [np.diag(np.diag(s)) for s in scatter],
        "spherical": [np.trace(s) / 2 * np.eye(2) for s in scatter],
        "EII": [np.trace(pooled) / 2 * np.eye(2)] * 2,
        "EEI": [np.diag(np.diag(pooled))] * 2,
    }.get(est.covariance_type)
    covariances = _dense_covariances(est)
    order = np.argsort(est.means_[:, 0])
    for k, rows in zip(order, clusters, strict=True):
        np.testing.assert_allclose(est.means_[k], rows.mean(axis=0))
    if expected is not None:
        for k, covariance in zip(order, expected, strict=True):
            covariance = covariance + est.reg_covar * np.eye(2)
            np.testing.assert_allclose(covariances[k], covariance, rtol=0, atol=1e-8)
    log_prob = np.stack(
        [
            np.log(weight) + multivariate_normal(mean, covariance).logpdf(X)
            for weight, mean, covariance in zip(
                est.weights_, est.means_, covariances, strict=True
            )
        ],
        axis=1,
    )
    np.testing.assert_allclose(
        est.score_samples(X), logsumexp(log_prob, axis=1), rtol=0, atol=1e-7
    )


def _check_shapes(n_components, n_features):
    def check(call):
        assert call.est.means_.shape == (n_components, n_features)
        assert call.est.n_features_in_ == n_features

    return check


def _check_bool(call):
    assert np.all((call.est.means_ >= -1e-12) & (call.est.means_ <= 1 + 1e-12))
    same_fit_as(lambda inputs: inputs.X.astype(np.float64))(call)


def _check_bool_weights(call):
    """Boolean weights keep the True rows and remove the others."""
    kept = call.inputs.sample_weight
    reference = _fit_reference(call.inputs.X[kept], call.inputs.params)
    for name in FITTED_ARRAYS:
        actual, desired = getattr(call.est, name), getattr(reference, name)
        assert relative_difference(actual, desired) < 1e-10, name
    assert_array_equal(call.est.labels_[kept], reference.labels_)


def _check_finite_probabilities(call):
    assert np.all(np.isfinite(call.result))
    np.testing.assert_allclose(call.result.sum(axis=1), 1.0)


def _check_minus_infinity(call):
    assert np.all(call.result == -np.inf)


def _check_finite_scalar(call):
    assert isinstance(call.result, float) and np.isfinite(call.result)


# --------------------------------------------------------------------------------
# inputs


def _with(value, X=X_TRAIN):
    X = X.copy()
    X[3, 1] = value
    return X


def _fit(id, X, expected, method="fit", **params):
    """A row that fits ``X()`` (built lazily) with ``params``."""
    return Case(id, lambda: Inputs(X(), params=dict(params)), method, expected)


def _fitted(id, method, X, expected):
    """A row that calls ``method`` of a mixture fitted on ``X_TRAIN`` on ``X()``."""
    return Case(f"{method}-{id}", lambda: Inputs(X()), method, expected)


def _invalid(name, value, shown=None, marks=()):
    """A row that fits ``X_TRAIN`` with one invalid constructor parameter."""
    shown = re.escape(repr(value) if shown is None else shown)
    return Case(
        f"{name}={value!r}",
        lambda: Inputs(X_TRAIN.copy(), params={name: value}),
        "fit",
        Raises(
            InvalidParameterError,
            rf"The '{name}' parameter of GaussianMixture must be .*Got {shown} ",
        ),
        marks=marks,
    )


def _blobs(n_samples, n_features, seed=0):
    return make_blobs(n_samples, n_features, centers=2, random_state=seed)[0]


_FAR_ROWS = np.array([[1e160, 1e160], [-1e160, 0.0]])

TRAINING_DATA = [
    _fit("nan", lambda: _with(np.nan), Raises(ValueError, r"Input X contains NaN")),
    _fit(
        "nan-fit_predict",
        lambda: _with(np.nan),
        Raises(ValueError, r"Input X contains NaN"),
        method="fit_predict",
    ),
    _fit("inf", lambda: _with(np.inf), Raises(ValueError, r"X contains infinity")),
    _fit("-inf", lambda: _with(-np.inf), Raises(ValueError, r"X contains infinity")),
    _fit(
        "float32-inf",
        lambda: _with(np.inf).astype(np.float32),
        Raises(ValueError, r"X contains infinity .*float32"),
    ),
    _fit(
        "empty",
        lambda: np.empty((0, 2)),
        Raises(ValueError, r"0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 2"),
    ),
    _fit(
        "zero-features",
        lambda: np.empty((20, 0)),
        Raises(ValueError, r"0 feature\(s\) \(shape=\(20, 0\)\) while a minimum of 1"),
    ),
    _fit(
        "1-D",
        lambda: X_TRAIN[:, 0].copy(),
        Raises(ValueError, r"Expected 2D array, got 1D array.*reshape"),
    ),
    _fit(
        "3-D",
        lambda: X_TRAIN[:, :, np.newaxis].copy(),
        Raises(ValueError, r"Found array with dim 3.*dim <= 2"),
    ),
    _fit(
        "one-sample",
        lambda: X_TRAIN[:1].copy(),
        Raises(ValueError, r"1 sample\(s\) \(shape=\(1, 2\)\) while a minimum of 2"),
        n_components=1,
    ),
    _fit(
        "fewer-samples-than-components",
        lambda: X_TRAIN[:4].copy(),
        Raises(
            ValueError,
            r"Expected n_samples >= n_components but got n_components = 5, "
            r"n_samples = 4",
        ),
        n_components=5,
    ),
    _fit(
        "complex",
        lambda: X_TRAIN + 1j,
        Raises(ValueError, r"Complex data not supported"),
    ),
    _fit(
        "strings",
        lambda: np.array([["a", "b"]] * 5),
        Raises(ValueError, r"could not convert string to float: .*'a'"),
    ),
    _fit(
        "numeric-strings",
        lambda: X_TRAIN.astype(str),
        Returns(same_fit_as(lambda inputs: inputs.X.astype(np.float64))),
    ),
    _fit(
        "object-numbers",
        lambda: X_TRAIN.astype(object),
        Returns(same_fit_as(lambda inputs: inputs.X.astype(np.float64))),
    ),
    _fit(
        "object-with-None",
        lambda: np.array([[1.0, None], [2.0, 3.0], [4.0, 5.0]], dtype=object),
        Raises(ValueError, r"Input X contains NaN"),
    ),
    _fit("bool", lambda: X_TRAIN > 0, Returns(_check_bool)),
    _fit(
        "int",
        lambda: np.round(X_TRAIN).astype(np.int64),
        Returns(same_fit_as(lambda inputs: inputs.X.astype(np.float64))),
    ),
    _fit(
        "float16-fits-in-float64",
        lambda: X_TRAIN.astype(np.float16),
        Returns(same_fit_as(lambda inputs: inputs.X.astype(np.float64))),
    ),
    _fit(
        "sparse-csr",
        lambda: sp.csr_matrix(X_TRAIN),
        Raises(TypeError, r"Sparse data was passed for X, but dense data is required"),
    ),
    _fit(
        "sparse-csc-array",
        lambda: sp.csc_array(X_TRAIN),
        Raises(TypeError, r"Sparse data was passed for X, but dense data is required"),
    ),
    _fit(
        "list",
        lambda: X_TRAIN.tolist(),
        Returns(same_fit_as(lambda inputs: np.array(inputs.X))),
    ),
    _fit(
        "fortran-ordered",
        lambda: np.asfortranarray(X_TRAIN),
        Returns(same_fit_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fit(
        "fortran-float32",
        lambda: np.asfortranarray(X_TRAIN, dtype=np.float32),
        Returns(same_fit_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fit(
        "strided",
        lambda: np.repeat(X_TRAIN, 2, axis=1)[::1, ::2],
        Returns(same_fit_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fit(
        "strided-rows",
        lambda: np.repeat(X_TRAIN, 3, axis=0)[::3],
        Returns(same_fit_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fit(
        "negative-strides",
        lambda: X_TRAIN[::-1, ::-1],
        Returns(same_fit_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fit(
        "constant-column",
        lambda: np.c_[X_TRAIN, np.full(len(X_TRAIN), 7.0)],
        Returns(_check_constant_column),
    ),
    _fit(
        "duplicated-column",
        lambda: np.c_[X_TRAIN, X_TRAIN[:, 0]],
        Returns(_check_duplicated_column),
    ),
    _fit(
        "identical-rows",
        lambda: np.full((10, 3), 3.7),
        Returns(_check_identical_rows),
    ),
    _fit(
        "identical-rows-reg_covar=0",
        lambda: np.full((10, 3), 3.7),
        Raises(ValueError, ILL_DEFINED),
        reg_covar=0.0,
    ),
    _fit(
        "identical-rows-reg_covar=0-recover",
        lambda: np.full((10, 3), 3.7),
        Returns(_check_recovered_identical_rows),
        reg_covar=0.0,
        on_degenerate="recover",
    ),
    _fit(
        "more-features-than-samples",
        lambda: _blobs(6, 10),
        Returns(_check_shapes(2, 10)),
    ),
    _fit(
        "offset-1e8",
        lambda: X_TRAIN + 1e8,
        Returns(_check_offset),
    ),
]
for covariance_type in COVARIANCE_TYPES:
    # clusters 1e6 and 1e8 standard deviations from the data's mean; sklearn's
    # diag, spherical and tied fits lose 3e-4 at 1e6 (raw moments), ours are exact
    TRAINING_DATA += [
        Case(
            f"clusters-2e{exponent}-apart-{covariance_type}",
            lambda exponent=exponent, covariance_type=covariance_type: Inputs(
                _separated_clusters(10.0**exponent),
                params={"covariance_type": covariance_type},
            ),
            "fit",
            Returns(_check_separated_clusters),
        )
        for exponent in (6, 8)
    ]
for covariance_type in SKLEARN_COVARIANCE_TYPES:
    TRAINING_DATA += [
        # variances of 1e-300 against reg_covar=1e-6: sklearn's fit, all finite
        _fit(
            f"scaled-1e-150-{covariance_type}",
            lambda: X_TRAIN * 1e-150,
            Returns(fits_like_sklearn),
            covariance_type=covariance_type,
        ),
    ]
for covariance_type in COVARIANCE_TYPES:
    TRAINING_DATA += [
        _fit(
            f"scaled-1e+150-{covariance_type}",
            lambda: X_TRAIN * 1e150,
            Returns(scales_like_unscaled_data(1e150)),
            covariance_type=covariance_type,
        ),
    ]
TRAINING_DATA += [
    # squared distances overflow: a clear error where sklearn fails in scipy
    # ("array must not contain infs or NaNs", full) or returns NaN means (diag)
    _fit(
        "scaled-1e+160-full",
        lambda: X_TRAIN * 1e160,
        Raises(ValueError, ILL_DEFINED),
    ),
    _fit(
        "scaled-1e+160-diag",
        lambda: X_TRAIN * 1e160,
        Raises(ValueError, ILL_DEFINED),
        covariance_type="diag",
    ),
    _fit(
        "float32-scaled-1e+20",
        lambda: (X_TRAIN * 1e20).astype(np.float32),
        Raises(ValueError, ILL_DEFINED + r".*float64 data instead of float32"),
    ),
]

FITTED_METHODS = ["predict", "predict_proba", "score", "score_samples", "bic", "aic"]
FITTED_DATA = []
for method in FITTED_METHODS:
    FITTED_DATA += [
        _fitted(
            "nan",
            method,
            lambda: _with(np.nan, X_TRAIN[:5]),
            Raises(ValueError, r"Input X contains NaN"),
        ),
        _fitted(
            "inf",
            method,
            lambda: _with(np.inf, X_TRAIN[:5]),
            Raises(ValueError, r"Input X contains infinity"),
        ),
        _fitted(
            "3-features",
            method,
            lambda: np.ones((4, 3)),
            Raises(
                ValueError,
                r"X has 3 features, but GaussianMixture is expecting 2 features",
            ),
        ),
    ]
FITTED_DATA += [
    _fitted(
        "1-feature",
        "predict",
        lambda: np.ones((4, 1)),
        Raises(ValueError, r"X has 1 features, but GaussianMixture is expecting 2"),
    ),
    _fitted(
        "empty",
        "predict",
        lambda: np.empty((0, 2)),
        Raises(ValueError, r"0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 1"),
    ),
    _fitted(
        "empty",
        "score",
        lambda: np.empty((0, 2)),
        Raises(ValueError, r"0 sample\(s\) \(shape=\(0, 2\)\) while a minimum of 1"),
    ),
    _fitted(
        "zero-features",
        "score_samples",
        lambda: np.empty((3, 0)),
        Raises(ValueError, r"0 feature\(s\) \(shape=\(3, 0\)\) while a minimum of 1"),
    ),
    _fitted(
        "1-D",
        "predict_proba",
        lambda: X_TRAIN[:, 0].copy(),
        Raises(ValueError, r"Expected 2D array, got 1D array"),
    ),
    _fitted(
        "3-D",
        "bic",
        lambda: X_TRAIN[:, :, np.newaxis].copy(),
        Raises(ValueError, r"Found array with dim 3"),
    ),
    _fitted(
        "complex",
        "predict",
        lambda: X_TRAIN + 1j,
        Raises(ValueError, r"Complex data not supported"),
    ),
    _fitted(
        "sparse",
        "score_samples",
        lambda: sp.csr_matrix(X_TRAIN),
        Raises(TypeError, r"Sparse data was passed for X, but dense data is required"),
    ),
    _fitted(
        "list",
        "predict_proba",
        lambda: X_TRAIN.tolist(),
        Returns(same_result_as(lambda inputs: np.array(inputs.X))),
    ),
    _fitted(
        "fortran-ordered",
        "score_samples",
        lambda: np.asfortranarray(X_TRAIN),
        Returns(same_result_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    _fitted(
        "strided",
        "predict",
        lambda: np.repeat(X_TRAIN, 2, axis=1)[::2, ::2],
        Returns(same_result_as(lambda inputs: np.ascontiguousarray(inputs.X))),
    ),
    # sklearn rejects strings here ("dtype='numeric' is not compatible with arrays
    # of bytes/strings"); we convert numeric strings as fit does
    _fitted(
        "numeric-strings",
        "predict",
        lambda: X_TRAIN.astype(str),
        Returns(same_result_as(lambda inputs: inputs.X.astype(np.float64))),
    ),
    _fitted(
        "one-row", "bic", lambda: X_TRAIN[:1].copy(), Returns(_check_finite_scalar)
    ),
    # finite rows whose squared distances overflow: a log-likelihood of -inf, and
    # finite responsibilities; numpy may warn of the overflow
    Case(
        "score_samples-far-rows",
        lambda: Inputs(_FAR_ROWS.copy(), params={"n_components": 3}),
        "score_samples",
        Returns(_check_minus_infinity),
        quiet=False,
    ),
    Case(
        "predict_proba-far-rows",
        lambda: Inputs(_FAR_ROWS.copy(), params={"n_components": 3}),
        "predict_proba",
        Returns(_check_finite_probabilities),
        quiet=False,
    ),
]

CONSTRUCTOR_PARAMETERS = [
    _invalid("n_components", 0),
    _invalid("n_components", -1),
    _invalid("n_components", 2.5),
    _invalid("n_components", "2"),
    _invalid("n_components", None),
    _invalid("n_components", np.True_, shown="np.True_"),
    _invalid("n_components", True),
    _invalid("covariance_type", "bad"),
    _invalid("covariance_type", "FULL"),
    _invalid("covariance_type", None),
    _invalid("tol", -1.0),
    _invalid("tol", np.nan, shown="nan"),
    _invalid("tol", np.inf, shown="inf"),
    _invalid("tol", "a"),
    _invalid("reg_covar", -1e-6),
    _invalid("reg_covar", np.nan, shown="nan"),
    _invalid("reg_covar", np.inf, shown="inf"),
    _invalid("max_iter", -1),
    _invalid("max_iter", 1.0),
    _invalid("n_init", 0),
    _invalid("n_init", 1.5),
    _invalid("init_params", "bad"),
    _invalid("init_params", None),
    _invalid("random_state", "x"),
    _invalid("random_state", -1),
    _invalid("random_state", 2**32),
    _invalid("warm_start", "yes"),
    _invalid("warm_start", 1),
    _invalid("verbose", -1),
    _invalid("verbose", 1.5),
    _invalid("verbose_interval", 0),
    _invalid("verbose_interval", 1.5),
    _invalid("on_degenerate", "ignore"),
    _invalid("on_degenerate", None),
    _invalid("weights_init", "abc"),
    _invalid("means_init", "abc"),
    _invalid("precisions_init", "abc"),
]


def _valid_precisions(covariance_type, n_components=2, n_features=2):
    """Identity precisions in the model's own shape."""
    model = get_covariance_model(covariance_type)
    return common_precisions(model, n_components, np.ones(n_features))


def _precisions(covariance_type, change):
    """Valid precisions for two components in 2-D, then ``change(array)``."""

    def build():
        precisions = _valid_precisions(covariance_type)
        change(precisions)
        return precisions

    return build


def _set(index, value):
    def change(array):
        array[index] = value

    return change


def _init(id, expected, **params):
    """A row that fits ``X_TRAIN`` with initial parameters built lazily."""
    return Case(
        id,
        lambda: Inputs(
            X_TRAIN.copy(),
            params={
                name: value() if callable(value) else value
                for name, value in params.items()
            },
        ),
        "fit",
        expected,
    )


INITIAL_PARAMETERS = [
    _init(
        "weights_init-short",
        Raises(
            ValueError, r"'weights' should have the shape of \(2,\), but got \(1,\)"
        ),
        weights_init=lambda: np.array([1.0]),
    ),
    _init(
        "weights_init-2-D",
        Raises(ValueError, r"'weights' should have the shape of \(2,\), .*\(1, 2\)"),
        weights_init=lambda: np.array([[0.5, 0.5]]),
    ),
    _init(
        "weights_init-negative",
        Raises(ValueError, r"'weights' should be in the range \[0, 1\]"),
        weights_init=lambda: np.array([1.5, -0.5]),
    ),
    _init(
        "weights_init-not-normalized",
        Raises(ValueError, r"'weights' should be normalized, .*sum\(weights\) = 0.4"),
        weights_init=lambda: np.array([0.2, 0.2]),
    ),
    _init(
        "weights_init-nan",
        Raises(ValueError, r"Input weights_init contains NaN"),
        weights_init=lambda: np.array([0.5, np.nan]),
    ),
    _init(
        "weights_init-inf",
        Raises(ValueError, r"Input weights_init contains infinity"),
        weights_init=lambda: [np.inf, 0.5],
    ),
    _init(
        "weights_init-strings",
        Raises(ValueError, r"could not convert string to float: .*'a'"),
        weights_init=lambda: ["a", "b"],
    ),
    _init(
        "means_init-too-many-components",
        Raises(ValueError, r"'means' should have the shape of \(2, 2\), .*\(3, 2\)"),
        means_init=lambda: np.zeros((3, 2)),
    ),
    _init(
        "means_init-too-many-features",
        Raises(ValueError, r"'means' should have the shape of \(2, 2\), .*\(2, 3\)"),
        means_init=lambda: np.zeros((2, 3)),
    ),
    _init(
        "means_init-1-D",
        Raises(ValueError, r"'means' should have the shape of \(2, 2\), .*\(2,\)"),
        means_init=lambda: np.zeros(2),
    ),
    _init(
        "means_init-3-D",
        Raises(ValueError, r"Found array with dim 3"),
        means_init=lambda: np.zeros((2, 2, 1)),
    ),
    _init(
        "means_init-nan",
        Raises(ValueError, r"Input means_init contains NaN"),
        means_init=lambda: np.array([[0.0, np.nan], [0.0, 0.0]]),
    ),
    _init(
        "means_init-inf",
        Raises(ValueError, r"Input means_init contains infinity"),
        means_init=lambda: [[0.0, np.inf], [0.0, 0.0]],
    ),
]


def _wrong_shape(covariance_type, n_components=2, n_features=2):
    """Ones with the last axis of the model's shape one too long, and the message."""
    shape = get_covariance_model(covariance_type).parameter_shape(
        n_components, n_features
    )
    wrong = (*shape[:-1], shape[-1] + 1)
    return np.ones(wrong), re.escape(f"{shape}, but got {wrong}")


for covariance_type in COVARIANCE_TYPES:
    wrong_shape, shapes = _wrong_shape(covariance_type)
    INITIAL_PARAMETERS += [
        _init(
            f"precisions_init-{covariance_type}-shape",
            Raises(
                ValueError,
                rf"'{covariance_type} precision' should have the shape of " + shapes,
            ),
            covariance_type=covariance_type,
            precisions_init=lambda wrong_shape=wrong_shape: wrong_shape.copy(),
        ),
        _init(
            f"precisions_init-{covariance_type}-nan",
            Raises(ValueError, r"Input precisions_init contains NaN"),
            covariance_type=covariance_type,
            precisions_init=_precisions(covariance_type, _set(0, np.nan)),
        ),
    ]
for covariance_type in ["diag", "spherical"]:
    INITIAL_PARAMETERS += [
        _init(
            f"precisions_init-{covariance_type}-{name}",
            Raises(ValueError, rf"'{covariance_type} precision' should be positive"),
            covariance_type=covariance_type,
            precisions_init=_precisions(covariance_type, _set(-1, value)),
        )
        for name, value in [("zero", 0.0), ("negative", -1.0)]
    ]
_NOT_SPD = "should be symmetric, positive-definite"
INITIAL_PARAMETERS += [
    _init(
        "precisions_init-full-non-symmetric",
        Raises(ValueError, r"'full precision' " + _NOT_SPD),
        precisions_init=_precisions("full", _set((1, 0, 1), 0.5)),
    ),
    _init(
        "precisions_init-full-singular",
        Raises(ValueError, r"'full precision' " + _NOT_SPD),
        precisions_init=_precisions("full", _set(1, np.ones((2, 2)))),
    ),
    _init(
        "precisions_init-full-indefinite",
        Raises(ValueError, r"'full precision' " + _NOT_SPD),
        precisions_init=_precisions("full", _set(1, [[1.0, 2.0], [2.0, 1.0]])),
    ),
    _init(
        "precisions_init-full-zero",
        Raises(ValueError, r"'full precision' " + _NOT_SPD),
        precisions_init=lambda: np.zeros((2, 2, 2)),
    ),
    _init(
        "precisions_init-tied-non-symmetric",
        Raises(ValueError, r"'tied precision' " + _NOT_SPD),
        covariance_type="tied",
        precisions_init=_precisions("tied", _set((0, 1), 0.5)),
    ),
    _init(
        "precisions_init-tied-indefinite",
        Raises(ValueError, r"'tied precision' " + _NOT_SPD),
        covariance_type="tied",
        precisions_init=lambda: np.array([[1.0, 2.0], [2.0, 1.0]]),
    ),
    _init(
        "precisions_init-tied-negative-definite",
        Raises(ValueError, r"'tied precision' " + _NOT_SPD),
        covariance_type="tied",
        precisions_init=lambda: -np.eye(2),
    ),
    _init(
        "precisions_init-tied-3-D",
        Raises(ValueError, r"Found array with dim 3"),
        covariance_type="tied",
        precisions_init=lambda: np.ones((2, 2, 2)),
    ),
    _init(
        "precisions_init-diag-3-D",
        Raises(ValueError, r"Found array with dim 3"),
        covariance_type="diag",
        precisions_init=lambda: np.ones((2, 2, 1)),
    ),
    _init(
        "precisions_init-full-complex",
        Raises(ValueError, r"Complex data not supported"),
        precisions_init=lambda: np.stack([np.eye(2)] * 2) + 0j,
    ),
]

N = len(X_TRAIN)
_NEGATIVE = r"Negative values in data passed to `sample_weight`"
_ALL_ZERO = r"All sample_weight values are zero"
SAMPLE_WEIGHTS = [
    ("negative", lambda: -np.ones(N), Raises(ValueError, _NEGATIVE)),
    (
        "one-negative",
        lambda: np.r_[-1e-3, np.ones(N - 1)],
        Raises(ValueError, _NEGATIVE),
    ),
    ("negative-scalar", lambda: -1.0, Raises(ValueError, _NEGATIVE)),
    (
        "nan",
        lambda: np.r_[np.nan, np.ones(N - 1)],
        Raises(ValueError, r"Input sample_weight contains NaN"),
    ),
    ("nan-scalar", lambda: np.nan, Raises(ValueError, r"sample_weight contains NaN")),
    (
        "inf",
        lambda: np.r_[np.inf, np.ones(N - 1)],
        Raises(ValueError, r"Input sample_weight contains infinity"),
    ),
    ("all-zero", lambda: np.zeros(N), Raises(ValueError, _ALL_ZERO)),
    ("zero-scalar", lambda: 0.0, Raises(ValueError, _ALL_ZERO)),
    (
        "too-short",
        lambda: np.ones(N - 1),
        Raises(ValueError, rf"sample_weight.shape == \({N - 1},\), expected \({N},\)"),
    ),
    (
        "too-long",
        lambda: np.ones(N + 1).tolist(),
        Raises(ValueError, rf"sample_weight.shape == \({N + 1},\), expected \({N},\)"),
    ),
    (
        "empty",
        lambda: np.ones(0),
        Raises(ValueError, rf"sample_weight.shape == \(0,\), expected \({N},\)"),
    ),
    (
        "column",
        lambda: np.ones((N, 1)),
        Raises(ValueError, rf"sample_weight.shape == \({N}, 1\), expected \({N},\)"),
    ),
    (
        "3-D",
        lambda: np.ones((N, 1, 1)),
        Raises(ValueError, r"Found array with dim 3"),
    ),
    (
        "strings",
        lambda: ["a"] * N,
        Raises(ValueError, r"could not convert string to float: .*'a'"),
    ),
    (
        "complex",
        lambda: np.ones(N) + 1j,
        Raises(ValueError, r"Complex data not supported"),
    ),
    (
        "sparse",
        lambda: sp.csr_matrix(np.ones((N, 1))),
        Raises(TypeError, r"Sparse data was passed for sample_weight, but dense"),
    ),
    (
        "None-entries",
        lambda: [None] * N,
        Raises(ValueError, r"Input sample_weight contains NaN"),
    ),
]
SAMPLE_WEIGHT_CASES = [
    Case(
        f"{method}-sample_weight-{id}",
        lambda weights=weights: Inputs(X_TRAIN.copy(), sample_weight=weights()),
        method,
        expected,
    )
    for id, weights, expected in SAMPLE_WEIGHTS
    for method in ["fit"]
]
SAMPLE_WEIGHT_CASES += [
    Case(
        f"{method}-sample_weight-{id}",
        lambda weights=weights: Inputs(X_TRAIN.copy(), sample_weight=weights()),
        method,
        expected,
    )
    for id, weights, expected in [SAMPLE_WEIGHTS[i] for i in (0, 3, 6, 8)]
    for method in ["fit_predict", "score", "bic", "aic"]
]
SAMPLE_WEIGHT_CASES += [
    Case(
        "fit-sample_weight-fewer-positive-rows-than-components",
        lambda: Inputs(
            X_TRAIN.copy(),
            params={"n_components": 3},
            sample_weight=np.r_[1.0, 1.0, np.zeros(N - 2)],
        ),
        "fit",
        Raises(
            ValueError,
            r"Expected n_samples >= n_components but got n_components = 3, "
            r"n_samples = 2",
        ),
    ),
    Case(
        "fit-sample_weight-bool",
        lambda: Inputs(X_TRAIN.copy(), sample_weight=np.arange(N) % 3 > 0),
        "fit",
        Returns(_check_bool_weights),
    ),
]

CASES = (
    TRAINING_DATA
    + FITTED_DATA
    + CONSTRUCTOR_PARAMETERS
    + INITIAL_PARAMETERS
    + SAMPLE_WEIGHT_CASES
)


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.id, marks=case.marks) for case in CASES]
)
def test_bad_input(case):
    _run_case(case)
