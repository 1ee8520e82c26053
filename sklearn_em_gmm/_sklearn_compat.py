"""The only place that imports scikit-learn's private helpers."""

from sklearn.base import _fit_context as fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)

__all__ = ["Interval", "InvalidParameterError", "StrOptions", "fit_context"]
