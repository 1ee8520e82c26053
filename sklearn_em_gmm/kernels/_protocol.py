"""The kernel protocol and what a kernel reads of the mixture.

A kernel computes, block of rows by block of rows, the weighted log-densities of
every component and the moments that the sufficient statistics come from. The EM
passes use it in five steps:

1. ``coefficients(components, log_offset)``, once per pass: what the log-densities
   are made of, shifted down by ``log_offset``;
2. ``expand(X_rows, coefficients, centred)``: the block, built once;
3. ``weighted_log_prob(block, coefficients)``: ``log w_k + log N(x | mu_k, Sigma_k)
   - log_offset``, shape (n_components, n_rows), component-major so that reductions
   over components run along contiguous rows;
4. ``moments(block, resp, row_scale)``: moments of the block under the
   responsibilities ``resp * row_scale`` (``resp`` is spent), additive over blocks;
5. ``statistics(moments, coefficients)``: :class:`SufficientStatistics` of the
   summed moments, in the kernel's ``layout``.
"""

import functools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..covariance import PrecisionFactors, Structure
from ..stats import SufficientStatistics


@dataclass(frozen=True, eq=False)
class Components:
    """A mixture's parameters as the kernels read them.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    factors : PrecisionFactors
    """

    weights: np.ndarray
    means: np.ndarray
    factors: PrecisionFactors

    @classmethod
    def of(cls, params, model):
        """The components of ``params`` (MixtureParameters) under ``model``."""
        n_components, n_features = params.means.shape
        factors = model.precision_factors(
            params.precisions_cholesky, n_components, n_features
        )
        return cls(params.weights, params.means, factors)

    @property
    def structure(self):
        return self.factors.structure

    @functools.cached_property
    def log_constants(self):
        """``log w_k + log det U_k - d log(2 pi) / 2`` of each component (k,), in
        float64: computed once, read-only."""
        weights = self.weights.astype(np.float64)
        if weights.all():
            log_weights = np.log(weights)
        else:  # a zero initial weight is a valid -inf
            log_weights = np.full_like(weights, -np.inf)
            np.log(weights, out=log_weights, where=weights > 0)
        log_weights += self.factors.log_det
        log_weights -= 0.5 * self.means.shape[1] * math.log(2 * math.pi)
        log_weights.flags.writeable = False
        return log_weights

    def subset(self, components):
        """The masked ``components`` (a boolean mask)."""
        return Components(
            self.weights[components],
            self.means[components],
            self.factors.subset(components),
        )


class Kernel(Protocol):
    """What every kernel provides (see the module's docstring for the steps).

    Attributes
    ----------
    width : int
        Floats per row of an expanded block.
    dtype : numpy dtype
        Of the arithmetic; moments are summed in float64.
    large_products : bool
        Whether its products are large enough to use BLAS threads.
    layout : Structure
        The layout of the statistics it gives.
    """

    width: int
    dtype: np.dtype
    large_products: bool
    layout: Structure

    def coefficients(self, components: Components, log_offset: float = 0.0): ...

    def expand(self, X: np.ndarray, coefficients, centred=None): ...

    def weighted_log_prob(self, block, coefficients) -> np.ndarray: ...

    def moments(self, block, resp: np.ndarray, row_scale: np.ndarray): ...

    def statistics(self, moments, coefficients) -> SufficientStatistics: ...


def log_density_constants(components, log_offset=0.0):
    """``log w_k + log det U_k - d log(2 pi) / 2 - log_offset`` for each component."""
    return components.log_constants - log_offset


def log_density_bound(components):
    """An upper bound of every weighted log-density: its largest constant.

    ``log w_k + log N(x | mu_k, Sigma_k)`` is its constant minus half a squared
    distance, so at most the constant; 0 when no constant is finite.
    """
    constants = components.log_constants
    largest = float(constants.max())
    if math.isfinite(largest):
        return largest
    finite = constants[np.isfinite(constants)]
    return float(finite.max()) if len(finite) else 0.0
