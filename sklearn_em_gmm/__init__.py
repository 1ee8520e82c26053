"""Gaussian mixture models fitted by expectation-maximization, a drop-in for sklearn."""

from ._estimator import GaussianMixture
from ._recovery import DegenerateComponentWarning

__all__ = ["DegenerateComponentWarning", "GaussianMixture"]
__version__ = "0.1.0"
