"""Opt-in recovery from degenerate components (``on_degenerate='recover'``).

Where sklearn raises "ill-defined empirical covariance", the repair adds a floor
proportional to the data's variance to the diagonal of the components that are not
positive definite; a component whose weight vanished is put back at the data's mean
with the data's variances and an average weight. Each repair warns once per fit and
component, saying which component and what was done.
"""

import warnings

import numpy as np

# The floor on a collapsed component's variances, relative to the data's variances.
_FLOOR = 1e-6
# A component with less responsibility than this share of one sample has vanished.
_VANISHED = 1e-3
# Repeated tenfold increases of the floor before giving up.
_MAX_FLOOR_RAISES = 8


class DegenerateComponentWarning(UserWarning):
    """A component of a Gaussian mixture was repaired (``on_degenerate='recover'``)."""


class DegenerateRepair:
    """Repairs the M-step's estimates of one fit.

    Parameters
    ----------
    model : CovarianceModel
    data_mean : ndarray of shape (n_features,)
    data_variance : ndarray of shape (n_features,)
        Weighted variance of each feature of the training data; a constant feature
        counts as variance one.
    dtype : numpy dtype
        The fit's dtype: float32 gets a floor well above its rounding error.
    """

    def __init__(self, model, data_mean, data_variance, dtype):
        self.model = model
        self.data_mean = data_mean
        self.data_variance = np.where(data_variance > 0, data_variance, 1.0)
        self.floor = max(_FLOOR, 100 * np.finfo(dtype).eps) * self.data_variance
        self._warned = set()

    def __call__(self, nk, weights, means, covariances):
        """Repaired ``(weights, means, covariances)``; the inputs are not modified.

        ``nk`` is each component's weight sum, in samples.
        """
        vanished = nk < _VANISHED
        if vanished.any():
            self._warn(
                vanished,
                "vanished",
                "re-seeded at the data's mean with the "
                "data's variances and an average weight",
            )
            means = means.copy()
            means[vanished] = self.data_mean
            covariances = self.model.reset(covariances, vanished, self.data_variance)
            weights = weights.copy()
            weights[vanished] = 1.0 / len(weights)
            weights /= weights.sum()
        floor = self.floor
        for _ in range(_MAX_FLOOR_RAISES):
            collapsed = self.model.degenerate_components(covariances, len(weights))
            if not collapsed.any():
                return weights, means, covariances.astype(means.dtype, copy=False)
            self._warn(
                collapsed,
                "collapsed (ill-defined covariance)",
                f"added {floor.mean():.3g} (a share of the data's variance) "
                "to its variances",
            )
            covariances = self.model.add_to_diagonal(covariances, collapsed, floor)
            floor = 10 * floor
        return weights, means, covariances

    def _warn(self, components, problem, action):
        for k in np.flatnonzero(components):
            if (k, problem) not in self._warned:
                self._warned.add((k, problem))
                warnings.warn(
                    f"Component {k} {problem}: {action} (on_degenerate='recover').",
                    DegenerateComponentWarning,
                    stacklevel=2,
                )
