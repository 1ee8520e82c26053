"""Each kernel through the protocol's steps, against independent references.

``coefficients``, ``expand``, ``weighted_log_prob``, ``moments`` and ``statistics``
(see ``sklearn_em_gmm.kernels._protocol``) of every kernel that serves each
registered covariance model: log-densities against scipy, statistics against numpy's
weighted moments, float32 against float64, and a fit's centred copy of the data
against none.
"""

import numpy as np
import pytest
from mixture_cases import (
    exact_kernel_class,
    in_layout,
    random_parameters,
    scipy_weighted_log_prob,
)
from scipy import special
from sklearn.datasets import load_digits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import canonical_models, richer_form
from sklearn_em_gmm.engine import (
    MixtureParameters,
    data_mean,
    exponentiate_log_prob,
    normalize_log_prob,
    prepare_data,
)
from sklearn_em_gmm.kernels import (
    AxisAlignedKernel,
    ComponentKernel,
    Components,
    QuadraticKernel,
    SharedPrecisionKernel,
    SplitKernel,
    centred_data,
)
from sklearn_em_gmm.kernels._moments import centres

_EXACT_KERNELS = {"component": ComponentKernel, "axis_aligned": AxisAlignedKernel}
_EXACT_KERNEL_NAMES = {cls: name for name, cls in _EXACT_KERNELS.items()}


def _kernels_serving(model):
    """Names of the kernels that serve ``model``, its fast kernel first: the shared
    one under one shared precision with pooled statistics, else the quadratic one,
    alone or beside the exact one (split); then the exact one alone."""
    exact = _EXACT_KERNEL_NAMES[exact_kernel_class(model)]
    if model.structure.shared and model.statistics_layout.shared:
        return ["shared", exact]
    return ["quadratic", "split", exact]


# every kernel that serves each registered covariance model
KERNEL_CASES = [
    (model.name, kernel)
    for model in canonical_models()
    for kernel in _kernels_serving(model)
]
# the fast kernel of each, which may expand from a fit's centred copy of the data
FAST_KERNEL_CASES = [
    (model.name, _kernels_serving(model)[0]) for model in canonical_models()
]


def _kernel(
    name, model, n_features, n_components, reference, dtype=np.float64, data=None
):
    """Kernel ``name`` for ``model``'s statistics, computing in ``dtype``.

    ``data`` (X, row weights) gives the shared kernel its second moment. The split
    kernel serves the odd components by the quadratic kernel, the others exactly.
    """
    layout = model.statistics_layout
    form = richer_form(model.structure.form, layout.form)
    if name == "quadratic":
        return QuadraticKernel(n_features, form, layout, reference, dtype)
    if name == "shared":
        second_moment = None
        if data is not None:
            prepared = prepare_data(*data, model, reference, n_components)
            second_moment = prepared.second_moment
        return SharedPrecisionKernel(
            n_features, layout, reference, dtype, second_moment
        )
    if name in _EXACT_KERNELS:
        return _EXACT_KERNELS[name](n_features, n_components, layout, reference, dtype)
    assert name == "split"
    fast_components = np.arange(n_components) % 2 == 1
    fast = QuadraticKernel(n_features, form, layout, reference, dtype)
    exact_class = exact_kernel_class(model)
    n_exact = int(np.sum(~fast_components))
    exact = exact_class(n_features, n_exact, layout, reference, dtype)
    return SplitKernel(fast, exact, fast_components)


@pytest.mark.parametrize(
    ("covariance_type", "kernel_name", "n_features"),
    [(*case, 4) for case in KERNEL_CASES]
    + [("diag", "axis_aligned", 40), ("spherical", "axis_aligned", 40)],
)
def test_log_prob_matches_scipy(covariance_type, kernel_name, n_features):
    model, params = random_parameters(covariance_type, n_features=n_features)
    X = np.random.RandomState(1).normal(scale=3.0, size=(50, n_features)) + 1e6
    params = params._replace(means=params.means + 1e6)
    expected = scipy_weighted_log_prob(model, params, X)
    kernel = _kernel(kernel_name, model, n_features, 3, X.mean(axis=0))
    # component-major: one row per component
    coefficients = kernel.coefficients(Components.of(params, model))
    log_prob = kernel.weighted_log_prob(kernel.expand(X, coefficients), coefficients)
    np.testing.assert_allclose(log_prob, expected.T, rtol=1e-10)

    resp = log_prob.copy()
    log_norm = normalize_log_prob(resp)
    resp = resp.T
    np.testing.assert_allclose(log_norm, special.logsumexp(expected, axis=1))
    np.testing.assert_allclose(resp, special.softmax(expected, axis=1), atol=1e-14)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


@pytest.mark.parametrize(("covariance_type", "kernel_name"), FAST_KERNEL_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_kernels_give_the_same_bits_from_the_fits_centred_copy(
    covariance_type, kernel_name, dtype
):
    model, params = random_parameters(covariance_type)
    params = MixtureParameters(*(array.astype(dtype) for array in params))
    X = (np.random.RandomState(1).normal(scale=3.0, size=(60, 4)) + 1e3).astype(dtype)
    reference = data_mean(X, None)
    centred = centred_data(X, reference, model, 3)
    assert centred.dtype == dtype and centred.flags.c_contiguous
    np.testing.assert_array_equal(centred, (X - reference.astype(dtype)).T)
    kernel = _kernel(kernel_name, model, 4, 3, reference, dtype)
    coefficients = kernel.coefficients(Components.of(params, model))
    outcomes = []
    for columns in (None, centred):
        block = kernel.expand(X, coefficients, columns)
        resp = kernel.weighted_log_prob(block, coefficients)
        log_prob = resp.copy()
        _, row_sum = exponentiate_log_prob(resp)
        outcomes.append((log_prob, kernel.moments(block, resp, 1 / row_sum)))
    for without, with_copy in zip(*outcomes, strict=True):
        np.testing.assert_array_equal(with_copy, without)


@pytest.mark.parametrize(("covariance_type", "kernel_name"), KERNEL_CASES)
def test_log_prob_survives_far_away_rows(covariance_type, kernel_name):
    model, params = random_parameters(covariance_type)
    X = np.full((2, 4), 1e4)
    kernel = _kernel(kernel_name, model, 4, 3, params.weights @ params.means)
    coefficients = kernel.coefficients(Components.of(params, model))
    resp = kernel.weighted_log_prob(kernel.expand(X, coefficients), coefficients)
    log_norm = normalize_log_prob(resp)
    assert np.all(np.isfinite(log_norm))
    np.testing.assert_allclose(resp.sum(axis=0), 1.0)


def _statistics(kernel_name, covariance_type, X, weighted_resp, means):
    """Statistics of all rows through one kernel, centred on ``means``."""
    model, params = random_parameters(
        covariance_type, n_components=len(means), n_features=X.shape[1]
    )
    # each row's responsibilities sum to its weight
    data = (X, weighted_resp.sum(axis=0))
    kernel = _kernel(
        kernel_name, model, X.shape[1], len(means), X.mean(axis=0), data=data
    )
    coefficients = kernel.coefficients(
        Components.of(params._replace(means=means), model)
    )
    # the kernel takes responsibilities unnormalised, with a factor per row
    row_factors = np.linspace(0.5, 4.0, len(X))
    moments = kernel.moments(
        kernel.expand(X, coefficients), weighted_resp * row_factors, 1 / row_factors
    )
    statistics = kernel.statistics(moments, coefficients)
    assert statistics.layout == model.statistics_layout
    return statistics


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
        scatters.append(expected)
    # in the model's layout: pooled over components for a shared covariance, the
    # diagonals for a diagonal one, their sums (the traces) for an isotropic one
    expected = in_layout(np.stack(scatters), statistics.layout)
    np.testing.assert_allclose(statistics.scatter, expected, rtol=1e-8)


@pytest.mark.parametrize(
    ("covariance_type", "kernel_name", "n_features"),
    [
        ("full", "component", 4),
        ("tied", "component", 4),
        ("diag", "axis_aligned", 4),
        ("spherical", "axis_aligned", 4),
        # deltas subtracted as rows lie in X
        ("diag", "axis_aligned", 40),
        ("spherical", "axis_aligned", 40),
    ],
)
def test_exact_kernels_compute_float32_in_float32(
    covariance_type, kernel_name, n_features
):
    model, params = random_parameters(covariance_type, n_features=n_features)
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
        kernel = _kernel(kernel_name, model, n_features, 3, data.mean(axis=0), dtype)
        coefficients = kernel.coefficients(Components.of(parameters, model))
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


@pytest.mark.parametrize("n_components", [3, 40])
def test_float32_quadratic_log_prob_from_row_major_features(n_components):
    # d = 64: the features are built row by row; with 3 components the product runs
    # in pieces of rows, with 40 it is taken as (rows, k) and transposed
    model, params = random_parameters("diag", n_components=n_components, n_features=64)
    X = np.random.RandomState(1).normal(scale=3.0, size=(500, 64))
    params32 = MixtureParameters(*(a.astype(np.float32) for a in params))
    params64 = MixtureParameters(*(a.astype(np.float64) for a in params32))
    results = []
    for dtype, parameters in [(np.float32, params32), (np.float64, params64)]:
        kernel = _kernel("quadratic", model, 64, n_components, np.zeros(64), dtype)
        coefficients = kernel.coefficients(Components.of(parameters, model))
        phi = kernel.expand(X.astype(dtype), coefficients)
        assert not phi.flags.c_contiguous
        results.append(kernel.weighted_log_prob(phi, coefficients))
    log_prob32, log_prob64 = results
    assert log_prob32.dtype == np.float32 and log_prob32.flags.c_contiguous
    assert log_prob32.shape == (n_components, 500)
    np.testing.assert_allclose(log_prob32, log_prob64, rtol=1e-5, atol=1e-3)


def test_exact_kernels_centre_negligible_mean_entries_on_zero():
    means = np.array([[1e-262, 2.0], [0.5, -1e-120], [-0.3, 1e-90]])
    reference = np.array([0.05, 1.0])
    np.testing.assert_array_equal(
        centres(means, reference), [[0.0, 2.0], [0.5, 0.0], [-0.3, 1e-90]]
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_component_moments_hold_no_subnormals(monkeypatch):
    # pixels that are zero in some digits: their means in those components come
    # from floored responsibilities alone, a few 1e-261
    X = load_digits().data[:600]
    smallest = []
    moments = ComponentKernel.moments

    def recording(self, block, resp, row_scale):
        result = moments(self, block, resp, row_scale)
        smallest.append(np.abs(block[block != 0]).min())
        return result

    monkeypatch.setattr(ComponentKernel, "moments", recording)
    GaussianMixture(n_components=4, random_state=0, max_iter=20).fit(X)
    assert len(smallest) > 1
    assert min(smallest) >= np.finfo(np.float64).tiny
