"""Same results as sklearn's GaussianMixture, from the same start and the same seed."""

import warnings

import numpy as np
import pytest
from conftest import DATASETS, SKLEARN_INIT_PARAMS, relative_difference
from conftest import SKLEARN_COVARIANCE_TYPES as COVARIANCE_TYPES
from mixture_cases import common_precisions
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import get_covariance_model

FITTED_ARRAYS = [
    "weights_",
    "means_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
]


def _starting_point(X, n_components, covariance_type, seed=0):
    """An independent start: random data points as means, the data's variances."""
    rng = np.random.RandomState(seed)
    n_samples, n_features = X.shape
    means = X[rng.choice(n_samples, n_components, replace=False)]
    weights = np.full(n_components, 1.0 / n_components)
    variances = X.var(axis=0) + 1e-3
    model = get_covariance_model(covariance_type)
    precisions = common_precisions(model, n_components, variances)
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn alike; tested elsewhere
        ours = GaussianMixture(**params).fit(X)
        theirs = SklearnGaussianMixture(**params).fit(X)
    return ours, theirs


def _worst_difference(ours, theirs):
    return max(
        relative_difference(getattr(ours, name), getattr(theirs, name))
        for name in FITTED_ARRAYS
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_start_gives_sklearns_fit(dataset, covariance_type):
    _, X = dataset
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        reg_covar=1e-4,
        tol=1e-6,
        max_iter=300,
        **_starting_point(X, 3, covariance_type),
    )
    ours, theirs = _fit_both(X, **params)

    assert _worst_difference(ours, theirs) < 1e-8
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_
    assert len(ours.lower_bounds_) == len(theirs.lower_bounds_)
    assert relative_difference(ours.lower_bounds_, theirs.lower_bounds_) < 1e-8
    assert relative_difference(ours.lower_bound_, theirs.lower_bound_) < 1e-8
    for name in FITTED_ARRAYS:
        assert getattr(ours, name).shape == getattr(theirs, name).shape
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_overlapping_clusters_need_many_iterations():
    # guards the data set above: the parity must be shown on a long EM run
    X = DATASETS["overlapping_blobs"]()
    ours, _ = _fit_both(
        X, n_components=3, tol=1e-6, max_iter=300, **_starting_point(X, 3, "full")
    )
    assert ours.n_iter_ > 30


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_data_offset_by_a_million_fits_like_centred_data(dataset, covariance_type):
    # sklearn's own tied/diag/spherical M-steps use raw moments and lose about
    # 1e-4 of relative precision at this offset, so the reference is sklearn's fit of
    # the centred data, shifted back.
    _, X = dataset
    offset = 1e6
    start = _starting_point(X, 3, covariance_type)
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        reg_covar=1e-4,
        tol=1e-6,
        max_iter=300,
    )
    _, theirs = _fit_both(X, **params, **start)
    shifted_start = dict(start, means_init=start["means_init"] + offset)
    ours = GaussianMixture(**params, **shifted_start).fit(X + offset)

    assert relative_difference(ours.means_ - offset, theirs.means_) < 1e-6
    for name in ["weights_", "covariances_", "precisions_", "precisions_cholesky_"]:
        assert relative_difference(getattr(ours, name), getattr(theirs, name)) < 1e-6
    assert ours.n_iter_ == theirs.n_iter_
    assert relative_difference(ours.lower_bounds_, theirs.lower_bounds_) < 1e-6


# sklearn's tied covariance from a one-point-per-component start adds the raw second
# moments of the n - k rows without responsibility (its formula assumes every row's
# responsibilities sum to one); see test_tied_start_from_data_points below.
_DIFFERENT_START = {("tied", "k-means++"), ("tied", "random_from_data")}
SEEDED_CASES = [
    (covariance_type, init_params)
    for covariance_type in COVARIANCE_TYPES
    for init_params in SKLEARN_INIT_PARAMS
    if (covariance_type, init_params) not in _DIFFERENT_START
]


@pytest.mark.parametrize("n_init", [1, 3])
@pytest.mark.parametrize(("covariance_type", "init_params"), SEEDED_CASES)
def test_same_seed_gives_sklearns_start(dataset, covariance_type, init_params, n_init):
    _, X = dataset
    params = dict(
        n_components=4,
        covariance_type=covariance_type,
        init_params=init_params,
        n_init=n_init,
        random_state=0,
        max_iter=0,
        reg_covar=1e-4,
    )
    ours, theirs = _fit_both(X, **params)
    for name in FITTED_ARRAYS:
        assert relative_difference(getattr(ours, name), getattr(theirs, name)) < 1e-6


@pytest.mark.parametrize("n_init", [1, 3])
@pytest.mark.parametrize(("covariance_type", "init_params"), SEEDED_CASES)
def test_same_seed_gives_sklearns_fit(dataset, covariance_type, init_params, n_init):
    _, X = dataset
    params = dict(
        n_components=4,
        covariance_type=covariance_type,
        init_params=init_params,
        n_init=n_init,
        random_state=0,
        reg_covar=1e-4,
        max_iter=500,
    )
    if covariance_type in ("diag", "spherical") and init_params in (
        "k-means++",
        "random_from_data",
    ):
        # From one data point per component sklearn's initial variances are
        # reg_covar + O(eps * x**2) (raw moments E[x**2] - mean**2 of a single
        # point), ours exactly reg_covar: a 1e-7 relative difference at the start.
        # Stopped at the default tol, EM leaves it amplified up to ~3e-5 (iris);
        # run to convergence, both reach the same fit.
        params["tol"] = 1e-9
    ours, theirs = _fit_both(X, **params)

    assert _worst_difference(ours, theirs) < 1e-6
    assert ours.n_iter_ == theirs.n_iter_
    assert relative_difference(ours.lower_bound_, theirs.lower_bound_) < 1e-6


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_tied_start_from_data_points(dataset, init_params):
    _, X = dataset
    params = dict(
        n_components=4,
        covariance_type="tied",
        init_params=init_params,
        random_state=0,
        reg_covar=1e-4,
    )
    ours_start, theirs_start = _fit_both(X, max_iter=0, **params)
    # the same points are drawn: same means and weights
    assert relative_difference(ours_start.means_, theirs_start.means_) < 1e-12
    assert relative_difference(ours_start.weights_, theirs_start.weights_) < 1e-12
    # our start is the pooled scatter of the chosen points, i.e. reg_covar * I
    np.testing.assert_allclose(
        ours_start.covariances_, 1e-4 * np.eye(X.shape[1]), rtol=1e-10
    )
    # sklearn's is inflated by the unselected rows' second moments
    assert np.trace(theirs_start.covariances_) > 10 * np.trace(np.cov(X.T))

    ours, theirs = _fit_both(X, **params)
    assert ours.lower_bound_ >= theirs.lower_bound_ - 1e-9


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_stays_float32_and_close_to_float64(dataset, covariance_type):
    # The same number of EM steps for both: float32's noisier lower bound would stop
    # a slow EM run elsewhere (breast_cancer, tied: 65 steps instead of 51 at tol=1e-6).
    _, X = dataset
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        reg_covar=1e-3,
        tol=0.0,
        max_iter=40,
        **_starting_point(X, 3, covariance_type),
    )
    fit64 = GaussianMixture(**params).fit(X)
    start32 = {
        name: value.astype(np.float32)
        for name, value in _starting_point(X, 3, covariance_type).items()
    }
    fit32 = GaussianMixture(**{**params, **start32}).fit(X.astype(np.float32))
    for name in FITTED_ARRAYS:
        assert getattr(fit32, name).dtype == np.float32
        assert relative_difference(getattr(fit32, name), getattr(fit64, name)) < 1e-3
    assert fit32.score_samples(X.astype(np.float32)).dtype == np.float32
    assert fit32.predict_proba(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("given", ["weights_init", "means_init", "precisions_init"])
def test_float32_data_with_float64_initial_parameters_stays_float32(
    covariance_type, given
):
    # sklearn's dtypes here are accidental: they depend on the covariance type and on
    # which parameter is given (float64 weights_ beside float32 covariances_ for
    # 'full', all float64 for 'diag'). Ours follow X.
    X = DATASETS["iris"]().astype(np.float32)
    start = _starting_point(X, 3, covariance_type)
    fit = GaussianMixture(
        n_components=3,
        covariance_type=covariance_type,
        **{given: start[given].astype(np.float64)},
    ).fit(X)
    for name in FITTED_ARRAYS:
        assert getattr(fit, name).dtype == np.float32
    assert fit.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_tiny_probabilities_are_sklearns(covariance_type):
    # three clusters far apart in their own metric, and points across them: each
    # component's probability runs from 1 through the range the fit's passes floor
    # (below e^-700 of the row's largest), the subnormal range, to zero
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(centre, 0.5, (100, 2)) for centre in (0.0, 20.0, 40.0)])
    ours, theirs = _fit_both(
        X, n_components=3, covariance_type=covariance_type, random_state=0
    )
    across = np.linspace(-5.0, 45.0, 4001)[:, np.newaxis] * np.ones(2)
    expected = theirs.predict_proba(across)
    tiny = np.finfo(np.float64).tiny
    floored_normal = (expected >= tiny) & (expected < np.exp(-700.0))
    subnormal = (expected > 0) & (expected < tiny)
    assert floored_normal.any() and subnormal.any() and (expected == 0).any()
    proba = ours.predict_proba(across)
    np.testing.assert_array_equal(proba == 0, expected == 0)
    # a probability of e^-700 carries 700 times the log-densities' rounding
    normal = expected >= tiny
    np.testing.assert_allclose(proba[normal], expected[normal], rtol=1e-8)
    # subnormals keep fewer digits the smaller they are: 5e-9 of 1e-315
    resolved = subnormal & (expected > 1e-315)
    np.testing.assert_allclose(proba[resolved], expected[resolved], rtol=1e-6)
