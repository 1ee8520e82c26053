"""The exact kernel of full covariances: rows centred on each component's mean.

An expanded block holds ``[x - mu_k; 1]`` for every component, shape
(n_components, d + 1, n_rows). The densities are ``||U_k.T (x - mu_k)||**2`` (one
triangular product each); the moments of each component are one symmetric product
``B B.T`` for ``B = sqrt(r_k) [x - mu_k; 1]``, whose last row holds ``nk`` and
``sum r (x - mu_k)``. The new mean moves by ``delta``, the mean of ``x - mu_k``, and
the scatter ``sum r (x - mu_k)(x - mu_k).T - nk delta delta.T`` cancels little.
"""

from typing import NamedTuple

import numpy as np

from .._workspace import Workspace
from ..covariance import FULL
from ._moments import centres, copy_centred, statistics_about
from ._products import project
from ._protocol import log_density_constants


class ComponentCoefficients(NamedTuple):
    """Means (k, d) in float64, factors ``U`` (m, d, d), constants (k, 1), and
    whether the one factor is ``shared`` by every component (m = 1)."""

    means: np.ndarray
    factors: np.ndarray
    constants: np.ndarray
    shared: bool


class ComponentKernel:
    """Exact log-densities and full moments, per component.

    Parameters
    ----------
    n_features, n_components : int
    layout : Structure
        Of the statistics, in any form.
    reference : ndarray of shape (n_features,)
        A point inside the data, which scales the rows' centres (see ``centres``).
    dtype : {np.float64, np.float32}
    workspace : Workspace, optional
    """

    large_products = True  # per-component products that use BLAS threads

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
        self.width = n_components * (n_features + 1)

    def coefficients(self, components, log_offset=0.0):
        constants = log_density_constants(components, log_offset)
        return ComponentCoefficients(
            centres(components.means, self.reference),
            np.ascontiguousarray(components.factors.as_matrices(), dtype=self.dtype),
            constants[:, np.newaxis].astype(self.dtype),
            components.structure.shared,
        )

    def expand(self, X, coefficients, centred=None):
        # the rows are centred on each mean, from X itself: ``centred`` is unused
        means = coefficients.means
        d, n_rows = self.n_features, X.shape[0]
        columns = self.workspace.empty("component.columns", (d, n_rows), self.dtype)
        copy_centred(columns, X, None)
        shape = (len(means), d + 1, n_rows)
        deltas = self.workspace.empty("component.deltas", shape, self.dtype)
        np.subtract(
            columns, means[:, :, np.newaxis].astype(self.dtype), out=deltas[:, :d]
        )
        deltas[:, d] = 1.0
        return deltas

    def weighted_log_prob(self, block, coefficients):
        d = self.n_features
        n_rows = block.shape[2]
        shape = (len(coefficients.constants), n_rows)
        log_prob = self.workspace.empty("component.log_prob", shape, self.dtype)
        projected = self.workspace.empty("component.projected", (d, n_rows), self.dtype)
        for k, centred in enumerate(block[:, :d]):
            factor = coefficients.factors[0 if coefficients.shared else k]
            project(factor, centred, out=projected)  # U_k.T (x - mu_k)
            np.einsum("in,in->n", projected, projected, out=log_prob[k])
        log_prob *= -0.5
        log_prob += coefficients.constants
        return log_prob

    def moments(self, block, resp, row_scale):
        """``sum r [x - mu_k; 1] [x - mu_k; 1].T``, shape (k, d + 1, d + 1)."""
        resp *= row_scale
        # numpy computes B @ B.T with the symmetric rank-k update: half the products
        block *= np.sqrt(resp, out=resp)[:, np.newaxis, :]
        return np.stack([component @ component.T for component in block])

    def statistics(self, moments, coefficients):
        d = self.n_features
        nk = moments[:, d, d].copy()
        second = np.ascontiguousarray(moments[:, :d, :d])
        eps = np.finfo(self.dtype).eps
        stats = statistics_about(
            coefficients.means, nk, moments[:, d, :d], second, FULL, eps
        )
        return stats.reduce(self.layout)
