"""The E-step, M-step and statistics against independent references."""

import copy
import math
import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from scipy import special, stats
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm import _em as em_module
from sklearn_em_gmm import _kernels as kernels_module
from sklearn_em_gmm._covariance import (
    canonical_models,
    covariance_type_names,
    get_covariance_model,
)
from sklearn_em_gmm._em import (
    MixtureParameters,
    _kernel_row_blocks,
    component_argmax,
    data_mean,
    expectation,
    exponentiate_below_bound,
    exponentiate_log_prob,
    maximization,
    normalize_log_prob,
    prepare_data,
)
from sklearn_em_gmm._kernels import (
    AxisAlignedKernel,
    ComponentKernel,
    QuadraticKernel,
    SharedPrecisionKernel,
    SplitKernel,
    _piece_rows,
    _product_by_columns,
    _row_products,
    _sum_of_row_products,
    centred_data,
    select_kernel,
)
from sklearn_em_gmm._stats import SufficientStatistics
from sklearn_em_gmm._workspace import Workspace

# every kernel that serves each covariance type
KERNEL_CASES = [
    ("full", "quadratic"),
    ("full", "component"),
    ("tied", "shared"),
    ("tied", "component"),
    ("full", "split"),
    ("diag", "quadratic"),
    ("diag", "split"),
    ("diag", "axis_aligned"),
    ("spherical", "quadratic"),
    ("spherical", "split"),
    ("spherical", "axis_aligned"),
]


def _split_kernel(model, n_features, n_components, reference):
    """Quadratic kernel for the odd components, the exact one for the others."""
    fast_components = np.arange(n_components) % 2 == 1
    exact_kernel = ComponentKernel if model.full_scatter else AxisAlignedKernel
    exact = exact_kernel(n_features, int(np.sum(~fast_components)), model)
    fast = QuadraticKernel(n_features, model, reference)
    return SplitKernel(fast, exact, fast_components)


def _kernel(kernel_name, model, n_features, n_components, reference, data=None):
    """``data`` (X, row weights) gives a shared kernel its second moment."""
    second_moment = None
    if data is not None and model.pooled_scatter:
        prepared = prepare_data(*data, model, reference, n_components)
        second_moment = prepared.second_moment
    return {
        "split": lambda: _split_kernel(model, n_features, n_components, reference),
        "quadratic": lambda: QuadraticKernel(n_features, model, reference),
        "shared": lambda: SharedPrecisionKernel(
            n_features, model, reference, second_moment=second_moment
        ),
        "component": lambda: ComponentKernel(n_features, n_components, model),
        "axis_aligned": lambda: AxisAlignedKernel(n_features, n_components, model),
    }[kernel_name]()


def _random_parameters(covariance_type, n_components=3, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    weights = rng.dirichlet(np.ones(n_components))
    means = rng.normal(scale=3.0, size=(n_components, n_features))

    def spd():
        a = rng.normal(size=(n_features, n_features))
        return a @ a.T + n_features * np.eye(n_features)

    covariances = {
        "full": np.stack([spd() for _ in range(n_components)]),
        "tied": spd(),
        "diag": rng.uniform(0.5, 2.0, size=(n_components, n_features)),
        "spherical": rng.uniform(0.5, 2.0, size=n_components),
    }[covariance_type]
    model = get_covariance_model(covariance_type)
    params = MixtureParameters(
        weights, means, covariances, model.precisions_cholesky(covariances)
    )
    return model, params


def _dense_covariance(covariance_type, covariances, k, n_features):
    return {
        "full": lambda: covariances[k],
        "tied": lambda: covariances,
        "diag": lambda: np.diag(covariances[k]),
        "spherical": lambda: covariances[k] * np.eye(n_features),
    }[covariance_type]()


def _scipy_weighted_log_prob(covariance_type, params, X):
    """``log w_k + log N(x | mu_k, Sigma_k)`` by scipy, shape (n_rows, n_components)."""
    return np.column_stack(
        [
            np.log(params.weights[k])
            + stats.multivariate_normal(
                params.means[k],
                _dense_covariance(covariance_type, params.covariances, k, X.shape[1]),
            ).logpdf(X)
            for k in range(len(params.weights))
        ]
    )


@pytest.mark.parametrize(
    ("covariance_type", "kernel_name", "n_features"),
    [(*case, 4) for case in KERNEL_CASES]
    + [("diag", "axis_aligned", 40), ("spherical", "axis_aligned", 40)],
)
def test_log_prob_matches_scipy(covariance_type, kernel_name, n_features):
    model, params = _random_parameters(covariance_type, n_features=n_features)
    X = np.random.RandomState(1).normal(scale=3.0, size=(50, n_features)) + 1e6
    params = params._replace(means=params.means + 1e6)
    expected = _scipy_weighted_log_prob(covariance_type, params, X)
    kernel = _kernel(kernel_name, model, n_features, 3, X.mean(axis=0))
    # component-major: one row per component
    coefficients = kernel.coefficients(params)
    log_prob = kernel.weighted_log_prob(kernel.expand(X, coefficients), coefficients)
    np.testing.assert_allclose(log_prob, expected.T, rtol=1e-10)

    resp = log_prob.copy()
    log_norm = normalize_log_prob(resp)
    resp = resp.T
    np.testing.assert_allclose(log_norm, special.logsumexp(expected, axis=1))
    np.testing.assert_allclose(resp, special.softmax(expected, axis=1), atol=1e-14)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("covariance_type", "kernel_class"),
    [
        ("full", QuadraticKernel),
        ("diag", QuadraticKernel),
        ("spherical", QuadraticKernel),
        ("tied", SharedPrecisionKernel),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_kernels_give_the_same_bits_from_the_fits_centred_copy(
    covariance_type, kernel_class, dtype
):
    model, params = _random_parameters(covariance_type)
    params = MixtureParameters(*(array.astype(dtype) for array in params))
    X = (np.random.RandomState(1).normal(scale=3.0, size=(60, 4)) + 1e3).astype(dtype)
    reference = data_mean(X, None)
    centred = centred_data(X, reference, model, 3)
    assert centred.dtype == dtype and centred.flags.c_contiguous
    np.testing.assert_array_equal(centred, (X - reference.astype(dtype)).T)
    kernel = kernel_class(4, model, reference, dtype)
    coefficients = kernel.coefficients(params)
    outcomes = []
    for columns in (None, centred):
        block = kernel.expand(X, coefficients, columns)
        resp = kernel.weighted_log_prob(block, coefficients)
        log_prob = resp.copy()
        _, row_sum = exponentiate_log_prob(resp)
        outcomes.append((log_prob, kernel.moments(block, resp, 1 / row_sum)))
    for without, with_copy in zip(*outcomes, strict=True):
        np.testing.assert_array_equal(with_copy, without)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_from_the_centred_copy_is_the_fit_without_it(
    covariance_type, dtype, monkeypatch
):
    # a far cluster: split passes (float64) and exact float32 ones as well; tied
    # without it, whose far cluster takes the exact kernel throughout
    X = _blobs_with_a_far_cluster(covariance_type)
    if covariance_type == "tied":
        X = X[:400]
    X = X.astype(dtype)
    X_before = X.copy()
    fits = []
    for budget in (kernels_module._MAX_CENTRED_DATA_BYTES, 0):
        monkeypatch.setattr(kernels_module, "_MAX_CENTRED_DATA_BYTES", budget)
        fits.append(
            GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
        )
    np.testing.assert_array_equal(X, X_before)
    for name in ("weights_", "means_", "covariances_", "lower_bound_", "n_iter_"):
        np.testing.assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prepared_second_moment_is_the_weighted_scatter_about_the_reference(dtype):
    rng = np.random.RandomState(4)
    X = (rng.normal(size=(3000, 5)) * [1, 2, 3, 4, 5] + 1e4).astype(dtype)
    weights = rng.uniform(0.0, 3.0, size=len(X))
    reference = X[:100].mean(axis=0, dtype=np.float64) + 0.1
    prepared = prepare_data(X, weights, get_covariance_model("tied"), reference, 3)
    assert prepared.second_moment.dtype == np.float64
    # about the reference rounded to X's dtype, where the kernels centre
    assert prepared.reference.dtype == np.float64
    np.testing.assert_array_equal(prepared.reference, reference.astype(dtype))
    centred = X.astype(np.float64) - prepared.reference
    expected = np.cov(centred.T, aweights=weights, bias=True) * weights.sum()
    mean = np.average(centred, axis=0, weights=weights)
    expected += weights.sum() * np.outer(mean, mean)
    np.testing.assert_allclose(prepared.second_moment, expected, rtol=1e-12)
    untied = prepare_data(X, weights, get_covariance_model("full"), reference, 3)
    assert untied.second_moment is None


def test_workspace_reuses_an_array_per_name_and_dtype():
    workspace = Workspace()
    first = workspace.empty("a", (3, 4), np.float64)
    assert first.shape == (3, 4) and first.flags.c_contiguous
    assert np.shares_memory(first, workspace.empty("a", (2, 5), np.float64))
    assert not np.shares_memory(first, workspace.empty("b", (3, 4), np.float64))
    assert workspace.empty("a", (3, 4), np.float32).dtype == np.float32
    larger = workspace.empty("a", (5, 4), np.float64)
    assert larger.shape == (5, 4) and not np.shares_memory(first, larger)


class _FreshArrays:
    """A workspace that allocates every array afresh."""

    def empty(self, name, shape, dtype):
        return np.empty(shape, dtype=dtype)


def _expected_statistics(covariance_type, params, X, sample_weight=None):
    """Mean log-likelihood and statistics by scipy, in float64."""
    log_prob = _scipy_weighted_log_prob(covariance_type, params, X)
    weights = np.ones(len(X)) if sample_weight is None else sample_weight
    bound = np.average(special.logsumexp(log_prob, axis=1), weights=weights)
    resp = special.softmax(log_prob, axis=1) * weights[:, np.newaxis]
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, np.newaxis]
    scatter = np.stack(
        [(resp[:, k] * (X - means[k]).T) @ (X - means[k]) for k in range(len(nk))]
    )
    return bound, nk, means, scatter


def _comparable_scatter(covariance_type, scatter):
    """The part of a (k, d, d) scatter that a model's statistics hold."""
    return {
        "full": lambda: scatter,
        "tied": lambda: scatter.sum(axis=0, keepdims=True),
        "diag": lambda: np.diagonal(scatter, axis1=1, axis2=2),
        "spherical": lambda: np.diagonal(scatter, axis1=1, axis2=2).mean(axis=1),
    }[covariance_type]()


def _scatter_scale(scatter):
    """Each entry's scale: itself on a diagonal, ``sqrt(S_ii S_jj)`` off it.

    The rounding of a scatter matrix grows with its variances, so an off-diagonal
    entry near zero is only as exact as the variances beside it.
    """
    if scatter.ndim < 3:
        return np.abs(scatter)
    deviations = np.sqrt(np.diagonal(scatter, axis1=1, axis2=2))
    return deviations[:, :, np.newaxis] * deviations[:, np.newaxis, :]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("far", [True, False], ids=["far", "near"])
def test_expectation_in_a_reused_workspace_is_right_pass_after_pass(
    covariance_type, dtype, far, monkeypatch
):
    # blocks of 256 rows, a shorter last one; with a far cluster, split passes
    # whose two kernels share the workspace (tied: the exact kernel), without it
    # the fast kernels (tied: the shared precision)
    monkeypatch.setattr(em_module, "_PASS_BYTES", 1)
    X = _blobs_with_a_far_cluster(covariance_type)
    X = (X if far else X[:400]).astype(dtype)
    model = get_covariance_model(covariance_type)
    prepared = prepare_data(X, None, model, X.mean(axis=0), 3)
    reused = Workspace()
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    for seed, order in [(0, slice(None)), (0, slice(None, None, -1)), (1, [1, 2, 0])]:
        fitted = SklearnGaussianMixture(
            3, covariance_type=covariance_type, random_state=seed, max_iter=5
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.fit(X.astype(np.float64))
        # each component in turn first: the far one's place in the pass varies
        arrays = [fitted.weights_[order], fitted.means_[order]]
        if covariance_type == "tied":
            arrays += [fitted.covariances_, fitted.precisions_cholesky_]
        else:
            arrays += [fitted.covariances_[order], fitted.precisions_cholesky_[order]]
        params = MixtureParameters(*(np.asarray(a, dtype=dtype) for a in arrays))
        bound, stats = expectation(X, None, params, model, prepared, reused)
        fresh = expectation(X, None, params, model, prepared, _FreshArrays())
        assert bound == fresh[0]
        for name in ("nk", "means", "scatter"):
            np.testing.assert_array_equal(getattr(stats, name), getattr(fresh[1], name))
        exact = MixtureParameters(*(np.asarray(a, dtype=np.float64) for a in arrays))
        expected = _expected_statistics(covariance_type, exact, X.astype(np.float64))
        assert bound == pytest.approx(expected[0], rel=tolerance)
        np.testing.assert_allclose(stats.nk, expected[1], rtol=tolerance, atol=1e-6)
        held = expected[1] > 1.0
        np.testing.assert_allclose(
            stats.means[held], expected[2][held], rtol=tolerance, atol=1e-6
        )
        if covariance_type == "tied" or held.all():
            scatter = stats.scatter
            if covariance_type == "spherical":
                scatter = scatter.mean(axis=1)  # the same value for each feature
            if covariance_type == "tied":  # per component from the exact kernel
                scatter = scatter.sum(axis=0, keepdims=True)
            expected_scatter = _comparable_scatter(covariance_type, expected[3])
            np.testing.assert_array_less(
                np.abs(scatter - expected_scatter),
                tolerance * _scatter_scale(expected_scatter) + 1e-6,
            )


def test_centred_copy_only_within_its_budget_and_for_kernels_that_use_it():
    diag = get_covariance_model("diag")
    assert centred_data(np.ones((10, 8)), np.zeros(8), diag, 3) is not None
    wide = np.ones((10, kernels_module._ROW_MAJOR_FEATURES))
    assert centred_data(wide, np.zeros(wide.shape[1]), diag, 3) is None
    budget = kernels_module._MAX_CENTRED_DATA_BYTES
    rows = budget // (8 * 8) + 1  # float64, 8 features: one row over the budget
    X = np.broadcast_to(np.float64(1.0), (rows, 8))
    assert centred_data(X, np.zeros(8), diag, 3) is None
    assert centred_data(X[:-1], np.zeros(8), diag, 3) is not None
    # full covariances at d = 32: quadratic features for 16 components, not for 3
    full = get_covariance_model("full")
    X = np.ones((10, 32))
    assert centred_data(X, np.zeros(32), full, 16) is not None
    assert centred_data(X, np.zeros(32), full, 3) is None
    assert centred_data(X, np.zeros(32), get_covariance_model("tied"), 3) is not None


@pytest.mark.parametrize(("covariance_type", "kernel_name"), KERNEL_CASES)
def test_log_prob_survives_far_away_rows(covariance_type, kernel_name):
    model, params = _random_parameters(covariance_type)
    X = np.full((2, 4), 1e4)
    kernel = _kernel(kernel_name, model, 4, 3, params.weights @ params.means)
    coefficients = kernel.coefficients(params)
    resp = kernel.weighted_log_prob(kernel.expand(X, coefficients), coefficients)
    log_norm = normalize_log_prob(resp)
    assert np.all(np.isfinite(log_norm))
    np.testing.assert_allclose(resp.sum(axis=0), 1.0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_factors_invert_the_covariances(covariance_type):
    model, params = _random_parameters(covariance_type)
    precisions = model.precisions(params.precisions_cholesky)
    for k in range(3):
        cov = _dense_covariance(covariance_type, params.covariances, k, 4)
        prec = _dense_covariance(covariance_type, precisions, k, 4)
        np.testing.assert_allclose(prec @ cov, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(
        model.precisions_cholesky_from_precisions(precisions),
        params.precisions_cholesky,
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        model.covariances_from_precisions_cholesky(params.precisions_cholesky),
        params.covariances,
        rtol=1e-10,
    )
    if covariance_type in ("full", "tied"):
        # upper triangular, like sklearn's precisions_cholesky_
        assert np.allclose(np.tril(params.precisions_cholesky, -1), 0.0)


def _statistics(kernel_name, covariance_type, X, weighted_resp, means):
    """Statistics of all rows through one kernel, centred on ``means``."""
    model, params = _random_parameters(
        covariance_type, n_components=len(means), n_features=X.shape[1]
    )
    # each row's responsibilities sum to its weight
    data = (X, weighted_resp.sum(axis=0))
    kernel = _kernel(kernel_name, model, X.shape[1], len(means), X.mean(axis=0), data)
    coefficients = kernel.coefficients(params._replace(means=means))
    # the kernel takes responsibilities unnormalised, with a factor per row
    row_factors = np.linspace(0.5, 4.0, len(X))
    moments = kernel.moments(
        kernel.expand(X, coefficients), weighted_resp * row_factors, 1 / row_factors
    )
    return kernel.statistics(moments, coefficients)


@pytest.mark.parametrize(
    ("covariance_type", "kernel_name", "n_features"),
    [(*case, 3) for case in KERNEL_CASES]
    + [("diag", "axis_aligned", 40), ("spherical", "axis_aligned", 40)],
)
def test_statistics_match_weighted_moments(covariance_type, kernel_name, n_features):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, n_features)) + 1e6
    resp = rng.dirichlet(np.ones(2), size=40)
    weights = rng.uniform(0, 2, size=40)
    means = X[:2] + 0.5  # current means, near the data
    statistics = _statistics(
        kernel_name, covariance_type, X, (resp * weights[:, None]).T, means
    )
    scatters = []
    for k in range(2):
        aweights = resp[:, k] * weights
        np.testing.assert_allclose(statistics.nk[k], aweights.sum())
        np.testing.assert_allclose(statistics.means[k], np.average(X, 0, aweights))
        expected = np.cov((X - 1e6).T, aweights=aweights, bias=True) * aweights.sum()
        if statistics.scatter.ndim == 2:
            expected = np.diag(expected)
        scatters.append(expected)
    scatter = statistics.scatter
    if len(scatter) == 1:
        # a kernel for a shared covariance gives the scatter pooled over components
        scatters = [sum(scatters)]
    if covariance_type == "spherical":
        # an isotropic model needs only the mean over features
        scatter, scatters = scatter.mean(axis=1), np.mean(scatters, axis=1)
    np.testing.assert_allclose(scatter, scatters, rtol=1e-8)


@pytest.mark.parametrize(
    ("covariance_type", "kernel_class", "n_features"),
    [
        ("full", ComponentKernel, 4),
        ("tied", ComponentKernel, 4),
        ("diag", AxisAlignedKernel, 4),
        ("spherical", AxisAlignedKernel, 4),
        # deltas subtracted as rows lie in X
        ("diag", AxisAlignedKernel, 40),
        ("spherical", AxisAlignedKernel, 40),
    ],
)
def test_exact_kernels_compute_float32_in_float32(
    covariance_type, kernel_class, n_features
):
    model, params = _random_parameters(covariance_type, n_features=n_features)
    rng = np.random.RandomState(2)
    # far from the origin, where only centring on each mean keeps float32 accurate
    X = (rng.normal(scale=3.0, size=(300, n_features)) + 1e3).astype(np.float32)
    params = MixtureParameters(
        *(a.astype(np.float32) for a in params._replace(means=params.means + 1e3))
    )
    params64 = MixtureParameters(*(a.astype(np.float64) for a in params))
    results = []
    for dtype, data, parameters in [
        (np.float32, X, params),
        (np.float64, X.astype(np.float64), params64),
    ]:
        kernel = kernel_class(n_features, 3, model, dtype)
        coefficients = kernel.coefficients(parameters)
        block = kernel.expand(data, coefficients)
        log_prob = kernel.weighted_log_prob(block, coefficients)
        assert log_prob.dtype == dtype
        resp = special.softmax(log_prob.astype(np.float64), axis=0).astype(dtype)
        moments = kernel.moments(block, resp, np.ones(len(X), dtype=dtype))
        assert moments.dtype == dtype
        results.append(
            (log_prob, kernel.statistics(moments.astype(float), coefficients))
        )
    (log_prob32, stats32), (log_prob64, stats64) = results
    np.testing.assert_allclose(log_prob32, log_prob64, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(stats32.nk, stats64.nk, rtol=1e-5)
    # the means' moves from the current means: float32 about the origin would be
    # ~1e-3 off at 1e3
    np.testing.assert_allclose(
        stats32.means - params64.means,
        stats64.means - params64.means,
        rtol=1e-4,
        atol=1e-5,
    )
    np.testing.assert_allclose(stats32.scatter, stats64.scatter, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("full_scatter", [True, False])
def test_statistics_of_chunks_merge_to_the_whole(full_scatter):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 3)) + 1e6
    resp = rng.dirichlet(np.ones(3), size=90)
    resp[:30, 2] = 0.0  # component 2 is empty in the first chunk
    whole = SufficientStatistics.from_rows(X, resp, full_scatter)
    merged = SufficientStatistics.from_rows(X[:30], resp[:30], full_scatter)
    for rows in (slice(30, 31), slice(31, 90)):
        merged = merged.merge(
            SufficientStatistics.from_rows(X[rows], resp[rows], full_scatter)
        )
    np.testing.assert_allclose(merged.nk, whole.nk, rtol=1e-13)
    np.testing.assert_allclose(merged.means, whole.means, rtol=1e-14)
    np.testing.assert_allclose(merged.scatter, whole.scatter, rtol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("collapsed", [False, True], ids=["shared", "own"])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_expectation_under_either_shift_matches_scipy(
    covariance_type, collapsed, weighted
):
    # several blocks; with a component collapsed onto one row, its constant (the
    # bound) sits far above every other row's terms, so the pass shifts each row
    # by its own largest term instead
    model, params = _random_parameters(covariance_type, n_features=2, seed=4)
    rng = np.random.RandomState(5)
    X = rng.normal(scale=3.0, size=(40000, 2))
    if collapsed:
        covariances = params.covariances.copy()
        covariances[0] = 1e-40 * (np.eye(2) if covariance_type == "full" else 1.0)
        params = params._replace(
            means=np.vstack([X[:1], params.means[1:]]),
            covariances=covariances,
            precisions_cholesky=model.precisions_cholesky(covariances),
        )
    sample_weight = rng.uniform(0.0, 3.0, size=len(X)) if weighted else None
    prepared = prepare_data(X, sample_weight, model, X.mean(axis=0), 3)
    mean_log_likelihood, statistics = expectation(
        X, sample_weight, params, model, prepared
    )
    expected = _expected_statistics(covariance_type, params, X, sample_weight)
    assert mean_log_likelihood == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(statistics.nk, expected[1], rtol=1e-10)
    np.testing.assert_allclose(statistics.means, expected[2], rtol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("spread", [1.0, 0.05], ids=["shared", "own"])
def test_tied_expectation_pools_the_scatter_under_either_shift(spread, weighted):
    # several blocks; with a tight shared covariance most rows are far from every
    # mean, so the pass shifts them by their own largest term: each row's
    # responsibilities must still sum to its weight, which the pooled scatter's
    # second moment, computed once, assumes
    model, params = _random_parameters("tied", n_features=2, seed=4)
    covariances = spread * params.covariances
    params = params._replace(
        covariances=covariances,
        precisions_cholesky=model.precisions_cholesky(covariances),
    )
    rng = np.random.RandomState(5)
    X = rng.normal(scale=3.0, size=(40000, 2))
    sample_weight = rng.uniform(0.0, 3.0, size=len(X)) if weighted else None
    prepared = prepare_data(X, sample_weight, model, X.mean(axis=0), 3)
    kernel = select_kernel(model, params, prepared.reference, X.dtype)
    assert type(kernel) is SharedPrecisionKernel
    bound, statistics = expectation(X, sample_weight, params, model, prepared)
    expected = _expected_statistics("tied", params, X, sample_weight)
    assert bound == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(statistics.nk, expected[1], rtol=1e-10)
    np.testing.assert_allclose(statistics.means, expected[2], rtol=1e-9)
    np.testing.assert_allclose(
        statistics.scatter, expected[3].sum(axis=0, keepdims=True), rtol=1e-9
    )


def test_float32_expectation_empties_components_below_its_floor():
    # unit-covariance components at squared distances 2 * 60 and 2 * 85 from rows
    # packed at the origin: responsibilities ~e^-60 (kept) and ~e^-85, below the
    # float32 floor e^-80 beside each row's largest term (emptied, as in sklearn,
    # where such a component's mean and covariance are those of an empty one)
    model = get_covariance_model("diag")
    means = np.array([[0.0, 0.0], [math.sqrt(120.0), 0.0], [math.sqrt(170.0), 0.0]])
    covariances = np.ones((3, 2))
    params = MixtureParameters(
        np.full(3, 1 / 3), means, covariances, model.precisions_cholesky(covariances)
    )
    params = MixtureParameters(*(a.astype(np.float32) for a in params))
    X = np.random.RandomState(7).normal(scale=0.01, size=(2000, 2))
    X = X.astype(np.float32)
    prepared = prepare_data(X, None, model, np.zeros(2), 3)
    _, statistics = expectation(X, None, params, model, prepared)
    assert statistics.nk[0] == pytest.approx(2000.0, rel=1e-6)
    assert statistics.nk[1] == pytest.approx(2000 * math.exp(-60.0), rel=0.1, abs=0.0)
    assert statistics.nk[2] == 0.0
    np.testing.assert_array_equal(statistics.means[2], 0.0)


def test_expectation_of_one_component_gives_responsibilities_of_exactly_one():
    model, params = _random_parameters("full", n_components=1, n_features=3)
    X = np.random.RandomState(6).normal(size=(5000, 3))
    prepared = prepare_data(X, None, model, X.mean(axis=0), 1)
    _, statistics = expectation(X, None, params, model, prepared)
    assert statistics.nk[0] == len(X)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_em_step_matches_sklearn(covariance_type):
    model, params = _random_parameters(covariance_type, seed=3)
    X = np.random.RandomState(2).normal(scale=3.0, size=(200, 4))
    prepared = prepare_data(X, None, model, X.mean(axis=0), 3)
    mean_log_likelihood, statistics = expectation(X, None, params, model, prepared)
    updated = maximization(statistics, model, 1e-6, X.dtype)

    reference = SklearnGaussianMixture(
        3,
        covariance_type=covariance_type,
        weights_init=params.weights,
        means_init=params.means,
        precisions_init=model.precisions(params.precisions_cholesky),
        max_iter=1,
    )
    with pytest.warns(Warning):
        reference.fit(X)
    assert mean_log_likelihood == pytest.approx(reference.lower_bounds_[0], rel=1e-12)
    np.testing.assert_allclose(updated.weights, reference.weights_, rtol=1e-12)
    np.testing.assert_allclose(updated.means, reference.means_, rtol=1e-10)
    np.testing.assert_allclose(updated.covariances, reference.covariances_, rtol=1e-10)


def test_registry_has_each_sklearn_name_and_mclust_alias():
    aliases = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}
    assert covariance_type_names() == set(aliases) | set(aliases.values())
    for name, code in aliases.items():
        assert get_covariance_model(name) is get_covariance_model(code)
        assert get_covariance_model(name).name == name
    assert [m.name for m in canonical_models()] == list(aliases)
    with pytest.raises(ValueError, match="Unknown covariance_type 'XYZ'"):
        get_covariance_model("XYZ")


@pytest.mark.parametrize(
    ("covariance_type", "expected"),
    [
        ("full", 3 * 4 * 5 // 2),
        ("tied", 4 * 5 // 2),
        ("diag", 3 * 4),
        ("spherical", 3),
    ],
)
def test_covariance_parameter_counts(covariance_type, expected):
    assert (
        get_covariance_model(covariance_type).n_covariance_parameters(3, 4) == expected
    )


@pytest.mark.parametrize(("covariance_type", "kernel_name"), KERNEL_CASES)
def test_identical_rows_have_their_value_as_mean_and_no_scatter(
    covariance_type, kernel_name
):
    X = np.full((10, 2), 3.7)
    statistics = _statistics(
        kernel_name, covariance_type, X, np.ones((1, 10)), np.array([[1.0, 2.0]])
    )
    # the per-component kernel's mean is mu + mean(x - mu): one rounding of x
    np.testing.assert_allclose(statistics.means, [[3.7, 3.7]], rtol=2e-16, atol=0)
    np.testing.assert_array_equal(statistics.scatter, 0.0)


def _blobs_with_a_far_cluster(covariance_type, seed=0):
    """Two ordinary blobs and a third whose mean is far from the data's mean in its
    own metric: far tighter, or (for the one shared covariance) far away, though
    not so far that sklearn's raw moments about the origin lose 1e-8."""
    rng = np.random.RandomState(seed)
    far = (
        rng.normal(1500.0, 1.0, size=(50, 3))
        if covariance_type == "tied"
        else rng.normal(-6.0, 1e-4, size=(50, 3))
    )
    return np.vstack(
        [rng.normal(0.0, 1.0, size=(200, 3)), rng.normal(6.0, 1.0, size=(200, 3)), far]
    )


@pytest.mark.parametrize(
    ("covariance_type", "expected"),
    [
        ("full", SplitKernel),
        ("tied", ComponentKernel),
        ("diag", SplitKernel),
        ("spherical", SplitKernel),
    ],
)
def test_far_components_get_the_exact_kernel(covariance_type, expected):
    X = _blobs_with_a_far_cluster(covariance_type)
    fitted = SklearnGaussianMixture(
        3, covariance_type=covariance_type, random_state=0
    ).fit(X)
    model = get_covariance_model(covariance_type)
    params = MixtureParameters(
        fitted.weights_, fitted.means_, fitted.covariances_, fitted.precisions_cholesky_
    )
    kernel = select_kernel(model, params, X.mean(axis=0))
    assert type(kernel) is expected
    near = select_kernel(model, params._replace(means=params.means * 0), 0 * X[0])
    assert type(near) is (
        SharedPrecisionKernel if covariance_type == "tied" else QuadraticKernel
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_with_far_components_matches_sklearn(covariance_type):
    X = _blobs_with_a_far_cluster(covariance_type)
    start = SklearnGaussianMixture(
        3, covariance_type=covariance_type, random_state=0, max_iter=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X)
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=1e-8,
        max_iter=100,
    )
    ours = GaussianMixture(**params).fit(X)
    theirs = SklearnGaussianMixture(**params).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=1e-8, atol=1e-12
        )


def test_wide_full_covariances_get_the_per_component_kernel():
    model, params = _random_parameters("full", n_components=3, n_features=40)
    assert type(select_kernel(model, params, np.zeros(40))) is ComponentKernel


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalize_log_prob_rows_no_component_explains(dtype):
    # rows (columns here): finite; all -inf; a NaN term (overflowed); a negligible
    # term; all NaN
    log_prob = np.array(
        [
            [-1.0, -np.inf, np.nan, -3.0, np.nan],
            [-2.0, -np.inf, -5.0, -1e4, np.nan],
            [-3.0, -np.inf, -4.0, -2.0, np.nan],
        ],
        dtype=dtype,
    )
    resp = log_prob.copy()
    log_norm = normalize_log_prob(resp)
    assert resp.dtype == dtype
    finite = [log_prob[:, 0], log_prob[1:, 2], log_prob[[0, 2], 3]]
    expected_norm = [special.logsumexp(terms.astype(float)) for terms in finite]
    np.testing.assert_allclose(log_norm[[0, 2, 3]], expected_norm, rtol=1e-6)
    assert log_norm[1] == -np.inf and log_norm[4] == -np.inf
    expected = np.zeros((3, 5))
    expected[:, 0] = special.softmax(log_prob[:, 0].astype(float))
    expected[1:, 2] = special.softmax(log_prob[1:, 2].astype(float))
    expected[[0, 2], 3] = special.softmax(log_prob[[0, 2], 3].astype(float))
    expected[:, [1, 4]] = 1 / 3  # no component explains these: spread evenly
    np.testing.assert_allclose(resp, expected, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exponentiate_below_bound_matches_own_shifts(dtype):
    rng = np.random.RandomState(0)
    log_prob = -np.abs(rng.normal(scale=20.0, size=(4, 300)))
    log_prob[:, :10] -= 200.0  # far below the bound: each row takes its own shift
    log_prob[:, 10] = -np.inf
    log_prob[1, 11] = np.nan
    log_prob = log_prob.astype(dtype)
    given = log_prob.copy()
    terms = np.empty_like(log_prob)
    log_norm, row_sum, n_own_shift = exponentiate_below_bound(log_prob, terms)
    np.testing.assert_array_equal(log_prob, given)
    # the float64 floor already turns the NaN term into a negligible one
    assert n_own_shift == (11 if dtype == np.float64 else 12)
    expected = log_prob.copy()
    expected_norm = normalize_log_prob(expected)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(log_norm, expected_norm, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(terms / row_sum, expected, rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("n_components", [1, 5, 300])  # 300: ranks beyond a byte
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_component_argmax_is_argmax_over_components(n_components, dtype):
    rng = np.random.RandomState(0)
    log_prob = rng.randint(-3, 3, size=(n_components, 200)).astype(dtype)  # ties
    log_prob[:, 10] = -np.inf
    log_prob[-1, 11] = np.nan
    log_prob[[0, -1], 12] = np.nan
    log_prob[-1, 13] = np.inf
    log_prob[:, 14] = np.inf
    np.testing.assert_array_equal(component_argmax(log_prob), log_prob.argmax(axis=0))


@pytest.mark.parametrize("n_rows", [0, 1000, 70000])
def test_float32_sums_of_row_products_run_in_float64_over_chunks(n_rows):
    rng = np.random.RandomState(0)
    left = rng.uniform(size=(3, n_rows)).astype(np.float32)
    right = rng.normal(size=(5, n_rows)).astype(np.float32)
    right[0] += 1e3
    total = _sum_of_row_products(left, right)
    assert total.dtype == np.float64 and total.shape == (3, 5)
    left64, right64 = left.astype(np.float64), right.astype(np.float64)
    # every chunk counted, each rounded to a few float32 eps of its terms
    scale = np.abs(left64) @ np.abs(right64).T
    error = np.abs(total - left64 @ right64.T)
    assert np.all(error <= 4 * np.finfo(np.float32).eps * scale)


@pytest.mark.parametrize(
    ("n_components", "n_features"), [(3, 257), (15, 257), (40, 257), (40, 6)]
)
@pytest.mark.parametrize("row_major", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_in_pieces_are_the_whole_products(
    n_components, n_features, row_major, dtype
):
    # products with 3 and 15 components run in pieces of rows (an uneven last
    # one), with 40 whole; moments of 257 C-ordered features go features first,
    # of 6 components first
    rng = np.random.RandomState(0)
    n_rows = 3001
    left = rng.normal(size=(n_components, n_features)).astype(dtype)
    values = rng.normal(size=(n_rows, n_features)).astype(dtype)
    right = values.T if row_major else np.ascontiguousarray(values.T)
    out = np.full((n_components, n_rows), np.nan, dtype=dtype)
    product = _product_by_columns(left, right, out)
    assert product is out
    expected = left.astype(np.float64) @ right.astype(np.float64)
    scale = np.abs(left.astype(np.float64)) @ np.abs(right.astype(np.float64))
    assert np.all(
        np.abs(out - expected) <= 4 * n_features * np.finfo(dtype).eps * scale
    )

    expected_rows = n_rows if n_components > 16 else 1000000 // (n_components * 257)
    if n_features == 257:
        assert _piece_rows(n_components, n_features, n_rows) == expected_rows

    resp = rng.uniform(size=(n_components, n_rows)).astype(dtype)
    features_first = not row_major and n_features >= n_components
    # (right @ left.T).T is F-ordered, left @ right.T C-ordered
    whole = _row_products(resp, right, slice(None))
    assert whole.flags.c_contiguous != features_first
    total = _sum_of_row_products(resp, right)
    assert total.dtype == np.float64 and total.flags.c_contiguous
    assert total.shape == (n_components, n_features)
    resp64, right64 = resp.astype(np.float64), right.astype(np.float64)
    scale = resp64 @ np.abs(right64).T
    error = np.abs(total - resp64 @ right64.T)
    assert np.all(error <= 4 * 256 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("n_features", "n_components"), [(6, 5), (20, 7)])
def test_predictions_do_not_depend_on_the_order_of_the_parameters(
    covariance_type, n_features, n_components
):
    # data on which the mixture's mean rounds differently from F-ordered means
    # (which data do depends on the machine's BLAS kernels)
    for seed in range(20):
        X, _ = make_blobs(
            n_samples=300,
            n_features=n_features,
            centers=n_components,
            random_state=seed,
        )
        fitted = GaussianMixture(
            n_components, covariance_type=covariance_type, random_state=0
        )
        fitted.fit(X)
        reordered = copy.deepcopy(fitted)
        reordered.means_ = np.asfortranarray(fitted.means_)
        reordered.precisions_cholesky_ = np.asfortranarray(fitted.precisions_cholesky_)
        if not np.array_equal(
            fitted.weights_ @ reordered.means_, fitted.weights_ @ fitted.means_
        ):
            break
    else:
        pytest.skip("this machine's BLAS rounds no mixture mean apart in 20 data sets")
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        assert getattr(fitted, name).flags.c_contiguous, name
    np.testing.assert_array_equal(reordered.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(reordered.score_samples(X), fitted.score_samples(X))


def _fortran_ordered(array):
    return np.asfortranarray(array) if array.ndim > 1 else array


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fits_do_not_depend_on_the_order_of_the_starting_parameters(covariance_type):
    X, _ = make_blobs(n_samples=300, n_features=20, centers=7, random_state=0)
    start = GaussianMixture(
        7, covariance_type=covariance_type, random_state=0, max_iter=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X)
        given = {
            "weights_init": start.weights_,
            "means_init": start.means_,
            "precisions_init": start.precisions_,
        }
        fits = []
        for order in [np.ascontiguousarray, _fortran_ordered]:
            # starting parameters given, and a warm start from fitted ones
            from_given = GaussianMixture(
                7,
                covariance_type=covariance_type,
                max_iter=5,
                **{name: order(value) for name, value in given.items()},
            ).fit(X)
            warm = copy.deepcopy(start).set_params(warm_start=True, max_iter=5)
            for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
                setattr(warm, name, order(getattr(start, name)))
            fits.append((from_given, warm.fit(X)))
    assert fits[1][0].means_.flags.c_contiguous
    for fitted, reordered in zip(fits[0], fits[1], strict=True):
        for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
            np.testing.assert_array_equal(
                getattr(reordered, name), getattr(fitted, name), err_msg=name
            )
        assert reordered.lower_bound_ == fitted.lower_bound_


@pytest.mark.parametrize("n_features", [6, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_row_blocks_bound_temporaries_and_expanded_rows(n_features, dtype):
    model = get_covariance_model("diag")
    kernel = QuadraticKernel(n_features, model, np.zeros(n_features), dtype)
    n_components, n_samples = 64, 10**6
    blocks = list(_kernel_row_blocks(kernel, n_components, n_samples))
    assert blocks[0].start == 0 and blocks[-1].stop == n_samples
    assert all(a.stop == b.start for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    rows = blocks[0].stop
    itemsize = np.dtype(dtype).itemsize
    pass_bytes = rows * (kernel.width + 3 * n_components) * itemsize
    expanded_bytes = rows * kernel.width * itemsize
    assert pass_bytes <= em_module._PASS_BYTES
    assert expanded_bytes <= em_module._EXPANDED_BYTES
    # the tighter bound is reached to within a row
    one_more = (rows + 1) * itemsize
    assert (
        one_more * (kernel.width + 3 * n_components) > em_module._PASS_BYTES
        or one_more * kernel.width > em_module._EXPANDED_BYTES
    )


def test_kernel_row_blocks_keep_at_least_256_rows(monkeypatch):
    monkeypatch.setattr(em_module, "_PASS_BYTES", 1)
    kernel = QuadraticKernel(2, get_covariance_model("diag"), np.zeros(2))
    blocks = list(_kernel_row_blocks(kernel, 3, 1000))
    assert [b.stop - b.start for b in blocks] == [256, 256, 256, 232]


@pytest.mark.parametrize("n_components", [3, 40])
def test_float32_quadratic_log_prob_from_row_major_features(n_components):
    # d = 64: the features are built row by row; with 3 components the product runs
    # in pieces of rows, with 40 it is taken as (rows, k) and transposed
    model, params = _random_parameters("diag", n_components=n_components, n_features=64)
    X = np.random.RandomState(1).normal(scale=3.0, size=(500, 64))
    params32 = MixtureParameters(*(a.astype(np.float32) for a in params))
    params64 = MixtureParameters(*(a.astype(np.float64) for a in params32))
    results = []
    for dtype, parameters in [(np.float32, params32), (np.float64, params64)]:
        kernel = QuadraticKernel(64, model, np.zeros(64), dtype)
        coefficients = kernel.coefficients(parameters)
        phi = kernel.expand(X.astype(dtype), coefficients)
        assert not phi.flags.c_contiguous
        results.append(kernel.weighted_log_prob(phi, coefficients))
    log_prob32, log_prob64 = results
    assert log_prob32.dtype == np.float32 and log_prob32.flags.c_contiguous
    assert log_prob32.shape == (n_components, 500)
    np.testing.assert_allclose(log_prob32, log_prob64, rtol=1e-5, atol=1e-3)


def test_data_mean_is_float64_whatever_the_layout():
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(5000, 3)) + 1000).astype(np.float32)
    weights = rng.uniform(0, 2, size=5000)
    for sample_weight, expected in [
        (None, X.astype(np.float64).mean(axis=0)),
        (weights, np.average(X.astype(np.float64), axis=0, weights=weights)),
    ]:
        mean = data_mean(X, sample_weight)
        assert mean.dtype == np.float64
        np.testing.assert_allclose(mean, expected, rtol=1e-13)
        np.testing.assert_array_equal(
            data_mean(np.asfortranarray(X), sample_weight), mean
        )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_arithmetic_only_near_the_reference(covariance_type):
    model, params = _random_parameters(covariance_type)
    params32 = MixtureParameters(*(a.astype(np.float32) for a in params))
    reference = params.weights @ params.means
    assert select_kernel(model, params32, reference).dtype == np.float32
    assert select_kernel(model, params, reference).dtype == np.float64
    # float64 data with a float32 model (predict) are computed in float64
    assert select_kernel(model, params32, reference, np.float64).dtype == np.float64

    def shifted(deviations):
        shift = deviations * np.sqrt(np.max(params.covariances))
        return params32._replace(means=(params32.means + shift).astype(np.float32))

    # 40 deviations away, D ~ 1e4 > 1e3: float64 (far below the 1e6 of the exact
    # kernels, which would compute in float32)
    kernel = select_kernel(model, shifted(40), reference)
    assert type(kernel) is not SplitKernel
    assert kernel.dtype == np.float64


def _largest_relative_error(fitted, reference, name):
    """Largest relative difference of attribute ``name`` from the reference fit's."""
    truth = getattr(reference, name)
    return np.max(np.abs(getattr(fitted, name) - truth) / np.abs(truth))


def _spread_parameters(covariance_type, n_components, n_features, seed=0):
    """Unit-variance components with means uniform in [-10, 10]**d, in float32."""
    rng = np.random.RandomState(seed)
    model = get_covariance_model(covariance_type)
    covariances = np.ones((n_components, n_features))
    if covariance_type == "spherical":
        covariances = np.ones(n_components)
    params = MixtureParameters(
        np.full(n_components, 1 / n_components),
        rng.uniform(-10, 10, size=(n_components, n_features)),
        covariances,
        model.precisions_cholesky(covariances),
    )
    return model, MixtureParameters(*(a.astype(np.float32) for a in params))


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_float32_diagonal_kernels_bound_cancellation_per_feature(covariance_type):
    # at d = 64, means up to 10 deviations out per feature: D ~ 2e3 from the origin,
    # above 1e3, but each feature's square cancels at most 100 times its variance
    model, params = _spread_parameters(covariance_type, 8, 64)
    origin = np.zeros(64)
    kernel = select_kernel(model, params, origin)
    assert type(kernel) is QuadraticKernel and kernel.dtype == np.float32
    # one feature 40 deviations out: 1600 > 1e3 for diag; spherical's mean over
    # the features stays small
    means = params.means.copy()
    means[0, 0] = 40.0
    kernel = select_kernel(model, params._replace(means=means), origin)
    if covariance_type == "diag":
        assert type(kernel) is SplitKernel
        assert [part.dtype for part in kernel.kernels] == [np.float32] * 2
        np.testing.assert_array_equal(kernel.subsets[1], np.arange(8) == 0)
    else:
        assert type(kernel) is QuadraticKernel and kernel.dtype == np.float32


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_float32_fast_kernel_only_within_twice_the_origins_distance(covariance_type):
    # about a reference farther from the means than the origin is, D > 2 D0 >
    # 1e3: the log-densities would round worse than sklearn's float32 expansion
    # about the origin
    model, params = _spread_parameters(covariance_type, 8, 64)
    reference = np.full(64, 10.0)
    precisions = model.component_precisions(params.precisions_cholesky, 8, 64)
    distances = np.sum((params.means - reference) ** 2 * precisions, axis=1)
    origin_distances = np.sum(params.means**2 * precisions, axis=1)
    assert np.all(distances > np.maximum(2 * origin_distances, 1e3))
    kernel = select_kernel(model, params, reference)
    assert type(kernel) is QuadraticKernel and kernel.dtype == np.float64
    # one such component of 8 goes to the exact float32 kernel instead
    means = params.means.copy()
    means[1:] = 10.0 + np.random.RandomState(1).uniform(-3, 3, size=(7, 64))
    kernel = select_kernel(model, params._replace(means=means), reference)
    assert type(kernel) is SplitKernel
    assert [part.dtype for part in kernel.kernels] == [np.float32] * 2
    np.testing.assert_array_equal(kernel.subsets[1], np.arange(8) == 0)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_float32_fit_of_spread_clusters_as_close_to_float64_as_sklearns(
    covariance_type,
):
    # blobs as in the benchmark: means uniform in [-10, 10]**64, deviations in
    # [0.5, 2]; the fast kernels run in float32 at D > 1e3 from the data's mean
    rng = np.random.RandomState(0)
    n_components, n_features = 4, 64
    centres = rng.uniform(-10, 10, size=(n_components, n_features))
    scales = rng.uniform(0.5, 2.0, size=(n_components, n_features))
    labels = rng.randint(n_components, size=3000)
    X = centres[labels] + scales[labels] * rng.normal(size=(3000, n_features))
    X32 = X.astype(np.float32)
    precisions_shape = (n_components, n_features)[
        : 1 if covariance_type == "spherical" else 2
    ]
    start = {
        "means_init": (centres + 0.5).astype(np.float32),
        "weights_init": np.full(n_components, 0.25, dtype=np.float32),
        "precisions_init": np.full(precisions_shape, 0.5, dtype=np.float32),
    }
    settings = dict(n_components=n_components, covariance_type=covariance_type)
    settings.update(tol=0.0, max_iter=5, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SklearnGaussianMixture(**settings).fit(X32.astype(np.float64))
        ours = GaussianMixture(**settings).fit(X32)
        theirs = SklearnGaussianMixture(**settings).fit(X32)
    assert ours.covariances_.dtype == theirs.covariances_.dtype == np.float32
    # each within sklearn's error or float32's scale: the covariances, where float32
    # sums cancel, to 1e-4 (summed over whole 1859-row blocks they were 2.9e-4 off,
    # sklearn's 2.6e-4), the weights and means to 1e-5 (our log-densities may round
    # up to twice as much as sklearn's). Which of the two is closer within that scale
    # depends on the BLAS kernels' rounding: with OpenBLAS's kernels for processors
    # without FMA, sklearn's spherical covariances came out 9.7e-7 off and ours
    # 2.0e-6; with those for SSE-only ones, the diagonal ones 6.6e-5 and ours 7.5e-5
    for name, float32_scale in [
        ("weights_", 1e-5),
        ("means_", 1e-5),
        ("covariances_", 1e-4),
    ]:
        our_error = _largest_relative_error(ours, reference, name)
        their_error = _largest_relative_error(theirs, reference, name)
        assert our_error <= max(their_error, float32_scale), name


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_far_component_goes_to_a_float32_exact_kernel(covariance_type):
    model, params = _random_parameters(covariance_type)
    # component 0 far away (D > 1e6), the others near: a split pass, both in float32
    means = params.means.copy()
    means[0] += 3e3 * np.sqrt(np.max(params.covariances))
    params = params._replace(means=means)
    params32 = MixtureParameters(*(a.astype(np.float32) for a in params))
    params64 = MixtureParameters(*(a.astype(np.float64) for a in params32))
    reference = params.weights[1:] @ params.means[1:] / params.weights[1:].sum()
    X = np.random.RandomState(3).normal(size=(200, 4)) + means[1]
    X = X.astype(np.float32)
    results = []
    for data, parameters in [(X, params32), (X.astype(np.float64), params64)]:
        kernel = select_kernel(model, parameters, reference, data.dtype)
        coefficients = kernel.coefficients(parameters)
        block = kernel.expand(data, coefficients)
        resp = kernel.weighted_log_prob(block, coefficients)
        log_prob = resp.copy()
        _, row_sum = exponentiate_log_prob(resp)
        moments = kernel.moments(block, resp, 1 / row_sum)
        stats = kernel.statistics(moments.astype(np.float64), coefficients)
        results.append((kernel, log_prob, stats))
    (kernel32, log_prob32, stats32), (_, log_prob64, stats64) = results
    if covariance_type == "tied":  # one shared factor: the exact kernel serves all
        assert type(kernel32) is ComponentKernel
    else:
        assert type(kernel32) is SplitKernel
        assert [part.dtype for part in kernel32.kernels] == [np.float32] * 2
    assert log_prob32.dtype == np.float32
    np.testing.assert_allclose(log_prob32, log_prob64, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(stats32.nk, stats64.nk, rtol=1e-5, atol=1e-6)
    near = stats64.nk > 1.0
    np.testing.assert_allclose(
        stats32.means[near] - params64.means[near],
        stats64.means[near] - params64.means[near],
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_float32_far_clusters_fit_as_closely_as_float64_arithmetic(covariance_type):
    # two tight clusters 600 deviations apart, their means D ~ 1e5 from the data's
    # mean: computed about it in float32, their variances came out 1e-2 off. Guards
    # the float32 limit of the fast kernels (1e3), which sends them to float64.
    # (Given float64 initial weights and means, sklearn computes this fit in
    # float64, its covariances_ come out float64; ours stays float32 and must be
    # as close. From float32 ones, sklearn's float32 variances are 20-65% off.)
    rng = np.random.RandomState(0)
    centres = np.array([[-100.0, 400.0, 50.0], [500.0, 400.0, 50.0]])
    X = np.vstack([rng.normal(c, 1.0, size=(3000, 3)) for c in centres])
    X = X.astype(np.float32)
    start = {
        "means_init": centres + 0.5,
        "weights_init": np.array([0.4, 0.6]),
    }
    settings = dict(n_components=2, covariance_type=covariance_type, max_iter=5)
    settings.update(tol=0.0, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SklearnGaussianMixture(**settings).fit(X.astype(np.float64))
        ours = GaussianMixture(**settings).fit(X)
        theirs = SklearnGaussianMixture(**settings).fit(X)
    assert ours.covariances_.dtype == np.float32
    for name in ("weights_", "means_", "covariances_"):
        our_error = _largest_relative_error(ours, reference, name)
        their_error = _largest_relative_error(theirs, reference, name)
        assert our_error <= max(their_error, 1e-6), name
