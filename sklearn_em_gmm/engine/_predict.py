"""Passes over rows for predictions: a function of each block's log-densities."""

from ..kernels import Components, blas_threads, select_kernel
from ._blocks import kernel_row_blocks


def map_log_prob_blocks(X, params, model, block_function, out):
    """Fill ``out[rows]`` with ``block_function`` of the rows' weighted log-densities.

    The kernel is centred on the mixture's mean, a point inside the data.
    """
    n_components = len(params.weights)
    reference = params.weights @ params.means
    components = Components.of(params, model)
    kernel = select_kernel(components, model.statistics_layout, reference, X.dtype)
    coefficients = kernel.coefficients(components)
    with blas_threads(kernel, X.shape[0]):
        for rows in kernel_row_blocks(kernel, n_components, X.shape[0]):
            block = kernel.expand(X[rows], coefficients)
            log_prob = kernel.weighted_log_prob(block, coefficients)
            out[rows] = block_function(log_prob)
    return out
