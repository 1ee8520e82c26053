"""Axis-aligned covariance models: ``diag`` (VVI) and ``spherical`` (VII).

The precision Cholesky factor of a diagonal covariance is elementwise
``1 / sqrt(variance)``, so these models never factorize a matrix.
"""

import numpy as np

from ._base import CovarianceModel, ill_defined_covariance_error, register


class DiagonalCovariance(CovarianceModel):
    """Each component has its own diagonal covariance: ``Sigma_k = lambda_k A_k``."""

    name = "diag"
    mclust_code = "VVI"
    full_scatter = False

    def parameter_shape(self, n_components, n_features):
        return (n_components, n_features)

    def n_covariance_parameters(self, n_components, n_features):
        return n_components * n_features

    def estimate_covariances(self, scatter, nk, reg_covar):
        return scatter / nk[:, np.newaxis] + reg_covar

    def precisions_cholesky(self, covariances):
        if not np.all(covariances > 0.0) or not np.all(np.isfinite(covariances)):
            raise ill_defined_covariance_error(covariances.dtype)
        return 1.0 / np.sqrt(covariances)

    def precisions_cholesky_from_precisions(self, precisions):
        return np.sqrt(precisions)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky**2

    def component_precisions(self, precisions_cholesky, n_components, n_features):
        return self.precisions(precisions_cholesky)

    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        return 1.0 / precisions_cholesky**2

    def check_precisions(self, precisions):
        if np.any(precisions <= 0.0):
            raise ValueError(f"'{self.name} precision' should be positive")

    def log_det_cholesky(self, precisions_cholesky, n_features):
        return np.sum(np.log(precisions_cholesky), axis=1)

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
    isotropic = True

    def parameter_shape(self, n_components, n_features):
        return (n_components,)

    def n_covariance_parameters(self, n_components, n_features):
        return n_components

    def estimate_covariances(self, scatter, nk, reg_covar):
        return super().estimate_covariances(scatter, nk, reg_covar).mean(axis=1)

    def _per_component(self, values):
        """One variance per component: the mean of per-feature ``values``."""
        return values.mean()

    def log_det_cholesky(self, precisions_cholesky, n_features):
        return n_features * np.log(precisions_cholesky)

    def component_precisions(self, precisions_cholesky, n_components, n_features):
        precision = self.precisions(precisions_cholesky)[:, np.newaxis]
        return np.broadcast_to(precision, (n_components, n_features))


register(DiagonalCovariance())
register(SphericalCovariance())
