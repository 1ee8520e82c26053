"""mclust's axis-aligned models beyond sklearn's: EII, EEI, VEI and EVI.

Covariances are diagonal (``D_k = I``) and stored as sklearn stores its own: one
shared variance, shape (1,) (EII); one shared diagonal, (d,) (EEI); a diagonal per
component, (k, d) (VEI, EVI). The M-steps read diagonal scatter, pooled for the
shared models.
"""

import numpy as np

from ._axis_aligned import DiagonalCovariance
from ._base import register
from ._parsimonious import ParsimoniousModel
from ._solvers import common_shape, unit_determinant
from ._structure import DIAGONAL, ISOTROPIC, Structure


class EqualSphericalCovariance(ParsimoniousModel, DiagonalCovariance):
    """One variance for every component and feature: ``Sigma_k = lambda I`` (EII).

    ``covariances_`` has shape (1,): no component axis (shared), no feature axis
    (isotropic), but one entry, since ``precisions_init`` must be array-like.
    """

    name = "EII"
    mclust_code = "EII"
    structure = Structure(shared=True, form=ISOTROPIC)

    def parameter_shape(self, n_components, n_features):
        return (1,)

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        # the pooled scatter's trace over the total weight, per feature
        n_features = stats.means.shape[1]
        variance = stats.scatter / (nk.sum() * n_features) + reg_covar
        return np.reshape(variance, (1,))

    def degenerate_components(self, covariances, n_components):
        valid = np.all(covariances > 0.0) and np.all(np.isfinite(covariances))
        return np.full(n_components, not valid)

    def add_to_diagonal(self, covariances, components, amounts):
        # the one variance serves every component: it takes the mean amount
        if not components.any():
            return covariances
        return covariances + self._shared_amount(amounts)

    def _shared_amount(self, amounts):
        return np.mean(amounts)

    def reset(self, covariances, components, variances):
        # nothing is a component's own
        return covariances

    def sample(self, rng, means, covariances, counts):
        return super().sample(
            rng, means, np.broadcast_to(covariances, means.shape), counts
        )


class EqualDiagonalCovariance(EqualSphericalCovariance):
    """One diagonal covariance for every component: ``Sigma_k = lambda A`` (EEI),
    shape (d,)."""

    name = "EEI"
    mclust_code = "EEI"
    structure = Structure(shared=True, form=DIAGONAL)

    def parameter_shape(self, n_components, n_features):
        return (n_features,)

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        # the pooled scatter's diagonal over the total weight
        return stats.scatter / nk.sum() + reg_covar

    def _shared_amount(self, amounts):
        return amounts


class CommonShapeDiagonalCovariance(ParsimoniousModel, DiagonalCovariance):
    """Own volumes, one diagonal shape: ``Sigma_k = lambda_k A`` (VEI).

    The M-step alternates ``lambda_k = mean(w_k / A) / n_k`` and
    ``A ~ sum_k w_k / lambda_k`` (``det A = 1``) on the regularised diagonal
    scatter ``w_k`` (:func:`~._solvers.common_shape`), from the previous shape.
    """

    name = "VEI"
    mclust_code = "VEI"
    structure = Structure(shared=False, form=DIAGONAL)

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        variances = stats.scatter + nk[:, np.newaxis] * reg_covar
        n_components, n_features = variances.shape
        factors = self.previous_factors(previous, n_components, n_features)
        start = None if factors is None else factors[1][0]
        volumes, shape = common_shape(self.mclust_code, variances, nk, start)
        if volumes is None:  # singular: the ill-defined covariance error follows
            return variances / nk[:, np.newaxis]
        return volumes[:, np.newaxis] * shape


class CommonVolumeDiagonalCovariance(ParsimoniousModel, DiagonalCovariance):
    """One volume, own diagonal shapes: ``Sigma_k = lambda A_k`` (EVI).

    Closed form: with ``g_k = det(w_k)**(1/d)`` of the regularised diagonal
    scatter, ``A_k = w_k / g_k`` and ``lambda = sum_k g_k / n``.
    """

    name = "EVI"
    mclust_code = "EVI"
    structure = Structure(shared=False, form=DIAGONAL)

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        variances = stats.scatter + nk[:, np.newaxis] * reg_covar
        with np.errstate(divide="ignore"):
            scales = np.exp(np.mean(np.log(variances), axis=1))  # g_k
        # a component without variance along a feature keeps its singular
        # estimate: the ill-defined covariance error follows
        singular = scales == 0
        volume = np.sum(scales) / nk.sum()
        covariances = np.empty_like(variances)
        covariances[~singular] = volume * unit_determinant(variances[~singular])
        covariances[singular] = variances[singular] / nk[singular, np.newaxis]
        return covariances


register(EqualSphericalCovariance())
register(EqualDiagonalCovariance())
register(CommonShapeDiagonalCovariance())
register(CommonVolumeDiagonalCovariance())
