"""Which kernel serves a pass: by the declared structure and the components' places.

The fast kernels expand about a reference point ``c`` inside the data. Their
rounding grows with the squared Mahalanobis distance ``D = mu~.T P mu~`` of a
component's mean from ``c``, so they serve the components with ``D`` within
``_MAX_CANCELLATION``, the exact kernels the others (far clusters, or components
collapsed to a tiny covariance); :class:`SplitKernel` runs both in one pass.
"""

import numpy as np

from .._workspace import Workspace
from ..covariance import FULL, ISOTROPIC, richer_form
from ._axis_aligned import AxisAlignedKernel
from ._component import ComponentKernel
from ._moments import copy_centred
from ._quadratic import ROW_MAJOR_FEATURES, QuadraticKernel, quadratic_width
from ._shared import SharedPrecisionKernel
from ._split import SplitKernel

# Widest feature expansion worth one matrix product (full covariances up to d = 32).
_MAX_QUADRATIC_WIDTH = 600
# Largest D for the expansions about c: their terms are then at most D times what
# they cancel to, costing at most 6 of 16 digits (variances to ~2e-10 relative,
# log-densities to ~1e-9 absolute), well inside the 1e-8 of sklearn parity.
_MAX_CANCELLATION = 1e6
# The same for float32 arithmetic: variances to ~1e-4 relative, below the rounding
# of sklearn's own float32 moments about the origin a few deviations from it.
_MAX_CANCELLATION_FLOAT32 = 1e3
# Largest fraction of the components the exact kernel takes over from a float32 fast
# kernel, to keep the fast kernel in float32 (none below 8 components).
_MAX_FLOAT32_EXACT_FRACTION = 0.125
# Largest copy of the data, centred and transposed, kept for a fit (16 MiB).
_MAX_CENTRED_DATA_BYTES = 1 << 24


def pooled_pass(structure, layout):
    """Whether one shared precision and pooled statistics make a pass pooled: the
    shared kernel, which needs the data's second moment (see ``prepare_data``)."""
    return structure.shared and layout.shared


def _expansion_form(structure, layout):
    """The quadratic features a per-component pass needs: precisions and layout."""
    return richer_form(structure.form, layout.form)


def select_kernel(
    components, layout, reference, data_dtype=None, second_moment=None, workspace=None
):
    """The kernel for ``components`` (see :class:`Components`) and a ``layout``.

    Parameters
    ----------
    components : Components
    layout : Structure
        Of the statistics the pass must give.
    reference : ndarray of shape (n_features,)
        A point inside the data, where the fast kernels centre.
    data_dtype : numpy dtype, optional
        X's dtype, joining that of the parameters: float32 arithmetic needs both
        in float32.
    second_moment : ndarray of shape (n_features, n_features), optional
        The data's about ``reference``, which pooled statistics need (see
        :class:`SharedPrecisionKernel`).
    workspace : Workspace, optional
        Where the kernels take their blocks' arrays from.

    Returns
    -------
    kernel : Kernel
    """
    workspace = workspace or Workspace()
    structure = components.structure
    n_components, n_features = components.means.shape
    dtype = np.result_type(components.means, data_dtype or components.means.dtype)
    form = _expansion_form(structure, layout)
    distances = _mean_distances(components, reference)
    near = distances <= _MAX_CANCELLATION
    pooled = pooled_pass(structure, layout)
    # float32 data are computed in float32 where that loses no more than sklearn's
    # float32 arithmetic; float64 otherwise. A few components beyond that (small
    # ones collapsing onto a few rows) cost less in the exact float32 kernel than
    # every component in float64.
    fast_dtype = np.float64
    if dtype == np.float32:
        unsafe = near & ~_float32_safe(components, reference, distances, form)
        n_unsafe = int(np.count_nonzero(unsafe))
        if n_unsafe == 0 or (
            not pooled and n_unsafe <= n_components * _MAX_FLOAT32_EXACT_FRACTION
        ):
            near &= ~unsafe
            fast_dtype = np.float32
    exact_kernel = ComponentKernel if form == FULL else AxisAlignedKernel
    if pooled:
        if near.all():
            return SharedPrecisionKernel(
                n_features, layout, reference, fast_dtype, second_moment, workspace
            )
        return exact_kernel(
            n_features, n_components, layout, reference, dtype, workspace
        )
    fast = QuadraticKernel(n_features, form, layout, reference, fast_dtype, workspace)
    if _quadratic_too_wide(form, fast.width, n_components):
        near[:] = False
    if near.all():
        return fast
    n_far = int(np.sum(~near))
    exact = exact_kernel(n_features, n_far, layout, reference, dtype, workspace)
    if not near.any():
        return exact
    return SplitKernel(fast, exact, near)


def _quadratic_too_wide(form, width, n_components):
    """Whether full quadratic features of ``width`` cost more than the
    per-component kernel: about ``width`` writes per row against ``2 k d``."""
    max_width = min(_MAX_QUADRATIC_WIDTH, 40 * n_components)
    return form == FULL and width > max_width


def _float32_safe(components, reference, distances, form):
    """Which components a float32 fast kernel serves with no more loss than
    sklearn's float32 arithmetic; ``distances`` are their ``D``.

    Their rounding grows with each component's distance from the reference, in two
    places. The scatter cancels the square of the mean: along ``D`` for full
    features, per feature for diagonal ones (``mu~_j**2 P_jj``), and over all
    features for isotropic ones (``D / d``); each stays within
    ``_MAX_CANCELLATION_FLOAT32``. The log-densities round to a few ``D eps``, as
    sklearn's float32 diag/spherical expansion about the origin rounds to a few
    ``D0 eps`` with ``D0 = mu.T P mu``: ``D`` stays within the same limit or within
    ``2 D0`` (for full features, the first limit already holds ``D`` within it).
    """
    n_features = components.means.shape[1]
    if form == FULL:
        return distances <= _MAX_CANCELLATION_FLOAT32
    if form == ISOTROPIC:
        cancellation = distances / n_features
    else:
        cancellation = np.max(_per_feature_distances(components, reference), axis=1)
    origin_distances = _mean_distances(components, np.zeros(n_features))
    rounding_limit = np.maximum(_MAX_CANCELLATION_FLOAT32, 2 * origin_distances)
    return (cancellation <= _MAX_CANCELLATION_FLOAT32) & (distances <= rounding_limit)


def _mean_distances(components, reference):
    """Squared Mahalanobis distance of each component's mean from ``reference``."""
    # mu~.T P mu~ = ||U.T mu~||**2, with U each component's factor or the shared one
    centred_means = components.means.astype(np.float64) - reference
    factors = components.factors.factors.astype(np.float64, copy=False)
    if components.structure.form == FULL:
        projected = np.matmul(centred_means[:, np.newaxis, :], factors)[:, 0]
    else:
        projected = centred_means * factors
    return np.einsum("ki,ki->k", projected, projected)


def _per_feature_distances(components, reference):
    """``(mu_kj - c_j)**2 P_kj`` for axis-aligned precisions, shape (k, d)."""
    centred_means = components.means.astype(np.float64) - reference
    return centred_means**2 * components.factors.precisions()


def centred_data(X, reference, model, n_components):
    """``(X - reference).T`` for the fast kernels of a whole fit, or None.

    Transposing and centring the rows is a large part of a fast kernel's pass; a
    copy kept for the fit spares it in every iteration. The copy is in X's dtype,
    about ``reference`` rounded to it, as the kernels of that dtype compute it. It
    is kept only up to ``_MAX_CENTRED_DATA_BYTES``, so that a fit's memory stays
    bounded, and below ``ROW_MAJOR_FEATURES``, from where expansions take the rows
    as they lie in X; nor for full features too wide for the quadratic kernel,
    whose exact kernel does not use it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    reference : ndarray of shape (n_features,)
    model : CovarianceModel
    n_components : int

    Returns
    -------
    centred : ndarray of shape (n_features, n_samples), or None
    """
    n_features = X.shape[1]
    if X.nbytes > _MAX_CENTRED_DATA_BYTES or n_features >= ROW_MAJOR_FEATURES:
        return None
    structure, layout = model.structure, model.statistics_layout
    if not pooled_pass(structure, layout):
        form = _expansion_form(structure, layout)
        if _quadratic_too_wide(form, quadratic_width(n_features, form), n_components):
            return None
    centred = np.empty(X.shape[::-1], dtype=X.dtype)
    copy_centred(centred, X, reference)
    return centred
