"""Safe persistence: a fitted GaussianMixture as a dict of plain values and arrays.

No pickle. The dict holds a format name and version, the constructor parameters and
the fitted attributes; arrays are numpy arrays, or with ``json_compatible=True``
``{"dtype": ..., "shape": ..., "data": nested lists}`` so that :func:`json.dumps`
works. Loading trusts nothing: every key, shape, dtype and value is checked before an
estimator is built, and ``precisions_`` is recomputed from ``precisions_cholesky_``.
A round trip is bit-exact: every parameter and fitted array comes back with the same
values and dtype, so predictions and samples are identical.

Layout of version 1::

    {
        "format": "sklearn_em_gmm.GaussianMixture",
        "version": 1,
        "params": {...},      # get_params(); random_state an int or None
        "attributes": {
            "weights_", "means_", "covariances_", "precisions_cholesky_": float arrays
            "converged_": bool, "n_iter_": int,
            "lower_bound_": float, or None when no EM step was run (sklearn's -inf),
            "lower_bounds_": float array of shape (n_iter_,),
            "labels_": int array (absent when the fit kept none), "n_features_in_": int,
            "feature_names_in_": list of str (only when fitted on named features),
        },
    }
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import check_means, check_precisions, check_weights
from ..covariance import get_covariance_model

FORMAT = "sklearn_em_gmm.GaussianMixture"
VERSION = 1

_TOP_LEVEL_KEYS = ("format", "version", "params", "attributes")
_FLOAT_DTYPES = ("float32", "float64")
_INT_DTYPES = ("int32", "int64")
_ARRAY_PARAMS = ("weights_init", "means_init", "precisions_init")
_FLOAT_ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_cholesky_")
_REQUIRED_ATTRIBUTES = _FLOAT_ATTRIBUTES + (
    "converged_",
    "n_iter_",
    "lower_bound_",
    "lower_bounds_",
    "n_features_in_",
)
# labels_ is not kept by a fit out of core of a large np.memmap
_OPTIONAL_ATTRIBUTES = ("labels_", "feature_names_in_")
_ARRAY_KEYS = ("dtype", "shape", "data")
# covariances_ and the covariances recomputed from precisions_cholesky_ agree to
# about eps * a small factor; this leaves room for ill-conditioned float32 fits.
_CONSISTENCY_EPS_FACTOR = 1000
_CONSISTENCY_RTOL = 1e-6


# --------------------------------------------------------------------------------
# writing


def _encode_array(array, json_compatible):
    if json_compatible:
        return {
            "dtype": str(array.dtype),
            "shape": list(array.shape),
            "data": array.tolist(),
        }
    return np.array(array, copy=True, order="K")


def _plain_scalar(value, name):
    """A JSON-compatible copy of a scalar parameter."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(
        f"Cannot persist the parameter {name!r}: expected None, a bool, a number or "
        f"a string, got {type(value).__name__}."
    )


def _encode_params(estimator, json_compatible):
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if name in _ARRAY_PARAMS:
            if value is not None:
                value = np.asarray(value)
                if str(value.dtype) not in _FLOAT_DTYPES:
                    value = value.astype(np.float64)
                value = _encode_array(value, json_compatible)
        elif name == "random_state":
            if not (value is None or _is_int(value)):
                raise ValueError(
                    "Persistence needs random_state to be an int or None, got "
                    f"{type(value).__name__}; set random_state=<int> or None (with "
                    "set_params) before saving."
                )
            value = None if value is None else int(value)
        else:
            value = _plain_scalar(value, name)
        params[name] = value
    return params


def model_to_dict(estimator, json_compatible=False):
    """Describe a fitted mixture by a dict of plain values and arrays, without pickle.

    Parameters
    ----------
    estimator : GaussianMixture
        A fitted mixture whose ``random_state`` is an int or None.

    json_compatible : bool, default=False
        If True, every array is written as ``{"dtype": str, "shape": list, "data":
        nested lists}``, so that the whole dict goes through :func:`json.dumps`.
        Otherwise arrays are numpy arrays (copies).

    Returns
    -------
    data : dict
        Keys ``"format"``, ``"version"``, ``"params"`` and ``"attributes"``; read
        back by :func:`model_from_dict`.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If ``random_state`` is a ``RandomState`` or ``Generator`` instance, or a
        parameter is not a plain value.
    """
    check_is_fitted(estimator)
    attributes = {
        name: _encode_array(getattr(estimator, name), json_compatible)
        for name in _FLOAT_ATTRIBUTES
    }
    lower_bound = estimator.lower_bound_
    attributes.update(
        converged_=bool(estimator.converged_),
        n_iter_=int(estimator.n_iter_),
        # sklearn's bound before any EM step is -inf, which JSON cannot hold
        lower_bound_=None if lower_bound == -math.inf else float(lower_bound),
        lower_bounds_=_encode_array(
            np.asarray(estimator.lower_bounds_, dtype=estimator.means_.dtype),
            json_compatible,
        ),
        n_features_in_=int(estimator.n_features_in_),
    )
    if hasattr(estimator, "labels_"):
        # a dask fit's labels are lazy: computed here
        labels = np.asarray(estimator.labels_)
        attributes["labels_"] = _encode_array(labels, json_compatible)
    if hasattr(estimator, "feature_names_in_"):
        attributes["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    return {
        "format": FORMAT,
        "version": VERSION,
        "params": _encode_params(estimator, json_compatible),
        "attributes": attributes,
    }


# --------------------------------------------------------------------------------
# reading: every check raises ValueError naming the key


def _error(key, message):
    return ValueError(f"Invalid GaussianMixture dict, key {key!r}: {message}")


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _check_keys(mapping, key, required, optional=()):
    if not isinstance(mapping, dict):
        raise _error(key, f"expected a dict, got {type(mapping).__name__}.")
    missing = [name for name in required if name not in mapping]
    if missing:
        raise _error(key, f"missing key(s) {missing}.")
    unexpected = sorted(
        str(name) for name in mapping if name not in required and name not in optional
    )
    if unexpected:
        raise _error(key, f"unexpected key(s) {unexpected}.")


def _decode_array(value, key, dtypes):
    """A fresh array from a numpy array or a ``{"dtype", "shape", "data"}`` dict."""
    if isinstance(value, np.ndarray):
        if str(value.dtype) not in dtypes:
            raise _error(key, f"expected dtype in {list(dtypes)}, got {value.dtype}.")
        return np.array(value, copy=True, order="K")
    if not isinstance(value, dict):
        raise _error(
            key,
            "expected a numpy array or a dict with keys "
            f"{list(_ARRAY_KEYS)}, got {type(value).__name__}.",
        )
    _check_keys(value, key, _ARRAY_KEYS)
    dtype, shape = value["dtype"], value["shape"]
    if dtype not in dtypes:
        raise _error(key, f"expected dtype in {list(dtypes)}, got {dtype!r}.")
    if not (isinstance(shape, list) and all(_is_int(n) and n >= 0 for n in shape)):
        raise _error(key, f"expected a shape as a list of sizes, got {shape!r}.")
    try:
        data = np.array(value["data"])
    except (ValueError, TypeError) as exc:
        raise _error(
            key, f"data is not a regular nested list of numbers ({exc})."
        ) from None
    # a float array may be written with integral numbers; never with bools or strings
    kinds = "iu" if dtype in _INT_DTYPES else "iuf"
    if data.dtype.kind not in kinds and data.size:
        raise _error(key, f"expected numbers of dtype {dtype}, got {data.dtype}.")
    if data.shape != tuple(shape):
        raise _error(key, f"data of shape {data.shape} does not match {shape}.")
    return data.astype(dtype)


def _check_shape(array, expected, key, meaning):
    if array.shape != expected:
        raise _error(key, f"expected shape {expected} {meaning}, got {array.shape}.")


def _check_finite(array, key):
    if not np.all(np.isfinite(array)):
        raise _error(key, "expected finite values, got NaN or infinity.")


# Parameters added after files of this format were first written, with the value
# those files meant.
_ADDED_PARAMS = {
    "stopping_rule": "sklearn",
    "learning_offset": 10.0,
    "learning_decay": 0.7,
    "init_sample_size": 100_000,
}


def _decode_params(params, estimator_class):
    names = estimator_class._get_param_names()
    required = [name for name in names if name not in _ADDED_PARAMS]
    _check_keys(params, "params", required, optional=_ADDED_PARAMS)
    decoded = {}
    for name in names:
        value = params.get(name, _ADDED_PARAMS.get(name))
        key = f"params.{name}"
        if name in _ARRAY_PARAMS:
            if value is not None:
                value = _decode_array(value, key, _FLOAT_DTYPES)
                _check_finite(value, key)
        elif name == "random_state":
            if not (value is None or _is_int(value)):
                raise _error(key, f"expected an int or None, got {value!r}.")
        elif not (value is None or isinstance(value, (bool, int, float, str))):
            raise _error(key, f"expected a plain value, got {type(value).__name__}.")
        decoded[name] = value
    estimator = estimator_class(**decoded)
    try:
        estimator._validate_params()
    except ValueError as exc:
        raise _error("params", str(exc)) from None
    return estimator


def _check_initial_parameters(estimator, model, n_features):
    """The initial parameters must fit the model, as a refit would require."""
    n_components = estimator.n_components
    checks = {
        "weights_init": lambda v: check_weights(v, n_components),
        "means_init": lambda v: check_means(v, n_components, n_features),
        "precisions_init": lambda v: check_precisions(
            v, model, n_components, n_features
        ),
    }
    for name, check in checks.items():
        value = getattr(estimator, name)
        if value is not None:
            try:
                check(value)
            except ValueError as exc:
                raise _error(f"params.{name}", str(exc)) from None


def _check_precisions_cholesky(prec_chol, model):
    try:
        model.check_precisions_cholesky(prec_chol)
    except ValueError as exc:
        raise _error("attributes.precisions_cholesky_", str(exc)) from None


def _check_covariances(covariances, prec_chol, model):
    """``covariances_`` must be the covariances that ``precisions_cholesky_`` gives."""
    rtol = max(
        _CONSISTENCY_RTOL, _CONSISTENCY_EPS_FACTOR * np.finfo(covariances.dtype).eps
    )
    with np.errstate(all="ignore"):
        expected = model.covariances_from_precisions_cholesky(
            prec_chol.astype(np.float64)
        )
        scale = model.covariance_scales(expected)
        consistent = np.all(np.abs(covariances - expected) <= rtol * scale)
    if not consistent:
        raise _error(
            "attributes.covariances_",
            "inconsistent with precisions_cholesky_: expected the inverse of "
            f"precisions_cholesky_ @ precisions_cholesky_.T to relative tolerance "
            f"{rtol:.1e}.",
        )


def _decode_attributes(attributes, estimator):
    _check_keys(attributes, "attributes", _REQUIRED_ATTRIBUTES, _OPTIONAL_ATTRIBUTES)
    key = "attributes.{}".format
    n_features = attributes["n_features_in_"]
    if not (_is_int(n_features) and n_features >= 1):
        raise _error(key("n_features_in_"), f"expected an int >= 1, got {n_features!r}")
    n_features = int(n_features)
    n_components = estimator.n_components
    model = get_covariance_model(estimator.covariance_type)

    decoded = {
        name: _decode_array(attributes[name], key(name), _FLOAT_DTYPES)
        for name in _FLOAT_ATTRIBUTES
    }
    dtype = decoded["weights_"].dtype
    expected_shapes = {
        "weights_": ((n_components,), "(n_components,)"),
        "means_": ((n_components, n_features), "(n_components, n_features_in_)"),
        "precisions_cholesky_": (
            model.parameter_shape(n_components, n_features),
            f"for covariance_type={estimator.covariance_type!r}",
        ),
        "covariances_": (
            model.parameter_shape(n_components, n_features),
            f"for covariance_type={estimator.covariance_type!r}",
        ),
    }
    for name, (shape, meaning) in expected_shapes.items():
        array = decoded[name]
        if array.dtype != dtype:
            raise _error(
                key(name),
                f"expected the dtype of weights_, {dtype}, got {array.dtype}.",
            )
        _check_shape(array, shape, key(name), meaning)
        _check_finite(array, key(name))

    weights = decoded["weights_"]
    if np.any(weights < 0) or np.any(weights > 1):
        raise _error(key("weights_"), "expected values in [0, 1].")
    atol = 1e-6 if dtype == np.float32 else 1e-8
    if not abs(1.0 - math.fsum(weights.tolist())) <= atol:
        raise _error(
            key("weights_"), f"expected a sum of 1, got {math.fsum(weights.tolist())}."
        )
    _check_precisions_cholesky(decoded["precisions_cholesky_"], model)
    _check_covariances(decoded["covariances_"], decoded["precisions_cholesky_"], model)

    converged = attributes["converged_"]
    if not isinstance(converged, (bool, np.bool_)):
        raise _error(key("converged_"), f"expected a bool, got {converged!r}.")
    n_iter = attributes["n_iter_"]
    if not (_is_int(n_iter) and n_iter >= 0):
        raise _error(key("n_iter_"), f"expected an int >= 0, got {n_iter!r}.")
    n_iter = int(n_iter)

    lower_bounds = _decode_array(
        attributes["lower_bounds_"], key("lower_bounds_"), (str(dtype),)
    )
    _check_shape(lower_bounds, (n_iter,), key("lower_bounds_"), "(n_iter_,)")
    _check_finite(lower_bounds, key("lower_bounds_"))
    lower_bound = attributes["lower_bound_"]
    if n_iter == 0:
        if lower_bound is not None:
            raise _error(
                key("lower_bound_"),
                f"expected None when n_iter_ is 0, got {lower_bound!r}.",
            )
        lower_bound = -math.inf
    else:
        is_real = isinstance(lower_bound, Real) and not isinstance(
            lower_bound, (bool, np.bool_)
        )
        with np.errstate(over="ignore"):
            # finite in the fit's dtype too
            value = dtype.type(lower_bound) if is_real else None
        if value is None or not np.isfinite(value):
            raise _error(
                key("lower_bound_"), f"expected a finite float, got {lower_bound!r}."
            )
        lower_bound = value

    labels = None
    if "labels_" in attributes:
        labels = _decode_array(attributes["labels_"], key("labels_"), _INT_DTYPES)
        if labels.ndim != 1:
            raise _error(
                key("labels_"), f"expected a 1-d array, got shape {labels.shape}."
            )
        if labels.size and not (labels.min() >= 0 and labels.max() < n_components):
            raise _error(key("labels_"), f"expected values in [0, {n_components}).")

    fitted = {
        "n_features_in_": n_features,
        "weights_": weights,
        "means_": decoded["means_"],
        "covariances_": decoded["covariances_"],
        "precisions_cholesky_": decoded["precisions_cholesky_"],
        # recomputed as the fit computes it, never read from the file
        "precisions_": model.precisions(decoded["precisions_cholesky_"]),
        "converged_": bool(converged),
        "n_iter_": n_iter,
        "lower_bound_": lower_bound,
        "lower_bounds_": list(lower_bounds),
    }
    if labels is not None:
        fitted["labels_"] = labels
    if "feature_names_in_" in attributes:
        names = attributes["feature_names_in_"]
        if not (
            isinstance(names, list)
            and len(names) == n_features
            and all(isinstance(name, str) for name in names)
        ):
            raise _error(
                key("feature_names_in_"),
                f"expected a list of n_features_in_ = {n_features} strings.",
            )
        fitted["feature_names_in_"] = np.array(names, dtype=object)
    _check_initial_parameters(estimator, model, n_features)
    return fitted


def model_from_dict(data, *, estimator_class):
    """Build a fitted mixture from :func:`model_to_dict`'s output, checking everything.

    Parameters
    ----------
    data : dict
        The output of :func:`model_to_dict`, with numpy arrays or their
        JSON-compatible form (e.g. after :func:`json.dumps` and :func:`json.loads`).

    estimator_class : type
        The class to build, :class:`~sklearn_em_gmm.GaussianMixture` or a subclass.

    Returns
    -------
    estimator : GaussianMixture
        A fitted mixture owning fresh copies of the arrays.

    Raises
    ------
    ValueError
        If anything is missing, unexpected or invalid: the message names the key
        and what was expected.
    """
    _check_keys(data, "data", _TOP_LEVEL_KEYS)
    if data["format"] != FORMAT:
        raise _error("format", f"expected {FORMAT!r}, got {data['format']!r}.")
    version = data["version"]
    if not (_is_int(version) and version == VERSION):
        raise _error(
            "version", f"expected {VERSION} (the only version known), got {version!r}."
        )
    estimator = _decode_params(data["params"], estimator_class)
    fitted = _decode_attributes(data["attributes"], estimator)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator
