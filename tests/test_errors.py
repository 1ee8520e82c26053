"""Invalid parameters and inputs: the same exceptions as sklearn's GaussianMixture.

Each case runs scikit-learn's estimator and ours on the same input, requires the same
exception type, and requires our message to carry the essential content. Failed fits
must leave no half-fitted state and no fit may modify its inputs.
"""

import re
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import SKLEARN_COVARIANCE_TYPES as COVARIANCE_TYPES
from numpy.testing import assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

ILL_DEFINED = "ill-defined empirical covariance"

X_2D = np.random.RandomState(0).randn(20, 2)


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny fits: OpenMP/BLAS threads only add contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield


def _outcome(call):
    """The exception ``call()`` raises, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def assert_same_error(make_call, match):
    """``make_call(cls)`` raises the same type for sklearn's class and ours.

    ``match`` is searched in our message, and in sklearn's, so that the regex
    captures what both say.
    """
    theirs = _outcome(make_call(SkGaussianMixture))
    ours = _outcome(make_call(GaussianMixture))
    assert theirs is not None, "sklearn did not raise: the case is not invalid"
    assert ours is not None, f"we did not raise; sklearn raised {theirs!r}"
    assert type(ours) is type(theirs), f"ours: {ours!r}\nsklearn: {theirs!r}"
    assert re.search(match, str(ours)), str(ours)
    assert re.search(match, str(theirs)), str(theirs)
    return ours


def assert_singular_data_raise_like_sklearn(X, **params):
    """A fit of ``X``, whose empirical covariance is exactly singular, raises
    "ill-defined empirical covariance", as sklearn's does where it sees it.

    sklearn's 'tied', 'diag' and 'spherical' M-steps subtract raw moments, so whether
    the zero comes out zero depends on the rounding of the machine's BLAS kernels:
    with some (OpenBLAS's Sandybridge and Prescott ones) they leave covariances of a
    few eps times the mean square, and sklearn fits. Ours centre the scatter and
    raise on every machine.
    """
    make_call = _fit(X, **params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = make_call(SkGaussianMixture)()
    except ValueError:
        return assert_same_error(make_call, ILL_DEFINED)
    rounding = 16 * np.finfo(X.dtype).eps * np.mean(np.square(X, dtype=np.float64))
    assert np.abs(theirs.covariances_).max() <= rounding, "sklearn's fit is not noise"
    with pytest.raises(ValueError, match=ILL_DEFINED) as error:
        make_call(GaussianMixture)()
    return error.value


def _fit(X=X_2D, **params):
    return lambda cls: lambda: cls(**params).fit(X)


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


# --------------------------------------------------------------------------------
# constructor parameters


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=0), r"'n_components' parameter .* range \[1, inf\)"),
        (dict(n_components=2.5), r"'n_components' parameter .* int"),
        (dict(tol=-1), r"'tol' parameter .* range \[0.0, inf\)"),
        (dict(reg_covar=-1), r"'reg_covar' parameter .* range \[0.0, inf\)"),
        (dict(max_iter=-1), r"'max_iter' parameter .* range \[0, inf\)"),
        (dict(n_init=0), r"'n_init' parameter .* range \[1, inf\)"),
        (dict(init_params="bad"), r"'init_params' parameter .*kmeans.*Got 'bad'"),
        (dict(covariance_type="bad"), r"'covariance_type' parameter .*Got 'bad'"),
        (dict(verbose_interval=0), r"'verbose_interval' parameter .* \[1, inf\)"),
        (dict(random_state="x"), r"'random_state' parameter .*RandomState"),
        (dict(warm_start="yes"), r"'warm_start' parameter .*Got 'yes'"),
        (dict(verbose=-1), r"'verbose' parameter .*Got -1"),
        (dict(weights_init="abc"), r"'weights_init' parameter .*array-like"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_invalid_constructor_parameter(params, match):
    error = assert_same_error(_fit(**params), match)
    assert isinstance(error, ValueError)


def test_covariance_type_message_lists_sklearn_names_and_aliases():
    error = assert_same_error(_fit(covariance_type="bad"), r"must be a str among")
    for name in COVARIANCE_TYPES + ["VVV", "EEE", "VVI", "VII"]:
        assert f"'{name}'" in str(error)


# --------------------------------------------------------------------------------
# initial parameters


def _precisions(covariance_type, kind, n_components=2, n_features=2):
    """Precisions of the right shape, or invalid as ``kind`` says."""
    eye = np.eye(n_features)
    if kind == "shape":
        n_features += 1
        eye = np.eye(n_features)
    good = {
        "full": np.stack([eye] * n_components),
        "tied": eye,
        "diag": np.ones((n_components, n_features)),
        "spherical": np.ones(n_components + (kind == "shape")),
    }[covariance_type]
    if kind in ("shape", "valid"):
        return good
    bad = good.copy()
    if kind == "non-positive":
        bad[..., -1] = 0.0 if covariance_type == "diag" else -1.0
    elif kind == "non-symmetric":
        bad[..., 0, 1] = 0.5
    elif kind == "non-pd":
        bad[..., 0, 1] = bad[..., 1, 0] = 2.0
    return bad


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(weights_init=[1.0]), r"'weights' .*shape of \(2,\), but got \(1,\)"),
        (dict(weights_init=[[0.5, 0.5]]), r"'weights' .*shape of \(2,\)"),
        (dict(weights_init=[1.5, -0.5]), r"'weights' .*range \[0, 1\]"),
        (dict(weights_init=[0.2, 0.2]), r"'weights' .*normalized.* 0\.40000"),
        (dict(weights_init=[0.5, np.nan]), r"NaN"),
        (dict(means_init=[[0.0, 0.0, 0.0]] * 2), r"'means' .*\(2, 2\), but got"),
        (dict(means_init=[0.0, 0.0]), r"'means' .*\(2, 2\), but got \(2,\)"),
        (dict(means_init=[[0.0, np.inf]] * 2), r"infinity"),
    ]
    + [
        (
            dict(covariance_type=ct, precisions_init=_precisions(ct, "shape")),
            rf"'{ct} precision' should have the shape",
        )
        for ct in COVARIANCE_TYPES
    ]
    + [
        (
            dict(covariance_type=ct, precisions_init=_precisions(ct, "non-positive")),
            rf"'{ct} precision' should be positive",
        )
        for ct in ["diag", "spherical"]
    ]
    + [
        (
            dict(covariance_type=ct, precisions_init=_precisions(ct, kind)),
            rf"'{ct} precision' should be symmetric, positive-definite",
        )
        for ct in ["full", "tied"]
        for kind in ["non-symmetric", "non-pd"]
    ]
    + [
        (
            dict(covariance_type="tied", precisions_init=np.ones((2, 2, 2))),
            r"dim 3",
        ),
    ],
)
def test_invalid_initial_parameters(params, match):
    assert_same_error(_fit(n_components=2, **params), match)


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(weights_init=[0.5, np.nan]), "weights_init"),
        (dict(means_init=[[0.0, np.inf]] * 2), "means_init"),
        (
            dict(covariance_type="tied", precisions_init=[[1.0, np.nan]] * 2),
            "precisions_init",
        ),
    ],
)
def test_non_finite_initial_parameters_are_named(params, name):
    # sklearn says "Input contains ..."; ours also names the parameter
    with pytest.raises(ValueError, match=rf"Input {name} contains (NaN|infinity)"):
        GaussianMixture(2, **params).fit(X_2D)


@pytest.mark.parametrize("alias, name", [("VVV", "full"), ("VVI", "diag")])
def test_invalid_precisions_with_alias_name_the_model(alias, name):
    kind = "non-symmetric" if name == "full" else "non-positive"
    with pytest.raises(ValueError, match=rf"'{name} precision' should be"):
        GaussianMixture(
            2, covariance_type=alias, precisions_init=_precisions(name, kind)
        ).fit(X_2D)


# --------------------------------------------------------------------------------
# training data


def _with(value):
    X = X_2D.copy()
    X[3, 1] = value
    return X


@pytest.mark.parametrize(
    "X, match",
    [
        (_with(np.nan), r"Input X contains NaN"),
        (_with(np.inf), r"Input X contains infinity"),
        (_with(-np.inf), r"Input X contains infinity"),
        (X_2D[:1], r"1 sample\(s\) .*minimum of 2 is required"),
        (X_2D[:0], r"0 sample\(s\)"),
        (X_2D[:2], r"Expected n_samples >= n_components .*= 3, n_samples = 2"),
        (X_2D[:, 0], r"Expected 2D array, got 1D array"),
        (X_2D[:, :, np.newaxis], r"dim 3"),
        (X_2D + 1j, r"Complex data not supported"),
        ([["a", "b"], ["c", "d"], ["e", "f"]], r"could not convert string to float"),
        (np.empty((5, 0)), r"0 feature\(s\)"),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "1-sample",
        "0-samples",
        "fewer-samples-than-components",
        "1-D",
        "3-D",
        "complex",
        "strings",
        "0-features",
    ],
)
def test_invalid_training_data(X, match):
    assert_same_error(_fit(X, n_components=3), match)


def test_sparse_training_data():
    error = assert_same_error(_fit(sp.csr_matrix(X_2D)), r"[Ss]parse")
    assert isinstance(error, TypeError)


# --------------------------------------------------------------------------------
# fitted methods


FITTED_METHODS = ["predict", "predict_proba", "score_samples", "score", "bic", "aic"]


@pytest.mark.parametrize("method", FITTED_METHODS + ["sample"])
def test_methods_before_fit_raise_not_fitted(method):
    def make_call(cls):
        args = () if method == "sample" else (X_2D,)
        return lambda: getattr(cls(), method)(*args)

    error = assert_same_error(make_call, r"not fitted yet.*Call 'fit'")
    assert isinstance(error, NotFittedError)


@pytest.mark.parametrize("method", FITTED_METHODS)
@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones((4, 3)), r"X has 3 features, but GaussianMixture is expecting 2"),
        (np.ones((4, 1)), r"X has 1 features, but GaussianMixture is expecting 2"),
        (np.ones(4), r"Expected 2D array, got 1D array"),
        (_with(np.nan), r"Input X contains NaN"),
    ],
    ids=["3-features", "1-feature", "1-D", "nan"],
)
def test_fitted_methods_reject_bad_X(method, X, match):
    def make_call(cls):
        est = cls(2, random_state=0).fit(X_2D)
        return lambda: getattr(est, method)(X)

    assert_same_error(make_call, match)


@pytest.mark.parametrize("n_samples", [0, -1])
def test_sample_needs_a_positive_count(n_samples):
    def make_call(cls):
        est = cls(2, random_state=0).fit(X_2D)
        return lambda: est.sample(n_samples)

    error = assert_same_error(make_call, r"Invalid value for 'n_samples'")
    assert isinstance(error, ValueError)
    assert re.search(rf"'n_samples': {n_samples} ", str(error))


# --------------------------------------------------------------------------------
# degenerate data and convergence

DUPLICATED = np.repeat([[0.0, 0.0], [1.0, 1.0], [2.0, 5.0]], 5, axis=0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(
    "X, n_components",
    [
        (np.zeros((10, 2)), 1),
        (DUPLICATED, 3),
        (DUPLICATED.astype(np.float32), 3),
    ],
    ids=["zeros", "duplicated", "duplicated-float32"],
)
def test_degenerate_data_without_regularization(X, n_components, covariance_type):
    params = dict(
        n_components=n_components,
        covariance_type=covariance_type,
        reg_covar=0.0,
        random_state=0,
    )
    error = assert_singular_data_raise_like_sklearn(X, **params)
    assert isinstance(error, ValueError)
    float32_hint = "passing float64 data instead of float32" in str(error)
    assert float32_hint == (X.dtype == np.float32)
    # the default regularization makes the same data fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = GaussianMixture(**{**params, "reg_covar": 1e-6}).fit(X)
    assert np.all(np.isfinite(fitted.precisions_cholesky_))


# The mean of ten rows of 3.7 is one ulp high if computed as 37.00000000000001 / 10;
# without the correction pass the centred scatter would be 2e-30 instead of 0 and
# the reg_covar=0 fit would "succeed" with precisions of 5e30. sklearn raises here
# with most BLAS kernels (with some it fits on rounding noise).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_identical_rows_at_a_non_dyadic_value(covariance_type):
    X = np.full((10, 2), 3.7)
    params = dict(covariance_type=covariance_type, reg_covar=0.0, random_state=0)
    assert_singular_data_raise_like_sklearn(X, **params)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_non_convergence_warns_like_sklearn(covariance_type):
    X, _ = make_blobs(200, centers=3, cluster_std=2.0, random_state=0)
    messages = []
    for cls in (SkGaussianMixture, GaussianMixture):
        est = cls(3, covariance_type=covariance_type, max_iter=1, n_init=2)
        with pytest.warns(ConvergenceWarning) as record:
            est.set_params(random_state=0).fit(X)
        assert not est.converged_
        messages.append(
            [str(w.message) for w in record if w.category is ConvergenceWarning]
        )
    assert messages[0] == messages[1]
    assert len(messages[1]) == 1
    assert re.search(r"did not converge.*increase max_iter", messages[1][0])


def test_max_iter_zero_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GaussianMixture(2, max_iter=0, random_state=0).fit(X_2D)
        SkGaussianMixture(2, max_iter=0, random_state=0).fit(X_2D)
    assert est.n_iter_ == 0 and not est.converged_


# --------------------------------------------------------------------------------
# sample_weight (ours only)


@pytest.mark.parametrize("method", ["fit", "fit_predict", "score", "bic", "aic"])
@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (-np.ones(20), r"[Nn]egative .*sample_weight"),
        (np.r_[1.0, -1e-3, np.ones(18)], r"[Nn]egative .*sample_weight"),
        (np.r_[np.nan, np.ones(19)], r"sample_weight contains NaN"),
        (np.r_[np.inf, np.ones(19)], r"sample_weight contains infinity"),
        (np.zeros(20), r"sample_weight .*zero"),
        (0.0, r"sample_weight .*zero"),
        (np.ones(19), r"sample_weight.*\(19,\).*\(20,\)"),
        (np.ones(21), r"sample_weight.*\(21,\).*\(20,\)"),
        (np.ones((20, 1)), r"sample_weight.*\(20, 1\).*\(20,\)"),
        (np.ones((2, 20)), r"sample_weight.*\(2, 20\).*\(20,\)"),
    ],
    ids=[
        "negative",
        "one-negative",
        "nan",
        "inf",
        "all-zero",
        "scalar-zero",
        "too-short",
        "too-long",
        "column",
        "2-D",
    ],
)
def test_invalid_sample_weight(method, sample_weight, match):
    est = GaussianMixture(2, random_state=0)
    if method not in ("fit", "fit_predict"):
        est.fit(X_2D)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(X_2D, sample_weight=sample_weight)


def test_sample_weight_with_fewer_positive_rows_than_components():
    weights = np.r_[1.0, 1.0, np.zeros(18)]
    with pytest.raises(ValueError, match=r"n_samples >= n_components"):
        GaussianMixture(3, random_state=0).fit(X_2D, sample_weight=weights)


# --------------------------------------------------------------------------------
# no half-fitted state


class _InterruptingStdout:
    """A stdout whose write raises KeyboardInterrupt on an EM iteration message."""

    def write(self, text):
        if "Iteration" in text:
            raise KeyboardInterrupt
        return len(text)

    def flush(self):
        pass


FAILING_FITS = {
    "nan": dict(X=_with(np.nan)),
    "too-few-samples": dict(X=X_2D[:2]),
    "weights_init": dict(params=dict(weights_init=[0.5, 0.6, 0.1])),
    "precisions_init": dict(
        params=dict(covariance_type="diag", precisions_init=-np.ones((3, 2)))
    ),
    "degenerate": dict(X=DUPLICATED, params=dict(reg_covar=0.0)),
    "sample_weight": dict(sample_weight=-np.ones(20)),
    "interrupted-mid-em": dict(
        params=dict(verbose=1, verbose_interval=1), interrupt=True
    ),
}


def _failing_fit(est, case, monkeypatch):
    spec = FAILING_FITS[case]
    est.set_params(**spec.get("params", {}))
    X = spec.get("X", X_2D)
    expected = KeyboardInterrupt if spec.get("interrupt") else ValueError
    with monkeypatch.context() as patch:
        if spec.get("interrupt"):
            patch.setattr(sys, "stdout", _InterruptingStdout())
        with pytest.raises(expected):
            est.fit(X, sample_weight=spec.get("sample_weight"))


@pytest.mark.parametrize("case", list(FAILING_FITS))
def test_failed_fit_of_new_estimator_sets_nothing(case, monkeypatch):
    est = GaussianMixture(3, random_state=0)
    _failing_fit(est, case, monkeypatch)
    assert [name for name in vars(est) if name.endswith("_")] == []
    with pytest.raises(NotFittedError):
        est.predict(X_2D)


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("case", list(FAILING_FITS))
def test_failed_refit_keeps_the_previous_fit(case, warm_start, monkeypatch):
    X, _ = make_blobs(60, centers=3, random_state=1)
    est = GaussianMixture(
        3, covariance_type="diag", warm_start=warm_start, random_state=0
    ).fit(X)
    before = {
        name: value.copy() if hasattr(value, "copy") else value
        for name, value in _fitted_state(est).items()
    }
    predictions = est.predict_proba(X)
    if warm_start and case == "degenerate":
        est.set_params(warm_start=False)  # from the previous fit it would not fail
    _failing_fit(est, case, monkeypatch)

    after = _fitted_state(est)
    assert after.keys() == before.keys()
    for name, value in before.items():
        assert_array_equal(after[name], value, strict=True, err_msg=name)
    assert_array_equal(est.predict_proba(X), predictions)


# --------------------------------------------------------------------------------
# inputs are never modified


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_does_not_modify_its_inputs(dtype, order, covariance_type):
    X, _ = make_blobs(90, centers=3, random_state=2)
    arrays = {
        "X": X,
        "sample_weight": np.random.RandomState(0).uniform(0.0, 3.0, size=90),
        "weights_init": np.array([0.25, 0.25, 0.5]),
        "means_init": X[[0, 30, 60]] + 0.1,
        "precisions_init": _precisions(covariance_type, "valid", n_components=3) * 0.5,
    }
    arrays = {
        name: np.asarray(value, dtype=dtype, order=order)
        for name, value in arrays.items()
    }
    copies = {name: value.copy(order="K") for name, value in arrays.items()}
    est = GaussianMixture(
        3,
        covariance_type=covariance_type,
        weights_init=arrays["weights_init"],
        means_init=arrays["means_init"],
        precisions_init=arrays["precisions_init"],
        random_state=0,
    )
    est.fit(arrays["X"], sample_weight=arrays["sample_weight"])
    est.fit_predict(arrays["X"], sample_weight=arrays["sample_weight"])
    est.score(arrays["X"], sample_weight=arrays["sample_weight"])
    for name, value in arrays.items():
        assert_array_equal(value, copies[name], strict=True, err_msg=name)
        assert value.flags.f_contiguous == copies[name].flags.f_contiguous
    assert est.get_params()["weights_init"] is arrays["weights_init"]
    assert est.means_.dtype == dtype


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random"])
def test_fit_accepts_read_only_inputs(init_params):
    X, _ = make_blobs(90, centers=3, random_state=2)
    sample_weight = np.linspace(0.5, 2.0, 90)
    for array in (X, sample_weight):
        array.flags.writeable = False
    est = GaussianMixture(3, init_params=init_params, random_state=0)
    labels = est.fit_predict(X, sample_weight=sample_weight)
    assert labels.shape == (90,)
    assert_array_equal(est.predict(X), labels)
