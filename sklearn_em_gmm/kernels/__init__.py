"""Per-block kernels of the E-step: log-densities of every component, then moments.

See :mod:`._protocol` for the steps every kernel provides; :func:`select_kernel`
picks one for a pass.
"""

from ._axis_aligned import AxisAlignedBlock, AxisAlignedCoefficients, AxisAlignedKernel
from ._component import ComponentCoefficients, ComponentKernel
from ._products import blas_threads
from ._protocol import Components, Kernel, log_density_bound, log_density_constants
from ._quadratic import QuadraticKernel
from ._select import centred_data, pooled_pass, select_kernel
from ._shared import SharedBlock, SharedCoefficients, SharedPrecisionKernel
from ._split import SplitKernel, SplitParts

__all__ = [
    "AxisAlignedBlock",
    "AxisAlignedCoefficients",
    "AxisAlignedKernel",
    "ComponentCoefficients",
    "ComponentKernel",
    "Components",
    "Kernel",
    "QuadraticKernel",
    "SharedBlock",
    "SharedCoefficients",
    "SharedPrecisionKernel",
    "SplitKernel",
    "SplitParts",
    "blas_threads",
    "centred_data",
    "log_density_bound",
    "log_density_constants",
    "pooled_pass",
    "select_kernel",
]
