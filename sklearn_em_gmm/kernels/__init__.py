"""Per-block kernels of the E-step: log-densities of every component, then moments.

See :mod:`._protocol` for the steps every kernel provides; :func:`select_kernel`
picks one for a pass.
"""

from ._products import blas_threads
from ._protocol import Components, Kernel, log_density_bound
from ._select import centred_data, select_kernel

__all__ = [
    "Components",
    "Kernel",
    "blas_threads",
    "centred_data",
    "log_density_bound",
    "select_kernel",
]
