"""Validation of initial parameters and sample weights, with sklearn's messages.

Each function returns a validated array (float64, or float32 if given float32) and never
modifies its input; the estimator calls them once, at the boundary, and the kernels
trust the result.
"""

import numpy as np
from sklearn.utils import check_array


def _check_shape(array, expected_shape, name):
    if array.shape != expected_shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {expected_shape}, "
            f"but got {array.shape}"
        )


def _as_float_array(array, name, **kwargs):
    return check_array(
        array,
        dtype=[np.float64, np.float32],
        ensure_2d=False,
        input_name=name,
        **kwargs,
    )


def check_weights(weights, n_components):
    """Validate ``weights_init``: shape (n_components,), in [0, 1], summing to one."""
    weights = _as_float_array(weights, "weights_init")
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{np.max(weights):.5f}, min value {np.min(weights):.5f}"
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not abs(1.0 - float(np.sum(weights))) <= atol:
        raise ValueError(
            "The parameter 'weights' should be normalized, but got sum(weights) = "
            f"{np.sum(weights):.5f}"
        )
    return weights


def check_means(means, n_components, n_features):
    """Validate ``means_init``: shape (n_components, n_features), finite."""
    means = _as_float_array(means, "means_init")
    _check_shape(means, (n_components, n_features), "means")
    return means


def check_precisions(precisions, model, n_components, n_features):
    """Validate ``precisions_init`` for ``model``: shape, symmetry, positivity."""
    expected_shape = model.parameter_shape(n_components, n_features)
    precisions = _as_float_array(
        precisions, "precisions_init", allow_nd=len(expected_shape) > 2
    )
    _check_shape(precisions, expected_shape, f"{model.name} precision")
    model.check_precisions(precisions)
    return precisions


def check_sample_weight(sample_weight, n_samples, require_positive=True):
    """Validate ``sample_weight``: shape (n_samples,), finite, >= 0, not all zero
    (unless not ``require_positive``, for a part of the weights).

    Returns
    -------
    ndarray of shape (n_samples,), float64
    """
    if np.isscalar(sample_weight):
        sample_weight = np.full(n_samples, sample_weight)
    sample_weight = check_array(
        sample_weight,
        dtype=np.float64,
        ensure_2d=False,
        ensure_min_samples=0,
        input_name="sample_weight",
    )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},)!"
        )
    if np.any(sample_weight < 0):
        raise ValueError(
            "Negative values in data passed to `sample_weight`: sample weights must "
            "be non-negative."
        )
    if require_positive and not np.any(sample_weight > 0):
        raise ValueError(
            "All sample_weight values are zero: at least one sample must have a "
            "positive weight."
        )
    return sample_weight


def drop_and_rescale(X, sample_weight):
    """Remove the rows of zero weight and scale the other weights to mean one.

    Removal makes a zero weight exactly a removed row, wherever the row lies; the
    scale keeps sklearn's ``10 * eps`` floor on component weights relative to a row.
    Also returns the weight of a row of mean weight, the unit of a prior's counts.
    """
    positive = sample_weight > 0
    if not positive.all():
        X, sample_weight = X[positive], sample_weight[positive]
    mean_weight = sample_weight.mean()
    return X, sample_weight / mean_weight, mean_weight
