"""Covariance models, found by name in one registry."""

from . import _ellipsoidal, _axis_aligned  # noqa: F401, I001  (registers the models)
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
