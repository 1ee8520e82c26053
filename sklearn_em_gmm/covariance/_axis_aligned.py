"""Axis-aligned covariance models: ``diag`` (VVI) and ``spherical`` (VII).

The precision Cholesky factor of a diagonal covariance is elementwise
``1 / sqrt(variance)``, so these models never factorize a matrix.
"""

import numpy as np

from ._base import CovarianceModel, ill_defined_covariance_error, register
from ._structure import DIAGONAL, ISOTROPIC, Structure


class DiagonalCovariance(CovarianceModel):
    """Each component has its own diagonal covariance: ``Sigma_k = lambda_k A_k``."""

    name = "diag"
    mclust_code = "VVI"
    structure = Structure(shared=False, form=DIAGONAL)

    def parameter_shape(self, n_components, n_features):
        return (n_components, n_features)

    def n_covariance_parameters(self, n_components, n_features):
        return n_components * n_features

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        return stats.scatter / nk[:, np.newaxis] + reg_covar

    def precisions_cholesky(self, covariances):
        if not np.all(covariances > 0.0) or not np.all(np.isfinite(covariances)):
            raise ill_defined_covariance_error(covariances.dtype)
        return 1.0 / np.sqrt(covariances)

    def precisions_cholesky_from_precisions(self, precisions):
        return np.sqrt(precisions)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky**2

    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        return 1.0 / precisions_cholesky**2

    def check_precisions(self, precisions):
        if np.any(precisions <= 0.0):
            raise ValueError(f"'{self.name} precision' should be positive")

    def degenerate_components(self, covariances, n_components):
        valid = (covariances > 0.0) & np.isfinite(covariances)
        return ~valid.reshape(n_components, -1).all(axis=1)

    def add_to_diagonal(self, covariances, components, amounts):
        covariances = covariances.copy()
        covariances[components] += self._per_component(amounts)
        return covariances

    def reset(self, covariances, components, variances):
        covariances = covariances.copy()
        covariances[components] = self._per_component(variances)
        return covariances

    def _per_component(self, values):
        """What a component holds of per-feature ``values``: all of them."""
        return values

    def sample(self, rng, means, covariances, counts):
        n_features = means.shape[1]
        return np.vstack(
            [
                mean + rng.standard_normal(size=(count, n_features)) * np.sqrt(cov)
                for mean, cov, count in zip(means, covariances, counts, strict=True)
            ]
        )


class SphericalCovariance(DiagonalCovariance):
    """Each component has its own single variance: ``Sigma_k = lambda_k I``."""

    name = "spherical"
    mclust_code = "VII"
    structure = Structure(shared=False, form=ISOTROPIC)

    def parameter_shape(self, n_components, n_features):
        return (n_components,)

    def n_covariance_parameters(self, n_components, n_features):
        return n_components

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        # the mean over features of each component's variances
        n_features = stats.means.shape[1]
        return stats.scatter / nk / n_features + reg_covar

    def _per_component(self, values):
        """One variance per component: the mean of per-feature ``values``."""
        return values.mean()


register(DiagonalCovariance())
register(SphericalCovariance())
