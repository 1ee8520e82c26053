"""Covariance models, found by name in one registry."""

from . import _axis_aligned, _ellipsoidal  # noqa: F401  (registers the models)
from ._base import (
    CovarianceModel,
    canonical_models,
    covariance_type_names,
    get_covariance_model,
)

__all__ = [
    "CovarianceModel",
    "canonical_models",
    "covariance_type_names",
    "get_covariance_model",
]
