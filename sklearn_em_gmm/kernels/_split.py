"""Two kernels in one pass, each serving a subset of the components."""

import math
from typing import NamedTuple

import numpy as np

from ..stats import SufficientStatistics


class SplitParts(NamedTuple):
    """One value (coefficients or block) for each of the two kernels."""

    fast: object
    exact: object


class SplitKernel:
    """The fast kernel serves the components near the reference, the exact one the
    rest; their log-densities fill the rows of one (n_components, n_rows) array.

    Parameters
    ----------
    fast, exact : Kernel
        In one statistics layout.
    fast_components : ndarray of bool of shape (n_components,)
    """

    def __init__(self, fast, exact, fast_components):
        self.workspace = fast.workspace
        self.layout = fast.layout
        self.kernels = (fast, exact)
        self.subsets = (fast_components, ~fast_components)
        self.width = fast.width + exact.width
        self.dtype = np.result_type(fast.dtype, exact.dtype)
        self.large_products = exact.large_products
        self._moment_shapes = None

    def coefficients(self, components, log_offset=0.0):
        return SplitParts(
            *(
                kernel.coefficients(components.subset(subset), log_offset)
                for kernel, subset in zip(self.kernels, self.subsets, strict=True)
            )
        )

    def expand(self, X, coefficients, centred=None):
        return SplitParts(
            *(
                kernel.expand(X, coefs, centred)
                for kernel, coefs in zip(self.kernels, coefficients, strict=True)
            )
        )

    def weighted_log_prob(self, block, coefficients):
        parts = [
            kernel.weighted_log_prob(part, coefs)
            for kernel, part, coefs in zip(
                self.kernels, block, coefficients, strict=True
            )
        ]
        shape = (len(self.subsets[0]), parts[0].shape[1])
        log_prob = self.workspace.empty("split.log_prob", shape, self.dtype)
        for subset, part in zip(self.subsets, parts, strict=True):
            log_prob[subset] = part
        return log_prob

    def moments(self, block, resp, row_scale):
        """Both kernels' moments, flattened into one array (additive over blocks)."""
        moments = []
        for kernel, subset, part in zip(self.kernels, self.subsets, block, strict=True):
            part_resp, part_scale = resp[subset], row_scale
            if part_resp.dtype != kernel.dtype:
                # a float32 part beside a float64 one: scaled in float64, where the
                # factors of rows no component explains (~e^700) stay finite
                part_resp = (part_resp * row_scale).astype(kernel.dtype)
                part_scale = np.ones(len(row_scale), dtype=kernel.dtype)
            moments.append(kernel.moments(part, part_resp, part_scale))
        self._moment_shapes = [m.shape for m in moments]
        return np.concatenate([m.ravel() for m in moments])

    def statistics(self, moments, coefficients):
        first_size = math.prod(self._moment_shapes[0])
        parts = (moments[:first_size], moments[first_size:])
        stats = [
            kernel.statistics(part.reshape(shape), coefs)
            for kernel, part, shape, coefs in zip(
                self.kernels, parts, self._moment_shapes, coefficients, strict=True
            )
        ]
        return SufficientStatistics.join(stats, self.subsets)
