"""Properties of EM fits, checked by hypothesis over models, dtypes, shapes and seeds.

Each property runs for each covariance type; each example draws a dtype (float32 or
float64), a shape (5 to 200 samples, 1 to 6 features, 1 to 4 components, never more
components than samples) and a seed for the data: a mixture of one to four
well-conditioned, randomly rotated Gaussian blobs.

The CI profile (the default) is derandomized, so every run checks the same examples,
and small enough for a busy machine. For a deeper search run::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py

Add ``--hypothesis-show-statistics`` to see the examples each property ran.
"""

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
from conftest import (
    COVARIANCE_TYPES,
    INIT_PARAMS,
    SKLEARN_COVARIANCE_TYPES,
    relative_difference,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from mixture_cases import common_precisions
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import DIAGONAL, FULL, get_covariance_model
from sklearn_em_gmm.engine import (
    ArraySource,
    MixtureParameters,
    expectation,
    maximization,
)

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("long", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DTYPES = [np.float32, np.float64]
# float32 needs some regularization to stay well-conditioned
REG_COVAR = 1e-3
# a fixed number of EM steps (tol=0 never converges), so that two fits that should
# agree take the same number of steps
N_STEPS = 12
# Two fits equal but for rounding drift apart where EM is unstable, e.g. where two
# components share a cluster: differences grew 4-fold per step in one example. From
# float32's rounding, fits are compared after fewer steps.
COMPARED_STEPS = {np.float32: 6, np.float64: N_STEPS}


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Small fits: BLAS/OpenMP threads only add contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield


# --------------------------------------------------------------------------------
# data


def _random_rotation(rng, n_features):
    q, r = np.linalg.qr(rng.normal(size=(n_features, n_features)))
    return q * np.sign(np.diag(r))


def _well_conditioned(rng, n_features, low=0.5, high=2.0):
    """A random matrix with singular values in ``[low, high]``."""
    singular_values = rng.uniform(low, high, size=n_features)
    return (
        _random_rotation(rng, n_features)
        * singular_values
        @ _random_rotation(rng, n_features)
    )


def _blobs(rng, n_samples, n_features):
    n_blobs = rng.integers(1, 5)
    centres = rng.normal(scale=5.0, size=(n_blobs, n_features))
    shapes = [_well_conditioned(rng, n_features) for _ in range(n_blobs)]
    labels = rng.integers(n_blobs, size=n_samples)
    noise = rng.normal(size=(n_samples, n_features))
    return centres[labels] + np.einsum("ij,ijk->ik", noise, np.stack(shapes)[labels])


@dataclass
class Problem:
    """One drawn example: the data and the model to fit it with."""

    covariance_type: str
    dtype: type
    n_samples: int
    n_features: int
    n_components: int
    seed: int
    X: np.ndarray = field(repr=False)

    @property
    def rng(self):
        """A generator independent of the data's, for anything else the test draws."""
        return np.random.default_rng([self.seed, 1])

    def start(self, rng=None):
        """A fixed start: distinct rows as means, the data's variances, equal weights.

        The arrays are float64 whatever ``X``'s dtype; the fit casts them.
        """
        rng = self.rng if rng is None else rng
        k = self.n_components
        means = self.X[rng.choice(self.n_samples, k, replace=False)]
        variances = self.X.var(axis=0, dtype=np.float64) + 0.1
        model = get_covariance_model(self.covariance_type)
        precisions = common_precisions(model, k, variances)
        return dict(
            weights_init=np.full(k, 1.0 / k),
            means_init=means.astype(np.float64),
            precisions_init=precisions,
        )


@st.composite
def problems(draw, covariance_type, rows_per_parameter=0):
    """Draw a :class:`Problem` for ``covariance_type``.

    With ``rows_per_parameter``, there are at least that many rows per component and
    per feature (up to 200 rows), so that unregularized covariances stay regular.
    """
    dtype = draw(st.sampled_from(DTYPES))
    n_features = draw(st.integers(1, 6))
    n_components = draw(st.integers(1, 4))
    min_samples = max(5, n_components)
    if rows_per_parameter:
        wanted = rows_per_parameter * n_components * (n_features + 1)
        min_samples = max(min_samples, min(200, wanted))
    n_samples = draw(st.integers(min_samples, 200))
    seed = draw(st.integers(0, 2**32 - 1))
    X = _blobs(np.random.default_rng(seed), n_samples, n_features).astype(dtype)
    event(np.dtype(dtype).name)
    return Problem(covariance_type, dtype, n_samples, n_features, n_components, seed, X)


# --------------------------------------------------------------------------------
# helpers


def _fit(X, sample_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(**params).fit(X, sample_weight=sample_weight)


def _fit_steps(problem, X=None, sample_weight=None, n_steps=N_STEPS, **params):
    """Exactly ``n_steps`` EM steps from the problem's fixed start (unless given)."""
    params = {
        "n_components": problem.n_components,
        "covariance_type": problem.covariance_type,
        "reg_covar": REG_COVAR,
        "tol": 0.0,
        "max_iter": n_steps,
        **problem.start(),
        **params,
    }
    return _fit(problem.X if X is None else X, sample_weight, **params)


def _parameters(est):
    return MixtureParameters(
        est.weights_, est.means_, est.covariances_, est.precisions_cholesky_
    )


def _rtol(dtype, float32, float64):
    return float32 if dtype == np.float32 else float64


def _bound_tol(dtype, lower_bound):
    """Rounding allowed in a mean log-likelihood of magnitude ``lower_bound``."""
    return _rtol(dtype, 2e-6, 1e-10) * (1.0 + abs(lower_bound))


def _regularization_allowance(stats, reg_covar):
    """How much one M-step with ``reg_covar`` may lower the mean log-likelihood.

    EM's guarantee, ``log L(new) >= log L(old)``, holds for the exact M-step, whose
    covariances are the scatter ``S`` of the responsibilities. The regularized step
    uses ``S + r I`` instead, which falls short of the maximum of EM's auxiliary
    function by ``n_k / 2 * sum_j g(r / lambda_j)`` per component, with ``lambda_j``
    the eigenvalues of ``S`` and ``g(x) = log(1 + x) - x / (1 + x) >= 0``; so the
    log-likelihood may drop by at most that (0 when ``reg_covar`` is 0).
    """
    if reg_covar == 0:
        return 0.0
    nk, scatter, layout = stats.nk, stats.scatter, stats.layout
    n_features = stats.means.shape[1]
    # the variances of the exact M-step: of each component, or pooled
    weight = nk.sum() if layout.shared else np.where(nk > 0, nk, 1.0)
    if not layout.shared:
        weight = weight.reshape((-1,) + (1,) * (scatter.ndim - 1))
    covariances = scatter / weight
    if layout.form == FULL:
        variances = np.linalg.eigvalsh(covariances)
    elif layout.form == DIAGONAL:
        variances = covariances
    else:
        variances = np.repeat(np.atleast_1d(covariances) / n_features, n_features)
        variances = variances.reshape(-1, n_features)
    # g(r / variance), infinite for a variance of zero: nothing bounds that step
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        x = np.where(variances > 0, reg_covar / variances, np.inf)
        g = np.where(np.isinf(x), np.inf, np.log1p(x) - x / (1.0 + x))
    if layout.shared:
        return float(g.sum() / 2)
    # an empty component has no weight in the auxiliary function
    per_component = np.where(nk > 0, nk * g.sum(axis=1), 0.0)
    return float(per_component.sum() / nk.sum() / 2)


def _expectation(X, sample_weight, params, model):
    """The E-step, centred like the estimator's on the data's weighted mean."""
    source = ArraySource(X, sample_weight)
    source.prepare(model, source.mean(), len(params.weights))
    return expectation(source, params, model)


def _replay(X, sample_weight, params, covariance_type, reg_covar, n_steps):
    """Run EM by hand: the bound of each step and the allowance of its M-step."""
    model = get_covariance_model(covariance_type)
    bounds, allowances = [], []
    for _ in range(n_steps):
        bound, stats = _expectation(X, sample_weight, params, model)
        bounds.append(bound)
        allowances.append(_regularization_allowance(stats, reg_covar))
        # the iterative M-steps (VEI, VEE, EVE, VVE, VEV) start from the last step
        params = maximization(stats, model, reg_covar, X.dtype, previous=params)
    return np.array(bounds), np.array(allowances), params


def _live(est):
    """Components with some weight left.

    The mean and variance of a component that has lost (almost) all its weight
    follow the rounding of responsibilities near zero, and two equal fits may differ
    there by any amount.
    """
    return np.asarray(est.weights_) > 1e-3


def _per_component(est, name, live):
    values = np.asarray(getattr(est, name), dtype=np.float64)
    shared = get_covariance_model(est.covariance_type).structure.shared
    # a shared covariance has no component axis
    return values if shared and name != "means_" else values[live]


def _condition_number(covariances, covariance_type):
    """Largest condition number of the covariances."""
    form = get_covariance_model(covariance_type).structure.form
    if form == FULL:
        return float(np.max(np.linalg.cond(covariances)))
    if form == DIAGONAL:
        covariances = np.atleast_2d(covariances)
        return float(np.max(covariances.max(axis=1) / covariances.min(axis=1)))
    return 1.0


def _conditioned(rtol, est):
    """``rtol`` for a fit whose covariances may be ill-conditioned.

    Responsibilities depend on the precisions, whose rounding error is that of the
    covariances times their condition number; a component collapsing onto a line
    (its variance across it near reg_covar) makes float32 fits differ by 1e-3.
    """
    live = _live(est)
    covariances = _per_component(est, "covariances_", live)
    condition = _condition_number(covariances, est.covariance_type)
    return rtol * max(1.0, condition / 100), condition


def _assert_fits_agree(a, b, rtol):
    rtol, condition = _conditioned(rtol, b)
    assert relative_difference(a.weights_, b.weights_) < rtol
    live = _live(b)
    for name in ["means_", "covariances_"]:
        difference = relative_difference(
            _per_component(a, name, live), _per_component(b, name, live)
        )
        assert difference < rtol, (name, difference)
    # inverting a covariance multiplies its rounding error by its condition number
    difference = relative_difference(
        _per_component(a, "precisions_cholesky_", live),
        _per_component(b, "precisions_cholesky_", live),
    )
    assert difference < rtol * condition, ("precisions", difference)
    assert a.n_iter_ == b.n_iter_
    assert relative_difference(a.lower_bounds_, b.lower_bounds_) < rtol


def _n_parameters(covariance_type, k, d):
    """Free parameters, counted from the mclust code (volume, shape, orientation).

    Volumes: 1 if equal (E), k if varying (V). Shapes: none if isotropic (I), d - 1
    per distinct shape otherwise. Orientations: none if axis-aligned (I),
    d (d - 1) / 2 per distinct orientation otherwise.
    """
    volume, shape, orientation = get_covariance_model(covariance_type).mclust_code
    n_rotation = d * (d - 1) // 2
    covariance = (
        {"E": 1, "V": k}[volume]
        + {"I": 0, "E": d - 1, "V": k * (d - 1)}[shape]
        + {"I": 0, "E": n_rotation, "V": k * n_rotation}[orientation]
    )
    assert covariance == get_covariance_model(covariance_type).n_covariance_parameters(
        k, d
    )
    return covariance + k * d + k - 1


# --------------------------------------------------------------------------------
# (a) responsibilities


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data(), init_params=st.sampled_from(INIT_PARAMS))
def test_responsibilities_are_probabilities(covariance_type, data, init_params):
    problem = data.draw(problems(covariance_type), label="problem")
    est = _fit(
        problem.X,
        n_components=problem.n_components,
        covariance_type=problem.covariance_type,
        init_params=init_params,
        reg_covar=REG_COVAR,
        random_state=problem.seed,
    )
    # the training rows, and rows spread 30 times wider than the data
    centre = problem.X.mean(axis=0)
    far = (centre + 30 * (problem.X - centre)).astype(problem.dtype)
    for X in (problem.X, far):
        resp = est.predict_proba(X)
        assert resp.shape == (len(X), problem.n_components)
        assert resp.dtype == problem.dtype
        assert np.all(np.isfinite(resp))
        assert np.all((resp >= 0) & (resp <= 1))
        tol = _rtol(problem.dtype, 1e-6, 1e-12) * problem.n_components
        np.testing.assert_allclose(resp.sum(axis=1, dtype=np.float64), 1.0, atol=tol)
        # the predicted label has the largest responsibility
        labels = est.predict(X)
        assert np.all(resp[np.arange(len(X)), labels] == resp.max(axis=1))


# --------------------------------------------------------------------------------
# (b) EM never lowers the log-likelihood


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data())
def test_em_steps_never_lower_the_log_likelihood(covariance_type, data):
    problem = data.draw(
        problems(covariance_type, rows_per_parameter=5), label="problem"
    )
    # float32 is fitted with some regularization; float64 also without, where EM's
    # guarantee is exact
    reg_covar = REG_COVAR
    if problem.dtype == np.float64:
        reg_covar = data.draw(st.sampled_from([0.0, REG_COVAR]), label="reg_covar")
    event(f"reg_covar={reg_covar}")
    try:
        est = _fit_steps(problem, reg_covar=reg_covar)
    except ValueError as error:  # a component collapsed onto too few rows
        assert reg_covar == 0 and "ill-defined empirical covariance" in str(error)
        assume(False)
    bounds = np.asarray(est.lower_bounds_, dtype=np.float64)
    assert len(bounds) == N_STEPS
    assert np.all(np.isfinite(bounds))

    start = _fit_steps(problem, reg_covar=reg_covar, n_steps=0)
    replayed, allowances, params = _replay(
        problem.X, None, _parameters(start), problem.covariance_type, reg_covar, N_STEPS
    )
    tol = _bound_tol(problem.dtype, bounds[-1])
    # the fit's bounds are those of its E-steps, and it ends on their last M-step
    np.testing.assert_allclose(bounds, replayed, rtol=0, atol=tol)
    assert relative_difference(est.means_, params.means) < _rtol(
        problem.dtype, 1e-6, 1e-10
    )
    if reg_covar == 0:
        assert np.all(np.diff(bounds) >= -tol), np.diff(bounds)
    assert np.all(np.diff(bounds) >= -(allowances[:-1] + tol)), (
        np.diff(bounds),
        allowances,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(
    data=st.data(),
    weighted=st.booleans(),
    reg_covar=st.sampled_from([REG_COVAR, 1e-1]),
)
def test_expectation_maximization_steps_never_lower_the_log_likelihood(
    covariance_type, data, weighted, reg_covar
):
    problem = data.draw(problems(covariance_type), label="problem")
    sample_weight = None
    if weighted:
        sample_weight = problem.rng.uniform(0.1, 3.0, size=problem.n_samples)
    start = _parameters(_fit_steps(problem, reg_covar=reg_covar, n_steps=0))
    bounds, allowances, _ = _replay(
        problem.X, sample_weight, start, covariance_type, reg_covar, n_steps=8
    )
    assert np.all(np.isfinite(bounds))
    tol = _bound_tol(problem.dtype, bounds[-1])
    assert np.all(np.diff(bounds) >= -(allowances[:-1] + tol)), (
        np.diff(bounds),
        allowances,
    )


# --------------------------------------------------------------------------------
# (c) fit_predict, (d) score


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(
    data=st.data(),
    init_params=st.sampled_from(INIT_PARAMS),
    n_init=st.integers(1, 2),
)
def test_fit_predict_equals_fit_then_predict(
    covariance_type, data, init_params, n_init
):
    problem = data.draw(problems(covariance_type), label="problem")
    params = dict(
        n_components=problem.n_components,
        covariance_type=problem.covariance_type,
        init_params=init_params,
        n_init=n_init,
        reg_covar=REG_COVAR,
        random_state=problem.seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = GaussianMixture(**params).fit_predict(problem.X)
    est = _fit(problem.X, **params)
    np.testing.assert_array_equal(labels, est.predict(problem.X))
    np.testing.assert_array_equal(labels, est.labels_)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data())
def test_score_is_the_mean_of_score_samples(covariance_type, data):
    problem = data.draw(problems(covariance_type), label="problem")
    est = _fit_steps(problem, n_steps=3)
    log_prob = est.score_samples(problem.X)
    assert log_prob.shape == (problem.n_samples,)
    assert np.all(np.isfinite(log_prob))
    tol = _rtol(problem.dtype, 1e-6, 1e-12) * (1 + float(np.max(np.abs(log_prob))))
    assert est.score(problem.X) == pytest.approx(
        math.fsum(log_prob) / problem.n_samples, rel=0, abs=tol
    )
    weights = problem.rng.uniform(0.0, 3.0, size=problem.n_samples)
    assert est.score(problem.X, sample_weight=weights) == pytest.approx(
        math.fsum(weights * log_prob) / math.fsum(weights), rel=0, abs=tol
    )


# --------------------------------------------------------------------------------
# (e) row order, (f) affine maps, (g) integer weights


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data())
def test_row_order_does_not_change_the_fit(covariance_type, data):
    problem = data.draw(problems(covariance_type), label="problem")
    permutation = problem.rng.permutation(problem.n_samples)
    n_steps = COMPARED_STEPS[problem.dtype]
    est = _fit_steps(problem, n_steps=n_steps)
    permuted = _fit_steps(problem, X=problem.X[permutation], n_steps=n_steps)
    _assert_fits_agree(permuted, est, rtol=_rtol(problem.dtype, 1e-3, 1e-8))
    np.testing.assert_array_equal(permuted.labels_, est.labels_[permutation])


def _affine_map(rng, covariance_type, n_features, reg_covar):
    """A random ``A`` under which the covariance model is closed, and ``b``.

    With regularization, only ``A = c Q`` (``Q`` orthogonal, or a signed
    permutation for the diagonal forms) maps ``reg_covar I`` to ``c**2 reg_covar I``.

    Only 'full' (VVV) and 'tied' (EEE) are closed under every invertible map. The
    other full-form models (VEE, EVE, VVE, EEV, VEV, EVV) constrain volumes and
    shapes, which a general map does not keep, so they get similarities ``c Q``: a
    rotation keeps shapes and equal or common orientations, and scales every volume
    by ``c**d``. The isotropic models (spherical, EII) are rotation-equivariant too.
    The diagonal models (diag = VVI, EEI, VEI, EVI) are NOT rotation-equivariant: a
    rotation makes their axis-aligned covariances non-diagonal. They get a signed
    permutation of the axes times per-axis scales (one scale with regularization),
    which keeps diagonal matrices diagonal, and equal volumes or shapes equal.
    """
    d = n_features
    c = rng.uniform(0.5, 2.0)
    structure = get_covariance_model(covariance_type).structure
    if structure.form == DIAGONAL:
        signed_permutation = np.eye(d)[rng.permutation(d)] * rng.choice([-1, 1], d)
        scales = rng.uniform(0.5, 2.0, size=d) if reg_covar == 0 else np.full(d, c)
        A = signed_permutation * scales
    elif (
        structure.form != FULL
        or reg_covar > 0
        or covariance_type not in SKLEARN_COVARIANCE_TYPES
    ):
        A = c * _random_rotation(rng, d)
    else:
        A = _well_conditioned(rng, d)
    b = rng.normal(scale=10.0, size=d)
    return A, b


def _map_covariances(covariances, covariance_type, A):
    """``A.T @ cov @ A`` in the covariance model's layout."""
    form = get_covariance_model(covariance_type).structure.form
    if form == FULL:
        return A.T @ covariances @ A
    if form == DIAGONAL:
        mapped = [np.diag(A.T @ np.diag(v) @ A) for v in np.atleast_2d(covariances)]
        return np.reshape(mapped, np.shape(covariances))
    scale = abs(np.linalg.det(A)) ** (2 / A.shape[0])  # A = c Q: c**2
    return covariances * scale


def _map_precisions(precisions, covariance_type, A):
    """``inv(A.T @ inv(precision) @ A) = inv(A) @ precision @ inv(A).T``."""
    return _map_covariances(precisions, covariance_type, np.linalg.inv(A).T)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data())
def test_affine_map_of_the_data_maps_the_fit(covariance_type, data):
    problem = data.draw(
        problems(covariance_type, rows_per_parameter=5), label="problem"
    )
    # float64: any invertible map the model is closed under, without regularization;
    # float32: with regularization, so only similarities (see _affine_map)
    reg_covar = 0.0 if problem.dtype == np.float64 else REG_COVAR
    ct = problem.covariance_type
    A, b = _affine_map(problem.rng, ct, problem.n_features, reg_covar)
    scale = abs(np.linalg.det(A)) ** (2 / problem.n_features)
    start = problem.start()
    mapped_start = dict(
        weights_init=start["weights_init"],
        means_init=start["means_init"] @ A + b,
        precisions_init=_map_precisions(start["precisions_init"], ct, A),
    )
    n_steps = COMPARED_STEPS[problem.dtype]
    try:
        est = _fit_steps(problem, reg_covar=reg_covar, n_steps=n_steps)
    except ValueError as error:  # a component collapsed onto too few rows
        assert reg_covar == 0 and "ill-defined empirical covariance" in str(error)
        assume(False)
    X_mapped = (problem.X.astype(np.float64) @ A + b).astype(problem.dtype)
    mapped = _fit_steps(
        problem,
        X=X_mapped,
        reg_covar=reg_covar * scale,
        n_steps=n_steps,
        **mapped_start,
    )

    rtol, _ = _conditioned(_rtol(problem.dtype, 2e-3, 1e-7), est)
    assert relative_difference(mapped.weights_, est.weights_) < rtol
    live = _live(est)
    means = _per_component(mapped, "means_", live)
    assert relative_difference(means, est.means_[live] @ A + b) < rtol
    expected = _map_covariances(est.covariances_.astype(np.float64), ct, A)
    covariances = _per_component(mapped, "covariances_", live)
    assert (
        relative_difference(
            covariances,
            expected if get_covariance_model(ct).structure.shared else expected[live],
        )
        < rtol
    )
    # densities scale by 1 / |det A|
    log_det = math.log(abs(np.linalg.det(A)))
    bounds = np.asarray(est.lower_bounds_, dtype=np.float64) - log_det
    bound_rtol, _ = _conditioned(_rtol(problem.dtype, 1e-4, 1e-9), est)
    tol = bound_rtol * (1 + np.max(np.abs(bounds)))
    np.testing.assert_allclose(mapped.lower_bounds_, bounds, rtol=0, atol=tol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data())
def test_integer_weights_equal_repeated_rows(covariance_type, data):
    problem = data.draw(problems(covariance_type), label="problem")
    weights = problem.rng.integers(0, 4, size=problem.n_samples)
    # enough rows with a positive weight to fit, and one of them as each start mean
    weights[: problem.n_components] = np.maximum(weights[: problem.n_components], 1)
    assume(weights.sum() >= 2)
    start = problem.start(np.random.default_rng(0))
    start["means_init"] = problem.X[: problem.n_components].astype(np.float64)
    n_steps = COMPARED_STEPS[problem.dtype]
    weighted = _fit_steps(problem, sample_weight=weights, n_steps=n_steps, **start)
    repeated = _fit_steps(
        problem, X=np.repeat(problem.X, weights, axis=0), n_steps=n_steps, **start
    )
    _assert_fits_agree(weighted, repeated, rtol=_rtol(problem.dtype, 1e-3, 1e-8))


# --------------------------------------------------------------------------------
# (h) information criteria


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@given(data=st.data(), weighted=st.booleans())
def test_bic_and_aic_count_the_free_parameters(covariance_type, data, weighted):
    problem = data.draw(problems(covariance_type), label="problem")
    est = _fit_steps(problem, n_steps=3)
    p = _n_parameters(problem.covariance_type, problem.n_components, problem.n_features)
    sample_weight, n = None, problem.n_samples
    if weighted:
        sample_weight = problem.rng.integers(0, 4, size=problem.n_samples)
        sample_weight[0] = 1
        n = int(sample_weight.sum())
    log_likelihood = est.score(problem.X, sample_weight=sample_weight) * n
    assert est.bic(problem.X, sample_weight=sample_weight) == pytest.approx(
        -2 * log_likelihood + p * math.log(n), rel=1e-12, abs=1e-9
    )
    assert est.aic(problem.X, sample_weight=sample_weight) == pytest.approx(
        -2 * log_likelihood + 2 * p, rel=1e-12, abs=1e-9
    )
