"""``--compare-sklearn``: fit sklearn's GaussianMixture on every cell, and the table.

Each cell of our grid is fitted again by :class:`sklearn.mixture.GaussianMixture`
with the same settings; the table gives both fit times, both mean log-likelihoods
and the adjusted Rand index of the two labelings.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..selection import Fit, fit_one
from ._report import table


@dataclass
class Comparison:
    """Our fit and sklearn's fit of one grid cell, and the agreement of labels."""

    ours: Fit
    theirs: Fit
    ari: float = math.nan


def compare_with_sklearn(X, fits, params):
    """Fit sklearn's GaussianMixture on every cell that we fitted."""
    # Imported here: only --compare-sklearn needs them.
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

    comparisons = []
    for (k, covariance_type), ours in fits.items():
        theirs = fit_one(SklearnGaussianMixture, X, k, covariance_type, params)
        comparison = Comparison(ours, theirs)
        if not ours.failed and not theirs.failed:
            comparison.ari = adjusted_rand_score(
                ours.model.labels_, theirs.model.predict(X)
            )
        comparisons.append(comparison)
    return comparisons


def format_comparison(comparisons, best):
    """Per-cell times, log-likelihoods and ARI, then a one-line summary."""

    def number(value, spec):
        return "failed" if math.isnan(value) else format(value, spec)

    header = [
        "n_components",
        "covariance",
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
        rows.append(
            [
                str(ours.n_components) + ("*" if ours is best else " "),
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
        "Comparison with sklearn.mixture.GaussianMixture (same settings; "
        "ratio = sklearn time / our time; * selected):",
        *table(header, rows),
        format_comparison_summary(comparisons),
    ]
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
