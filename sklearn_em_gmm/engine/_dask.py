"""Rows of a dask array as a data source: each chunk's sums computed where the chunk
lives, added up by a tree reduction, one ``compute`` per pass.

dask is an optional dependency (the extra ``dask``): this module imports it, and is
imported only for dask input.
"""

import operator

import dask
import numpy as np

from .._workspace import Workspace
from ._blocks import data_sum, positive_weight_rows, total_weight
from ._sources import chunk_pass


def _add(first, second):
    """``first + second``, where None (a chunk with no rows) adds nothing."""
    if first is None or second is None:
        return second if first is None else first
    return operator.add(first, second)


def tree_sum(parts):
    """The sum of delayed ``parts``, added pairwise in a balanced tree; parts may
    be None, for nothing."""
    while len(parts) > 1:
        pairs = [parts[i : i + 2] for i in range(0, len(parts), 2)]
        parts = [
            dask.delayed(_add)(*pair) if len(pair) == 2 else pair[0] for pair in pairs
        ]
    return parts[0]


def _chunk_sums(X, sample_weight):
    X, sample_weight = positive_weight_rows(X, sample_weight)
    return data_sum(X, sample_weight), total_weight(X, sample_weight)


def _chunk_pass(X, sample_weight, components, layout, shared, log_offset):
    X, sample_weight = positive_weight_rows(X, sample_weight)
    return chunk_pass(
        X, sample_weight, components, layout, shared, log_offset, Workspace()
    )


class DaskSource:
    """The rows of a dask array, chunked along rows only.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        float64 or float32, one chunk across the features.
    sample_weight : dask array of shape (n_samples,) or None
        Non-negative, chunked as ``X``'s rows.
    """

    def __init__(self, X, sample_weight=None):
        self.X = X
        self.sample_weight = sample_weight
        self.dtype = X.dtype
        self.n_samples, self.n_features = X.shape
        self._blocks = X.to_delayed().ravel().tolist()
        self._weights = (
            [None] * len(self._blocks)
            if sample_weight is None
            else sample_weight.to_delayed().ravel().tolist()
        )
        self._prepared = None

    def mean(self):
        """The rows' weighted mean in float64, shape (n_features,)."""
        parts = [
            dask.delayed(_chunk_sums)(X, w)
            for X, w in zip(self._blocks, self._weights, strict=True)
        ]
        totals = dask.compute(*parts)
        return sum(part[0] for part in totals) / sum(part[1] for part in totals)

    def prepare(self, model, reference, n_components):
        """Keep what each chunk's pass needs; chunks prepare themselves per pass."""
        self._prepared = (model, np.asarray(reference), n_components)

    def expectation(self, components, layout, log_offset, workspace):
        """One E-step pass: the :class:`PassSums` of every chunk, added up."""
        # the parameters go to the workers once, not once per chunk
        parameters = dask.delayed(components, traverse=False)
        parts = [
            dask.delayed(_chunk_pass)(
                X, w, parameters, layout, self._prepared, log_offset
            )
            for X, w in zip(self._blocks, self._weights, strict=True)
        ]
        (total,) = dask.compute(tree_sum(parts))
        return total
