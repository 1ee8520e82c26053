"""Gaussian mixture models fitted by expectation-maximization, a drop-in for sklearn."""

from ._estimator import GaussianMixture
from ._ic import GaussianMixtureIC
from ._recovery import DegenerateComponentWarning

__all__ = ["DegenerateComponentWarning", "GaussianMixture", "GaussianMixtureIC"]
__version__ = "0.1.0"
