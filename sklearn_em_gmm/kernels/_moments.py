"""Sufficient statistics from the moments the kernels sum, and the rows they centre.

The kernels sum raw moments about a point (a reference inside the data, or each
component's mean); the scatter about the new means is then a difference, whose
entries below the rounding error of their moments are zero.
"""

import math

import numpy as np

from ..covariance import DIAGONAL, FULL, ISOTROPIC, Structure
from ..stats import SufficientStatistics

# Mean entries below this fraction of their feature's scale are centred on as zero.
_NEGLIGIBLE_MEAN = 1e-100

_PER_COMPONENT = {
    form: Structure(shared=False, form=form) for form in (FULL, DIAGONAL, ISOTROPIC)
}


def copy_centred(out, X, reference, centred=None):
    """``out[:] = (X - reference).T`` in out's dtype; ``reference`` None: ``X.T``.

    ``centred``, if given in out's dtype, is these columns already computed (see
    ``centred_data``), which are copied instead.
    """
    if centred is not None and centred.dtype == out.dtype:
        np.copyto(out, centred)
        return
    # transposing first is faster than subtracting along a short trailing axis
    np.copyto(out, X.T)
    if reference is not None:
        out -= reference[:, np.newaxis].astype(out.dtype)


def centres(means, reference):
    """The points the exact kernels centre each component's rows on: its mean, with
    the entries below ``_NEGLIGIBLE_MEAN`` of their feature's scale set to zero.

    A mean entry of a feature that is zero in the component's rows comes out of the
    floored terms of the other rows (a few ``1e-261``); rows centred on it would
    hold subnormal products, which the BLAS computes tens of times slower. Centred
    on zero instead, a squared distance moves by about ``1e-100`` times the
    offset's Mahalanobis scale, and the statistics, computed about these points,
    not at all. (float32 responsibilities are not floored; their means are not
    mended here.)

    Parameters
    ----------
    means : ndarray of shape (n_components, n_features)
    reference : ndarray of shape (n_features,)
        A point inside the data, whose entries count in each feature's scale.

    Returns
    -------
    centres : ndarray of shape (n_components, n_features), float64
    """
    means = means.astype(np.float64)
    magnitudes = np.abs(means)
    scale = np.maximum(np.abs(reference), magnitudes.max(axis=0))
    return np.where(magnitudes < _NEGLIGIBLE_MEAN * scale, 0.0, means)


def statistics_about(reference, nk, sums, second, form, eps):
    """Per-component sufficient statistics from moments about ``reference``.

    Parameters
    ----------
    reference : ndarray of shape (n_features,) or (n_components, n_features)
        The point the moments are about: one for all components, or each
        component's own (its current mean).
    nk : ndarray of shape (n_components,)
    sums : ndarray of shape (n_components, n_features)
        Weighted sums of ``x~ = x - reference``.
    second : ndarray
        Their second moments in ``form``: ``sum r x~ x~.T`` (k, d, d),
        ``sum r x~**2`` (k, d) or ``sum r ||x~||**2`` (k,).
    form : {'full', 'diagonal', 'isotropic'}
    eps : float
        Rounding of the arithmetic that accumulated the moments.
    """
    if nk.all():
        centred_means = sums / nk[:, np.newaxis]
    else:
        centred_means = np.zeros_like(sums)
        np.divide(sums, nk[:, np.newaxis], out=centred_means, where=nk[:, None] > 0)
    if form == ISOTROPIC:
        # sum r ||x~||**2 - nk ||m~||**2
        total = second - nk * np.sum(centred_means**2, axis=1)
        scatter = variance_floor(total, second, eps)
    elif form == DIAGONAL:
        # sum r x~**2 - nk m~**2
        scatter = variance_floor(second - nk[:, None] * centred_means**2, second, eps)
    else:
        # sum r x~ x~.T - nk m~ m~.T
        scatter = centred_means[:, :, None] * centred_means[:, None, :]
        scatter *= nk[:, None, None]
        np.subtract(second, scatter, out=scatter)
        floor_scatter(scatter, second, eps)
    centred_means += reference
    return SufficientStatistics(nk, centred_means, scatter, _PER_COMPONENT[form])


def floor_scatter(scatter, second, eps):
    """Zero the (d, d) scatter entries below the rounding error of their moments.

    In place. Like :func:`variance_floor` for the diagonal; off the diagonal the
    raw moment ``sum r x~_i x~_j`` carries an error of a few
    ``eps * sqrt(sum r x~_i**2 * sum r x~_j**2)``.
    """
    variances = np.diagonal(second, axis1=-2, axis2=-1)
    scale = np.sqrt(np.fmax(variances, 0.0))
    scale *= 4 * math.sqrt(eps)
    noise = scale[..., :, None] * scale[..., None, :]
    np.copyto(scatter, 0.0, where=np.abs(scatter) <= noise)
    # on the diagonal, noise is 16 eps variances as in variance_floor; what is
    # left below it is negative (or NaN), and zero too
    scatter_diagonal = np.einsum("...ii->...i", scatter)
    np.fmax(scatter_diagonal, 0.0, out=scatter_diagonal)


def variance_floor(scatter, raw_second_moment, eps):
    """Zero the scatter that is below the rounding error of its raw moments.

    ``sum r x~**2 - nk m~**2`` carries an error of a few ``eps * sum r x~**2`` (eps
    of the arithmetic that accumulated it): a smaller value is indistinguishable
    from zero (identical rows), and is zero.
    """
    noise = 16 * eps * raw_second_moment
    return np.where(scatter > noise, scatter, 0.0)
