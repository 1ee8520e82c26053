"""Rows in blocks: how a pass cuts them, the scratch arrays its blocks reuse, the
products over their rows, and the data's mean taken block by block."""

import numpy as np
import pytest

from sklearn_em_gmm._workspace import Workspace
from sklearn_em_gmm.covariance import get_covariance_model
from sklearn_em_gmm.engine import _blocks as blocks_module
from sklearn_em_gmm.engine import data_mean, kernel_row_blocks
from sklearn_em_gmm.kernels import QuadraticKernel
from sklearn_em_gmm.kernels._products import (
    piece_rows,
    product_by_columns,
    row_products,
    sum_of_row_products,
)


def _diagonal_quadratic_kernel(n_features, dtype=np.float64):
    """The quadratic kernel of the diagonal model, centred on the origin."""
    model = get_covariance_model("diag")
    layout = model.statistics_layout
    return QuadraticKernel(n_features, layout.form, layout, np.zeros(n_features), dtype)


def test_workspace_reuses_an_array_per_name_and_dtype():
    workspace = Workspace()
    first = workspace.empty("a", (3, 4), np.float64)
    assert first.shape == (3, 4) and first.flags.c_contiguous
    assert np.shares_memory(first, workspace.empty("a", (2, 5), np.float64))
    assert not np.shares_memory(first, workspace.empty("b", (3, 4), np.float64))
    assert workspace.empty("a", (3, 4), np.float32).dtype == np.float32
    larger = workspace.empty("a", (5, 4), np.float64)
    assert larger.shape == (5, 4) and not np.shares_memory(first, larger)


@pytest.mark.parametrize("n_features", [6, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_row_blocks_bound_temporaries_and_expanded_rows(n_features, dtype):
    kernel = _diagonal_quadratic_kernel(n_features, dtype)
    n_components, n_samples = 64, 10**6
    blocks = list(kernel_row_blocks(kernel, n_components, n_samples))
    assert blocks[0].start == 0 and blocks[-1].stop == n_samples
    assert all(a.stop == b.start for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    rows = blocks[0].stop
    itemsize = np.dtype(dtype).itemsize
    pass_bytes = rows * (kernel.width + 3 * n_components) * itemsize
    expanded_bytes = rows * kernel.width * itemsize
    assert pass_bytes <= blocks_module._PASS_BYTES
    assert expanded_bytes <= blocks_module._EXPANDED_BYTES
    # the tighter bound is reached to within a row
    one_more = (rows + 1) * itemsize
    assert (
        one_more * (kernel.width + 3 * n_components) > blocks_module._PASS_BYTES
        or one_more * kernel.width > blocks_module._EXPANDED_BYTES
    )


def test_kernel_row_blocks_keep_at_least_256_rows(monkeypatch):
    monkeypatch.setattr(blocks_module, "_PASS_BYTES", 1)
    kernel = _diagonal_quadratic_kernel(2)
    blocks = list(kernel_row_blocks(kernel, 3, 1000))
    assert [b.stop - b.start for b in blocks] == [256, 256, 256, 232]


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


@pytest.mark.parametrize("n_rows", [0, 1000, 70000])
def test_float32_sums_of_row_products_run_in_float64_over_chunks(n_rows):
    rng = np.random.RandomState(0)
    left = rng.uniform(size=(3, n_rows)).astype(np.float32)
    right = rng.normal(size=(5, n_rows)).astype(np.float32)
    right[0] += 1e3
    total = sum_of_row_products(left, right)
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
    product = product_by_columns(left, right, out)
    assert product is out
    expected = left.astype(np.float64) @ right.astype(np.float64)
    scale = np.abs(left.astype(np.float64)) @ np.abs(right.astype(np.float64))
    assert np.all(
        np.abs(out - expected) <= 4 * n_features * np.finfo(dtype).eps * scale
    )

    expected_rows = n_rows if n_components > 16 else 1000000 // (n_components * 257)
    if n_features == 257:
        assert piece_rows(n_components, n_features, n_rows) == expected_rows

    resp = rng.uniform(size=(n_components, n_rows)).astype(dtype)
    features_first = not row_major and n_features >= n_components
    # (right @ left.T).T is F-ordered, left @ right.T C-ordered
    whole = row_products(resp, right, slice(None))
    assert whole.flags.c_contiguous != features_first
    total = sum_of_row_products(resp, right)
    assert total.dtype == np.float64 and total.flags.c_contiguous
    assert total.shape == (n_components, n_features)
    resp64, right64 = resp.astype(np.float64), right.astype(np.float64)
    scale = resp64 @ np.abs(right64).T
    error = np.abs(total - resp64 @ right64.T)
    assert np.all(error <= 4 * 256 * np.finfo(dtype).eps * scale)
