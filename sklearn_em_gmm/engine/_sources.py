"""Data sources: what the EM driver runs its passes against.

A source holds rows (and their weights) and gives, per pass, the sums of an E-step
(:class:`PassSums`): the log-likelihood sum, the weight sum and the sufficient
statistics. :class:`ArraySource` holds one array in memory; :class:`ChunkedSource`
reads row chunks one after the other (a list of arrays, or an ``np.memmap`` read
chunk by chunk, each chunk's pages released after use) and adds their sums, so that
only one chunk's blocks are in memory.
"""

import numpy as np

from ._blocks import data_mean, data_sum, positive_weight_rows, total_weight
from ._estep import expectation_pass, prepare_data
from ._mapped import mapped_chunks


class ArraySource:
    """Rows held in memory as one array.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64 or float32.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative.
    """

    def __init__(self, X, sample_weight=None):
        self.X = X
        self.sample_weight = sample_weight
        self.dtype = X.dtype
        self.n_samples, self.n_features = X.shape
        self._prepared = None

    def mean(self):
        """The rows' weighted mean in float64, shape (n_features,)."""
        return data_mean(self.X, self.sample_weight)

    def prepare(self, model, reference, n_components):
        """Compute once what every pass of a fit of ``model`` shares."""
        self._prepared = prepare_data(
            self.X, self.sample_weight, model, reference, n_components
        )

    def expectation(self, components, layout, log_offset, workspace):
        """One E-step pass (see :func:`expectation_pass`)."""
        return expectation_pass(
            self.X,
            self.sample_weight,
            components,
            layout,
            self._prepared,
            log_offset,
            workspace,
        )


class ChunkedSource:
    """Rows read chunk by chunk: a list of arrays, or one array read in row chunks.

    Parameters
    ----------
    chunks : list of ndarray of shape (n_rows_i, n_features), or array-like of \
            shape (n_samples, n_features)
        The chunks themselves (empty ones are skipped), or an array (e.g. an
        ``np.memmap``) from which ``chunk_rows`` rows at a time are read.
    sample_weights : list of ndarray of shape (n_rows_i,), or ndarray of shape \
            (n_samples,), or None
        Non-negative weights, chunked as ``chunks``. A zero weight removes its row.
    chunk_rows : int, default=None
        Rows per chunk when ``chunks`` is one array; required then.
    dtype : dtype, default=None
        The rows' dtype (float32 or float64) when ``chunks`` is one array; its own
        by default.
    weight_unit : float, default=1.0
        Divides the weights when ``chunks`` is one array.
    """

    def __init__(
        self, chunks, sample_weights=None, chunk_rows=None, dtype=None, weight_unit=1.0
    ):
        if isinstance(chunks, (list, tuple)):
            self._arrays = [chunk for chunk in chunks if len(chunk)]
            self._weights = None
            if sample_weights is not None:
                if not isinstance(sample_weights, (list, tuple)) or len(
                    sample_weights
                ) != len(chunks):
                    raise ValueError(
                        "sample_weights must be a list with one array per chunk"
                    )
                pairs = zip(sample_weights, chunks, strict=True)
                self._weights = [weights for weights, chunk in pairs if len(chunk)]
            self._chunk_rows = None
        else:
            if chunk_rows is None or chunk_rows < 1:
                raise ValueError("chunk_rows must be a positive int for one array")
            self._arrays = chunks
            self._weights = sample_weights
            self._chunk_rows = int(chunk_rows)
            self.dtype = np.dtype(chunks.dtype if dtype is None else dtype)
            self._weight_unit = weight_unit
            self.n_samples, self.n_features = chunks.shape
        if self._chunk_rows is None:
            self.dtype = self._arrays[0].dtype
            self.n_features = self._arrays[0].shape[1]
            self.n_samples = sum(len(chunk) for chunk in self._arrays)
        self._prepared = None

    def _chunks(self):
        """Yield ``(X_chunk, weights_chunk or None)``, rows of positive weight only,
        skipping chunks left empty."""
        if self._chunk_rows is None:
            weights = self._weights
            if weights is None:
                weights = [None] * len(self._arrays)
            chunks = (
                positive_weight_rows(X, sample_weight)
                for X, sample_weight in zip(self._arrays, weights, strict=True)
            )
        else:
            chunks = mapped_chunks(
                self._arrays,
                self._weights,
                self._chunk_rows,
                self.dtype,
                self._weight_unit,
            )
        for X, sample_weight in chunks:
            if len(X):
                yield X, sample_weight

    def mean(self):
        """The rows' weighted mean in float64, shape (n_features,)."""
        total, weight = np.zeros(self.n_features), 0.0
        for X, sample_weight in self._chunks():
            total += data_sum(X, sample_weight)
            weight += total_weight(X, sample_weight)
        return total / weight

    def prepare(self, model, reference, n_components):
        """Keep what each chunk's pass needs; chunks prepare themselves as they are
        read, so that nothing is kept per chunk."""
        self._prepared = (model, reference, n_components)

    def expectation(self, components, layout, log_offset, workspace):
        """The sums of one E-step pass over every chunk."""
        total = None
        for X, sample_weight in self._chunks():
            sums = chunk_pass(
                X,
                sample_weight,
                components,
                layout,
                self._prepared,
                log_offset,
                workspace,
            )
            total = sums if total is None else total + sums
        return total


def chunk_pass(X, sample_weight, components, layout, shared, log_offset, workspace):
    """The :class:`PassSums` of one chunk of rows, prepared as it is read so that
    nothing is kept per chunk between passes; None for a chunk with no rows.

    ``shared`` is ``(model, reference, n_components)``, what the chunks' passes
    share (see :func:`prepare_data`).
    """
    if len(X) == 0:
        return None
    model, reference, n_components = shared
    prepared = prepare_data(
        X, sample_weight, model, reference, n_components, keep_centred=False
    )
    return expectation_pass(
        X, sample_weight, components, layout, prepared, log_offset, workspace
    )
