"""Conjugate priors and the MAP M-step they give (Fraley & Raftery 2007).

Each mean has a normal prior centred on ``mean`` with covariance ``Sigma_k /
shrinkage``; each covariance an inverse Wishart (general matrices, ``dof`` degrees of
freedom and scale matrix ``scale``) or inverse gamma (each variance, shape ``dof/2``
and scale ``scale/2``) prior. The mixing weights have none. The posterior mode of a
component is then the maximum-likelihood estimate of augmented statistics: the mean
pulled towards the prior's, the scatter grown by the prior's scale and by the
shrinkage's share of the mean's offset, and the weight sum by pseudo-counts.
Maximizing a model's constrained likelihood on those statistics is the MAP M-step
of that model, so every model's own M-step serves unchanged.
"""

from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from .covariance import DIAGONAL, FULL, ISOTROPIC, ComponentEstimates

PRIOR_KEYS = ("shrinkage", "mean", "dof", "scale")

# Fraley & Raftery (2007), section 4: mclust's defaults
DEFAULT_SHRINKAGE = 0.01


@dataclass(frozen=True, eq=False)
class ConjugatePrior:
    """Hyperparameters of the conjugate prior of one fit, resolved against the data.

    Attributes
    ----------
    shrinkage : float
        ``kappa_P``: how many rows' worth of weight the prior mean carries.
    mean : ndarray of shape (n_features,)
        ``mu_P``, the prior mean of every component.
    dof : float
        ``nu_P``, the degrees of freedom.
    scale : ndarray of shape (n_features, n_features), or float
        ``Lambda_P`` for models with general matrices, else ``varsigma_P**2``,
        the scale of every variance's inverse gamma prior.
    row_weight : float, default=1.0
        The weight one row of mean weight has in the statistics: the fit rescales
        sample weights to mean one, and the prior's counts follow, so that weights
        stay repeated rows.
    """

    shrinkage: float
    mean: np.ndarray
    dof: float
    scale: object
    row_weight: float = 1.0

    def m_step(self, model, stats, *, reg_covar, dtype, previous=None):
        """MAP M-step of ``model`` from ``stats`` in its ``statistics_layout``.

        Returns
        -------
        estimates : ComponentEstimates
            ``nk`` are the data's weight sums (the weights have no prior).
        """
        nk = stats.nk + 10 * np.finfo(dtype).eps
        layout = stats.layout
        n_components, n_features = stats.means.shape
        # the log posterior over the weight of a row: the prior in the data's units
        unit = 1.0 / self.row_weight
        shrinkage = self.shrinkage * unit
        pulled = shrinkage * stats.nk / (shrinkage + stats.nk)
        offsets = stats.means - self.mean
        means = (stats.nk[:, np.newaxis] * stats.means + shrinkage * self.mean) / (
            stats.nk + shrinkage
        )[:, np.newaxis]
        if layout.form == FULL:
            spread = pulled[:, np.newaxis, np.newaxis] * (
                offsets[:, :, np.newaxis] * offsets[:, np.newaxis, :]
            )
            scale = unit * np.asarray(self.scale, np.float64)
        elif layout.form == DIAGONAL:
            spread = pulled[:, np.newaxis] * offsets**2
            scale = unit * self.scale
        else:
            spread = pulled * np.sum(offsets**2, axis=1)
            scale = unit * self.scale
        # Pseudo-counts: twice the power of each matrix's (or variance's)
        # determinant in the prior, dof + d + 1 for an inverse Wishart (dof + 2 for
        # an inverse gamma), plus one per mean's prior (d for one variance).
        covariance_power = self.dof + (n_features + 1 if layout.form == FULL else 2)
        mean_power = n_features if layout.form == ISOTROPIC else 1
        covariance_power, mean_power = unit * covariance_power, unit * mean_power
        if layout.shared:
            scatter = stats.scatter + spread.sum(axis=0) + scale
            extra = covariance_power / n_components + mean_power
        else:
            scatter = stats.scatter + spread + scale
            extra = covariance_power + mean_power
        if layout.form == ISOTROPIC:
            extra = extra / n_features  # the counts multiply every feature
        augmented = replace(stats, nk=stats.nk + extra, means=means, scatter=scatter)
        counts = augmented.nk + 10 * np.finfo(dtype).eps
        covariances = model.covariances_from_statistics(
            augmented, counts, reg_covar, previous
        )
        return ComponentEstimates(nk, means, covariances)


def resolve_prior(
    prior, X, sample_weight, mean_weight, model, n_components, moments=None
):
    """The prior of a fit: None, or a :class:`ConjugatePrior` from ``prior``.

    ``prior`` is None, ``'default'`` (Fraley & Raftery's defaults) or a dict whose
    keys (a subset of :data:`PRIOR_KEYS`) replace the defaults. ``sample_weight``
    (or None) are rescaled to mean one from a mean of ``mean_weight``. ``moments``,
    the data's mean and unbiased covariance, replace those of ``X`` when given
    (data out of memory).
    """
    if prior is None:
        return None
    overrides = {} if isinstance(prior, str) else dict(prior)
    unknown = set(overrides) - set(PRIOR_KEYS)
    if unknown:
        raise ValueError(
            f"prior has unknown keys {sorted(unknown)}; expected a subset of "
            f"{list(PRIOR_KEYS)}."
        )
    n_features = X.shape[1]
    if moments is None:
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        moments = _data_moments(X, weights * mean_weight)
    data_mean, data_covariance = moments
    # the prior's spread: a G-th of the data's volume for each component
    fraction = n_components ** (-2.0 / n_features)
    if model.statistics_layout.form == FULL:
        scale = fraction * data_covariance
    else:
        scale = fraction * np.trace(data_covariance) / n_features
    shrinkage = overrides.get("shrinkage", DEFAULT_SHRINKAGE)
    dof = overrides.get("dof", n_features + 2)
    _check_positive("shrinkage", shrinkage)
    _check_positive("dof", dof)
    mean = _checked_array(overrides.get("mean", data_mean), "mean", (n_features,))
    scale = overrides.get("scale", scale)
    if model.statistics_layout.form == FULL:
        scale = _checked_array(scale, "scale", (n_features, n_features))
        if not np.all(np.linalg.eigvalsh(scale) > 0):
            raise ValueError("prior['scale'] must be positive definite.")
    else:
        _check_positive("scale", scale)
        scale = float(scale)
    return ConjugatePrior(float(shrinkage), mean, float(dof), scale, mean_weight)


def _data_moments(X, weights):
    """Mean and unbiased covariance of the rows, weights counting as repeats."""
    mean = np.average(X, axis=0, weights=weights).astype(np.float64)
    centred = X - mean
    total = weights.sum()
    covariance = (weights[:, np.newaxis] * centred).T @ centred / (total - 1)
    return mean, np.atleast_2d(covariance)


def _check_positive(key, value):
    if not (isinstance(value, Real) and np.isfinite(value) and value > 0):
        raise ValueError(f"prior[{key!r}] must be a positive number, got {value!r}.")


def _checked_array(value, key, shape):
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(
            f"prior[{key!r}] must be a finite array of shape {shape}, got "
            f"{np.shape(value)}."
        )
    return array
