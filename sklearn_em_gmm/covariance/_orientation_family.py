"""mclust's rotated-ellipsoid models beyond sklearn's: VEE, EVE, VVE, EEV, VEV, EVV.

Covariances are general matrices stored as sklearn's ``full``, (k, d, d), with
upper-triangular precision factors; the M-steps read each component's full
scatter. The first three share one orientation ``D`` (Flury's common principal
components when only ``D`` is shared, VVE); the last three give each component its
own, the eigenvectors of its scatter.
"""

import numpy as np

from ._base import register
from ._ellipsoidal import FullCovariance
from ._parsimonious import ParsimoniousModel
from ._solvers import common_matrix, common_orientation, common_shape, from_axes
from ._structure import FULL, Structure


def _regularised(stats, nk, reg_covar):
    """Each component's scatter plus ``n_k reg_covar I`` (k, d, d)."""
    scatters = stats.scatter.copy()
    n_features = scatters.shape[1]
    diagonal = np.arange(n_features)
    scatters[:, diagonal, diagonal] += nk[:, np.newaxis] * reg_covar
    return scatters


def _singular_estimate(scatters, nk):
    """The unconstrained estimates ``W_k / n_k``, returned where the model has no
    finite one: a component among them is singular, and the ill-defined
    covariance error follows."""
    return scatters / nk[:, np.newaxis, np.newaxis]


class _RotatedModel(ParsimoniousModel, FullCovariance):
    """A parsimonious model stored as ``full``."""

    structure = Structure(shared=False, form=FULL)


class _CommonOrientationModel(_RotatedModel):
    """A model whose components share one orientation; its M-step reads each
    component's full scatter."""

    structure = Structure(shared=False, form=FULL, common_orientation=True)

    @property
    def statistics_layout(self):
        return Structure(shared=False, form=FULL)


class CommonShapeOrientationCovariance(_CommonOrientationModel):
    """Own volumes, one shape and orientation: ``Sigma_k = lambda_k D A D.T``
    (VEE).

    The M-step alternates ``lambda_k = tr(C^-1 W_k) / (n_k d)`` and
    ``C = D A D.T ~ sum_k W_k / lambda_k`` (:func:`~._solvers.common_matrix`),
    from the previous ``C``.
    """

    name = "VEE"
    mclust_code = "VEE"

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        scatters = _regularised(stats, nk, reg_covar)
        n_components, n_features = stats.means.shape
        factors = self.previous_factors(previous, n_components, n_features)
        start = None
        if factors is not None:
            _, shapes, orientations = factors
            start = from_axes(orientations[0], shapes[:1])[0]
        volumes, matrix = common_matrix(self.mclust_code, scatters, nk, start)
        if volumes is None:
            return _singular_estimate(scatters, nk)
        return volumes[:, np.newaxis, np.newaxis] * matrix


class CommonOrientationCovariance(_CommonOrientationModel):
    """Own volumes and shapes, one orientation: ``Sigma_k = lambda_k D A_k D.T``
    (VVE, Flury's common principal components).

    Given ``D`` the rest is closed, ``lambda_k A_k = diag(D.T W_k D) / n_k``; ``D``
    is found by sweeps of Jacobi rotations (:func:`~._solvers.common_orientation`)
    from the previous orientation.
    """

    name = "VVE"
    mclust_code = "VVE"

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        scatters = _regularised(stats, nk, reg_covar)
        n_components, n_features = stats.means.shape
        factors = self.previous_factors(previous, n_components, n_features)
        start = None if factors is None else factors[2][0]
        orientation, variances = common_orientation(
            self.mclust_code,
            scatters,
            nk,
            start,
            equal_volume=self.mclust_code[0] == "E",
        )
        if orientation is None:
            return _singular_estimate(scatters, nk)
        return from_axes(orientation, variances)


class CommonVolumeOrientationCovariance(CommonOrientationCovariance):
    """One volume and orientation, own shapes: ``Sigma_k = lambda D A_k D.T``
    (EVE).

    Given ``D``, ``A_k`` is ``diag(D.T W_k D)`` over its geometric mean ``g_k`` and
    ``lambda = sum_k g_k / n``; ``D`` as for VVE, minimising ``sum_k g_k``.
    """

    name = "EVE"
    mclust_code = "EVE"


class CommonVolumeShapeCovariance(_RotatedModel):
    """One volume and shape, own orientations: ``Sigma_k = lambda D_k A D_k.T``
    (EEV).

    Closed form: with ``W_k = L_k diag(omega_k) L_k.T`` (eigenvalues in one order),
    ``D_k = L_k`` and ``lambda A = sum_k omega_k / n``.
    """

    name = "EEV"
    mclust_code = "EEV"

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        eigenvalues, axes = np.linalg.eigh(_regularised(stats, nk, reg_covar))
        # a singular sum keeps a singular estimate: the ill-defined covariance
        # error follows
        pooled = eigenvalues.clip(min=0).sum(axis=0) / nk.sum()
        return from_axes(axes, np.broadcast_to(pooled, eigenvalues.shape))


class CommonShapeCovariance(_RotatedModel):
    """Own volumes and orientations, one shape: ``Sigma_k = lambda_k D_k A D_k.T``
    (VEV).

    ``D_k`` are the eigenvectors of ``W_k`` (decreasing eigenvalues ``omega_k``,
    matched with a decreasing ``A``); ``lambda_k`` and ``A`` alternate as VEI's on
    the ``omega_k`` (:func:`~._solvers.common_shape`), from the previous shape.
    """

    name = "VEV"
    mclust_code = "VEV"

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        scatters = _regularised(stats, nk, reg_covar)
        eigenvalues, axes = np.linalg.eigh(scatters)
        eigenvalues, axes = eigenvalues[:, ::-1].clip(min=0), axes[:, :, ::-1]
        n_components, n_features = stats.means.shape
        factors = self.previous_factors(previous, n_components, n_features)
        start = None if factors is None else factors[1][0]
        volumes, shape = common_shape(self.mclust_code, eigenvalues, nk, start)
        if volumes is None:
            return _singular_estimate(scatters, nk)
        return from_axes(axes, volumes[:, np.newaxis] * shape)


class CommonVolumeCovariance(_RotatedModel):
    """One volume, own shapes and orientations: ``Sigma_k = lambda D_k A_k D_k.T``
    (EVV).

    Closed form: with ``g_k = det(W_k)**(1/d)``, ``D_k A_k D_k.T = W_k / g_k`` and
    ``lambda = sum_k g_k / n``.
    """

    name = "EVV"
    mclust_code = "EVV"

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        scatters = _regularised(stats, nk, reg_covar)
        n_features = scatters.shape[1]
        signs, log_dets = np.linalg.slogdet(scatters)
        scales = np.where(signs > 0, np.exp(log_dets / n_features), 0.0)  # g_k
        singular = scales == 0
        covariances = _singular_estimate(scatters, nk)
        volume = np.sum(scales) / nk.sum()
        covariances[~singular] = volume * (
            scatters[~singular] / scales[~singular, np.newaxis, np.newaxis]
        )
        return covariances


register(CommonShapeOrientationCovariance())
register(CommonVolumeOrientationCovariance())
register(CommonOrientationCovariance())
register(CommonVolumeShapeCovariance())
register(CommonShapeCovariance())
register(CommonVolumeCovariance())
