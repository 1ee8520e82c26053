"""Model selection over a grid: ``sklearn_em_gmm.selection``."""

import math
import warnings

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES, INIT_PARAMS
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sklearn_em_gmm import GaussianMixture, selection
from sklearn_em_gmm.selection import (
    NON_FINITE_SCORE,
    AllFitsFailedError,
    Fit,
    fit_grid,
    fit_one,
    select_best,
)

PARAMS = {"random_state": 0}


@pytest.fixture(scope="module")
def iris():
    return load_iris().data


def collapsed():
    """Three points, each repeated: with reg_covar=0, 3 full components collapse."""
    return np.repeat([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]], 10, axis=0)


def test_grid_has_one_fit_per_cell_in_grid_order(iris):
    components, covariance_types = [3, 1, 2], ["VII", "full", "diag"]
    fits = fit_grid(GaussianMixture, iris, components, covariance_types, PARAMS)
    cells = [(k, name) for k in components for name in covariance_types]
    assert list(fits) == cells
    for (k, name), fit in fits.items():
        assert (fit.n_components, fit.covariance_type) == (k, name)
        assert isinstance(fit.model, GaussianMixture)
        assert (fit.model.n_components, fit.model.covariance_type) == (k, name)
        assert fit.bic == pytest.approx(fit.model.bic(iris), abs=1e-9)


def test_select_best_takes_the_lowest_bic_and_the_first_on_ties():
    fits = {
        (1, "full"): Fit(1, "full", bic=-1e9, error="failed cells never win"),
        (1, "diag"): Fit(1, "diag", bic=5.0),
        (2, "full"): Fit(2, "full", bic=3.0),
        (2, "diag"): Fit(2, "diag", bic=4.0),
        (3, "full"): Fit(3, "full", bic=3.0),
    }
    assert select_best(fits) is fits[2, "full"]


def test_best_fit_equals_a_fit_of_the_same_cell_alone(iris):
    params = {"random_state": 1, "n_init": 2, "max_iter": 50}
    fits = fit_grid(GaussianMixture, iris, range(1, 5), COVARIANCE_TYPES, params)
    best = select_best(fits)
    alone = {
        (k, name): GaussianMixture(k, covariance_type=name, **params)
        .fit(iris)
        .bic(iris)
        for k, name in fits
    }
    assert (best.n_components, best.covariance_type) == min(alone, key=alone.get)
    assert best.bic == alone[best.n_components, best.covariance_type]


def test_a_failed_cell_is_reported_not_raised():
    X = collapsed()
    fits = fit_grid(GaussianMixture, X, [1, 3], ["full"], {"reg_covar": 0.0})
    failed = fits[3, "full"]
    assert failed.failed
    assert "ill-defined empirical covariance" in failed.error
    assert "\n" not in failed.error
    assert failed.model is None and math.isnan(failed.bic)
    assert not fits[1, "full"].failed
    assert select_best(fits) is fits[1, "full"]


def test_every_cell_failing_raises_a_value_error_with_the_first_reason():
    fits = fit_grid(GaussianMixture, collapsed(), [3], ["full"], {"reg_covar": 0.0})
    with pytest.raises(AllFitsFailedError) as info:
        select_best(fits)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == (
        "every model of the grid failed to fit; first error: " + fits[3, "full"].error
    )


def test_an_empty_grid_is_a_value_error_of_its_own():
    with pytest.raises(ValueError, match="grid is empty") as info:
        select_best({})
    assert not isinstance(info.value, AllFitsFailedError)


def test_a_non_finite_score_is_a_failed_fit(iris):
    class Overflowing(GaussianMixture):
        def score(self, X, y=None):
            return -np.inf

    fit = fit_one(Overflowing, iris, 2, "diag", PARAMS)
    assert fit.error == NON_FINITE_SCORE
    assert fit.model is None


def test_non_convergence_is_recorded_not_warned(iris):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_one(GaussianMixture, iris, 3, "full", {"max_iter": 1, **PARAMS})
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert not fit.failed
    assert fit.converged is False


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_one_start_per_n_components_gives_every_cell_its_own_fit(
    iris, init_params, monkeypatch
):
    drawn = []
    original = selection.Start.draw

    def counting_draw(*args, **kwargs):
        drawn.append(args[2])  # n_components
        return original(*args, **kwargs)

    monkeypatch.setattr(selection.Start, "draw", counting_draw)
    params = {"random_state": 3, "n_init": 2, "init_params": init_params}
    fits = fit_grid(GaussianMixture, iris, [1, 2, 3], COVARIANCE_TYPES, params)
    # n_init starts per n_components, not per cell
    assert drawn == [1, 1, 2, 2, 3, 3]
    for (k, name), fit in fits.items():
        alone = GaussianMixture(k, covariance_type=name, **params).fit(iris)
        assert fit.model.n_iter_ == alone.n_iter_
        assert fit.model.lower_bounds_ == alone.lower_bounds_
        for attribute in ("weights_", "means_", "covariances_", "labels_"):
            np.testing.assert_array_equal(
                getattr(fit.model, attribute), getattr(alone, attribute)
            )


def test_no_shared_start_where_each_fit_draws_its_own(iris):
    rng = np.random.RandomState(0)
    for params in (
        {"random_state": rng},
        {"random_state": None},
        {"random_state": 0, "warm_start": True},
        {"random_state": 0, "n_init": "two"},
    ):
        assert selection.draw_starts(iris, 2, params) is None
    assert selection.draw_starts(iris[:1], 2, {"random_state": 0}) is None
    starts = selection.draw_starts(iris, 2, {"random_state": 0, "n_init": 3})
    assert len(starts) == 3
