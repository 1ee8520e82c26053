"""GaussianMixture's fit on rows read chunk by chunk: a dask array, or an
``np.memmap`` of more than ``init_sample_size`` rows.

The EM is the in-memory one over a chunked data source; only the start differs: it
is drawn from ``init_sample_size`` rows chosen uniformly with ``random_state`` among
the rows of positive weight (all of them, in order, when there are fewer: the start
is then the in-memory one).
The input is given as "rows" (see ``_dask_fit.DaskRows``, ``_mapped_fit.MappedRows``):
``n_samples``, ``n_features``, ``dtype``, and

- ``check()``: one pass rejecting bad values; the weights' sum and the number of
  rows of positive weight;
- ``source()``: the data source of the EM, the weights over their mean;
- ``positive_rows(ranks)``: the indices of the rows of positive weight of the given
  (sorted) ranks among them;
- ``read(rows)``: the given rows and their weights over their mean, in memory;
- ``scatter(reference)``: the weighted scatter of the rows about ``reference``;
- ``labels(estimator)``: what ``labels_`` holds after the fit, or None to keep none.
"""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.random import sample_without_replacement

from ._recovery import DegenerateRepair
from ._threads import call_threads
from .init import Start, initial_parameters
from .prior import resolve_prior


def fit_out_of_core(estimator, rows):
    """Fit ``estimator`` (a GaussianMixture) on the chunked ``rows``."""
    total, positive = rows.check()
    estimator._check_enough_rows(positive)
    n_features = rows.n_features
    warm = estimator._resumes(n_features)
    model = estimator._model
    given = estimator._check_initial_parameters(model, n_features, rows.dtype)
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
    with call_threads(rows.n_samples, n_features, estimator.n_components):
        best = estimator._best_of_starts(
            source,
            lambda init: _start(
                estimator, rows, positive, model, given, random_state, prior, repair
            ),
            model,
            warm,
            prior,
            repair,
            total,
        )
    estimator._set_fit_result(best, model, rows.dtype, None)
    labels = rows.labels(estimator)  # of the fitted model
    if labels is not None:
        estimator.labels_ = labels


def _start(estimator, rows, positive, model, given, random_state, prior, repair):
    """Starting parameters from ``init_sample_size`` rows drawn uniformly among the
    ``positive`` rows of positive weight."""
    if len(given) == 3:
        return initial_parameters(
            None, None, model, start=None, reg_covar=estimator.reg_covar, **given
        )
    size = max(estimator.init_sample_size, estimator.n_components)
    # a uniform sample of the rows of positive weight: the others are removed rows
    if positive <= size:
        ranks = np.arange(positive)
    else:
        # O(size) memory, not a permutation of every row index
        ranks = np.sort(
            sample_without_replacement(positive, size, random_state=random_state)
        )
    sample, sample_weight = rows.read(rows.positive_rows(ranks))
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
