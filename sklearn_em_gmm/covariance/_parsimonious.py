"""What mclust's parsimonious models share: factors named by their code.

``Sigma_k = lambda_k D_k A_k D_k.T`` (Celeux & Govaert 1995): the three letters of
a code say whether the volume ``lambda_k``, the shape ``A_k`` and the orientation
``D_k`` are equal across components (E), vary (V), or are the identity (I). From
the code alone follow the parameter count, the decomposition that shows the shared
factors, and the repair of a component that keeps them.

Every M-step of these models regularises as sklearn does for its own four: each
component's scatter becomes ``W_k + n_k reg_covar I`` (its covariance estimate
``W_k / n_k`` plus ``reg_covar I``) before the constrained estimate is taken, which
for ``full``, ``tied``, ``diag`` and ``spherical`` is exactly sklearn's rule.
"""

import numpy as np

from ._base import _volumes_and_shapes, decreasing_eigh
from ._solvers import unit_determinant


def common_axes(matrices):
    """The orientation shared by covariances ``matrices`` (k, d, d), columns ordered
    by decreasing variance.

    Eigenvectors of a sum of the matrices, each scaled to unit trace, with
    distinct irrational weights: a tie between its eigenvalues, which would leave
    the axes undetermined, then needs a coincidence, not mere symmetry between
    components.
    """
    traces = np.trace(matrices, axis1=1, axis2=2)
    weights = np.sqrt(np.arange(2, len(matrices) + 2)) / traces
    combined = np.einsum("k,kab->ab", weights, matrices)
    return np.linalg.eigh(combined)[1][:, ::-1]


def _own_factors(code, targets, volume, shape, orientation):
    """Matrices (m, d, d) whose own factors are fitted to ``targets`` (m, d, d), the
    shared ones (those of ``code`` that are E) being ``volume``, ``shape`` and
    ``orientation``."""
    equal_volume, shape_kind, orientation_kind = code[0] == "E", code[1], code[2]
    n_targets, n_features = targets.shape[:2]
    if orientation_kind == "V":
        axes = np.linalg.eigh(targets)[1][:, :, ::-1]
    else:
        axes = orientation if orientation_kind == "E" else np.eye(n_features)
        axes = np.broadcast_to(axes, targets.shape)
    spreads = np.einsum("kaj,kab,kbj->kj", axes, targets, axes).clip(min=0)
    shapes = unit_determinant(spreads) if shape_kind == "V" else shape
    with np.errstate(divide="ignore", invalid="ignore"):
        volumes = (
            np.full(n_targets, volume)
            if equal_volume
            else np.mean(spreads / shapes, axis=1)
        )
        variances = volumes[:, np.newaxis] * np.broadcast_to(shapes, spreads.shape)
    return np.einsum("kaj,kj,kbj->kab", axes, variances, axes)


class ParsimoniousModel:
    """Mixin of the models named by their mclust code; put before the base class
    whose layout it uses (:class:`FullCovariance`, :class:`DiagonalCovariance`)."""

    def n_covariance_parameters(self, n_components, n_features):
        # each factor counts once (E), once per component (V) or not at all (I)
        copies = {"I": 0, "E": 1, "V": n_components}
        volume, shape, orientation = (copies[kind] for kind in self.mclust_code)
        return (
            volume
            + shape * (n_features - 1)
            + orientation * n_features * (n_features - 1) // 2
        )

    def decomposition(self, covariances, n_components, n_features):
        """Volume, shape and orientation of each covariance, the factors the model
        shares being one for all.

        Those are the geometric means over the components (exactly what each one
        holds, for covariances of the model). Own orientations (V) order each
        component's shape decreasingly, a common one (E) orders its axes by
        decreasing variance over the components, and diagonal forms keep the
        features' order.

        Returns
        -------
        volumes : ndarray of shape (n_components,)
        shapes : ndarray of shape (n_components, n_features)
        orientations : ndarray of shape (n_components, n_features, n_features)
        """
        matrices = self.dense_covariances(covariances, n_components, n_features)
        volume_kind, shape_kind, orientation_kind = self.mclust_code
        if orientation_kind == "V":
            eigenvalues, orientations = decreasing_eigh(matrices)
        else:
            axes = (
                common_axes(matrices) if orientation_kind == "E" else np.eye(n_features)
            )
            orientations = np.broadcast_to(axes, matrices.shape)
            eigenvalues = np.einsum("aj,kab,bj->kj", axes, matrices, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            volumes, shapes = _volumes_and_shapes(eigenvalues)
            if volume_kind == "E":
                volumes = np.full(n_components, np.exp(np.mean(np.log(volumes))))
            if shape_kind != "V":
                # one shape: the geometric mean of the components' (ones for I)
                mean_shape = np.exp(np.mean(np.log(shapes), axis=0))
                if shape_kind == "I":
                    mean_shape = np.ones(n_features)
                shapes = np.broadcast_to(mean_shape, shapes.shape)
        return volumes, np.array(shapes), np.array(orientations)

    def previous_factors(self, previous, n_components, n_features):
        """The decomposition of ``previous.covariances``, where an iterative M-step
        starts; None without usable previous parameters (none, or not positive
        definite)."""
        if previous is None:
            return None
        covariances = np.asarray(previous.covariances, dtype=np.float64)
        if np.any(self.degenerate_components(covariances, n_components)):
            return None
        factors = self.decomposition(covariances, n_components, n_features)
        if not all(np.all(np.isfinite(factor)) for factor in factors):
            return None
        return factors

    def add_to_diagonal(self, covariances, components, amounts):
        """Copy of ``covariances`` where each masked component is refitted to its
        covariance plus ``diag(amounts)``: its own factors fitted, the shared
        ones kept (see :meth:`_refit`)."""
        n_features = len(amounts)
        matrices = self.dense_covariances(covariances, len(components), n_features)
        targets = matrices[components] + np.diag(amounts)
        return self._refit(covariances, components, targets)

    def reset(self, covariances, components, variances):
        """Copy of ``covariances`` where each masked component is refitted to
        ``diag(variances)``: its own factors fitted, the shared ones kept."""
        n_features = len(variances)
        targets = np.broadcast_to(
            np.diag(variances), (int(np.sum(components)), n_features, n_features)
        )
        return self._refit(covariances, components, targets)

    def _refit(self, covariances, components, targets):
        """``covariances`` with the masked components replaced by ``targets`` (m, d,
        d) made to fit the model: their own factors (V) fitted by maximum
        likelihood to the targets as if they were scatter, the shared factors (E)
        those of the other, positive definite, components.

        Without such a component, or if the fit is not positive definite, the
        targets themselves: the next M-step restores the model's structure.
        """
        n_components, n_features = len(components), targets.shape[-1]
        keep = ~components & ~self.degenerate_components(covariances, n_components)
        fitted = targets
        if keep.any():
            volumes, shapes, orientations = self.decomposition(
                covariances[keep], int(keep.sum()), n_features
            )
            refit = _own_factors(
                self.mclust_code, targets, volumes[0], shapes[0], orientations[0]
            )
            if np.all(np.isfinite(refit)) and all(
                np.all(np.linalg.eigvalsh(matrix) > 0) for matrix in refit
            ):
                fitted = refit
        covariances = np.array(covariances)
        if covariances.ndim == 2:  # a diagonal form
            fitted = np.diagonal(fitted, axis1=1, axis2=2)
        covariances[components] = fitted
        return covariances
