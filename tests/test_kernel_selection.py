"""Which kernel serves a pass, in which dtype, and when a fit keeps a centred copy.

``select_kernel`` reads the components' declared structure and their distances from
the reference: far components go to an exact kernel, and float32 arithmetic only
where it loses no more than sklearn's float32 arithmetic.
"""

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from mixture_cases import (
    blobs_with_a_far_cluster,
    exact_kernel_class,
    random_parameters,
)
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm.covariance import get_covariance_model
from sklearn_em_gmm.engine import MixtureParameters, exponentiate_log_prob
from sklearn_em_gmm.kernels import (
    ComponentKernel,
    Components,
    QuadraticKernel,
    SharedPrecisionKernel,
    SplitKernel,
    centred_data,
    select_kernel,
)
from sklearn_em_gmm.kernels import _select as select_module
from sklearn_em_gmm.kernels._quadratic import ROW_MAJOR_FEATURES


def _select(model, params, reference, data_dtype=None):
    """The kernel of a pass of ``params`` giving ``model``'s statistics."""
    components = Components.of(params, model)
    return select_kernel(components, model.statistics_layout, reference, data_dtype)


@pytest.mark.parametrize(
    ("covariance_type", "far", "near"),
    [
        ("full", SplitKernel, QuadraticKernel),
        ("tied", ComponentKernel, SharedPrecisionKernel),
        ("diag", SplitKernel, QuadraticKernel),
        ("spherical", SplitKernel, QuadraticKernel),
    ],
)
def test_far_components_get_the_exact_kernel(covariance_type, far, near):
    X = blobs_with_a_far_cluster(covariance_type)
    fitted = SklearnGaussianMixture(
        3, covariance_type=covariance_type, random_state=0
    ).fit(X)
    model = get_covariance_model(covariance_type)
    params = MixtureParameters(
        fitted.weights_, fitted.means_, fitted.covariances_, fitted.precisions_cholesky_
    )
    assert type(_select(model, params, X.mean(axis=0))) is far
    centred = params._replace(means=params.means * 0)
    assert type(_select(model, centred, 0 * X[0])) is near


def test_wide_full_covariances_get_the_per_component_kernel():
    model, params = random_parameters("full", n_components=3, n_features=40)
    assert type(_select(model, params, np.zeros(40))) is ComponentKernel


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_arithmetic_only_near_the_reference(covariance_type):
    model, params = random_parameters(covariance_type)
    params32 = MixtureParameters(*(a.astype(np.float32) for a in params))
    reference = params.weights @ params.means
    assert _select(model, params32, reference).dtype == np.float32
    assert _select(model, params, reference).dtype == np.float64
    # float64 data with a float32 model (predict) are computed in float64
    assert _select(model, params32, reference, np.float64).dtype == np.float64

    def shifted(deviations):
        shift = deviations * np.sqrt(np.max(params.covariances))
        return params32._replace(means=(params32.means + shift).astype(np.float32))

    # 40 deviations away, D ~ 1e4 > 1e3: float64 (far below the 1e6 of the exact
    # kernels, which would compute in float32)
    kernel = _select(model, shifted(40), reference)
    assert type(kernel) is not SplitKernel
    assert kernel.dtype == np.float64


def _spread_parameters(covariance_type, n_components, n_features, seed=0):
    """Unit-variance components with means uniform in [-10, 10]**d, in float32."""
    rng = np.random.RandomState(seed)
    model = get_covariance_model(covariance_type)
    covariances = np.ones(model.parameter_shape(n_components, n_features))
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
    kernel = _select(model, params, origin)
    assert type(kernel) is QuadraticKernel and kernel.dtype == np.float32
    # one feature 40 deviations out: 1600 > 1e3 for diag; spherical's mean over
    # the features stays small
    means = params.means.copy()
    means[0, 0] = 40.0
    kernel = _select(model, params._replace(means=means), origin)
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
    # each component's precisions (8, 64), as the kernels read them
    precisions = Components.of(params, model).factors.precisions()
    distances = np.sum((params.means - reference) ** 2 * precisions, axis=1)
    origin_distances = np.sum(params.means**2 * precisions, axis=1)
    assert np.all(distances > np.maximum(2 * origin_distances, 1e3))
    kernel = _select(model, params, reference)
    assert type(kernel) is QuadraticKernel and kernel.dtype == np.float64
    # one such component of 8 goes to the exact float32 kernel instead
    means = params.means.copy()
    means[1:] = 10.0 + np.random.RandomState(1).uniform(-3, 3, size=(7, 64))
    kernel = _select(model, params._replace(means=means), reference)
    assert type(kernel) is SplitKernel
    assert [part.dtype for part in kernel.kernels] == [np.float32] * 2
    np.testing.assert_array_equal(kernel.subsets[1], np.arange(8) == 0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_far_component_goes_to_a_float32_exact_kernel(covariance_type):
    model, params = random_parameters(covariance_type)
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
        kernel = _select(model, parameters, reference, data.dtype)
        coefficients = kernel.coefficients(Components.of(parameters, model))
        block = kernel.expand(data, coefficients)
        resp = kernel.weighted_log_prob(block, coefficients)
        log_prob = resp.copy()
        _, row_sum = exponentiate_log_prob(resp)
        moments = kernel.moments(block, resp, 1 / row_sum)
        stats = kernel.statistics(moments.astype(np.float64), coefficients)
        results.append((kernel, log_prob, stats))
    (kernel32, log_prob32, stats32), (_, log_prob64, stats64) = results
    if model.structure.shared and model.statistics_layout.shared:
        # one shared factor, pooled statistics: the exact kernel serves all
        assert type(kernel32) is exact_kernel_class(model)
        assert kernel32.dtype == np.float32
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


def test_centred_copy_only_within_its_budget_and_for_kernels_that_use_it():
    diag = get_covariance_model("diag")
    assert centred_data(np.ones((10, 8)), np.zeros(8), diag, 3) is not None
    wide = np.ones((10, ROW_MAJOR_FEATURES))
    assert centred_data(wide, np.zeros(wide.shape[1]), diag, 3) is None
    budget = select_module._MAX_CENTRED_DATA_BYTES
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
