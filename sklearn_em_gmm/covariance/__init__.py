"""Covariance models: the contract, the registry, sklearn's four and mclust's others.

A new model subclasses :class:`CovarianceModel`, declares its :class:`Structure`
and calls :func:`register`; ``covariance_type`` then accepts its name and mclust
code everywhere. sklearn's four register first, then mclust's other ten in mclust's
order (EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV), named by their codes.
:func:`record_inner_runs` records the inner iterations of the M-steps that iterate.
"""

# registers the models, in this order
from . import _ellipsoidal, _axis_aligned  # noqa: F401, I001
from . import _diagonal_family, _orientation_family  # noqa: F401, I001
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
from ._solvers import INNER_MAX_ITER, INNER_TOL, InnerRun, record_inner_runs
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
    "INNER_MAX_ITER",
    "INNER_TOL",
    "ISOTROPIC",
    "ComponentEstimates",
    "CovarianceModel",
    "InnerRun",
    "PrecisionFactors",
    "Structure",
    "canonical_factors",
    "canonical_models",
    "covariance_type_names",
    "get_covariance_model",
    "ill_defined_covariance_error",
    "record_inner_runs",
    "register",
    "richer_form",
    "unregister",
]
