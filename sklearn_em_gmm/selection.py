"""Model selection by BIC over a grid of numbers of components and covariance types.

:func:`fit_grid` fits one mixture per ``(n_components, covariance_type)`` cell and
records each result as a :class:`Fit`, a failed cell included; :func:`select_best`
returns the fit with the lowest BIC. Nothing here parses options or prints: the
command line (:mod:`sklearn_em_gmm.cli`) is one user of these functions.
"""

import math
import time
import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state

from ._dask_fit import is_dask_array
from ._estimator import GaussianMixture
from ._mapped_fit import is_large_memmap
from ._threads import call_threads
from .init import Start

NON_FINITE_SCORE = (
    "the fitted model has a non-finite log-likelihood (numerical overflow); "
    "scale the input data"
)


class AllFitsFailedError(ValueError):
    """Raised by :func:`select_best` when no cell of the grid was fitted."""


@dataclass
class Fit:
    """One cell of the grid: the fitted model and its scores, or why it failed.

    Attributes
    ----------
    n_components : int
        The number of mixture components of the cell.
    covariance_type : str
        The covariance type of the cell, as passed to the estimator.
    model : estimator or None
        The fitted estimator; None if the fit failed.
    seconds : float
        Wall-clock time of ``fit``, the start shared with other cells included; NaN
        if the fit raised.
    bic : float
        Bayesian information criterion of the model on the fitted data (lower is
        better); NaN if the fit failed.
    mean_log_likelihood : float
        Per-sample average log-likelihood, ``model.score(X)``; NaN if the fit failed.
    converged : bool
        The model's ``converged_``; True for a failed fit.
    error : str or None
        Why the fit failed, on one line; None if it succeeded.
    """

    n_components: int
    covariance_type: str
    model: object | None = None
    seconds: float = math.nan
    bic: float = math.nan
    mean_log_likelihood: float = math.nan
    converged: bool = True
    error: str | None = None

    @property
    def failed(self):
        """Whether the fit failed (``error`` is set)."""
        return self.error is not None


def fit_one(
    estimator_class,
    X,
    n_components,
    covariance_type,
    params,
    starts=None,
    start_seconds=0.0,
):
    """Fit one cell of the grid and score it on the same data.

    A ValueError raised by ``fit`` and a non-finite score both give a failed
    :class:`Fit` instead of an exception. Non-convergence is read from
    ``converged_`` rather than warned about (ConvergenceWarning is silenced), and
    floating-point warnings are silenced: a fit they spoil either raises or ends with
    a non-finite score.

    Parameters
    ----------
    estimator_class : type
        A GaussianMixture-like class: ``n_components``, ``covariance_type`` and
        ``params`` as keyword arguments; ``fit``, ``bic``, ``score`` and
        ``converged_`` as in :class:`sklearn.mixture.GaussianMixture`.
    X : array-like of shape (n_samples, n_features)
        The data to fit and score.
    n_components : int
        Number of mixture components.
    covariance_type : str
        Covariance type, a name or mclust code the estimator accepts.
    params : dict
        Other keyword arguments of the estimator, e.g. ``random_state``.
    starts : list of Start, optional
        The ``n_init`` starts drawn from ``X`` (see :func:`draw_starts`), for an
        ``estimator_class`` that is this package's GaussianMixture.
    start_seconds : float, default=0.0
        The time drawing ``starts`` took, counted in ``seconds`` as the fit would
        have spent it alone.

    Returns
    -------
    fit : Fit
        The fitted cell, or a failed one with its ``error``.
    """
    fit = Fit(n_components, covariance_type)
    model = estimator_class(
        n_components=n_components, covariance_type=covariance_type, **params
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        try:
            if starts is None:
                model.fit(X)
            else:
                model._fit_from_starts(X, starts)
        except ValueError as exc:
            fit.error = " ".join(str(exc).split()) or type(exc).__name__
            return fit
        fit.seconds = time.perf_counter() - start + start_seconds
        bic, mean_log_likelihood = float(model.bic(X)), float(model.score(X))
    if not (math.isfinite(bic) and math.isfinite(mean_log_likelihood)):
        fit.error = NON_FINITE_SCORE
        return fit
    fit.model = model
    fit.converged = bool(model.converged_)
    fit.bic = bic
    fit.mean_log_likelihood = mean_log_likelihood
    return fit


def fit_grid(estimator_class, X, components, covariance_types, params):
    """Fit every ``(n_components, covariance_type)`` cell of a grid.

    Parameters
    ----------
    estimator_class : type
        A GaussianMixture-like class, as in :func:`fit_one`.
    X : array-like of shape (n_samples, n_features)
        The data to fit and score.
    components : iterable of int
        The numbers of components to try.
    covariance_types : sequence of str
        The covariance types to try at each number of components.
    params : dict
        The estimator's other keyword arguments, shared by every cell.

    Returns
    -------
    fits : dict of (int, str) to Fit
        One entry per cell, keyed by ``(n_components, covariance_type)``, in grid
        order: ``components`` outermost, then ``covariance_types``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_em_gmm import GaussianMixture
    >>> from sklearn_em_gmm.selection import fit_grid, select_best
    >>> X = load_iris().data
    >>> fits = fit_grid(GaussianMixture, X, [1, 2, 3], ["full", "diag"],
    ...                 {"random_state": 0})
    >>> list(fits)
    [(1, 'full'), (1, 'diag'), (2, 'full'), (2, 'diag'), (3, 'full'), (3, 'diag')]
    >>> best = select_best(fits)
    >>> best.n_components, best.covariance_type, round(best.bic, 2)
    (2, 'full', 574.02)
    """
    fits = {}
    for n_components in components:
        fits.update(
            _fit_covariance_types(
                estimator_class, X, n_components, covariance_types, params
            )
        )
    return fits


def _fit_covariance_types(estimator_class, X, n_components, covariance_types, params):
    """Fit each covariance type at one ``n_components``; a dict as :func:`fit_grid`.

    The start does not depend on the covariance type, so this package's estimator
    gets the one drawn here, which each type would have drawn alike.
    """
    starts, start_seconds = None, 0.0
    if _fits_as_gaussian_mixture(estimator_class) and len(covariance_types) > 1:
        clock = time.perf_counter()
        starts = draw_starts(X, n_components, params)
        start_seconds = time.perf_counter() - clock
    return {
        (n_components, covariance_type): fit_one(
            estimator_class,
            X,
            n_components,
            covariance_type,
            params,
            starts,
            start_seconds,
        )
        for covariance_type in covariance_types
    }


def _fits_as_gaussian_mixture(estimator_class):
    """Whether ``estimator_class`` fits as this package's GaussianMixture: itself,
    or a subclass that overrides neither ``fit`` nor ``fit_predict``."""
    return issubclass(estimator_class, GaussianMixture) and all(
        getattr(estimator_class, name) is getattr(GaussianMixture, name)
        for name in ("fit", "fit_predict")
    )


def draw_starts(X, n_components, params):
    """The starts a GaussianMixture with ``params`` would draw from ``X``, or None.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : int
    params : dict
        The estimator's keyword arguments.

    Returns
    -------
    starts : list of Start, or None
        One per ``n_init``, consuming ``random_state`` as the estimator would; None
        where the starts are not the same for every covariance type (only an int
        seed starts every fit alike: None and a ``RandomState`` are consumed by each
        fit in turn; a warm start or a full set of initial parameters draws none;
        out-of-core input, a dask array or a large ``np.memmap``, draws from a
        sample per fit), or where drawing fails, so that each fit reports its own
        error.
    """
    defaults = GaussianMixture(n_components).get_params()
    params = {**defaults, **params, "n_components": n_components}
    random_state = params["random_state"]
    given = ("weights_init", "means_init", "precisions_init")
    if (
        not isinstance(random_state, Integral)
        or params["warm_start"]
        or all(params[name] is not None for name in given)
    ):
        return None
    try:
        GaussianMixture(**params)._validate_params()
        if is_dask_array(X) or is_large_memmap(X, params["init_sample_size"]):
            return None  # read out of core: each fit draws from a sample of rows
        X = check_array(X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        if X.shape[0] < n_components:
            return None
        random_state = check_random_state(random_state)
        # as fit_one, which the warnings of drawing the start would reach; on the
        # threads the fits would use
        threads = call_threads(*X.shape, n_components)
        with warnings.catch_warnings(), np.errstate(all="ignore"), threads:
            warnings.simplefilter("ignore", ConvergenceWarning)
            return [
                Start.draw(X, None, n_components, params["init_params"], random_state)
                for _ in range(params["n_init"])
            ]
    except (TypeError, ValueError):
        return None


def select_best(fits):
    """The fit with the lowest BIC; the first one in grid order on ties.

    Parameters
    ----------
    fits : dict of (int, str) to Fit
        A grid, as returned by :func:`fit_grid`.

    Returns
    -------
    best : Fit
        The fit, among those that did not fail, with the lowest ``bic``.

    Raises
    ------
    AllFitsFailedError
        If every fit failed; the message gives the first fit's error.
    ValueError
        If ``fits`` is empty.
    """
    if not fits:
        raise ValueError(
            "the grid is empty; give at least one n_components and one covariance type"
        )
    best = None
    for fit in fits.values():
        if not fit.failed and (best is None or fit.bic < best.bic):
            best = fit
    if best is None:
        reason = next(iter(fits.values())).error
        raise AllFitsFailedError(
            f"every model of the grid failed to fit; first error: {reason}"
        )
    return best
