"""GaussianMixture on an ``np.memmap`` of more rows than ``init_sample_size``: the
rows its fit reads, chunk by chunk, each chunk's pages released once used.

A smaller map is read as an in-memory array. A larger one is fitted out of core
(:func:`~sklearn_em_gmm._out_of_core.fit_out_of_core`): values and weights are
checked a chunk at a time, the start reads a sample of rows, every pass reads the
map chunk by chunk, and no ``labels_`` (one integer per row) are kept.
"""

import numpy as np
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from ._validation import check_sample_weight
from .engine import row_blocks
from .engine._mapped import chunk_rows, mapped_chunks, read_rows, release_pages
from .engine._sources import ChunkedSource


def is_large_memmap(X, init_sample_size):
    """Whether ``X`` is an ``np.memmap`` to fit out of core: 2-d, with more rows
    than ``init_sample_size``."""
    return isinstance(X, np.memmap) and X.ndim == 2 and X.shape[0] > init_sample_size


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
        self.dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        self.dtype = np.dtype(self.dtype)
        self._chunk_rows = chunk_rows(self.n_features, self.dtype)
        if sample_weight is not None:
            if np.isscalar(sample_weight):
                sample_weight = np.full(self.n_samples, sample_weight)
            elif not isinstance(sample_weight, np.ndarray):
                sample_weight = np.asarray(sample_weight)
            if sample_weight.shape != (self.n_samples,):
                raise ValueError(
                    f"sample_weight.shape == {sample_weight.shape}, expected "
                    f"({self.n_samples},)!"
                )
        self._weights = sample_weight
        self._mean_weight = 1.0

    def check(self):
        """One pass: reject non-finite data and bad weights; the weights' sum and
        the number of rows of positive weight."""
        total, positive = 0.0, 0
        for start in range(0, self.n_samples, self._chunk_rows):
            rows = slice(start, start + self._chunk_rows)
            X_view = self.X[rows]
            assert_all_finite(
                X_view, estimator_name=self._estimator_name, input_name="X"
            )
            release_pages(X_view)
            if self._weights is not None:
                weight_view = self._weights[rows]
                weights = check_sample_weight(
                    weight_view, len(weight_view), require_positive=False
                )
                release_pages(weight_view)
                total += float(weights.sum())
                positive += int(np.count_nonzero(weights))
        if self._weights is None:
            return self.n_samples, self.n_samples
        if positive == 0:
            check_sample_weight(np.zeros(1), 1)  # raises its message
        self._mean_weight = total / positive
        return total, positive

    def source(self):
        return ChunkedSource(
            self.X,
            self._weights,
            chunk_rows=self._chunk_rows,
            dtype=self.dtype,
            weight_unit=self._mean_weight,
        )

    def read(self, rows):
        if isinstance(rows, slice):
            rows = np.arange(self.n_samples)[rows]
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
