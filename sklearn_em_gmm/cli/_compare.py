"""``--compare-sklearn``: refit sklearn's models with both implementations.

:class:`~sklearn_em_gmm.GaussianMixtureIC` keeps only its best model, so each
compared cell is fitted again, from the same ``random_state``, by
:class:`~sklearn_em_gmm.GaussianMixture` and by
:class:`sklearn.mixture.GaussianMixture`; the table gives both fit times, both mean
log-likelihoods and the adjusted Rand index of the two labelings. Only the models and
settings sklearn has can be compared: :func:`check_comparable` says so before any
fit.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._estimator import GaussianMixture
from ..selection import Fit, fit_one
from ._errors import UsageError
from ._report import table

SKLEARN_MODELS = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
SKLEARN_INITS = ("kmeans", "k-means++", "random", "random_from_data")


@dataclass
class Comparison:
    """Our fit and sklearn's fit of one grid cell, and the agreement of labels."""

    ours: Fit
    theirs: Fit
    ari: float = math.nan


def check_comparable(options):
    """Raise :class:`UsageError`, saying what to pass, unless ``--compare-sklearn``
    has something sklearn can fit the same way."""
    if not options.compare_sklearn:
        return
    needs = []
    if not any(model in SKLEARN_MODELS for model in options.models):
        needs.append("--models with one of VVV, EEE, VVI, VII")
    if options.init_params not in SKLEARN_INITS:
        others = ", ".join(SKLEARN_INITS[1:])
        needs.append(f"--init-params {SKLEARN_INITS[0]} (or {others})")
    if options.stopping_rule != "sklearn":
        needs.append("--stopping-rule sklearn")
    if needs:
        raise UsageError(
            "--compare-sklearn fits only what sklearn has: pass " + " and ".join(needs)
        )


def compare_with_sklearn(X, options):
    """Fit both implementations on every cell of ``options.components`` x
    ``options.models`` whose model sklearn has."""
    # Imported here: only --compare-sklearn needs them.
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

    params = {
        "init_params": options.init_params,
        "tol": options.tol,
        "reg_covar": options.reg_covar,
        "max_iter": options.max_iter,
        "n_init": options.n_init,
        "random_state": options.random_state,
    }
    ours_params = dict(params, stopping_rule="sklearn")
    comparisons = []
    for k in options.components:
        for code in options.models:
            if code not in SKLEARN_MODELS:
                continue
            ours = fit_one(GaussianMixture, X, k, code, ours_params)
            theirs = fit_one(SklearnGaussianMixture, X, k, SKLEARN_MODELS[code], params)
            comparison = Comparison(ours, theirs)
            if not ours.failed and not theirs.failed:
                comparison.ari = adjusted_rand_score(
                    ours.model.labels_, theirs.model.predict(X)
                )
            comparisons.append(comparison)
    return comparisons


def format_comparison(comparisons, search, models):
    """Per-cell times, log-likelihoods and ARI, then a one-line summary."""

    def number(value, spec):
        return "failed" if math.isnan(value) else format(value, spec)

    best = (search.n_components_, search.covariance_type_)
    header = [
        "n_components",
        "model",
        "time ours (s)",
        "time sklearn (s)",
        "ratio",
        "loglik ours",
        "loglik sklearn",
        "ARI",
    ]
    rows = []
    for c in comparisons:
        ours, theirs = c.ours, c.theirs
        ratio = theirs.seconds / ours.seconds if ours.seconds > 0 else math.nan
        cell = (ours.n_components, ours.covariance_type)
        rows.append(
            [
                str(ours.n_components) + ("*" if cell == best else " "),
                ours.covariance_type,
                number(ours.seconds, ".4f"),
                number(theirs.seconds, ".4f"),
                "-" if math.isnan(ratio) else f"{ratio:.2f}",
                number(ours.mean_log_likelihood, ".6f"),
                number(theirs.mean_log_likelihood, ".6f"),
                "-" if math.isnan(c.ari) else f"{c.ari:.4f}",
            ]
        )
    lines = [
        "Comparison with sklearn.mixture.GaussianMixture (each cell refitted by both "
        "with the same settings; ratio = sklearn time / our time; * selected):",
        *table(header, rows),
    ]
    skipped = [model for model in models if model not in SKLEARN_MODELS]
    if skipped:
        lines.append(f"Not compared (sklearn has no such model): {', '.join(skipped)}")
    lines.append(format_comparison_summary(comparisons))
    return lines


def format_comparison_summary(comparisons):
    """One line: total times, largest log-likelihood gap, smallest ARI."""
    both = [c for c in comparisons if not (c.ours.failed or c.theirs.failed)]
    if not both:
        return "Summary: no grid cell was fitted by both implementations."
    ours_time = sum(c.ours.seconds for c in both)
    theirs_time = sum(c.theirs.seconds for c in both)
    gap = max(
        abs(c.ours.mean_log_likelihood - c.theirs.mean_log_likelihood) for c in both
    )
    aris = [c.ari for c in both]
    return (
        f"Summary: {len(both)} of {len(comparisons)} cells fitted by both; "
        f"total fit time ours {ours_time:.3f} s, sklearn {theirs_time:.3f} s "
        f"(ratio {theirs_time / ours_time:.2f}); largest |loglik difference| "
        f"{gap:.2e}; ARI min {min(aris):.4f}, mean {np.mean(aris):.4f}"
    )
