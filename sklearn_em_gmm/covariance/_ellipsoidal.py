"""Covariance models with rotated ellipsoids: ``full`` (VVV) and ``tied`` (EEE).

Precisions are stored as upper-triangular factors ``U`` with ``precision = U @ U.T``.
From the covariance's lower Cholesky factor ``L`` (``cov = L @ L.T``), ``U = inv(L).T``,
obtained by LAPACK's triangular inverse (scikit-learn solves ``L U.T = I``; the two
round alike to within a few units in the last place).
"""

import functools

import numpy as np
from scipy import linalg

from ._base import CovarianceModel, ill_defined_covariance_error, register
from ._structure import FULL, Structure


def _precision_cholesky(covariances):
    """Upper factors ``U`` of ``inv(covariance)``, for one matrix or a stack (k, d, d).

    Per matrix, LAPACK's Cholesky factorization ``L`` and the inverse of that
    triangle, ``U = inv(L).T``, called directly: numpy's batched wrappers and
    scipy's checking ones cost more than the work at small d.
    """
    if not np.all(np.isfinite(covariances)):
        raise ill_defined_covariance_error(covariances.dtype)
    factorize, invert = _triangle_routines(covariances.dtype)
    factors = np.empty_like(covariances)
    for index in np.ndindex(covariances.shape[:-2]):
        cov_chol, info = factorize(covariances[index], lower=1, clean=1)
        if info == 0:
            inverse_chol, info = invert(cov_chol, lower=1)
        if info != 0:  # not positive definite, or a zero pivot: singular
            raise ill_defined_covariance_error(covariances.dtype)
        factors[index] = inverse_chol.T
    return factors


@functools.cache
def _triangle_routines(dtype):
    """LAPACK's Cholesky factorization and triangular inverse for ``dtype``."""
    return linalg.lapack.get_lapack_funcs(("potrf", "trtri"), dtype=dtype)


def _precision_cholesky_from_precision(precision):
    """Upper factor ``U`` with ``precision = U @ U.T``.

    With ``J`` the exchange matrix, ``J P J = L L.T`` gives ``P = (J L J)(J L J).T``
    and ``J L J`` is upper triangular.
    """
    flipped_chol = linalg.cholesky(precision[::-1, ::-1], lower=True)
    return np.ascontiguousarray(flipped_chol[::-1, ::-1])


def _covariance_from_precision_cholesky(prec_chol):
    # cov = inv(U @ U.T) = inv(U).T @ inv(U)
    identity = np.eye(prec_chol.shape[0], dtype=prec_chol.dtype)
    inv_chol = linalg.solve_triangular(prec_chol, identity, lower=False)
    return inv_chol.T @ inv_chol


def _check_precision_matrix(precision, covariance_type):
    if not (
        np.allclose(precision, precision.T, rtol=1e-5, atol=1e-8)
        and np.all(np.linalg.eigvalsh(precision) > 0.0)
    ):
        raise ValueError(
            f"'{covariance_type} precision' should be symmetric, positive-definite"
        )


def _is_positive_definite(matrix):
    try:
        _precision_cholesky(matrix)
    except ValueError:
        return False
    return True


def _add_to_diagonal(matrices, value):
    n_features = matrices.shape[-1]
    diagonal = matrices.reshape(matrices.shape[:-2] + (-1,))[..., :: n_features + 1]
    diagonal += value


class FullCovariance(CovarianceModel):
    """Each component has its own covariance: ``Sigma_k = lambda_k D_k A_k D_k.T``."""

    name = "full"
    mclust_code = "VVV"
    structure = Structure(shared=False, form=FULL)

    def parameter_shape(self, n_components, n_features):
        return (n_components, n_features, n_features)

    def n_covariance_parameters(self, n_components, n_features):
        return n_components * n_features * (n_features + 1) // 2

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        covariances = stats.scatter / nk[:, np.newaxis, np.newaxis]
        _add_to_diagonal(covariances, reg_covar)
        return covariances

    def precisions_cholesky(self, covariances):
        return _precision_cholesky(covariances)

    def precisions_cholesky_from_precisions(self, precisions):
        return np.stack([_precision_cholesky_from_precision(p) for p in precisions])

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, 1, 2)

    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        return np.stack(
            [_covariance_from_precision_cholesky(u) for u in precisions_cholesky]
        )

    def check_precisions(self, precisions):
        for precision in precisions:
            _check_precision_matrix(precision, self.name)

    def degenerate_components(self, covariances, n_components):
        return np.array([not _is_positive_definite(c) for c in covariances])

    def add_to_diagonal(self, covariances, components, amounts):
        covariances = covariances.copy()
        covariances[components] += np.diag(amounts)
        return covariances

    def reset(self, covariances, components, variances):
        covariances = covariances.copy()
        covariances[components] = np.diag(variances)
        return covariances

    def sample(self, rng, means, covariances, counts):
        return np.vstack(
            [
                rng.multivariate_normal(mean, covariance, int(count))
                for mean, covariance, count in zip(
                    means, covariances, counts, strict=True
                )
            ]
        )


class TiedCovariance(CovarianceModel):
    """All components share one covariance matrix: ``Sigma_k = lambda D A D.T``."""

    name = "tied"
    mclust_code = "EEE"
    structure = Structure(shared=True, form=FULL)

    def parameter_shape(self, n_components, n_features):
        return (n_features, n_features)

    def n_covariance_parameters(self, n_components, n_features):
        return n_features * (n_features + 1) // 2

    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        # pooled within-component scatter over the total weight
        covariance = stats.scatter / nk.sum()
        _add_to_diagonal(covariance, reg_covar)
        return covariance

    def precisions_cholesky(self, covariances):
        return _precision_cholesky(covariances)

    def precisions_cholesky_from_precisions(self, precisions):
        return _precision_cholesky_from_precision(precisions)

    def precisions(self, precisions_cholesky):
        return precisions_cholesky @ precisions_cholesky.T

    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        return _covariance_from_precision_cholesky(precisions_cholesky)

    def check_precisions(self, precisions):
        _check_precision_matrix(precisions, self.name)

    def degenerate_components(self, covariances, n_components):
        return np.full(n_components, not _is_positive_definite(covariances))

    def add_to_diagonal(self, covariances, components, amounts):
        # the one shared matrix serves every component
        return covariances + np.diag(amounts) if components.any() else covariances

    def reset(self, covariances, components, variances):
        return covariances

    def sample(self, rng, means, covariances, counts):
        return np.vstack(
            [
                rng.multivariate_normal(mean, covariances, int(count))
                for mean, count in zip(means, counts, strict=True)
            ]
        )


register(FullCovariance())
register(TiedCovariance())
