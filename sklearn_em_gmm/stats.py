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


def _weighted_moments(rows, weights, form):
    """``(nk, mean, scatter)`` of ``rows`` (n, d) under ``weights`` (n,) or unit
    weights (None): the scatter in ``form`` 'full' (d, d), otherwise its diagonal.

    Corrected two-pass: the rounding error of the first mean is measured about that
    mean and removed from both the mean and the scatter.
    """
    n_features = rows.shape[1]
    nk = float(len(rows)) if weights is None else float(np.sum(weights))
    shape = (n_features, n_features) if form == FULL else (n_features,)
    if nk == 0:
        return 0.0, np.zeros(n_features), np.zeros(shape)
    unit = weights is None
    if unit:
        # sums over rows as products: faster than sum(axis=0) across few features
        weights = np.ones(len(rows))
    mean = (weights @ rows) / nk
    centred = rows - mean
    correction = (weights @ centred) / nk
    weighted = centred if unit else weights[:, np.newaxis] * centred
    if form == FULL:
        scatter = weighted.T @ centred
        scatter -= nk * np.outer(correction, correction)
    else:
        scatter = np.einsum("ij,ij->j", weighted, centred)
        scatter -= nk * correction * correction
    return nk, mean + correction, scatter


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
        n_components = weighted_resp.shape[1]
        parts = [
            _weighted_moments(X, column, layout.form) for column in weighted_resp.T
        ]
        return cls._of_components(parts, n_components, X.shape[1], layout)

    @classmethod
    def from_labels(cls, X, labels, sample_weight, n_components, layout):
        """Statistics of the rows ``X`` each wholly in the component its label names.

        The same as :meth:`from_rows` with one-hot responsibilities, from one
        pass: each component's moments are taken over its own rows only.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        labels : ndarray of shape (n_rows,)
            Each row's component, or a negative number for none.
        sample_weight : ndarray of shape (n_rows,) or None
        n_components : int
        layout : Structure
        """
        # numpy sorts 16-bit integers by radix, in linear time
        small = n_components < np.iinfo(np.int16).max
        order = np.argsort(labels.astype(np.int16) if small else labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(n_components + 1))
        rows = np.asarray(X, dtype=np.float64)[order]
        weights = None if sample_weight is None else sample_weight[order]
        parts = []
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            own = slice(start, stop)
            own_weights = None if weights is None else weights[own]
            parts.append(_weighted_moments(rows[own], own_weights, layout.form))
        return cls._of_components(parts, n_components, X.shape[1], layout)

    @classmethod
    def _of_components(cls, parts, n_components, n_features, layout):
        """Statistics from each component's ``(nk, mean, scatter)``."""
        form = FULL if layout.form == FULL else DIAGONAL
        nk = np.array([part[0] for part in parts], dtype=np.float64)
        means = np.stack([part[1] for part in parts])
        scatter = np.stack([part[2] for part in parts])
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
