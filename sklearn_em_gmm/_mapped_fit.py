"""GaussianMixture on an ``np.memmap`` of more rows than ``init_sample_size``: the
rows its fit reads, chunk by chunk, each chunk's pages released once used.

A smaller map is read as an in-memory array. A larger one is fitted out of core
(:func:`~sklearn_em_gmm._out_of_core.fit_out_of_core`): values and weights are
checked a chunk at a time, the start reads a sample of rows, every pass reads the
map chunk by chunk, and no ``labels_`` (one integer per row) are kept.
"""

import os

import numpy as np
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from ._validation import check_sample_weight
from .engine import row_blocks
from .engine._mapped import (
    chunk_rows,
    mapped_chunks,
    mapped_views,
    positive_rows,
    read_rows,
)
from .engine._sources import ChunkedSource


def is_large_memmap(X, init_sample_size):
    """Whether ``X`` is an ``np.memmap`` to read out of core: 2-d, with more rows
    than ``init_sample_size``, and not one joblib made of an in-memory array for a
    worker process (so that ``n_jobs`` never changes a fit)."""
    if not (isinstance(X, np.memmap) and X.ndim == 2 and X.shape[0] > init_sample_size):
        return False
    folder = os.path.basename(os.path.dirname(X.filename or ""))
    return not folder.startswith("joblib_memmapping_folder_")


def map_chunks(estimator, X, method):
    """``estimator.<method>`` of the large map ``X``, a chunk at a time, each
    chunk's pages released once read."""
    result = None
    n_rows = chunk_rows(X.shape[1], X.dtype)
    for index, view in enumerate(mapped_views(X, n_rows)):
        # a plain array: read in memory, not out of core again
        part = getattr(estimator, method)(np.asarray(view))
        if result is None:
            result = np.empty((X.shape[0],) + part.shape[1:], dtype=part.dtype)
        result[index * n_rows : index * n_rows + len(part)] = part
    return result


class MappedRows:
    """The rows of an ``np.memmap`` (and ``sample_weight``, in memory or mapped) as
    :func:`~sklearn_em_gmm._out_of_core.fit_out_of_core` reads them."""

    def __init__(self, estimator, X, sample_weight):
        # shape, features and dtype kind checked without reading the values
        validate_data(
            estimator, X, dtype=None, ensure_all_finite=False, ensure_min_samples=2
        )
        self._estimator_name = type(estimator).__name__
        self.X = X
        self.n_samples, self.n_features = X.shape
        floating = X.dtype in (np.float32, np.float64)
        self.dtype = X.dtype if floating else np.dtype(np.float64)
        self._chunk_rows = chunk_rows(self.n_features, self.dtype)
        self._weights = _as_weights(sample_weight, self.n_samples)
        self._mean_weight = 1.0

    def check(self):
        """Reject non-finite data, then bad weights, as in memory (a pass over X
        and two over the weights); the weights' sum and the number of rows of
        positive weight."""
        for view in mapped_views(self.X, self._chunk_rows):
            assert_all_finite(
                np.asarray(view, dtype=self.dtype),
                estimator_name=self._estimator_name,
                input_name="X",
            )
        if self._weights is None:
            return self.n_samples, self.n_samples
        total, positive = _checked_weights(
            self._weights, self.n_samples, self._chunk_rows
        )
        self._mean_weight = total / positive
        return total, positive

    def positive_rows(self, ranks):
        if self._weights is None:
            return ranks
        return positive_rows(self._weights, ranks, self._chunk_rows)

    def source(self):
        return ChunkedSource(
            self.X,
            self._weights,
            chunk_rows=self._chunk_rows,
            dtype=self.dtype,
            weight_unit=self._mean_weight,
        )

    def read(self, rows):
        sample = read_rows(self.X, rows, self._chunk_rows, self.dtype)
        if self._weights is None:
            return sample, None
        weights = read_rows(self._weights, rows, self._chunk_rows, np.float64)
        return sample, weights / self._mean_weight

    def scatter(self, reference):
        scatter = np.zeros((self.n_features, self.n_features))
        for X, weights in mapped_chunks(
            self.X, self._weights, self._chunk_rows, self.dtype
        ):
            for rows in row_blocks(X.shape[0], 2 * self.n_features):
                centred = X[rows] - reference  # in float64
                weighted = centred if weights is None else centred * weights[rows, None]
                scatter += weighted.T @ centred
        return scatter

    def labels(self, estimator):
        return None


def _as_weights(sample_weight, n_samples):
    """``sample_weight`` as an array (a scalar repeated), or None; not checked."""
    if sample_weight is None:
        return None
    if np.isscalar(sample_weight):
        return np.full(n_samples, sample_weight)
    if isinstance(sample_weight, np.ndarray):
        return sample_weight
    return np.asarray(sample_weight)


def _checked_weights(weights, n_samples, n_rows):
    """The in-memory checks of the weights (shape, values, signs, not all zero),
    read ``n_rows`` at a time: their sum and the number of positive ones."""
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {weights.shape}, expected ({n_samples},)!"
        )
    for view in mapped_views(weights, n_rows):
        assert_all_finite(
            np.asarray(view, dtype=np.float64), input_name="sample_weight"
        )
    total, positive = 0.0, 0
    for view in mapped_views(weights, n_rows):
        checked = check_sample_weight(view, len(view), require_positive=False)
        total += float(checked.sum())
        positive += int(np.count_nonzero(checked))
    if positive == 0:
        check_sample_weight(np.zeros(1), 1)  # raises its message
    return total, positive


def mean_log_likelihood(estimator, X, sample_weight):
    """Weighted mean log-likelihood of the large map ``X`` and the total weight
    behind it, a chunk at a time, with the in-memory errors in the in-memory order:
    X's, then the weights'."""
    n_rows = chunk_rows(X.shape[1], X.dtype)
    weights = _as_weights(sample_weight, X.shape[0])
    weight_views = None
    if weights is not None and weights.shape == (X.shape[0],):
        weight_views = mapped_views(weights, n_rows)
    log_likelihood = 0.0
    with np.errstate(invalid="ignore", over="ignore"):  # bad weights raise below
        for view in mapped_views(X, n_rows):
            log_prob = estimator.score_samples(np.asarray(view))
            if weight_views is None:
                log_likelihood += float(log_prob.sum())
            else:
                chunk = np.asarray(next(weight_views), dtype=np.float64)
                positive = chunk > 0  # a zero weight removes the row, even at -inf
                log_likelihood += float(chunk[positive] @ log_prob[positive])
    if weights is None:
        return log_likelihood / X.shape[0], X.shape[0]
    total = _checked_weights(weights, X.shape[0], n_rows)[0]
    return log_likelihood / total, total
