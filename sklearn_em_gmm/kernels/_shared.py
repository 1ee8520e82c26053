"""The fast kernel of a covariance shared by all components.

With ``x~ = x - c``, ``z = U.T x~`` and ``v_k = U.T mu~_k``::

    -(x - mu_k).T P (x - mu_k) / 2 = -||z||**2 / 2 + v_k.T z - ||v_k||**2 / 2

so with ``[z; -||z||**2 / 2; 1]`` the log-densities are one product. The M-step needs
only the pooled scatter ``sum w x~ x~.T - sum_k nk m~_k m~_k.T``: each row's
responsibilities sum to its weight ``w``, so its first term is the data's second
moment about ``c``, the same in every iteration (sklearn's ``X.T @ X``), given as
``second_moment``; only the first moments ``resp @ x~.T`` are left to each pass.
"""

from typing import NamedTuple

import numpy as np

from .._workspace import Workspace
from ..covariance import FULL, Structure
from ..stats import SufficientStatistics
from ._moments import copy_centred, floor_scatter
from ._products import product_by_columns, project, sum_of_row_products
from ._protocol import log_density_constants


class SharedCoefficients(NamedTuple):
    """``factor``: the shared ``U`` (d, d); ``weights``: ``[v_k, 1, constant_k]``."""

    factor: np.ndarray
    weights: np.ndarray


class SharedBlock(NamedTuple):
    """``centred_ones``: ``[x~; 1]``; ``features``: ``[z; -||z||**2 / 2; 1]``."""

    centred_ones: np.ndarray
    features: np.ndarray


class SharedPrecisionKernel:
    """Log-densities and pooled statistics under one shared precision.

    Parameters
    ----------
    n_features : int
    layout : Structure
        Of the statistics: pooled, in any form.
    reference : ndarray of shape (n_features,)
    dtype : {np.float64, np.float32}
    second_moment : ndarray of shape (n_features, n_features), optional
        ``sum w x~ x~.T`` of all the rows the pass will see, in float64; only
        :meth:`statistics` needs it.
    workspace : Workspace, optional
    """

    large_products = False

    def __init__(
        self,
        n_features,
        layout,
        reference,
        dtype=np.float64,
        second_moment=None,
        workspace=None,
    ):
        self.workspace = workspace or Workspace()
        self.layout = layout
        self.n_features = n_features
        # rounded to the arithmetic's dtype, so that expansion and moments agree
        self.reference = np.asarray(reference, dtype=dtype).astype(np.float64)
        self.dtype = dtype
        self.second_moment = second_moment
        self.width = 2 * n_features + 3

    def expand(self, X, coefficients, centred=None):
        """``[x~; 1]`` and ``[z; -||z||**2 / 2; 1]``, each of shape (d + 2, n_rows).

        ``centred`` is ``(X - c).T`` if already computed (see ``centred_data``).
        """
        d, n_rows = self.n_features, X.shape[0]
        shape = (d + 1, n_rows)
        centred_ones = self.workspace.empty("shared.centred", shape, self.dtype)
        copy_centred(centred_ones[:d], X, self.reference, centred)
        centred_ones[-1] = 1.0
        shape = (d + 2, n_rows)
        features = self.workspace.empty("shared.features", shape, self.dtype)
        project(coefficients.factor, centred_ones[:d], out=features[:d])
        np.einsum("in,in->n", features[:d], features[:d], out=features[d])
        features[d] *= -0.5
        features[-1] = 1.0
        return SharedBlock(centred_ones, features)

    def coefficients(self, components, log_offset=0.0):
        factor = components.factors.as_matrices()[0].astype(np.float64)
        projected_means = (
            components.means.astype(np.float64) - self.reference
        ) @ factor
        constants = log_density_constants(components, log_offset)
        constants -= 0.5 * np.sum(projected_means**2, axis=1)
        ones = np.ones((len(constants), 1))
        weights = np.hstack([projected_means, ones, constants[:, np.newaxis]])
        return SharedCoefficients(factor.astype(self.dtype), weights.astype(self.dtype))

    def weighted_log_prob(self, block, coefficients):
        shape = (len(coefficients.weights), block.features.shape[1])
        log_prob = self.workspace.empty("shared.log_prob", shape, self.dtype)
        return product_by_columns(coefficients.weights, block.features, log_prob)

    def moments(self, block, resp, row_scale):
        """``[sum r_k x~, nk]`` of each component, shape (k, d + 1)."""
        resp *= row_scale
        return sum_of_row_products(resp, block.centred_ones)

    def statistics(self, moments, coefficients):
        if self.second_moment is None:
            raise ValueError("the pooled scatter needs the data's second moment")
        d = self.n_features
        nk = moments[:, d].copy()
        centred_means = np.divide(
            moments[:, :d],
            nk[:, np.newaxis],
            out=np.zeros((len(nk), d)),
            where=nk[:, None] > 0,
        )
        between = np.einsum("k,ki,kj->ij", nk, centred_means, centred_means)
        scatter = self.second_moment - between
        floor_scatter(scatter, self.second_moment, np.finfo(self.dtype).eps)
        pooled = Structure(shared=True, form=FULL)
        stats = SufficientStatistics(
            nk, centred_means + self.reference, scatter, pooled
        )
        return stats.reduce(self.layout)
