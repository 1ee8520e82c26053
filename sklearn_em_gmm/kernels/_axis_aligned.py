"""The exact kernel of diagonal and isotropic covariances.

An expanded block holds ``delta = x - mu_k`` and ``delta**2`` for every component,
each of shape (n_components, n_features, n_rows), or (n_components, n_rows,
n_features) where rows are long enough to be subtracted as they lie in X, which
spares transposing them; the densities and the moments are batched matrix-vector
products over components. The scatter about the new mean cancels little, so float32
data are computed in float32.
"""

from typing import NamedTuple

import numpy as np

from .._workspace import Workspace
from ..covariance import DIAGONAL
from ._moments import centres, copy_centred, statistics_about
from ._protocol import log_density_constants

# Features from which the means are subtracted from rows as they lie in X; below, X
# is transposed first.
ROW_MAJOR_DELTAS = 32


class AxisAlignedCoefficients(NamedTuple):
    """Means (k, d), ``-P/2`` as a (d, 1) matrix per component, constants (k, 1)."""

    means: np.ndarray
    half_precisions: np.ndarray
    constants: np.ndarray


class AxisAlignedBlock(NamedTuple):
    """``delta = x - mu_k`` and ``delta**2`` of every component."""

    deltas: np.ndarray
    squares: np.ndarray


class AxisAlignedKernel:
    """Exact log-densities and diagonal moments, per component.

    Parameters
    ----------
    n_features, n_components : int
    layout : Structure
        Of the statistics, diagonal or isotropic.
    reference : ndarray of shape (n_features,)
        A point inside the data, which scales the rows' centres (see ``centres``).
    dtype : {np.float64, np.float32}
    workspace : Workspace, optional
    """

    large_products = False

    def __init__(
        self,
        n_features,
        n_components,
        layout,
        reference,
        dtype=np.float64,
        workspace=None,
    ):
        self.workspace = workspace or Workspace()
        self.reference = reference
        self.layout = layout
        self.n_features = n_features
        self.dtype = dtype
        self.width = 2 * n_components * n_features
        self._row_major = n_features >= ROW_MAJOR_DELTAS

    def coefficients(self, components, log_offset=0.0):
        precisions = components.factors.precisions()
        constants = log_density_constants(components, log_offset)
        return AxisAlignedCoefficients(
            centres(components.means, self.reference).astype(self.dtype),
            (-0.5 * precisions[:, :, np.newaxis]).astype(self.dtype),
            constants[:, np.newaxis].astype(self.dtype),
        )

    def expand(self, X, coefficients, centred=None):
        # the rows are centred on each mean, from X itself: ``centred`` is unused
        means = coefficients.means
        k, (n_rows, d) = len(means), X.shape
        if self._row_major:
            shape = (k, n_rows, d)
            deltas = self.workspace.empty("axis_aligned.deltas", shape, self.dtype)
            data = X.astype(self.dtype, copy=False)
            np.subtract(data[np.newaxis], means[:, np.newaxis], out=deltas)
        else:
            shape = (k, d, n_rows)
            deltas = self.workspace.empty("axis_aligned.deltas", shape, self.dtype)
            rows = self.workspace.empty("axis_aligned.rows", (d, n_rows), self.dtype)
            copy_centred(rows, X, None)
            np.subtract(rows[np.newaxis], means[:, :, np.newaxis], out=deltas)
        squares = self.workspace.empty("axis_aligned.squares", shape, self.dtype)
        return AxisAlignedBlock(deltas, np.square(deltas, out=squares))

    def weighted_log_prob(self, block, coefficients):
        squares = block.squares
        n_rows = squares.shape[1] if self._row_major else squares.shape[2]
        shape = (len(coefficients.constants), n_rows)
        log_prob = self.workspace.empty("axis_aligned.log_prob", shape, self.dtype)
        # -(x - mu).T P (x - mu) / 2 = sum_j (-P_jj / 2) delta_j**2
        if self._row_major:
            np.matmul(
                squares, coefficients.half_precisions, out=log_prob[:, :, np.newaxis]
            )
        else:
            row_vectors = coefficients.half_precisions.transpose(0, 2, 1)
            np.matmul(row_vectors, squares, out=log_prob[:, np.newaxis, :])
        log_prob += coefficients.constants
        return log_prob

    def moments(self, block, resp, row_scale):
        """Per component: weight sum, ``sum r delta`` and ``sum r delta**2``."""
        weighted_resp = np.multiply(resp, row_scale, out=resp)
        if self._row_major:
            resp = weighted_resp[:, np.newaxis, :]
            first = np.matmul(resp, block.deltas)[:, 0, :]
            second = np.matmul(resp, block.squares)[:, 0, :]
        else:
            resp = weighted_resp[:, :, np.newaxis]
            first = np.matmul(block.deltas, resp)[:, :, 0]
            second = np.matmul(block.squares, resp)[:, :, 0]
        nk = weighted_resp.sum(axis=1)
        return np.hstack([nk[:, np.newaxis], first, second])

    def statistics(self, moments, coefficients):
        d = self.n_features
        nk = moments[:, 0].copy()
        first, second = moments[:, 1 : 1 + d], moments[:, 1 + d :]
        eps = np.finfo(self.dtype).eps
        means = coefficients.means.astype(np.float64)
        stats = statistics_about(means, nk, first, second, DIAGONAL, eps)
        return stats.reduce(self.layout)
