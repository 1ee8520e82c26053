"""The E-step pass and one EM step against scipy, sklearn and numpy's moments.

An E-step over an in-memory source gives the mean log-likelihood and sufficient
statistics in the model's layout, the same from a reused workspace as from fresh
arrays, under either shift of the log-sum-exp; one E- and M-step is sklearn's.
"""

import math
import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, SKLEARN_COVARIANCE_TYPES
from mixture_cases import (
    blobs_with_a_far_cluster,
    expected_statistics,
    in_layout,
    random_parameters,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm._workspace import Workspace
from sklearn_em_gmm.covariance import (
    FULL,
    canonical_models,
    get_covariance_model,
)
from sklearn_em_gmm.engine import (
    ArraySource,
    MixtureParameters,
    expectation,
    maximization,
    prepare_data,
)
from sklearn_em_gmm.engine import _blocks as blocks_module
from sklearn_em_gmm.kernels import Components, SharedPrecisionKernel, select_kernel
from sklearn_em_gmm.kernels import _select as select_module
from sklearn_em_gmm.stats import SufficientStatistics


def _expectation(X, sample_weight, params, model, reference, n_components):
    """E-step of ``params`` over ``X``, the fast kernels centred on ``reference``."""
    source = ArraySource(X, sample_weight)
    source.prepare(model, reference, n_components)
    return expectation(source, params, model)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_from_the_centred_copy_is_the_fit_without_it(
    covariance_type, dtype, monkeypatch
):
    # a far cluster: split passes (float64) and exact float32 ones as well; one
    # shared covariance without it, whose far cluster takes the exact kernel
    # throughout
    X = blobs_with_a_far_cluster(covariance_type)
    if get_covariance_model(covariance_type).structure.shared:
        X = X[:400]
    X = X.astype(dtype)
    X_before = X.copy()
    fits = []
    for budget in (select_module._MAX_CENTRED_DATA_BYTES, 0):
        monkeypatch.setattr(select_module, "_MAX_CENTRED_DATA_BYTES", budget)
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


class _FreshArrays:
    """A workspace that allocates every array afresh."""

    def empty(self, name, shape, dtype):
        return np.empty(shape, dtype=dtype)


def _scatter_scale(scatter, layout):
    """Each entry's scale: itself for a diagonal or isotropic layout; on a full
    matrix's diagonal itself, off it ``sqrt(S_ii S_jj)``.

    The rounding of a scatter matrix grows with its variances, so an off-diagonal
    entry near zero is only as exact as the variances beside it.
    """
    if layout.form != FULL:
        return np.abs(scatter)
    deviations = np.sqrt(np.diagonal(scatter, axis1=-2, axis2=-1))
    return deviations[..., :, np.newaxis] * deviations[..., np.newaxis, :]


@pytest.mark.parametrize("covariance_type", SKLEARN_COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("far", [True, False], ids=["far", "near"])
def test_expectation_in_a_reused_workspace_is_right_pass_after_pass(
    covariance_type, dtype, far, monkeypatch
):
    # blocks of 256 rows, a shorter last one; with a far cluster, split passes
    # whose two kernels share the workspace (tied: the exact kernel), without it
    # the fast kernels (tied: the shared precision)
    monkeypatch.setattr(blocks_module, "_PASS_BYTES", 1)
    X = blobs_with_a_far_cluster(covariance_type)
    X = (X if far else X[:400]).astype(dtype)
    model = get_covariance_model(covariance_type)
    layout = model.statistics_layout
    source = ArraySource(X)
    source.prepare(model, X.mean(axis=0), 3)
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
        if model.structure.shared:
            arrays += [fitted.covariances_, fitted.precisions_cholesky_]
        else:
            arrays += [fitted.covariances_[order], fitted.precisions_cholesky_[order]]
        params = MixtureParameters(*(np.asarray(a, dtype=dtype) for a in arrays))
        bound, stats = expectation(source, params, model, reused)
        fresh = expectation(source, params, model, _FreshArrays())
        assert bound == fresh[0]
        assert stats.layout == fresh[1].layout == layout
        for name in ("nk", "means", "scatter"):
            np.testing.assert_array_equal(getattr(stats, name), getattr(fresh[1], name))
        exact = MixtureParameters(*(np.asarray(a, dtype=np.float64) for a in arrays))
        expected = expected_statistics(model, exact, X.astype(np.float64))
        assert bound == pytest.approx(expected[0], rel=tolerance)
        np.testing.assert_allclose(stats.nk, expected[1], rtol=tolerance, atol=1e-6)
        held = expected[1] > 1.0
        np.testing.assert_allclose(
            stats.means[held], expected[2][held], rtol=tolerance, atol=1e-6
        )
        if layout.shared or held.all():
            expected_scatter = in_layout(expected[3], layout)
            np.testing.assert_array_less(
                np.abs(stats.scatter - expected_scatter),
                tolerance * _scatter_scale(expected_scatter, layout) + 1e-6,
            )


# the layout of each registered model's statistics, once each
STATISTICS_LAYOUTS = list(
    dict.fromkeys(m.statistics_layout for m in canonical_models())
)


@pytest.mark.parametrize(
    "layout",
    STATISTICS_LAYOUTS,
    ids=[f"{'pooled' if s.shared else 'own'}-{s.form}" for s in STATISTICS_LAYOUTS],
)
def test_statistics_of_chunks_merge_to_the_whole(layout):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 3)) + 1e6
    resp = rng.dirichlet(np.ones(3), size=90)
    resp[:30, 2] = 0.0  # component 2 is empty in the first chunk
    whole = SufficientStatistics.from_rows(X, resp, layout)
    merged = SufficientStatistics.from_rows(X[:30], resp[:30], layout)
    for rows in (slice(30, 31), slice(31, 90)):
        merged = merged.merge(
            SufficientStatistics.from_rows(X[rows], resp[rows], layout)
        )
    assert merged.layout == whole.layout == layout
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
    model, params = random_parameters(covariance_type, n_features=2, seed=4)
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
    mean_log_likelihood, statistics = _expectation(
        X, sample_weight, params, model, X.mean(axis=0), 3
    )
    expected = expected_statistics(model, params, X, sample_weight)
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
    model, params = random_parameters("tied", n_features=2, seed=4)
    covariances = spread * params.covariances
    params = params._replace(
        covariances=covariances,
        precisions_cholesky=model.precisions_cholesky(covariances),
    )
    rng = np.random.RandomState(5)
    X = rng.normal(scale=3.0, size=(40000, 2))
    sample_weight = rng.uniform(0.0, 3.0, size=len(X)) if weighted else None
    reference = X.mean(axis=0)
    components = Components.of(params, model)
    kernel = select_kernel(components, model.statistics_layout, reference, X.dtype)
    assert type(kernel) is SharedPrecisionKernel
    bound, statistics = _expectation(X, sample_weight, params, model, reference, 3)
    expected = expected_statistics(model, params, X, sample_weight)
    assert bound == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(statistics.nk, expected[1], rtol=1e-10)
    np.testing.assert_allclose(statistics.means, expected[2], rtol=1e-9)
    # pooled: one (d, d) scatter summed over components
    np.testing.assert_allclose(statistics.scatter, expected[3].sum(axis=0), rtol=1e-9)


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
    _, statistics = _expectation(X, None, params, model, np.zeros(2), 3)
    assert statistics.nk[0] == pytest.approx(2000.0, rel=1e-6)
    assert statistics.nk[1] == pytest.approx(2000 * math.exp(-60.0), rel=0.1, abs=0.0)
    assert statistics.nk[2] == 0.0
    np.testing.assert_array_equal(statistics.means[2], 0.0)


def test_expectation_of_one_component_gives_responsibilities_of_exactly_one():
    model, params = random_parameters("full", n_components=1, n_features=3)
    X = np.random.RandomState(6).normal(size=(5000, 3))
    _, statistics = _expectation(X, None, params, model, X.mean(axis=0), 1)
    assert statistics.nk[0] == len(X)


@pytest.mark.parametrize("covariance_type", SKLEARN_COVARIANCE_TYPES)
def test_one_em_step_matches_sklearn(covariance_type):
    model, params = random_parameters(covariance_type, seed=3)
    X = np.random.RandomState(2).normal(scale=3.0, size=(200, 4))
    mean_log_likelihood, statistics = _expectation(
        X, None, params, model, X.mean(axis=0), 3
    )
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
