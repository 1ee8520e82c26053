"""partial_fit on the estimator: the batch's checks, the first step's start, one
step of stepwise EM (``_stepwise``) and the fitted attributes it leaves."""

import numpy as np
from sklearn.utils.validation import validate_data

from ._recovery import DegenerateRepair
from ._stepwise import fitted_state, stepwise_step
from ._threads import call_threads
from ._validation import check_sample_weight, drop_and_rescale
from .init import StartDraws, initial_parameters
from .prior import resolve_prior


def partial_fit_step(estimator, X, sample_weight):
    """One step of ``estimator.partial_fit`` on the batch ``X``: its start or the
    fitted mixture, the step, and the fitted attributes."""
    estimator._check_n_components()
    fitted = hasattr(estimator, "means_")
    X = validate_data(estimator, X, dtype=[np.float64, np.float32], reset=not fitted)
    model = estimator._model
    if fitted:
        if estimator.covariances_.shape != model.parameter_shape(
            estimator.n_components, X.shape[1]
        ):
            raise ValueError(
                "partial_fit continues the fitted mixture, whose n_components "
                "or covariance_type differ from the parameters; call fit to "
                "start anew."
            )
        X = X.astype(estimator.means_.dtype, copy=False)
    all_rows = X
    mean_weight = 1.0
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        X, sample_weight, mean_weight = drop_and_rescale(X, sample_weight)
    state = getattr(estimator, "_stepwise", None)
    with call_threads(*X.shape, estimator.n_components):
        repair = None
        if estimator.on_degenerate == "recover":
            reference = np.average(X, axis=0, weights=sample_weight)
            variance = np.average((X - reference) ** 2, axis=0, weights=sample_weight)
            repair = DegenerateRepair(model, reference, variance, X.dtype)
        prior = None
        if state is None:
            prior = resolve_prior(
                estimator.prior,
                X,
                sample_weight,
                mean_weight,
                model,
                estimator.n_components,
            )
            if fitted:  # after fit, the fitted mixture is the first step
                state = fitted_state(estimator, prior)
        if fitted:
            params = estimator._fitted_parameters()
        else:
            params = _first_step_start(
                estimator, X, sample_weight, model, prior, repair
            )
        params, mean_log_likelihood, state = stepwise_step(
            X,
            sample_weight,
            params,
            model,
            state,
            learning_offset=estimator.learning_offset,
            learning_decay=estimator.learning_decay,
            reg_covar=estimator.reg_covar,
            prior=prior,
            repair=repair,
        )
        labels = estimator._labels(all_rows, params, model)
    estimator._set_fitted_parameters(params, model)
    bound = X.dtype.type(mean_log_likelihood)
    if hasattr(estimator, "n_batch_iter_"):
        estimator.lower_bounds_.append(bound)
        estimator.n_batch_iter_ += 1
    else:
        estimator.lower_bounds_ = [bound]
        estimator.n_batch_iter_ = 1
    estimator.lower_bound_ = bound
    estimator._stepwise = state
    estimator.n_iter_ = estimator.n_batch_iter_
    # online EM has no convergence test
    estimator.converged_ = False
    estimator.labels_ = labels


def _first_step_start(estimator, X, sample_weight, model, prior, repair):
    """The parameters the first step of :meth:`partial_fit` starts from."""
    estimator._check_enough_rows(X.shape[0])
    given = estimator._check_initial_parameters(model, X.shape[1], X.dtype)
    start = None
    if len(given) < 3:
        draws = StartDraws(
            X,
            sample_weight,
            estimator.n_components,
            estimator.init_params,
            estimator.random_state,
        )
        start = draws.draw(0)
    return initial_parameters(
        X,
        sample_weight,
        model,
        start=start,
        reg_covar=estimator.reg_covar,
        prior=prior,
        repair=repair,
        **given,
    )
