"""on_degenerate='recover': the data sklearn fails on fit, with a warning per repair."""

import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, SKLEARN_COVARIANCE_TYPES
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from sklearn_em_gmm import DegenerateComponentWarning, GaussianMixture

ILL_DEFINED = "ill-defined empirical covariance"


def _degenerate_data():
    rng = np.random.RandomState(0)
    return {
        "duplicated_points": np.vstack(
            [np.tile([[1.0, 2.0]], (20, 1)), rng.normal(size=(30, 2)) + 5]
        ),
        "constant_feature": np.column_stack([rng.normal(size=60), np.full(60, 3.0)]),
        "all_rows_identical": np.full((10, 2), 3.7),
        "singleton_far_away": np.vstack([rng.normal(size=(50, 2)), [[1e3, 1e3]]]),
    }


def _raises(estimator_class, X, covariance_type):
    """Whether a default fit of ``estimator_class`` with no ``reg_covar`` fails on
    ``X`` with the ill-defined covariance error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator_class(
                3, covariance_type=covariance_type, reg_covar=0.0, random_state=0
            ).fit(X)
    except ValueError as error:
        assert ILL_DEFINED in str(error)
        return True
    return False


# the data sklearn fails on, for the models sklearn has
CASES = [
    (name, covariance_type)
    for name, X in _degenerate_data().items()
    for covariance_type in SKLEARN_COVARIANCE_TYPES
    if _raises(SklearnGaussianMixture, X, covariance_type)
]
# the data our default fit refuses, for every registered model
OUR_CASES = [
    (name, covariance_type)
    for name, X in _degenerate_data().items()
    for covariance_type in COVARIANCE_TYPES
    if _raises(GaussianMixture, X, covariance_type)
]


def test_there_are_cases_sklearn_fails_on():
    assert len(CASES) >= 8


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_model_refuses_some_degenerate_data(covariance_type):
    # identical rows leave every model's covariances zero at reg_covar=0
    assert ("all_rows_identical", covariance_type) in OUR_CASES


@pytest.mark.parametrize(("name", "covariance_type"), CASES)
def test_default_raises_like_sklearn(name, covariance_type):
    X = _degenerate_data()[name]
    gm = GaussianMixture(
        3, covariance_type=covariance_type, reg_covar=0.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=ILL_DEFINED):
            gm.fit(X)
    assert not hasattr(gm, "means_")


@pytest.mark.parametrize(
    ("name", "covariance_type"), sorted(set(CASES) | set(OUR_CASES))
)
def test_recover_fits_what_default_refuses(name, covariance_type):
    X = _degenerate_data()[name]
    gm = GaussianMixture(
        3,
        covariance_type=covariance_type,
        reg_covar=0.0,
        random_state=0,
        on_degenerate="recover",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm.fit(X)
    repairs = [w for w in caught if w.category is DegenerateComponentWarning]
    assert repairs
    for warning in repairs:
        assert "Component " in str(warning.message)
        assert "on_degenerate='recover'" in str(warning.message)
    for name_ in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        assert np.all(np.isfinite(getattr(gm, name_)))
    np.testing.assert_allclose(gm.weights_.sum(), 1.0)
    assert np.isfinite(gm.score(X))
    proba = gm.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_recover_changes_nothing_on_healthy_data(covariance_type):
    X = np.random.RandomState(1).normal(size=(200, 3))
    params = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        recovered = GaussianMixture(**params, on_degenerate="recover").fit(X)
    plain = GaussianMixture(**params).fit(X)
    for name in ["weights_", "means_", "covariances_"]:
        np.testing.assert_array_equal(getattr(recovered, name), getattr(plain, name))


def test_vanished_component_is_reseeded_and_named():
    # four components on data with two distinct points: two must vanish
    X = np.vstack([np.zeros((20, 2)), np.ones((20, 2))])
    gm = GaussianMixture(
        4, reg_covar=0.0, init_params="random", random_state=0, on_degenerate="recover"
    )
    with pytest.warns(DegenerateComponentWarning, match=r"Component \d"):
        gm.fit(X)
    assert np.all(np.isfinite(gm.precisions_cholesky_))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_variances_stay_non_negative(covariance_type):
    # scikit-learn issue #30382: raw moments in float32 gave -0.99999979 here
    X = np.array([[9999.0], [0.0]], dtype=np.float32)
    gm = GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.1).fit(X)
    covariances = np.asarray(gm.covariances_)
    assert covariances.dtype == np.float32
    np.testing.assert_allclose(covariances, 0.1, rtol=1e-5)
    assert np.all(np.isfinite(gm.predict_proba(X)))
