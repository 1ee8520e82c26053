"""Plots of a model choice and of a fitted mixture, as R mclust draws them.

Each function draws on ``ax`` (a new figure's axes if None) and returns it. They
need matplotlib, the optional extra ``plot`` (``pip install 'sklearn-em-gmm[plot]'``),
imported only when a function is called.
"""

import numpy as np
from scipy.stats import chi2

_MARKERS = "osD^v<>pPX*hH8d"


def _new_axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install 'sklearn-em-gmm[plot]'"
        ) from exc
    return plt.subplots()[1]


def _component_colours(components):
    """One colour per component number, as the scatter plots colour rows."""
    from matplotlib import colormaps

    return colormaps["tab10"](np.asarray(components) % 10)


def _fitted_mixture(estimator):
    """The GaussianMixture behind ``estimator`` (a GaussianMixtureIC's best)."""
    return getattr(estimator, "best_estimator_", estimator)


def _pair(X, features, n_features):
    """The values of ``X`` (the estimator is given ``X`` itself: a frame keeps its
    names) and the two distinct column indices to draw."""
    values = np.asarray(X, dtype=float)
    if values.ndim != 2 or values.shape[1] != n_features:
        raise ValueError(
            f"X must have shape (n_samples, {n_features}); got {values.shape} instead."
        )
    features = list(features)
    if (
        n_features < 2
        or len(features) != 2
        or not all(isinstance(f, (int, np.integer)) for f in features)
        or not all(0 <= f < n_features for f in features)
        or features[0] == features[1]
    ):
        raise ValueError(
            f"features must be two distinct column indices in [0, {n_features}); "
            f"got {features!r} instead (a plot needs two features)."
        )
    return values, features


def plot_criterion(search, criterion=None, *, ax=None):
    """The criterion against ``n_components``, one line per covariance model, in
    mclust's sign (higher is better), as mclust's ``plot(BIC)``; the cell best by
    the plotted criterion circled (the search's choice for its own criterion).

    Parameters
    ----------
    search : GaussianMixtureIC
        Fitted.
    criterion : {'bic', 'icl', 'aic'}, default=None
        The search's own criterion if None.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    criterion = search.criterion if criterion is None else criterion
    table = search.mclust_table(criterion)
    ax = _new_axes(ax)
    components = table["n_components"]
    models = [name for name in table if name != "n_components"]
    for index, model in enumerate(models):
        values = table[model]
        if np.all(np.isnan(values)):
            continue
        ax.plot(
            components,
            values,
            marker=_MARKERS[index % len(_MARKERS)],
            markersize=4,
            label=model,
        )
    best = search.results_[criterion]
    best = int(np.nanargmin(best))
    ax.scatter(
        [search.results_["n_components"][best]],
        [-search.results_[criterion][best]],
        s=150,
        facecolors="none",
        edgecolors="black",
        zorder=3,
    )
    ax.set_xlabel("number of components")
    ax.set_ylabel(f"{criterion.upper()} (mclust's sign: higher is better)")
    ax.set_xticks(components)
    ax.legend(ncol=2, fontsize="small")
    return ax


def plot_classification(estimator, X, *, features=(0, 1), level=0.95, ax=None):
    """The rows coloured by their most probable component, with each component's
    ellipse: the contour of its marginal density on the two ``features`` that
    holds ``level`` of its mass.

    Parameters
    ----------
    estimator : GaussianMixture or GaussianMixtureIC
        Fitted.
    X : array-like of shape (n_samples, n_features)
    features : pair of int, default=(0, 1)
        The columns on the axes.
    level : float, default=0.95
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    from matplotlib.patches import Ellipse

    mixture = _fitted_mixture(estimator)
    values, pair = _pair(X, features, mixture.n_features_in_)
    ax = _new_axes(ax)
    labels = mixture.predict(X)
    ax.scatter(
        values[:, pair[0]], values[:, pair[1]], c=_component_colours(labels), s=10
    )
    radius = np.sqrt(chi2.ppf(level, df=2))
    covariances = mixture._full_covariances()[:, pair][:, :, pair]
    colours = _component_colours(np.arange(mixture.n_components))
    for mean, covariance, colour in zip(
        mixture.means_[:, pair], covariances, colours, strict=True
    ):
        variances, axes = np.linalg.eigh(covariance)
        angle = np.degrees(np.arctan2(axes[1, 1], axes[0, 1]))
        width, height = 2 * radius * np.sqrt(np.maximum(variances[::-1], 0))
        ax.add_patch(
            Ellipse(mean, width, height, angle=angle, fill=False, color=colour, lw=1.5)
        )
    _label_features(ax, mixture, pair)
    return ax


def plot_uncertainty(estimator, X, *, features=(0, 1), ax=None):
    """The rows sized by the uncertainty of their classification, one minus their
    largest responsibility, as mclust's uncertainty plot.

    Parameters
    ----------
    estimator : GaussianMixture or GaussianMixtureIC
        Fitted.
    X : array-like of shape (n_samples, n_features)
    features : pair of int, default=(0, 1)
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    mixture = _fitted_mixture(estimator)
    values, pair = _pair(X, features, mixture.n_features_in_)
    ax = _new_axes(ax)
    resp = mixture.predict_proba(X)
    uncertainty = 1 - resp.max(axis=1)
    largest = 1 - 1 / mixture.n_components
    sizes = 4 + 80 * uncertainty / largest if largest > 0 else np.full(len(values), 4.0)
    ax.scatter(
        values[:, pair[0]],
        values[:, pair[1]],
        s=sizes,
        c=_component_colours(resp.argmax(axis=1)),
        alpha=0.7,
    )
    _label_features(ax, mixture, pair)
    ax.set_title("classification uncertainty")
    return ax


def _label_features(ax, mixture, pair):
    names = getattr(mixture, "feature_names_in_", None)
    names = [f"feature {i}" for i in pair] if names is None else names[pair]
    ax.set_xlabel(str(names[0]))
    ax.set_ylabel(str(names[1]))
