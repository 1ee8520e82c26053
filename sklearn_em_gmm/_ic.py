"""GaussianMixtureIC: the number of components and the covariance model, by BIC,
ICL or AIC over a grid, as R mclust's ``Mclust()``."""

import math
import warnings
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._estimator import GaussianMixture
from ._sklearn_compat import Interval, InvalidParameterError, StrOptions, fit_context
from ._validation import check_sample_weight, drop_and_rescale
from .covariance import canonical_models, covariance_type_names, get_covariance_model
from .covariance._base import MCLUST_CODES
from .init import INIT_METHODS, Start

CRITERIA = ("bic", "icl", "aic")

RESULT_COLUMNS = (
    "n_components",
    "covariance_type",
    "bic",
    "icl",
    "aic",
    "log_likelihood",
    "n_parameters",
    "converged",
    "n_iter",
    "status",
)


class GaussianMixtureIC(ClusterMixin, DensityMixin, BaseEstimator):
    """Gaussian mixture whose number of components and covariance model are chosen
    by an information criterion over a grid, as R mclust's ``Mclust()``.

    Every ``(n_components, covariance_type)`` cell is fitted by
    :class:`GaussianMixture` and scored; the cell with the lowest criterion is
    kept as ``best_estimator_``, whose methods this estimator forwards. The
    defaults are mclust's: every covariance model, 1 to 9 components, the
    hierarchical start, mclust's stopping rule with ``tol=1e-5``, no
    ``reg_covar``. A cell whose fit fails (a singular covariance, a component
    that vanished) stays in the table with the reason, and is never selected, as
    mclust's NA.

    Parameters
    ----------
    n_components : int or iterable of int, default=9
        The numbers of components to try: ``n`` means 1 to ``n``.

    covariance_type : 'all', str or iterable of str, default='all'
        The covariance models to try, by sklearn name or mclust code; 'all' is
        every registered model, in mclust's order.

    criterion : {'bic', 'icl', 'aic'}, default='bic'
        The criterion the best cell minimizes, in sklearn's sign (lower is
        better; mclust reports BIC and ICL negated). ICL is BIC plus twice the
        (weighted) sum over rows of ``-log`` of their largest responsibility.

    init_params : str, default='hc'
        The start of every cell (see :class:`GaussianMixture`); one start per
        ``n_components`` serves every covariance model.

    tol : float, default=1e-5
        Convergence threshold (see ``stopping_rule``).

    reg_covar : float, default=0.0
        Added to the diagonal of each covariance.

    max_iter : int, default=1000
        EM iterations at most, per cell.

    n_init : int, default=1
        Starts per cell; the best run of each cell is kept.

    random_state : int, RandomState instance or None, default=None
        Controls the starts; one generator serves the grid in order.

    prior : None, 'default' or dict, default=None
        A conjugate prior (see :class:`GaussianMixture`).

    on_degenerate : {'raise', 'recover'}, default='raise'
        'raise' records a degenerate cell as failed; 'recover' repairs it.

    stopping_rule : {'mclust', 'sklearn'}, default='mclust'
        When EM stops (see :class:`GaussianMixture`).

    n_jobs : int or None, default=None
        Cells fitted in parallel (joblib); None is one. Input is fitted in
        memory: a dask array is computed first.

    verbose : int, default=0
        1 prints each cell's result as it is fitted.

    Attributes
    ----------
    best_estimator_ : GaussianMixture
        The fitted model of the selected cell.

    n_components_ : int
        Its number of components.

    covariance_type_ : str
        Its covariance model, as given in ``covariance_type``.

    criterion_ : float
        Its criterion value.

    results_ : dict of ndarray
        One entry per cell, in grid order (``n_components`` outer): the columns
        ``n_components``, ``covariance_type``, ``bic``, ``icl``, ``aic``,
        ``log_likelihood``, ``n_parameters``, ``converged``, ``n_iter`` and
        ``status`` (empty, or why the cell failed; its scores are NaN). A
        ``pandas.DataFrame`` takes it as it is.

    labels_ : ndarray of shape (n_samples,)
        The best model's component of each training row.

    n_iter_ : int
        The best model's EM iterations.

    converged_ : bool
        Whether the best model converged.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when they are all strings.

    See Also
    --------
    GaussianMixture : one cell.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_em_gmm import GaussianMixtureIC
    >>> X = load_iris().data
    >>> search = GaussianMixtureIC().fit(X)
    >>> search.covariance_type_, search.n_components_, round(-search.criterion_, 4)
    ('VEV', 2, -561.7285)
    """

    _parameter_constraints: dict = {
        # an iterable too: checked in _components
        "n_components": [Interval(Integral, 1, None, closed="left"), Iterable],
        "covariance_type": ["array-like", str],
        "criterion": [StrOptions(set(CRITERIA))],
        "init_params": [StrOptions(INIT_METHODS.keys())],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "prior": [None, StrOptions({"default"}), dict],
        "on_degenerate": [StrOptions({"raise", "recover"})],
        "stopping_rule": [StrOptions({"sklearn", "mclust"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=9,
        *,
        covariance_type="all",
        criterion="bic",
        init_params="hc",
        tol=1e-5,
        reg_covar=0.0,
        max_iter=1000,
        n_init=1,
        random_state=None,
        prior=None,
        on_degenerate="raise",
        stopping_rule="mclust",
        n_jobs=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.criterion = criterion
        self.init_params = init_params
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.prior = prior
        self.on_degenerate = on_degenerate
        self.stopping_rule = stopping_rule
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _components(self):
        """The numbers of components of the grid, validated."""
        if isinstance(self.n_components, (bool, np.bool_)):
            raise InvalidParameterError(
                "The 'n_components' parameter of GaussianMixtureIC must be an int "
                f"in the range [1, inf) or an iterable of them. Got "
                f"{self.n_components!r} instead."
            )
        if isinstance(self.n_components, Integral):
            return list(range(1, int(self.n_components) + 1))
        values = list(self.n_components)  # any iterable: a list, a set, a range
        components = np.asarray(values).ravel()
        if (
            components.size == 0
            or components.dtype.kind not in "iu"
            or any(isinstance(value, (bool, np.bool_)) for value in values)
            or np.any(components < 1)
        ):
            raise InvalidParameterError(
                "The 'n_components' parameter of GaussianMixtureIC must be an int "
                "in the range [1, inf) or an iterable of them. Got "
                f"{self.n_components!r} instead."
            )
        return sorted({int(value) for value in components})

    def _covariance_types(self):
        """The covariance models of the grid, as given, validated."""
        given = self.covariance_type
        if isinstance(given, str):
            if given.lower() == "all":
                codes = [model.mclust_code for model in canonical_models()]
                return sorted(codes, key=_mclust_order)
            given = [given]
        names = [str(name) if isinstance(name, str) else name for name in given]
        known = covariance_type_names()
        unknown = [name for name in names if name not in known]
        if not names or unknown:
            raise InvalidParameterError(
                "The 'covariance_type' parameter of GaussianMixtureIC must be 'all' "
                f"or names among {sorted(known)}. Got {self.covariance_type!r} "
                "instead."
            )
        # one cell per model, under the first name it was given
        by_model = {}
        for name in names:
            by_model.setdefault(get_covariance_model(name), name)
        return list(by_model.values())

    def _cell_params(self):
        return dict(
            tol=self.tol,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            n_init=self.n_init,
            init_params=self.init_params,
            prior=self.prior,
            on_degenerate=self.on_degenerate,
            stopping_rule=self.stopping_rule,
            # a cell whose start could not be shared draws its own, and sample()
            # draws from it: reproducible for an int seed
            random_state=self.random_state,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit every cell of the grid and keep the one with the lowest criterion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights, as in :meth:`GaussianMixture.fit`.

        Returns
        -------
        self : object
            The fitted selector.
        """
        return self._fit(X, sample_weight)

    def _fit(self, X, sample_weight=None, progress=None):
        """:meth:`fit`, calling ``progress(done, total)`` after each cell."""
        components = self._components()
        covariance_types = self._covariance_types()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        X_fit, start_weight = X, None
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            # the starts are drawn from the rows and weights each fit keeps
            X_fit, start_weight, _ = drop_and_rescale(X, sample_weight)
            sample_weight = sample_weight[sample_weight > 0]
        # every n_components starts from the same generator state: the hc start
        # then draws one subset, hence one tree, for all of them, as mclust
        state = check_random_state(self.random_state).get_state()
        tasks = []
        for n_components in components:
            random_state = np.random.RandomState()
            random_state.set_state(state)
            starts = self._starts(X_fit, start_weight, n_components, random_state)
            tasks.extend(
                (n_components, covariance_type, starts)
                for covariance_type in covariance_types
            )
        params = self._cell_params()
        fits = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_fit_cell)(
                X_fit, sample_weight, n_components, covariance_type, starts, params
            )
            for n_components, covariance_type, starts in tasks
        )
        cells = []
        for cell in fits:
            cells.append(cell)
            if self.verbose:
                print(_cell_line(cell[1], self.criterion), flush=True)
            if progress is not None:
                progress(len(cells), len(tasks))
        self.results_ = _results_table(cells)
        scores = self.results_[self.criterion]
        if np.all(np.isnan(scores)):
            raise ValueError(
                "Every cell of the grid failed; the first: "
                f"{self.results_['status'][0]}"
            )
        best = int(np.nanargmin(scores))
        self.best_estimator_ = cells[best][0]
        self.n_components_ = int(self.results_["n_components"][best])
        self.covariance_type_ = str(self.results_["covariance_type"][best])
        self.criterion_ = float(scores[best])
        self.n_iter_ = self.best_estimator_.n_iter_
        self.converged_ = self.best_estimator_.converged_
        self.labels_ = self.best_estimator_.predict(X)
        if hasattr(self, "feature_names_in_"):
            # its methods then check the names of the frames they are given
            self.best_estimator_.feature_names_in_ = self.feature_names_in_
        return self

    def _starts(self, X, weights, n_components, random_state):
        """The ``n_init`` starts every model of one ``n_components`` shares, or None
        where drawing fails (each cell then reports the error)."""
        if X.shape[0] < n_components:
            return None
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                return [
                    Start.draw(X, weights, n_components, self.init_params, random_state)
                    for _ in range(self.n_init)
                ]
            except ValueError:
                return None

    def mclust_table(self, criterion=None):
        """The criterion as R mclust prints it: one row per ``n_components``, one
        column per covariance model, mclust's sign (larger is better), NaN where
        the cell failed.

        Parameters
        ----------
        criterion : {'bic', 'icl', 'aic'}, default=None
            The estimator's ``criterion`` if None.

        Returns
        -------
        table : dict of ndarray
            ``'n_components'`` then one column per covariance model: a
            ``pandas.DataFrame(table).set_index('n_components')`` reads like
            mclust's.
        """
        check_is_fitted(self)
        criterion = self.criterion if criterion is None else criterion
        if criterion not in CRITERIA:
            raise ValueError(
                f"criterion must be one of {CRITERIA}; got {criterion!r} instead."
            )
        results = self.results_
        components = list(dict.fromkeys(results["n_components"].tolist()))
        table = {"n_components": np.array(components)}
        for covariance_type in dict.fromkeys(results["covariance_type"].tolist()):
            cells = results["covariance_type"] == covariance_type
            values = results[criterion][cells]
            # every model has one cell per n_components, in the same order
            table[covariance_type] = -values
        return table

    def predict(self, X):
        """The best model's most probable component of each row (see
        :meth:`GaussianMixture.predict`)."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        """The best model's responsibilities (see
        :meth:`GaussianMixture.predict_proba`)."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    def score_samples(self, X):
        """The best model's log-density of each row."""
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    def score(self, X, y=None, sample_weight=None):
        """The best model's mean log-likelihood of ``X``."""
        check_is_fitted(self)
        return self.best_estimator_.score(X, sample_weight=sample_weight)

    def sample(self, n_samples=1):
        """Samples from the best model (see :meth:`GaussianMixture.sample`)."""
        check_is_fitted(self)
        return self.best_estimator_.sample(n_samples)

    def bic(self, X, sample_weight=None):
        """The best model's BIC on ``X`` (lower is better)."""
        check_is_fitted(self)
        return self.best_estimator_.bic(X, sample_weight=sample_weight)

    def aic(self, X, sample_weight=None):
        """The best model's AIC on ``X`` (lower is better)."""
        check_is_fitted(self)
        return self.best_estimator_.aic(X, sample_weight=sample_weight)


def _mclust_order(code):
    """mclust's order of its models; models registered from outside come last."""
    return MCLUST_CODES.index(code) if code in MCLUST_CODES else len(MCLUST_CODES)


def _fit_cell(X, sample_weight, n_components, covariance_type, starts, params):
    """Fit and score one cell: ``(model or None, row of the results table)``."""
    row = dict.fromkeys(RESULT_COLUMNS, math.nan)
    row.update(
        n_components=n_components,
        covariance_type=covariance_type,
        converged=False,
        n_iter=0,
        n_parameters=0,
        status="",
    )
    model = GaussianMixture(n_components, covariance_type=covariance_type, **params)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            if starts is None:
                model.fit(X, sample_weight=sample_weight)
            else:
                model._fit_from_starts(X, starts, sample_weight)
            total = (
                X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
            )
            log_likelihood = float(model.score(X, sample_weight=sample_weight)) * total
            largest = np.max(model.predict_proba(X), axis=1)
        except ValueError as exc:
            row["status"] = " ".join(str(exc).split()) or type(exc).__name__
            return None, row
    if not math.isfinite(log_likelihood):
        row["status"] = "non-finite log-likelihood"
        return None, row
    n_parameters = model._n_parameters()
    unclassified = -np.log(largest)
    if sample_weight is not None:
        unclassified *= sample_weight
    row.update(
        log_likelihood=log_likelihood,
        n_parameters=n_parameters,
        bic=-2 * log_likelihood + n_parameters * math.log(total),
        aic=-2 * log_likelihood + 2 * n_parameters,
        converged=bool(model.converged_),
        n_iter=int(model.n_iter_),
    )
    row["icl"] = row["bic"] + 2 * float(np.sum(unclassified))
    return model, row


def _results_table(cells):
    """The rows of the cells as a dict of equal-length arrays."""
    rows = [row for _, row in cells]
    table = {}
    for column in RESULT_COLUMNS:
        values = [row[column] for row in rows]
        if column == "covariance_type" or column == "status":
            table[column] = np.array(values, dtype=object)
        elif column in ("n_components", "n_parameters", "n_iter"):
            table[column] = np.array(values, dtype=int)
        elif column == "converged":
            table[column] = np.array(values, dtype=bool)
        else:
            table[column] = np.array(values, dtype=float)
    return table


def _cell_line(row, criterion):
    """One fitted cell (a row of the table), for ``verbose``."""
    name = f"{row['covariance_type']},{row['n_components']}"
    if row["status"]:
        return f"{name}: failed: {row['status']}"
    return f"{name}: {criterion} {row[criterion]:.6g}"
