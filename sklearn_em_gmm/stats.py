"""Sufficient statistics of a Gaussian mixture: the seam between E-step and M-step.

Per component: the weight sum ``nk``, the weighted mean, and the weighted scatter
about that mean (centred, so data far from the origin loses no precision), in the
layout a covariance model asks for (see :class:`~sklearn_em_gmm.covariance.Structure`):

============  ==================  ===================  ================
form          per component       shared (pooled)      entry
============  ==================  ===================  ================
full          (k, d, d)           (d, d)               ``sum r x x.T``
diagonal      (k, d)              (d,)                 ``sum r x**2``
isotropic     (k,)                ()                   ``sum r ||x||**2``
============  ==================  ===================  ================

(all about each component's mean; pooled scatter is summed over components).
Statistics of two sets of rows merge exactly (Chan, Golub & LeVeque, 1979), so
blocks, chunks, mini-batches and distributed data all reduce to the same numbers.
"""

from dataclasses import dataclass

import numpy as np

from .covariance import DIAGONAL, FULL, ISOTROPIC, Structure


def _reduce_scatter(scatter, source, target):
    """Scatter in layout ``source`` as layout ``target``, which it must hold."""
    if not source.holds(target):
        raise ValueError(f"statistics laid out as {source} cannot give {target}")
    axis = 0 if source.shared else 1  # the first feature axis
    if source.form == FULL and target.form != FULL:
        scatter = np.diagonal(scatter, axis1=axis, axis2=axis + 1).copy()
    if source.form != ISOTROPIC and target.form == ISOTROPIC:
        scatter = scatter.sum(axis=axis)
    if target.shared and not source.shared:
        scatter = scatter.sum(axis=0)
    return scatter


def _outer_in_form(vectors, form):
    """Per row of ``vectors`` (k, d): ``v v.T``, its diagonal or its trace."""
    if form == FULL:
        return vectors[:, :, np.newaxis] * vectors[:, np.newaxis, :]
    squares = vectors * vectors
    return squares if form == DIAGONAL else squares.sum(axis=1)


@dataclass(frozen=True, eq=False)
class SufficientStatistics:
    """Weighted moments of each mixture component over a set of rows.

    Attributes
    ----------
    nk : ndarray of shape (n_components,)
        Sum over rows of ``sample_weight * resp``.
    means : ndarray of shape (n_components, n_features)
        Weighted mean of each component; zero where ``nk`` is zero.
    scatter : ndarray
        ``sum_i w_i r_ik (x_i - mean_k)(x_i - mean_k).T`` in ``layout`` (see the
        module's table).
    layout : Structure
        Whether ``scatter`` is per component or pooled, and its form.
    """

    nk: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    layout: Structure

    @classmethod
    def from_rows(cls, X, weighted_resp, layout):
        """Statistics of the rows ``X`` with responsibilities times sample weights.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        weighted_resp : ndarray of shape (n_rows, n_components)
            Responsibilities, each row multiplied by its sample weight.
        layout : Structure
            The layout of the scatter.
        """
        X = np.asarray(X, dtype=np.float64)
        weighted_resp = np.asarray(weighted_resp, dtype=np.float64)
        nk = weighted_resp.sum(axis=0)
        sums = weighted_resp.T @ X
        means = np.divide(
            sums,
            nk[:, np.newaxis],
            out=np.zeros_like(sums),
            where=nk[:, np.newaxis] > 0,
        )
        n_components, n_features = means.shape
        form = FULL if layout.form == FULL else DIAGONAL
        if form == FULL:
            scatter = np.empty((n_components, n_features, n_features))
        else:
            scatter = np.empty((n_components, n_features))
        for k in range(n_components):
            if nk[k] == 0:
                scatter[k] = 0.0
                continue
            centred = X - means[k]
            # corrected two-pass: the rounding error of the first mean is measured
            # about that mean and removed from both the mean and the scatter
            correction = (weighted_resp[:, k] @ centred) / nk[k]
            if form == FULL:
                scatter[k] = (weighted_resp[:, k, np.newaxis] * centred).T @ centred
                scatter[k] -= nk[k] * np.outer(correction, correction)
            else:
                scatter[k] = weighted_resp[:, k] @ (centred * centred)
                scatter[k] -= nk[k] * correction * correction
            means[k] += correction
        per_component = Structure(shared=False, form=form)
        return cls(nk, means, scatter, per_component).reduce(layout)

    def reduce(self, layout):
        """These statistics in ``layout``, which their own must hold."""
        if layout == self.layout:
            return self
        scatter = _reduce_scatter(self.scatter, self.layout, layout)
        return SufficientStatistics(self.nk, self.means, scatter, layout)

    def merge(self, other):
        """Statistics of the union of the rows behind ``self`` and ``other``."""
        if other.layout != self.layout:
            raise ValueError(
                f"cannot merge statistics laid out as {self.layout} and {other.layout}"
            )
        nk = self.nk + other.nk
        # share of the merged weight from ``other``; zero for empty components
        other_share = np.divide(other.nk, nk, out=np.zeros_like(nk), where=nk > 0)
        delta = other.means - self.means
        means = self.means + other_share[:, np.newaxis] * delta
        # cross term of the pairwise update: nA * nB / n * delta delta.T
        cross_weight = self.nk * other_share
        cross = _outer_in_form(delta, self.layout.form)
        cross *= cross_weight.reshape((-1,) + (1,) * (cross.ndim - 1))
        if self.layout.shared:
            cross = cross.sum(axis=0)
        scatter = self.scatter + other.scatter + cross
        return SufficientStatistics(nk, means, scatter, self.layout)

    __add__ = merge

    def scale(self, factor):
        """The statistics of the same rows with every weight times ``factor``.

        With :meth:`merge`, a stepwise average ``(1 - rho) s + rho s_batch``.
        """
        return SufficientStatistics(
            self.nk * factor, self.means, self.scatter * factor, self.layout
        )

    def without_components(self, empty):
        """Copy with the masked components emptied: no weight, mean or scatter of
        their own (pooled scatter, summed over components, is kept)."""
        if not empty.any():
            return self
        scatter = self.scatter
        if not self.layout.shared:
            scatter = scatter.copy()
            scatter[empty] = 0.0
        return SufficientStatistics(
            np.where(empty, 0.0, self.nk),
            np.where(empty[:, np.newaxis], 0.0, self.means),
            scatter,
            self.layout,
        )

    @classmethod
    def join(cls, parts, subsets):
        """Statistics of all components from those of disjoint ``subsets`` of them.

        Parameters
        ----------
        parts : sequence of SufficientStatistics
            In one layout, each over the components of its subset.
        subsets : sequence of ndarray of bool of shape (n_components,)
        """
        layout = parts[0].layout
        n_components = len(subsets[0])
        nk = np.empty(n_components)
        means = np.empty((n_components, parts[0].means.shape[1]))
        if layout.shared:
            scatter = sum(part.scatter for part in parts)
        else:
            scatter = np.empty((n_components,) + parts[0].scatter.shape[1:])
        for part, subset in zip(parts, subsets, strict=True):
            if part.layout != layout:
                raise ValueError("cannot join statistics of different layouts")
            nk[subset], means[subset] = part.nk, part.means
            if not layout.shared:
                scatter[subset] = part.scatter
        return cls(nk, means, scatter, layout)
