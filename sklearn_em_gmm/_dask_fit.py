"""GaussianMixture on dask arrays: the fit, its start, and lazy predictions.

The EM is the in-memory one over a :class:`~sklearn_em_gmm.engine._dask.DaskSource`:
each pass computes every chunk's statistics where the chunk lives and adds them up,
one ``compute`` per E-step. The start is drawn from a uniform sample of
``init_sample_size`` rows (every row when there are fewer, and then it is the
in-memory start). dask is imported only here, for dask input.
"""

import copy
import math

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.random import sample_without_replacement

from ._recovery import DegenerateRepair
from ._threads import call_threads
from ._verbose import ProgressPrinter
from .engine import run_em
from .init import Start, initial_parameters
from .prior import resolve_prior


def is_dask_array(X):
    """Whether ``X`` is a dask array; dask is not imported for other input."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "to_delayed")


def _rows(X, n_features=None):
    """``X`` as a float dask array with one chunk across its columns."""
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got one of shape {X.shape}.")
    if any(math.isnan(size) for size in X.shape):
        X = X.compute_chunk_sizes()
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but GaussianMixture is expecting "
            f"{n_features} features as input."
        )
    return da.asarray(X).rechunk({1: -1})


def _weights(sample_weight, X):
    """``sample_weight`` as a dask array chunked as ``X``'s rows, or None."""
    import dask.array as da

    if sample_weight is None:
        return None
    weights = da.asarray(sample_weight).astype(np.float64)
    if any(math.isnan(size) for size in weights.shape):
        weights = weights.compute_chunk_sizes()
    if weights.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight.shape == {weights.shape}, expected ({X.shape[0]},)!"
        )
    return weights.rechunk((X.chunks[0],))


def _checked(X, weights):
    """One pass: reject non-finite data and bad weights; the weights' sum and count."""
    import dask
    import dask.array as da

    checks = [da.isfinite(X).all()]
    if weights is not None:
        checks += [
            da.isfinite(weights).all(),
            (weights >= 0).all(),
            weights.sum(),
            (weights > 0).sum(),
        ]
    results = dask.compute(*checks)
    if not results[0]:
        raise ValueError("Input X contains NaN or infinity.")
    if weights is None:
        return X.shape[0], X.shape[0]
    finite, non_negative, total, positive = results[1:]
    if not (finite and non_negative) or positive == 0:
        raise ValueError("sample_weight must be finite and non-negative, not all zero.")
    return float(total), int(positive)


def _moments(X, weights, reference):
    """Weighted mean (given) and unbiased covariance of the rows, one pass."""
    import dask

    centred = X.astype(np.float64) - reference
    weighted = centred if weights is None else centred * weights[:, None]
    total = X.shape[0] if weights is None else weights.sum()
    scatter, total = dask.compute(weighted.T @ centred, total)
    return reference, np.atleast_2d(scatter / (total - 1))


def fit_dask(estimator, X, sample_weight):
    """Fit ``estimator`` (a GaussianMixture) on the dask array ``X``."""
    from .engine._dask import DaskSource

    X = _rows(X)
    weights = _weights(sample_weight, X)
    n_samples, n_features = X.shape
    total, positive = _checked(X, weights)
    if positive < estimator.n_components:
        raise ValueError(
            "Expected n_samples >= n_components "
            f"but got n_components = {estimator.n_components}, "
            f"n_samples = {positive}"
        )
    mean_weight = total / positive
    if weights is not None:
        weights = weights / mean_weight  # as in memory: mean one over kept rows
    estimator.n_features_in_ = n_features
    estimator.__dict__.pop("feature_names_in_", None)
    model = estimator._model
    given = {
        name: value.astype(X.dtype, order="C")
        for name, value in estimator._check_initial_parameters(
            model, n_features
        ).items()
    }
    source = DaskSource(X, weights)
    reference = source.mean()
    source.prepare(model, reference, estimator.n_components)
    repair = None
    if estimator.on_degenerate == "recover":
        variance = (
            np.diag(_moments(X, weights, reference)[1]) * (positive - 1) / positive
        )
        repair = DegenerateRepair(model, reference, variance, X.dtype)
    prior = None
    if estimator.prior is not None:
        prior = resolve_prior(
            estimator.prior,
            np.empty((0, n_features)),
            None,
            mean_weight,
            model,
            estimator.n_components,
            moments=_moments(
                X, None if weights is None else weights * mean_weight, reference
            ),
        )
    random_state = check_random_state(estimator.random_state)
    progress = ProgressPrinter(estimator.verbose, estimator.verbose_interval)
    best = None
    with call_threads(n_samples, n_features, estimator.n_components):
        for init in range(estimator.n_init):
            progress.init_begin(init)
            params = _start(
                estimator, X, weights, model, given, random_state, prior, repair
            )
            result = run_em(
                source,
                params,
                model,
                reg_covar=estimator.reg_covar,
                tol=estimator.tol,
                max_iter=estimator.max_iter,
                lower_bound=-math.inf,
                progress=progress,
                prior=prior,
                repair=repair,
                stopping_rule=estimator.stopping_rule,
                total_weight=total,
            )
            if best is None or result.lower_bound > best.lower_bound:
                best = result
    estimator._set_fit_result(best, model, X.dtype, None)
    estimator.labels_ = map_rows(estimator, X, "predict")


def _start(estimator, X, weights, model, given, random_state, prior, repair):
    """Starting parameters from ``init_sample_size`` rows drawn uniformly."""
    n_samples = X.shape[0]
    if len(given) == 3:
        return initial_parameters(
            None, None, model, start=None, reg_covar=estimator.reg_covar, **given
        )
    size = max(estimator.init_sample_size, estimator.n_components)
    if n_samples <= size:
        rows = slice(None)
    else:
        # O(size) memory, not a permutation of every row index
        rows = np.sort(
            sample_without_replacement(n_samples, size, random_state=random_state)
        )
    sample = np.asarray(X[rows])
    sample_weight = None
    if weights is not None:
        sample_weight = np.asarray(weights[rows])
        kept = sample_weight > 0  # a zero weight removes its row
        sample, sample_weight = sample[kept], sample_weight[kept]
        if len(sample) < estimator.n_components:
            raise ValueError(
                f"The start's sample of {size} rows has {len(sample)} of positive "
                f"weight, fewer than n_components = {estimator.n_components}; "
                "increase init_sample_size."
            )
    start = Start.draw(
        sample,
        sample_weight,
        estimator.n_components,
        estimator.init_params,
        random_state,
    )
    return initial_parameters(
        sample,
        sample_weight,
        model,
        start=start,
        reg_covar=estimator.reg_covar,
        prior=prior,
        repair=repair,
        **given,
    )


def _apply(block, estimator, method):
    return getattr(estimator, method)(block)


def map_rows(estimator, X, method):
    """``estimator.<method>`` of every chunk of ``X``, lazily: a dask array."""
    X = _rows(X, estimator.n_features_in_)
    # the tasks carry the parameters, not the lazy labels of a dask fit
    estimator = copy.copy(estimator)
    estimator.__dict__.pop("labels_", None)
    dtype = np.result_type(X.dtype, estimator.means_.dtype)
    if method == "predict_proba":
        return X.map_blocks(
            _apply,
            estimator,
            method,
            dtype=dtype,
            chunks=(X.chunks[0], (estimator.n_components,)),
        )
    dtype = np.intp if method == "predict" else dtype
    return X.map_blocks(_apply, estimator, method, dtype=dtype, drop_axis=1)


def mean_log_likelihood(estimator, X, sample_weight):
    """Weighted mean log-likelihood of the dask array ``X`` and its total weight,
    one pass."""
    import dask

    log_prob = map_rows(estimator, X, "score_samples")
    weights = _weights(sample_weight, _rows(X))
    if weights is None:
        mean, total = dask.compute(log_prob.mean(), log_prob.shape[0])
        return float(mean), total
    kept = weights > 0  # a zero weight removes the row, even at -inf
    weighted = (log_prob * weights)[kept].sum()
    total, weighted = dask.compute(weights.sum(), weighted)
    return float(weighted / total), float(total)
