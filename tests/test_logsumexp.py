"""Log-sum-exp over components: responsibilities, log p(x) and the most likely
component, against scipy and numpy, including rows no component explains."""

import numpy as np
import pytest
from scipy import special

from sklearn_em_gmm.engine import (
    component_argmax,
    exponentiate_below_bound,
    normalize_log_prob,
)


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
