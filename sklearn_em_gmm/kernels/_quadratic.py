"""The fast kernel of per-component covariances: quadratic features of centred rows.

About a reference point ``c`` inside the data, with ``x~ = x - c``,
``mu~ = mu - c`` and ``P = U U.T``::

    (x - mu).T P (x - mu) = x~.T P x~ - 2 (P mu~).T x~ + mu~.T P mu~

so with features ``phi(x~) = [x~_i x~_j (i <= j), x~, 1]`` (only the squares
``x~_j**2`` for diagonal ``P``, only ``||x~||**2`` for isotropic) the weighted
log-densities of all components are one product ``W @ phi``, and their moments about
``c`` another, ``resp @ phi.T``. Rounding grows with the squared Mahalanobis distance
of a mean from ``c``; the kernel selection sends far components to an exact kernel.
"""

import functools

import numpy as np

from .._workspace import Workspace
from ..covariance import FULL, ISOTROPIC
from ._moments import copy_centred, statistics_about
from ._products import product_by_columns, small_products, sum_of_row_products
from ._protocol import log_density_constants

# Features from which diagonal and isotropic expansions are built row by row, which
# spares transposing X.
ROW_MAJOR_FEATURES = 64


@functools.cache
def _upper_triangle(n_features):
    """Row and column indices of the upper triangle, diagonal included; the factor
    of each entry's term in ``-x~.T P x~ / 2`` (off-diagonal terms twice); and for
    each entry of a (d, d) matrix, flattened, its place in the upper triangle."""
    rows, cols = np.triu_indices(n_features)
    factors = np.where(rows == cols, -0.5, -1.0)
    places = np.empty((n_features, n_features), dtype=np.intp)
    places[rows, cols] = places[cols, rows] = np.arange(len(rows))
    places = places.ravel()
    for array in (rows, cols, factors, places):
        array.flags.writeable = False
    return rows, cols, factors, places


def quadratic_width(n_features, form):
    """Floats per row of the expansion of ``n_features`` in ``form``."""
    if form == FULL:
        n_quadratic = n_features * (n_features + 1) // 2
    else:
        n_quadratic = 1 if form == ISOTROPIC else n_features
    return n_quadratic + n_features + 1


class QuadraticKernel:
    """Log-densities and moments from quadratic features of centred rows.

    Parameters
    ----------
    n_features : int
    form : {'full', 'diagonal', 'isotropic'}
        The quadratic features: every product ``x~_i x~_j``, the squares
        ``x~_j**2``, or ``||x~||**2``; as rich as the precisions and the layout.
    layout : Structure
        Of the statistics; held by ``form``.
    reference : ndarray of shape (n_features,)
        The point ``c`` the rows are centred on.
    dtype : {np.float64, np.float32}
        Of the arithmetic; the moments of the blocks are summed in float64.
    workspace : Workspace, optional
    """

    large_products = False  # many small products: see blas_threads

    def __init__(
        self, n_features, form, layout, reference, dtype=np.float64, workspace=None
    ):
        self.workspace = workspace or Workspace()
        self.form = form
        self.layout = layout
        self.n_features = n_features
        # rounded to the arithmetic's dtype, so that expansion and moments agree
        self.reference = np.asarray(reference, dtype=dtype).astype(np.float64)
        self.dtype = dtype
        if form == FULL:
            triangle = _upper_triangle(n_features)
            self._rows, self._cols, self._quadratic_factors, self._places = triangle
        else:
            self._rows = self._cols = np.arange(n_features)
            self._quadratic_factors = self._places = None
        self.width = quadratic_width(n_features, form)
        self.n_quadratic = self.width - n_features - 1

    def expand(self, X, coefficients, centred=None):
        """``phi(x - c)`` for each row, shape (width, n_rows).

        ``centred`` is ``(X - c).T`` if already computed (see ``centred_data``).
        Built row by row (and returned transposed) where rows are long enough for
        that to be fast.
        """
        d, quadratic = self.n_features, self.n_quadratic
        if self.form == FULL or d < ROW_MAJOR_FEATURES:
            shape = (self.width, X.shape[0])
            phi = self.workspace.empty("quadratic.phi", shape, self.dtype)
            copy_centred(phi[quadratic : quadratic + d], X, self.reference, centred)
        else:
            shape = (X.shape[0], self.width)
            phi = self.workspace.empty("quadratic.phi", shape, self.dtype).T
            reference = self.reference.astype(self.dtype)
            np.subtract(X, reference, out=phi[quadratic : quadratic + d].T)
        linear = phi[quadratic : quadratic + d]
        if self.form == FULL:
            start = 0
            for i in range(d):
                np.multiply(linear[i], linear[i:], out=phi[start : start + d - i])
                start += d - i
        elif self.form == ISOTROPIC:
            np.einsum("in,in->n", linear, linear, out=phi[0])
        else:
            np.square(linear, out=phi[:d])
        phi[-1] = 1.0
        return phi

    def coefficients(self, components, log_offset=0.0):
        """``W`` (n_components, width): ``W @ phi`` are the log-densities less
        ``log_offset``."""
        precisions = components.factors.precisions()
        centred_means = components.means.astype(np.float64) - self.reference
        full_precisions = components.structure.form == FULL
        if full_precisions:
            precision_means = np.einsum("kij,kj->ki", precisions, centred_means)
        else:
            precision_means = precisions * centred_means
        d, n_quadratic = self.n_features, self.n_quadratic
        weights = np.empty((len(centred_means), self.width))
        quadratic = weights[:, :n_quadratic]
        if self.form == FULL:
            if not full_precisions:
                precisions = _diagonal_matrices(precisions)
            np.multiply(
                precisions[:, self._rows, self._cols],
                self._quadratic_factors,
                out=quadratic,
            )
        elif self.form == ISOTROPIC:
            np.multiply(precisions[:, :1], -0.5, out=quadratic)
        else:
            np.multiply(precisions, -0.5, out=quadratic)
        weights[:, n_quadratic : n_quadratic + d] = precision_means
        constant = weights[:, -1]
        np.einsum("ki,ki->k", centred_means, precision_means, out=constant)
        constant *= -0.5
        constant += log_density_constants(components, log_offset)
        return weights.astype(self.dtype, copy=False)

    def weighted_log_prob(self, phi, coefficients):
        """``log w_k + log N(x | mu_k, Sigma_k) - log_offset``, (n_components, rows)."""
        shape = (len(coefficients), phi.shape[1])
        log_prob = self.workspace.empty("quadratic.log_prob", shape, self.dtype)
        if (
            self.dtype == np.float32
            and not phi.flags.c_contiguous
            and not small_products(len(coefficients))
        ):
            # OpenBLAS's float32 product with many components is faster on phi
            # built row by row taken as (rows, k), then transposed
            row_major = self.workspace.empty(
                "quadratic.row_major_log_prob", shape[::-1], self.dtype
            )
            np.copyto(log_prob, np.matmul(phi.T, coefficients.T, out=row_major).T)
            return log_prob
        return product_by_columns(coefficients, phi, log_prob)

    def moments(self, phi, resp, row_scale):
        """Moments about ``c`` of each component, shape (k, width).

        The responsibilities are ``resp * row_scale``; the factor goes on the
        narrower of ``resp`` and ``phi``, both spent.
        """
        if self.width < len(resp):
            phi *= row_scale
        else:
            resp *= row_scale
        return sum_of_row_products(resp, phi)

    def statistics(self, moments, coefficients):
        """Sufficient statistics (centred) from moments summed over all rows."""
        d, quadratic = self.n_features, self.n_quadratic
        if self.form == FULL:
            second = np.take(moments, self._places, axis=1).reshape(-1, d, d)
        elif self.form == ISOTROPIC:
            second = moments[:, 0]
        else:
            second = moments[:, :quadratic]
        sums = moments[:, quadratic : quadratic + d]
        nk = moments[:, -1].copy()
        eps = np.finfo(self.dtype).eps
        stats = statistics_about(self.reference, nk, sums, second, self.form, eps)
        return stats.reduce(self.layout)


def _diagonal_matrices(diagonals):
    """(k, d, d) matrices with the given diagonals (k, d)."""
    n_components, n_features = diagonals.shape
    matrices = np.zeros((n_components, n_features, n_features))
    index = np.arange(n_features)
    matrices[:, index, index] = diagonals
    return matrices
