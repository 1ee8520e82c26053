"""Covariance models: the contract, the registry, and the four of scikit-learn.

A new model subclasses :class:`CovarianceModel`, declares its :class:`Structure`
and calls :func:`register`; ``covariance_type`` then accepts its name and mclust
code everywhere.
"""

from . import _ellipsoidal, _axis_aligned  # noqa: F401, I001  (registers the models)
from ._base import (
    ComponentEstimates,
    CovarianceModel,
    canonical_models,
    covariance_type_names,
    get_covariance_model,
    ill_defined_covariance_error,
    register,
    unregister,
)
from ._structure import (
    DIAGONAL,
    FULL,
    ISOTROPIC,
    PrecisionFactors,
    Structure,
    canonical_factors,
    richer_form,
)

__all__ = [
    "DIAGONAL",
    "FULL",
    "ISOTROPIC",
    "ComponentEstimates",
    "CovarianceModel",
    "PrecisionFactors",
    "Structure",
    "canonical_factors",
    "canonical_models",
    "covariance_type_names",
    "get_covariance_model",
    "ill_defined_covariance_error",
    "register",
    "richer_form",
    "unregister",
]
