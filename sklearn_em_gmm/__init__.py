"""Gaussian mixture models fitted by expectation-maximization, a drop-in for sklearn."""

from ._estimator import GaussianMixture

__all__ = ["GaussianMixture"]
__version__ = "0.1.0"
