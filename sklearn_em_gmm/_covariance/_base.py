"""The interface every covariance model implements, and the registry that finds them.

A covariance model turns sufficient statistics into covariances (the M-step),
covariances into Cholesky factors of precisions, and those factors into squared
Mahalanobis distances (the E-step). The rest of the package is written against this
interface, so a new model is one class and one registry line.
"""

from abc import ABC, abstractmethod

import numpy as np


def ill_defined_covariance_error(dtype):
    """Build sklearn's error for a covariance that is not positive definite."""
    message = (
        "Fitting the mixture model failed because some components have "
        "ill-defined empirical covariance (for instance caused by singleton "
        "or collapsed samples). Try to decrease the number of components, "
        "increase reg_covar, or scale the input data."
    )
    if dtype == np.float32:
        message += (
            " The numerical accuracy can also be improved by passing float64"
            " data instead of float32."
        )
    return ValueError(message)


class CovarianceModel(ABC):
    """One family of covariance matrices, e.g. one full matrix per component.

    Attributes
    ----------
    name : str
        scikit-learn's name, the value of ``covariance_type``.
    mclust_code : str
        R mclust's three-letter code (volume, shape, orientation), accepted as an alias.
    full_scatter : bool
        Whether the M-step needs the full ``(n_features, n_features)`` scatter of each
        component; otherwise only its diagonal is accumulated.
    pooled_scatter : bool
        Whether the M-step needs only the scatter summed over components (one
        covariance shared by all), which a kernel may give as shape (1, d, d).
    isotropic : bool
        Whether each component has one variance for all features, so that the M-step
        needs only the mean over features of each component's scatter.
    """

    name: str
    mclust_code: str
    full_scatter: bool
    pooled_scatter = False
    isotropic = False

    @abstractmethod
    def parameter_shape(self, n_components, n_features):
        """Shape of ``covariances_``, ``precisions_`` and ``precisions_cholesky_``."""

    @abstractmethod
    def n_covariance_parameters(self, n_components, n_features):
        """Number of free parameters of the covariances."""

    @abstractmethod
    def estimate_covariances(self, scatter, nk, reg_covar):
        """M-step: covariances from centred scatter and component weight sums.

        Parameters
        ----------
        scatter : ndarray of shape (n_components, n_features, n_features) or \
                (n_components, n_features) or (1, n_features, n_features)
            Weighted scatter of each component about its mean; the diagonal only
            when ``full_scatter`` is False; possibly summed over components when
            ``pooled_scatter`` is True.
        nk : ndarray of shape (n_components,)
            Weight sum of each component, already kept away from zero.
        reg_covar : float
            Added to the diagonal of every covariance.
        """

    @abstractmethod
    def precisions_cholesky(self, covariances):
        """Cholesky factors of the precisions; ValueError unless positive definite."""

    @abstractmethod
    def precisions_cholesky_from_precisions(self, precisions):
        """Cholesky factors of user-given precisions."""

    @abstractmethod
    def precisions(self, precisions_cholesky):
        """Precisions from their Cholesky factors."""

    @abstractmethod
    def component_precisions(self, precisions_cholesky, n_components, n_features):
        """Each component's precision: (k, d, d) if ``full_scatter``, else its diagonal
        (k, d). Views may be shared between components."""

    @abstractmethod
    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        """Covariances from the Cholesky factors of the precisions."""

    @abstractmethod
    def check_precisions(self, precisions):
        """Raise ValueError unless user-given precisions are valid for this model."""

    @abstractmethod
    def log_det_cholesky(self, precisions_cholesky, n_features):
        """Log-determinant of each component's precision Cholesky factor, shape (k,)."""

    @abstractmethod
    def degenerate_components(self, covariances, n_components):
        """Boolean mask (k,) of the components whose covariance is not positive
        definite: the ones sklearn's fit fails on."""

    @abstractmethod
    def add_to_diagonal(self, covariances, components, amounts):
        """Copy of ``covariances`` with ``amounts`` (d,) added to the diagonal of the
        masked ``components``."""

    @abstractmethod
    def reset(self, covariances, components, variances):
        """Copy of ``covariances`` with the masked ``components`` set to the diagonal
        ``variances`` (d,), where the model lets a component have its own."""

    @abstractmethod
    def sample(self, rng, means, covariances, counts):
        """Draw ``counts[k]`` rows from each component, consuming ``rng`` as sklearn."""


_REGISTRY = {}


def register(model):
    """Make ``model`` available under its sklearn name and its mclust code."""
    for key in (model.name, model.mclust_code):
        if key in _REGISTRY:
            raise ValueError(f"covariance type {key!r} is already registered")
        _REGISTRY[key] = model
    return model


def get_covariance_model(covariance_type):
    """Return the registered model for a ``covariance_type`` name or mclust code."""
    try:
        return _REGISTRY[covariance_type]
    except KeyError:
        raise ValueError(
            f"Unknown covariance_type {covariance_type!r}; expected one of "
            f"{sorted(_REGISTRY)}."
        ) from None


def covariance_type_names():
    """All accepted ``covariance_type`` values: sklearn names and mclust codes."""
    return set(_REGISTRY)


def canonical_models():
    """Each registered model once, in registration order."""
    return list(dict.fromkeys(_REGISTRY.values()))
