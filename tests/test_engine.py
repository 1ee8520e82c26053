"""The engine's seams: statistics that merge in every layout, and EM over a source.

Statistics of uneven chunks, each computed by the real kernels, must merge to those
of the whole data; and EM over a source of row chunks (a list of arrays, or an
``np.memmap`` read block by block) must give the in-memory fit.
"""

import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, relative_difference
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm._workspace import Workspace
from sklearn_em_gmm.covariance import get_covariance_model
from sklearn_em_gmm.engine import (
    ArraySource,
    ChunkedSource,
    MixtureParameters,
    expectation,
    expectation_pass,
    prepare_data,
    run_em,
)
from sklearn_em_gmm.init import Start, initial_parameters
from sklearn_em_gmm.kernels import Components, log_density_bound, select_kernel
from sklearn_em_gmm.stats import SufficientStatistics

# uneven chunks, one of a single row
CHUNK_SIZES = [1, 37, 250, 412, 300]


def _data(far, weighted, seed=0):
    X, _ = make_blobs(
        n_samples=sum(CHUNK_SIZES),
        n_features=3,
        centers=4,
        # overlapping: EM takes many steps, each of which the sources must agree on
        cluster_std=2.5,
        random_state=seed,
    )
    if far:
        # A few rows far away: at a squared Mahalanobis distance D > 1e6 from the
        # data's mean, where the exact kernels serve their component, for every
        # model. Beyond the merge, float64 bounds how well chunks can agree with the
        # whole: the fast kernels round to ~D eps about the data's mean, and a
        # merge's cross term to ~eps |mean| / std of a component, each kept here
        # below the 1e-12 asked.
        X[:5] += 5e3
    weights = None
    if weighted:
        weights = check_random_state(seed).uniform(0.1, 3.0, size=len(X))
    return X, weights


def _chunks(array):
    if array is None:
        return None
    bounds = np.cumsum([0] + CHUNK_SIZES)
    return [array[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _fitted_parameters(X, covariance_type):
    """Parameters a few EM steps into a fit: components of unequal shapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(
            4, covariance_type=covariance_type, max_iter=3, random_state=0
        ).fit(X)
    return MixtureParameters(
        gm.weights_, gm.means_, gm.covariances_, gm.precisions_cholesky_
    )


def _assert_same_statistics(actual, desired, rtol):
    assert actual.layout == desired.layout
    assert actual.scatter.shape == desired.scatter.shape
    for name in ("nk", "means", "scatter"):
        assert relative_difference(getattr(actual, name), getattr(desired, name)) < rtol


class _Silent:
    def iteration_end(self, n_iter, change):
        pass

    def init_end(self, lower_bound, converged):
        pass


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("far", [False, True], ids=["near", "far"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_chunks_through_the_kernels_merge_to_the_whole(covariance_type, far, weighted):
    X, weights = _data(far, weighted)
    model = get_covariance_model(covariance_type)
    params = _fitted_parameters(X, covariance_type)
    components = Components.of(params, model)
    log_offset = log_density_bound(components)
    layout = model.statistics_layout
    reference = ArraySource(X, weights).mean()

    def pass_over(rows, row_weights):
        prepared = prepare_data(rows, row_weights, model, reference, 4)
        return expectation_pass(
            rows, row_weights, components, layout, prepared, log_offset, Workspace()
        )

    second_moment = prepare_data(X, weights, model, reference, 4).second_moment
    kernel = select_kernel(components, layout, reference, X.dtype, second_moment)
    fast = {"QuadraticKernel", "SharedPrecisionKernel"}
    assert (type(kernel).__name__ not in fast) == far
    whole = pass_over(X, weights)
    parts = [
        pass_over(rows, row_weights)
        for rows, row_weights in zip(
            _chunks(X), _chunks(weights) or [None] * len(CHUNK_SIZES), strict=True
        )
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    _assert_same_statistics(merged.statistics(), whole.statistics(), 1e-12)
    assert merged.weight == pytest.approx(whole.weight, rel=1e-12)
    assert merged.mean_log_likelihood(log_offset) == pytest.approx(
        whole.mean_log_likelihood(log_offset), rel=1e-12
    )
    # and so the M-step
    m_steps = [
        model.m_step(sums.statistics(), reg_covar=1e-6, dtype=X.dtype)
        for sums in (merged, whole)
    ]
    for name in ("nk", "means", "covariances"):
        a, b = (getattr(estimates, name) for estimates in m_steps)
        assert relative_difference(a, b) < 1e-12


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_scaled_statistics_merge_to_those_of_scaled_weights(covariance_type):
    """``scale`` is stepwise EM's ``(1 - rho) s + rho s_batch``: statistics of the
    rows with every weight scaled, against the two-pass statistics of both sets."""
    layout = get_covariance_model(covariance_type).statistics_layout
    rng = np.random.RandomState(0)
    X1, X2 = rng.normal(size=(50, 3)) + 5, rng.normal(size=(80, 3)) * 2
    R1, R2 = rng.dirichlet(np.ones(4), size=50), rng.dirichlet(np.ones(4), size=80)
    rho = 0.3
    stepped = (
        SufficientStatistics.from_rows(X1, R1, layout)
        .scale(1 - rho)
        .merge(SufficientStatistics.from_rows(X2, R2, layout).scale(rho))
    )
    direct = SufficientStatistics.from_rows(
        np.vstack([X1, X2]), np.vstack([(1 - rho) * R1, rho * R2]), layout
    )
    _assert_same_statistics(stepped, direct, 1e-13)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pooled_or_reduced_statistics_are_the_full_ones_summed(covariance_type):
    """Each layout against per-component full scatter computed by numpy."""
    layout = get_covariance_model(covariance_type).statistics_layout
    rng = np.random.RandomState(1)
    X = rng.normal(size=(200, 3)) * [1.0, 2.0, 0.5] + 1e6
    resp = rng.dirichlet(np.ones(4), size=200)
    stats = SufficientStatistics.from_rows(X, resp, layout)
    full = np.stack(
        [np.cov(X.T, aweights=r, bias=True) * r.sum() for r in resp.T]
    )  # (k, d, d)
    expected = full.sum(axis=0) if layout.shared else full
    if layout.form != "full":
        expected = np.diagonal(expected, axis1=-2, axis2=-1)
        if layout.form == "isotropic":
            expected = expected.sum(axis=-1)
    assert stats.scatter.shape == expected.shape
    assert relative_difference(stats.scatter, expected) < 1e-9


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_labelled_rows_give_the_one_hot_statistics(covariance_type, weighted):
    """Labels (some rows in none, one component empty) against one-hot rows."""
    layout = get_covariance_model(covariance_type).statistics_layout
    rng = np.random.RandomState(2)
    X = rng.normal(size=(300, 3)) * [1.0, 2.0, 0.5] + 1e6
    labels = rng.choice([-1, 0, 1, 3], size=300)
    weights = rng.uniform(0.5, 2.0, size=300) if weighted else None
    one_hot = (labels[:, np.newaxis] == np.arange(4)).astype(np.float64)
    if weighted:
        one_hot *= weights[:, np.newaxis]
    expected = SufficientStatistics.from_rows(X, one_hot, layout)
    stats = SufficientStatistics.from_labels(X, labels, weights, 4, layout)
    assert stats.layout == expected.layout
    assert_array_equal(stats.nk == 0, [False, False, True, False])
    np.testing.assert_allclose(stats.nk, expected.nk, rtol=1e-14)
    assert relative_difference(stats.means, expected.means) < 1e-14
    assert relative_difference(stats.scatter, expected.scatter) < 1e-12


def _fit(source, X, weights, model, start):
    params = initial_parameters(X, weights, model, start=start, reg_covar=1e-6)
    source.prepare(model, source.mean(), start.n_components)
    return run_em(
        source,
        params,
        model,
        reg_covar=1e-6,
        tol=1e-3,
        max_iter=100,
        lower_bound=-np.inf,
        progress=_Silent(),
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("far", [False, True], ids=["near", "far"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_em_over_row_chunks_is_the_in_memory_fit(
    covariance_type, far, weighted, tmp_path
):
    X, weights = _data(far, weighted, seed=2)
    model = get_covariance_model(covariance_type)
    start = Start.draw(X, weights, 4, "kmeans", check_random_state(0))
    in_memory = _fit(ArraySource(X, weights), X, weights, model, start)
    memmap = np.memmap(tmp_path / "X.dat", dtype=X.dtype, mode="w+", shape=X.shape)
    memmap[:] = X
    memmap.flush()
    sources = {
        "list": ChunkedSource(_chunks(X), _chunks(weights)),
        "memmap": ChunkedSource(
            np.memmap(tmp_path / "X.dat", dtype=X.dtype, mode="r", shape=X.shape),
            weights,
            chunk_rows=128,
        ),
    }
    for name, source in sources.items():
        chunked = _fit(source, X, weights, model, start)
        assert chunked.n_iter == in_memory.n_iter, name
        assert chunked.converged == in_memory.converged, name
        bounds = np.array(chunked.lower_bounds)
        assert relative_difference(bounds, in_memory.lower_bounds) < 1e-12, name
        for actual, desired in zip(chunked.params, in_memory.params, strict=True):
            assert relative_difference(actual, desired) < 1e-12, name
    # the estimator's fit is the in-memory one
    if not weighted:
        gm = GaussianMixture(4, covariance_type=covariance_type, random_state=0).fit(X)
        assert gm.n_iter_ == in_memory.n_iter
        assert_array_equal(gm.means_, in_memory.params.means)


def test_a_chunked_source_needs_its_chunk_size_for_one_array():
    with pytest.raises(ValueError, match="chunk_rows"):
        ChunkedSource(np.zeros((10, 2)))


def test_a_chunked_source_skips_empty_chunks_and_checks_its_weights():
    X, weights = _data(far=False, weighted=True)
    chunks = [X[:0], *_chunks(X), X[:0]]
    chunk_weights = [weights[:0], *_chunks(weights), weights[:0]]
    model = get_covariance_model("full")
    params = _fitted_parameters(X, "full")
    sources = [ChunkedSource(chunks, chunk_weights), ArraySource(X, weights)]
    bounds = []
    for source in sources:
        source.prepare(model, source.mean(), 4)
        bounds.append(expectation(source, params, model)[0])
    assert bounds[0] == pytest.approx(bounds[1], rel=1e-12)
    with pytest.raises(ValueError, match="one array per chunk"):
        ChunkedSource(_chunks(X), weights)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(2, 60),
    n_cuts=st.integers(1, 4),
    offset=st.sampled_from([0.0, 1e6]),
    empty_component=st.booleans(),
)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_merge_whatever_the_split(
    covariance_type, seed, n_rows, n_cuts, offset, empty_component
):
    """Merged statistics of any split, in any order of merging, are those of the
    whole, in every model's layout: against the two-pass statistics of all rows."""
    layout = get_covariance_model(covariance_type).statistics_layout
    rng = np.random.RandomState(seed)
    scales = rng.uniform(0.1, 10, size=3)
    X = rng.normal(size=(n_rows, 3)) * scales + offset
    resp = rng.dirichlet(np.ones(3), size=n_rows) * rng.uniform(0, 2, size=(n_rows, 1))
    if empty_component:
        # a component with no weight in some chunks, or at all
        resp[: n_rows // 2, 0] = 0.0
    cuts = np.sort(rng.choice(np.arange(1, n_rows), size=min(n_cuts, n_rows - 1)))
    bounds = [0, *cuts, n_rows]
    parts = [
        SufficientStatistics.from_rows(X[a:b], resp[a:b], layout)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    in_order = parts[0]
    for part in parts[1:]:
        in_order = in_order + part
    # pairwise from the end: another tree of merges
    reversed_tree = parts[-1]
    for part in parts[-2::-1]:
        reversed_tree = part + reversed_tree
    whole = SufficientStatistics.from_rows(X, resp, layout)
    # a merge's cross term rounds to ~eps |mean| / std (the chunks' means are
    # rounded to eps |mean|); up to 4 eps times that was measured over 3200 splits
    scatter_tolerance = 16 * np.finfo(float).eps * max(1.0, offset / scales.min())
    for merged in (in_order, reversed_tree):
        assert merged.scatter.shape == whole.scatter.shape
        assert relative_difference(merged.nk, whole.nk) < 1e-13
        assert relative_difference(merged.means, whole.means) < 1e-13
        assert relative_difference(merged.scatter, whole.scatter) < scatter_tolerance
