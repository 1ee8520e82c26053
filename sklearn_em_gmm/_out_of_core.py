"""GaussianMixture's fit on rows read chunk by chunk: a dask array, or an
``np.memmap`` of more than ``init_sample_size`` rows.

The EM is the in-memory one over a chunked data source; only the start differs: it
is drawn from ``init_sample_size`` rows chosen uniformly with ``random_state``
(every row, in order, when there are fewer: the start is then the in-memory one).
The input is given as "rows" (see ``_dask_fit.DaskRows``, ``_mapped_fit.MappedRows``):
``n_samples``, ``n_features``, ``dtype``, and

- ``check()``: one pass rejecting bad values; the weights' sum and the number of
  rows of positive weight;
- ``source()``: the data source of the EM, the weights over their mean;
- ``read(rows)``: the given rows and their weights over their mean, in memory;
- ``scatter(reference)``: the weighted scatter of the rows about ``reference``;
- ``labels(estimator)``: what ``labels_`` holds after the fit, or None to keep none.
"""

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


def fit_out_of_core(estimator, rows):
    """Fit ``estimator`` (a GaussianMixture) on the chunked ``rows``."""
    total, positive = rows.check()
    if positive < estimator.n_components:
        raise ValueError(
            "Expected n_samples >= n_components "
            f"but got n_components = {estimator.n_components}, "
            f"n_samples = {positive}"
        )
    n_features = rows.n_features
    warm = estimator.warm_start and hasattr(estimator, "converged_")
    if warm and estimator.means_.shape[1] != n_features:
        raise ValueError(
            f"X has {n_features} features, but the warm-started model was fitted "
            f"with {estimator.means_.shape[1]}; set warm_start=False to refit."
        )
    model = estimator._model
    given = {
        name: value.astype(rows.dtype, order="C")
        for name, value in estimator._check_initial_parameters(
            model, n_features
        ).items()
    }
    source = rows.source()
    reference = source.mean()
    source.prepare(model, reference, estimator.n_components)
    scatter = None
    if estimator.on_degenerate == "recover" or estimator.prior is not None:
        scatter = rows.scatter(reference)
    repair = None
    if estimator.on_degenerate == "recover":
        variance = np.diag(scatter) / total
        repair = DegenerateRepair(model, reference, variance, rows.dtype)
    prior = None
    if estimator.prior is not None:
        prior = resolve_prior(
            estimator.prior,
            np.empty((0, n_features)),
            None,
            total / positive,
            model,
            estimator.n_components,
            moments=(reference, np.atleast_2d(scatter / (total - 1))),
        )
    random_state = check_random_state(estimator.random_state)
    progress = ProgressPrinter(estimator.verbose, estimator.verbose_interval)
    best = None
    with call_threads(rows.n_samples, n_features, estimator.n_components):
        for init in range(1 if warm else estimator.n_init):
            progress.init_begin(init)
            if warm:
                params = estimator._fitted_parameters()
                lower_bound = estimator.lower_bound_
            else:
                params = _start(
                    estimator, rows, model, given, random_state, prior, repair
                )
                lower_bound = -math.inf
            result = run_em(
                source,
                params,
                model,
                reg_covar=estimator.reg_covar,
                tol=estimator.tol,
                max_iter=estimator.max_iter,
                lower_bound=lower_bound,
                progress=progress,
                prior=prior,
                repair=repair,
                stopping_rule=estimator.stopping_rule,
                total_weight=total,
            )
            if (
                best is None
                or result.lower_bound > best.lower_bound
                or best.lower_bound == -math.inf
            ):
                best = result
    estimator._set_fit_result(best, model, rows.dtype, None)
    labels = rows.labels(estimator)  # of the fitted model
    if labels is not None:
        estimator.labels_ = labels


def _start(estimator, rows, model, given, random_state, prior, repair):
    """Starting parameters from ``init_sample_size`` rows drawn uniformly."""
    if len(given) == 3:
        return initial_parameters(
            None, None, model, start=None, reg_covar=estimator.reg_covar, **given
        )
    size = max(estimator.init_sample_size, estimator.n_components)
    if rows.n_samples <= size:
        chosen = slice(None)
    else:
        # O(size) memory, not a permutation of every row index
        chosen = np.sort(
            sample_without_replacement(rows.n_samples, size, random_state=random_state)
        )
    sample, sample_weight = rows.read(chosen)
    if sample_weight is not None:
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
