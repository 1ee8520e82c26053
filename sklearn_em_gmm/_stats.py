"""Sufficient statistics of a Gaussian mixture: the seam between E-step and M-step.

Per component: the weight sum ``nk``, the weighted mean, and the weighted scatter about
that mean (centred, so data far from the origin loses no precision). Statistics of two
chunks of rows merge exactly (Chan, Golub & LeVeque, 1979), so blocks, mini-batches and
distributed chunks all reduce to the same numbers.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SufficientStatistics:
    """Weighted moments of each mixture component over a set of rows.

    Attributes
    ----------
    nk : ndarray of shape (n_components,)
        Sum over rows of ``sample_weight * resp``.
    means : ndarray of shape (n_components, n_features)
        Weighted mean of each component; zero where ``nk`` is zero.
    scatter : ndarray of shape (n_components, n_features, n_features) or \
            (n_components, n_features) or (1, n_features, n_features)
        ``sum_i w_i r_ik (x_i - mean_k)(x_i - mean_k).T``, or only its diagonal,
        or (from a kernel for a shared covariance) its sum over components.
    """

    nk: np.ndarray
    means: np.ndarray
    scatter: np.ndarray

    @classmethod
    def from_rows(cls, X, weighted_resp, full_scatter):
        """Statistics of the rows ``X`` with responsibilities times sample weights.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        weighted_resp : ndarray of shape (n_rows, n_components)
            Responsibilities, each row multiplied by its sample weight.
        full_scatter : bool
            Accumulate full scatter matrices, or only their diagonals.
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
        if full_scatter:
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
            if full_scatter:
                scatter[k] = (weighted_resp[:, k, np.newaxis] * centred).T @ centred
                scatter[k] -= nk[k] * np.outer(correction, correction)
            else:
                scatter[k] = weighted_resp[:, k] @ (centred * centred)
                scatter[k] -= nk[k] * correction * correction
            means[k] += correction
        return cls(nk, means, scatter)

    def merge(self, other):
        """Statistics of the union of the rows behind ``self`` and ``other``."""
        nk = self.nk + other.nk
        # share of the merged weight from ``other``; zero for empty components
        other_share = np.divide(other.nk, nk, out=np.zeros_like(nk), where=nk > 0)
        delta = other.means - self.means
        means = self.means + other_share[:, np.newaxis] * delta
        # cross term of the pairwise update: nA * nB / n * delta delta.T
        cross_weight = self.nk * other_share
        if self.scatter.ndim == 3:
            cross = delta[:, :, np.newaxis] * delta[:, np.newaxis, :]
            cross *= cross_weight[:, np.newaxis, np.newaxis]
        else:
            cross = cross_weight[:, np.newaxis] * delta * delta
        return SufficientStatistics(nk, means, self.scatter + other.scatter + cross)

    __add__ = merge
