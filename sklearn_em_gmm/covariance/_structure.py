"""What a covariance model declares of itself, and the factors it hands the kernels.

A model's covariances are either one per component or one shared by all, each
``full`` (any orientation), ``diagonal`` (axis-aligned) or ``isotropic`` (one
variance). The same two words describe the layout of the scatter its M-step needs.
The kernels read only this declaration and :class:`PrecisionFactors`, never a
model's name or the shapes of its arrays.
"""

import functools
from dataclasses import dataclass

import numpy as np

FULL = "full"
DIAGONAL = "diagonal"
ISOTROPIC = "isotropic"
# each form determines the next: a full scatter gives its diagonal, a diagonal its sum
_FORMS = (FULL, DIAGONAL, ISOTROPIC)


@dataclass(frozen=True)
class Structure:
    """One matrix per component or one for all (``shared``), and its ``form``.

    Attributes
    ----------
    shared : bool
        One matrix shared by every component (mclust's ``E`` volume, shape and
        orientation), or one per component.
    form : {'full', 'diagonal', 'isotropic'}
        What each matrix holds: every entry, its diagonal, or one value times the
        identity.
    common_orientation : bool, default=False
        Full matrices per component that share their eigenvectors (mclust's
        ``**E`` models, ``Sigma_k = lambda_k D A_k D.T``): the kernels treat them as
        any full matrices; an M-step may use the shared orientation.
    """

    shared: bool
    form: str
    common_orientation: bool = False

    def __post_init__(self):
        if self.form not in _FORMS:
            raise ValueError(f"form must be one of {_FORMS}, got {self.form!r}")
        if self.common_orientation and (self.shared or self.form != FULL):
            raise ValueError("only per-component full matrices share an orientation")

    def holds(self, other):
        """Whether statistics in this layout give those in ``other`` (they are as
        rich or richer: per component gives shared, full gives diagonal and
        isotropic)."""
        richer_form = _FORMS.index(self.form) <= _FORMS.index(other.form)
        return richer_form and (other.shared or not self.shared)


def richer_form(*forms):
    """The richest of ``forms``: what holds all of them."""
    return min(forms, key=_FORMS.index)


@dataclass(frozen=True, eq=False)
class PrecisionFactors:
    """Cholesky factors of the precisions in the one layout every kernel reads.

    Attributes
    ----------
    structure : Structure
    factors : ndarray of shape (n_matrices, n_features, n_features) or \
            (n_matrices, n_features)
        Upper-triangular ``U`` with ``precision = U @ U.T`` (form 'full'), or the
        square roots of the precisions' diagonals (the others; equal along the
        features for 'isotropic'). ``n_matrices`` is 1 when shared, else
        ``n_components``.
    log_det : ndarray of shape (n_components,)
        ``log det U`` of each component.
    """

    structure: Structure
    factors: np.ndarray
    log_det: np.ndarray

    @property
    def n_components(self):
        return len(self.log_det)

    def subset(self, components):
        """The factors of the masked ``components``; a shared factor stays whole."""
        factors = self.factors if self.structure.shared else self.factors[components]
        return PrecisionFactors(self.structure, factors, self.log_det[components])

    def precisions(self):
        """Each component's precision in float64: (k, d, d) for form 'full', else its
        diagonal (k, d). Shared ones are views of one matrix. Computed once, and
        read-only."""
        return self._precisions

    @functools.cached_property
    def _precisions(self):
        factors = self.factors.astype(np.float64)
        if self.structure.form == FULL:
            precisions = factors @ np.swapaxes(factors, 1, 2)
        else:
            precisions = factors**2
        if self.structure.shared:
            precisions = np.broadcast_to(
                precisions, (self.n_components,) + precisions.shape[1:]
            )
        precisions.flags.writeable = False
        return precisions

    def as_matrices(self):
        """The factors as (n_matrices, d, d) upper-triangular matrices."""
        if self.structure.form == FULL:
            return self.factors
        n_matrices, n_features = self.factors.shape
        matrices = np.zeros((n_matrices, n_features, n_features), self.factors.dtype)
        diagonal = np.arange(n_features)
        matrices[:, diagonal, diagonal] = self.factors
        return matrices


def canonical_factors(structure, precisions_cholesky, n_components, n_features):
    """:class:`PrecisionFactors` from factors stored as sklearn stores them.

    The stored array drops the component axis when ``shared`` (``tied``: (d, d))
    and the feature axis when ``isotropic`` (``spherical``: (k,)).
    """
    factors = np.asarray(precisions_cholesky)
    if structure.shared:
        factors = factors[np.newaxis]
    n_matrices = len(factors)
    if structure.form == ISOTROPIC:
        factors = np.broadcast_to(
            factors.reshape(n_matrices, 1), (n_matrices, n_features)
        )
        log_det = n_features * np.log(factors[:, 0].astype(np.float64))
    elif structure.form == DIAGONAL:
        log_det = np.sum(np.log(factors.astype(np.float64)), axis=1)
    else:
        # log det(U) is the sum of the logs of its diagonal
        diagonals = np.diagonal(factors, axis1=-2, axis2=-1).astype(np.float64)
        log_det = np.sum(np.log(diagonals), axis=-1)
    if structure.shared:
        log_det = np.repeat(log_det, n_components)
    return PrecisionFactors(structure, factors, log_det)
