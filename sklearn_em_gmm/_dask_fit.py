"""GaussianMixture on dask arrays: the rows a fit reads, and lazy predictions.

The fit (:func:`~sklearn_em_gmm._out_of_core.fit_out_of_core`) runs the in-memory EM
over a :class:`~sklearn_em_gmm.engine._dask.DaskSource`: each pass computes every
chunk's statistics where the chunk lives and adds them up, one ``compute`` per
E-step. dask is imported only here, for dask input.
"""

import copy
import math

import numpy as np
from sklearn.utils import assert_all_finite

from ._validation import check_sample_weight


def is_dask_array(X):
    """Whether ``X`` is a dask array; dask is not imported for other input."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "to_delayed")


def _rows(X, n_features=None):
    """``X`` as a float dask array with one chunk across its columns."""
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got one of shape {X.shape}.")
    if any(math.isnan(size) for size in X.shape):
        X = X.compute_chunk_sizes()
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but GaussianMixture is expecting "
            f"{n_features} features as input."
        )
    return da.asarray(X).rechunk({1: -1})


def _weights(sample_weight, X):
    """``sample_weight`` as a dask array chunked as ``X``'s rows, or None."""
    import dask.array as da

    if sample_weight is None:
        return None
    weights = da.asarray(sample_weight).astype(np.float64)
    if any(math.isnan(size) for size in weights.shape):
        weights = weights.compute_chunk_sizes()
    if weights.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight.shape == {weights.shape}, expected ({X.shape[0]},)!"
        )
    return weights.rechunk((X.chunks[0],))


class DaskRows:
    """The rows of a dask array (and a dask or numpy ``sample_weight``) as
    :func:`~sklearn_em_gmm._out_of_core.fit_out_of_core` reads them."""

    def __init__(self, estimator, X, sample_weight):
        self.X = _rows(X)
        self._weights = _weights(sample_weight, self.X)
        self.n_samples, self.n_features = self.X.shape
        self.dtype = self.X.dtype
        self._mean_weight = 1.0
        self._estimator_name = type(estimator).__name__
        estimator.n_features_in_ = self.n_features
        estimator.__dict__.pop("feature_names_in_", None)

    def check(self):
        """One pass: reject non-finite data and bad weights; the weights' sum and
        the number of rows of positive weight."""
        import dask
        import dask.array as da

        weights = self._weights
        checks = [da.isnan(self.X).any(), da.isinf(self.X).any()]
        if weights is not None:
            checks += [
                da.isnan(weights).any(),
                da.isinf(weights).any(),
                (weights < 0).any(),
                weights.sum(),
                (weights > 0).sum(),
            ]
        results = dask.compute(*checks)
        # the in-memory messages, in the in-memory order: raised by the same checks
        # of one offending value
        for found, value in zip(results[:2], (np.nan, np.inf), strict=True):
            if found:
                assert_all_finite(
                    np.array([value], dtype=self.dtype),
                    estimator_name=self._estimator_name,
                    input_name="X",
                )
        if weights is None:
            return self.n_samples, self.n_samples
        nan, inf, negative, total, positive = results[2:]
        for found, value in zip(
            (nan, inf, negative), (np.nan, np.inf, -1.0), strict=True
        ):
            if found:
                check_sample_weight(np.array([value]), 1)
        if positive == 0:
            check_sample_weight(np.zeros(1), 1)
        self._mean_weight = float(total) / int(positive)
        return float(total), int(positive)

    def _relative_weights(self):
        if self._weights is None:
            return None
        return self._weights / self._mean_weight  # as in memory: mean one

    def source(self):
        from .engine._dask import DaskSource

        return DaskSource(self.X, self._relative_weights())

    def positive_rows(self, ranks):
        if self._weights is None:
            return ranks
        import dask

        from .engine._mapped import positive_rows

        blocks = self._weights.to_delayed().ravel().tolist()
        sizes = self._weights.chunks[0]
        counts = dask.compute(*(dask.delayed(np.count_nonzero)(b > 0) for b in blocks))
        seen = np.concatenate([[0], np.cumsum(counts)])
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        bounds = np.searchsorted(ranks, seen)
        parts = [
            dask.delayed(positive_rows)(block, ranks[low:high] - first, size) + offset
            for block, size, first, offset, low, high in zip(
                blocks, sizes, seen, offsets, bounds, bounds[1:], strict=False
            )
            if low < high
        ]
        return np.concatenate([np.empty(0, np.intp), *dask.compute(*parts)])

    def read(self, rows):
        weights = self._relative_weights()
        return (
            np.asarray(self.X[rows]),
            None if weights is None else np.asarray(weights[rows]),
        )

    def scatter(self, reference):
        centred = self.X.astype(np.float64) - reference
        if self._weights is None:
            weighted = centred
        else:
            weighted = centred * self._weights[:, None]
        return np.asarray((weighted.T @ centred).compute())

    def labels(self, estimator):
        return map_rows(estimator, self.X, "predict")


def _apply(block, estimator, method):
    if len(block) == 0:  # an empty chunk, e.g. after a boolean mask
        shape = (0, estimator.n_components) if method == "predict_proba" else (0,)
        dtype = np.intp if method == "predict" else estimator.means_.dtype
        return np.empty(shape, dtype=np.result_type(dtype, block.dtype))
    return getattr(estimator, method)(block)


def map_rows(estimator, X, method):
    """``estimator.<method>`` of every chunk of ``X``, lazily: a dask array."""
    X = _rows(X, estimator.n_features_in_)
    # the tasks carry the parameters, not the lazy labels of a dask fit
    estimator = copy.copy(estimator)
    estimator.__dict__.pop("labels_", None)
    dtype = np.result_type(X.dtype, estimator.means_.dtype)
    if method == "predict_proba":
        return X.map_blocks(
            _apply,
            estimator,
            method,
            dtype=dtype,
            chunks=(X.chunks[0], (estimator.n_components,)),
        )
    dtype = np.intp if method == "predict" else dtype
    return X.map_blocks(_apply, estimator, method, dtype=dtype, drop_axis=1)


def mean_log_likelihood(estimator, X, sample_weight):
    """Weighted mean log-likelihood of the dask array ``X`` and its total weight,
    one pass."""
    import dask

    log_prob = map_rows(estimator, X, "score_samples")
    weights = _weights(sample_weight, _rows(X))
    if weights is None:
        mean, total = dask.compute(log_prob.mean(), log_prob.shape[0])
        return float(mean), total
    kept = weights > 0  # a zero weight removes the row, even at -inf
    weighted = (log_prob * weights)[kept].sum()
    total, weighted = dask.compute(weights.sum(), weighted)
    return float(weighted / total), float(total)
