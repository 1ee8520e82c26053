"""The scikit-learn estimator: parameters, validation and fitted attributes. No math."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._dask_fit import DaskRows, is_dask_array, map_rows, mean_log_likelihood
from ._mapped_fit import MappedRows, is_large_memmap, map_chunks
from ._mapped_fit import mean_log_likelihood as mapped_mean_log_likelihood
from ._out_of_core import fit_out_of_core
from ._partial_fit import partial_fit_step
from ._recovery import DegenerateRepair
from ._sklearn_compat import Interval, InvalidParameterError, StrOptions, fit_context
from ._threads import call_threads
from ._validation import (
    check_means,
    check_precisions,
    check_sample_weight,
    check_weights,
    drop_and_rescale,
)
from ._verbose import ProgressPrinter
from .covariance import covariance_type_names, get_covariance_model
from .covariance._solvers import from_axes
from .engine import (
    ArraySource,
    MixtureParameters,
    component_argmax,
    map_log_prob_blocks,
    normalize_log_prob,
    run_em,
    total_weight,
)
from .init import INIT_METHODS, StartDraws, initial_parameters
from .persistence import model_from_dict, model_to_dict
from .prior import resolve_prior


class GaussianMixture(ClusterMixin, DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by expectation-maximization.

    A drop-in replacement for :class:`sklearn.mixture.GaussianMixture`: the same
    parameters, defaults, fitted attributes and results for the same
    ``random_state``, plus ``sample_weight`` in :meth:`fit`, :meth:`score`,
    :meth:`bic` and :meth:`aic`, and R mclust's model codes as aliases of the
    covariance types.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    covariance_type : str, default='full'
        The covariance model: sklearn's four names, or any of R mclust's 14
        codes (in any case), ``Sigma_k = lambda_k D_k A_k D_k.T`` with volume
        ``lambda_k``, shape ``A_k`` and orientation ``D_k`` each equal (E),
        variable (V) across components, or the identity (I):

        - 'full' ('VVV'): each component has its own general covariance matrix.
        - 'tied' ('EEE'): all components share the same general covariance matrix.
        - 'diag' ('VVI'): each component has its own diagonal covariance matrix.
        - 'spherical' ('VII'): each component has its own single variance.
        - 'EII', 'EEI', 'VEI', 'EVI', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV':
          mclust's other models; see the user guide's page of the 14 models for
          their shapes and parameter counts.

    tol : float, default=1e-3
        EM stops when the gain of the lower bound (the mean log-likelihood) is
        below this threshold; with ``stopping_rule='mclust'``, a relative
        threshold (mclust's default is ``1e-5``).

    reg_covar : float, default=1e-6
        Non-negative regularization added to the diagonal of covariance.

    max_iter : int, default=100
        The number of EM iterations to perform.

    n_init : int, default=1
        The number of initializations to perform. The best result is kept.

    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hc'}, \
default='kmeans'
        The method used to initialize the weights, the means and the precisions:

        - 'kmeans': responsibilities from a k-means clustering.
        - 'k-means++': one data point per component, chosen by k-means++ seeding.
        - 'random': random responsibilities.
        - 'random_from_data': one random data point per component.
        - 'hc': R mclust's default start, a model-based agglomerative
          hierarchical clustering (Fraley 1998) of the SVD-transformed data cut
          at ``n_components`` clusters. Deterministic; above 2000 rows it
          clusters 2000 drawn with ``random_state``, and the other rows join at
          the first E-step. One tree serves every ``n_components``.

        With ``sample_weight``, every method takes the weights into account.

    weights_init : array-like of shape (n_components,), default=None
        The user-provided initial weights.

    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.

    precisions_init : array-like, default=None
        The user-provided initial precisions (inverse covariances), of shape
        ``(n_components,)`` for 'spherical', ``(n_features, n_features)`` for
        'tied', ``(n_components, n_features)`` for 'diag' and
        ``(n_components, n_features, n_features)`` for 'full'. The other models
        follow the same rule: a model whose covariance is shared drops the
        component axis, one with a single variance drops the feature axis ('EII':
        shape ``()``, 'EEI': ``(n_features,)``, 'VEI' and 'EVI': as 'diag', the
        others as 'full').

    random_state : int, RandomState instance or None, default=None
        Controls the initialization and :meth:`sample`.

    warm_start : bool, default=False
        If True, each :meth:`fit` starts from the previous solution, and
        ``n_init`` is ignored after the first fit.

    verbose : int, default=0
        1 prints each initialization and iteration step; 2 and more adds the
        time and the change of the lower bound.

    verbose_interval : int, default=10
        Number of iterations between two printed steps.

    on_degenerate : {'raise', 'recover'}, default='raise'
        What to do when a component degenerates. 'raise' is sklearn's behaviour: a
        covariance that is not positive definite (a singleton or duplicated points,
        a constant feature, with too small ``reg_covar``) raises ``ValueError``.
        'recover' repairs the component and warns with a
        :class:`DegenerateComponentWarning` naming it: a collapsed covariance gets
        ``1e-6`` times the data's variance added to its diagonal (more if needed),
        and a component whose weight vanished is re-seeded at the data's mean with
        the data's variances. A repair can lower the lower bound at its step.

    prior : None, 'default' or dict, default=None
        A conjugate prior on the means and covariances, which makes EM a MAP EM
        (Fraley & Raftery 2007; mclust's ``priorControl()``). ``'default'``: each
        mean normal about the data's mean with ``shrinkage=0.01``, each covariance
        inverse Wishart (or each variance inverse gamma) with ``dof = n_features +
        2`` and ``scale`` the data's covariance (or mean variance, for the diagonal
        and spherical models) over ``n_components ** (2 / n_features)``. A dict
        with any of the keys ``'shrinkage'``, ``'mean'``, ``'dof'``, ``'scale'``
        replaces those defaults. The weights have no prior; ``lower_bound_``,
        :meth:`score` and :meth:`bic` stay the log-likelihood of the MAP
        parameters. It keeps components away from singular covariances where
        ``reg_covar=0`` would fail.

    stopping_rule : {'sklearn', 'mclust'}, default='sklearn'
        When EM stops, and which parameters it keeps. 'sklearn': when the mean
        log-likelihood gained less than ``tol``; the fit keeps the parameters of
        the M-step after it, as sklearn. 'mclust': when the total (weighted)
        log-likelihood ``L`` changed by at most ``tol * (1 + |L|)``; the fit keeps
        the parameters whose log-likelihood met the rule, so ``lower_bound_`` is
        their mean log-likelihood, as R mclust's ``me`` (a run stopped by
        ``max_iter`` ends with an M-step, as with 'sklearn'). With ``init_params='hc'``,
        ``reg_covar=0`` and ``tol=1e-5`` a fit reproduces mclust's defaults.

    learning_offset : float, default=10.0
        :meth:`partial_fit`'s step size after ``t`` steps is ``(t +
        learning_offset) ** -learning_decay`` (as ``LatentDirichletAllocation``).

    learning_decay : float, default=0.7
        See ``learning_offset``; in [0, 1], 0 gives steps of size one.

    init_sample_size : int, default=100_000
        On a dask array, the start is drawn from this many rows chosen uniformly
        with ``random_state`` among the rows of positive weight (all of them when
        there are fewer: the start is then the in-memory one). An ``np.memmap``
        of more rows (not one joblib made for a worker) is read out of core: the
        same sampled start, passes and predictions that read the map chunk by
        chunk, and no ``labels_``. Other input, and smaller maps, use every row.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The weight of each mixture component.

    means_ : ndarray of shape (n_components, n_features)
        The mean of each mixture component.

    covariances_ : ndarray
        The covariance of each component, shaped as ``precisions_init``.

    precisions_ : ndarray
        The inverse of ``covariances_``, same shape.

    precisions_cholesky_ : ndarray
        Upper-triangular factors ``U`` with ``precisions_ = U @ U.T`` (the models
        with general matrices), or square roots of the precisions (the diagonal
        and spherical ones).

    converged_ : bool
        True when the best initialization reached convergence.

    n_iter_ : int
        Number of EM steps of the best initialization.

    lower_bound_ : float
        Mean log-likelihood of the training data at the last EM step of the best
        initialization.

    lower_bounds_ : list of float of length n_iter_
        The lower bound at each EM step of the best initialization.

    n_batch_iter_ : int
        Steps of :meth:`partial_fit` since the last :meth:`fit`.

    labels_ : ndarray of shape (n_samples,)
        Most probable component of each training sample (a lazy dask array after
        a fit on one; not set after a fit out of core of a large ``np.memmap``).

    volumes_, shapes_, orientations_ : ndarray
        Each covariance's decomposition ``Sigma_k = lambda_k D_k A_k D_k.T``
        (Celeux & Govaert 1995), of shapes (n_components,), (n_components,
        n_features) and (n_components, n_features, n_features); computed from
        ``covariances_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when they are all strings.

    See Also
    --------
    sklearn.mixture.GaussianMixture : scikit-learn's implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_em_gmm import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        # live views of the registries: a model registered after import is accepted
        "covariance_type": [StrOptions(covariance_type_names())],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(INIT_METHODS.keys())],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "on_degenerate": [StrOptions({"raise", "recover"})],
        "prior": [None, StrOptions({"default"}), dict],
        "stopping_rule": [StrOptions({"sklearn", "mclust"})],
        "learning_offset": [Interval(Real, 0.0, None, closed="left")],
        "learning_decay": [Interval(Real, 0.0, 1.0, closed="both")],
        "init_sample_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        on_degenerate="raise",
        prior=None,
        stopping_rule="sklearn",
        learning_offset=10.0,
        learning_decay=0.7,
        init_sample_size=100_000,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.on_degenerate = on_degenerate
        self.prior = prior
        self.stopping_rule = stopping_rule
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.init_sample_size = init_sample_size

    @property
    def _model(self):
        return get_covariance_model(self.covariance_type)

    def __getstate__(self):
        state = dict(super().__getstate__())  # not the live __dict__
        # a dask fit's labels are a graph holding the training data: computed
        if is_dask_array(state.get("labels_")):
            state["labels_"] = np.asarray(state["labels_"])
        return state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times and the run with the largest lower
        bound is kept. Each run alternates E- and M-steps until the lower bound
        gains less than ``tol``, or ``max_iter`` steps; otherwise a
        :class:`~sklearn.exceptions.ConvergenceWarning` is raised. With
        ``warm_start``, fitting resumes from the previous solution.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, one row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights with frequency meaning: an integer weight ``k``
            fits as ``k`` copies of the row, a zero weight as its removal.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self._restoring(self._fit, X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with X and return its labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, one row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights with frequency meaning.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Most probable component of each sample under the fitted model.
        """
        self.fit(X, sample_weight=sample_weight)
        if not hasattr(self, "labels_"):  # a fit out of core of a large np.memmap
            return self.predict(X)
        return self.labels_.copy()

    def _fit_from_starts(self, X, starts, sample_weight=None):
        """Fit on ``X`` from the ``n_init`` starts already drawn from it (each a
        :class:`~sklearn_em_gmm.init.Start`), as a selection grid shares them; with
        ``sample_weight`` (none zero), drawn with the weights over their mean."""
        self._validate_params()
        self._restoring(self._fit, X, sample_weight, starts)
        return self

    def _restoring(self, fit, *args):
        # A fit that raises leaves the estimator as it found it.
        state_before = self.__dict__.copy()
        try:
            fit(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state_before)
            raise

    def _fit(self, X, sample_weight, starts=None):
        """Fit on ``X``; ``starts``, if given, are the ``n_init`` starts drawn from
        the validated ``X`` (see :func:`sklearn_em_gmm.selection.fit_grid`)."""
        self._check_n_components()
        if is_dask_array(X):
            fit_out_of_core(self, DaskRows(self, X, sample_weight))
            return
        if is_large_memmap(X, self.init_sample_size):
            fit_out_of_core(self, MappedRows(self, X, sample_weight))
            return
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        n_samples, n_features = X.shape
        all_rows = X
        mean_weight = 1.0
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, n_samples)
            X, sample_weight, mean_weight = drop_and_rescale(X, sample_weight)
            n_samples = X.shape[0]
        self._check_enough_rows(n_samples)
        model = self._model
        given = self._check_initial_parameters(model, n_features, X.dtype)
        warm = self._resumes(n_features)
        with call_threads(len(all_rows), n_features, self.n_components):
            prior = resolve_prior(
                self.prior, X, sample_weight, mean_weight, model, self.n_components
            )
            best = self._best_run(
                X, sample_weight, mean_weight, model, given, warm, starts, prior
            )
            labels = self._labels(all_rows, best.params, model)
        self._set_fit_result(best, model, X.dtype, labels)

    def _check_n_components(self):
        # bool is an Integral, so the declared constraints let True through
        if isinstance(self.n_components, (bool, np.bool_)):
            raise InvalidParameterError(
                "The 'n_components' parameter of GaussianMixture must be an int in "
                f"the range [1, inf). Got {self.n_components!r} instead."
            )

    def _set_fit_result(self, best, model, dtype, labels):
        """The fitted attributes of the best run (an :class:`EMResult`), warning as
        sklearn when it did not converge."""
        if not best.converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. "
                "Try different init parameters, or increase max_iter, "
                "tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=1,
            )
        self._set_fitted_parameters(best.params, model)
        scalar = dtype.type
        self.converged_ = best.converged
        self.n_iter_ = best.n_iter
        # with no EM step, sklearn leaves its bound at the float -inf it started from
        self.lower_bound_ = scalar(best.lower_bound) if best.n_iter else -math.inf
        self.lower_bounds_ = [scalar(bound) for bound in best.lower_bounds]
        if labels is None:  # none kept by a fit out of core of a large np.memmap
            self.__dict__.pop("labels_", None)
        else:
            self.labels_ = labels
        # a later partial_fit starts its statistics from this fit's parameters
        for name in ("_stepwise", "n_batch_iter_"):
            self.__dict__.pop(name, None)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One step of stepwise (online) EM on a batch of rows.

        The batch's sufficient statistics move a running average,
        ``s <- (1 - rho) s + rho s_batch`` with ``rho = (t + learning_offset) **
        (-learning_decay)`` after ``t`` steps (Cappé & Moulines 2009), and an M-step
        follows. The first call starts from its batch as :meth:`fit` starts (one
        start, ``init_params``); after :meth:`fit`, the fitted mixture counts as
        the first step. Later calls need the same features, ``n_components`` and
        ``covariance_type``; each weighs ``rho`` whatever its size.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of rows.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the batch's rows.

        Returns
        -------
        self : object
            The mixture after the step.
        """
        self._restoring(partial_fit_step, self, X, sample_weight)
        return self

    def _best_run(
        self, X, sample_weight, mean_weight, model, given, warm, starts, prior
    ):
        """EM from each start (or from the fitted model, ``warm``), MAP EM with a
        ``prior``: the run with the highest lower bound (an :class:`EMResult`)."""
        source = ArraySource(X, sample_weight)
        reference = source.mean()
        repair = None
        if self.on_degenerate == "recover":
            variance = np.average((X - reference) ** 2, axis=0, weights=sample_weight)
            repair = DegenerateRepair(model, reference, variance, X.dtype)
        source.prepare(model, reference, self.n_components)
        draws = StartDraws(
            X, sample_weight, self.n_components, self.init_params, self.random_state
        )
        # as sklearn, nothing is drawn when every initial parameter is given
        drawn = len(given) < 3

        def start_parameters(init):
            start = None
            if drawn:
                start = starts[init] if starts is not None else draws.draw(init)
            return initial_parameters(
                X,
                sample_weight,
                model,
                start=start,
                reg_covar=self.reg_covar,
                prior=prior,
                repair=repair,
                **given,
            )

        return self._best_of_starts(
            source,
            start_parameters,
            model,
            warm,
            prior,
            repair,
            total_weight(X, sample_weight) * mean_weight,
        )

    def _best_of_starts(
        self, source, start_parameters, model, warm, prior, repair, total_weight
    ):
        """EM on ``source`` from each start, ``start_parameters(init)``, or from the
        fitted model (``warm``): the run with the highest lower bound (an
        :class:`EMResult`). ``total_weight`` is the weights' sum, in their unit."""
        progress = ProgressPrinter(self.verbose, self.verbose_interval)
        best = None
        for init in range(1 if warm else self.n_init):
            progress.init_begin(init)
            if warm:
                params, lower_bound = self._fitted_parameters(), self.lower_bound_
            else:
                params, lower_bound = start_parameters(init), -math.inf
            result = run_em(
                source,
                params,
                model,
                reg_covar=self.reg_covar,
                tol=self.tol,
                max_iter=self.max_iter,
                lower_bound=lower_bound,
                progress=progress,
                prior=prior,
                repair=repair,
                stopping_rule=self.stopping_rule,
                total_weight=total_weight,
            )
            if (
                best is None
                or result.lower_bound > best.lower_bound
                or best.lower_bound == -math.inf
            ):
                best = result
        return best

    def _check_enough_rows(self, n_samples):
        """Raise sklearn's error when fewer rows (of positive weight) than
        components are given."""
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {self.n_components}, "
                f"n_samples = {n_samples}"
            )

    def _resumes(self, n_features):
        """Whether this fit resumes from the fitted model (``warm_start``), which
        must have ``n_features``."""
        warm = self.warm_start and hasattr(self, "converged_")
        if warm and self.means_.shape[1] != n_features:
            raise ValueError(
                f"X has {n_features} features, but the warm-started model was fitted "
                f"with {self.means_.shape[1]}; set warm_start=False to refit."
            )
        return warm

    def _check_initial_parameters(self, model, n_features, dtype=None):
        """Validated copies of the user-given initial parameters; in ``dtype`` and
        C-ordered, if given: a fit runs in its data's dtype whatever the initial
        parameters' dtype, on C-ordered arrays, as products round by memory
        order."""
        given = {}
        if self.weights_init is not None:
            given["weights_init"] = check_weights(self.weights_init, self.n_components)
        if self.means_init is not None:
            given["means_init"] = check_means(
                self.means_init, self.n_components, n_features
            )
        if self.precisions_init is not None:
            given["precisions_init"] = check_precisions(
                self.precisions_init, model, self.n_components, n_features
            )
        if dtype is not None:
            given = {
                name: value.astype(dtype, order="C") for name, value in given.items()
            }
        return given

    def _fitted_parameters(self):
        """The fitted parameters, C-ordered: the same bits whatever the memory order
        of the attributes (products round by it)."""
        return MixtureParameters(
            *(
                np.ascontiguousarray(array)
                for array in (
                    self.weights_,
                    self.means_,
                    self.covariances_,
                    self.precisions_cholesky_,
                )
            )
        )

    def _set_fitted_parameters(self, params, model):
        self.weights_ = params.weights
        self.means_ = params.means
        self.covariances_ = params.covariances
        self.precisions_cholesky_ = params.precisions_cholesky
        self.precisions_ = model.precisions(params.precisions_cholesky)

    @staticmethod
    def _labels(X, params, model):
        return map_log_prob_blocks(
            X,
            params,
            model,
            component_argmax,
            np.empty(X.shape[0], dtype=np.intp),
        )

    def _out_of_core(self, X, method):
        """``method`` of ``X`` read out of core (a dask array: lazily; a large
        ``np.memmap``: a chunk at a time), or None for other input."""
        if is_dask_array(X):
            check_is_fitted(self)
            return map_rows(self, X, method)
        if is_large_memmap(X, self.init_sample_size):
            check_is_fitted(self)
            return map_chunks(self, X, method)
        return None

    def _validate_fitted_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def score_samples(self, X):
        """Compute the log-likelihood of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per sample.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            Log-likelihood of each sample under the model.
        """
        out_of_core = self._out_of_core(X, "score_samples")
        if out_of_core is not None:
            return out_of_core
        X = self._validate_fitted_input(X)
        with call_threads(*X.shape, self.n_components):
            return map_log_prob_blocks(
                X,
                self._fitted_parameters(),
                self._model,
                normalize_log_prob,
                np.empty(X.shape[0], dtype=np.result_type(X, self.means_)),
            )

    def score(self, X, y=None, sample_weight=None):
        """Compute the per-sample average log-likelihood of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the average.

        Returns
        -------
        log_likelihood : float
            Weighted mean log-likelihood of X under the model.
        """
        return self._mean_log_likelihood(X, sample_weight)[0]

    def _mean_log_likelihood(self, X, sample_weight):
        """Weighted mean log-likelihood of X and the total weight behind it."""
        if is_dask_array(X):
            check_is_fitted(self)
            return mean_log_likelihood(self, X, sample_weight)
        if is_large_memmap(X, self.init_sample_size):
            check_is_fitted(self)
            return mapped_mean_log_likelihood(self, X, sample_weight)
        log_prob = self.score_samples(X)
        if sample_weight is None:
            return float(np.mean(log_prob)), log_prob.shape[0]
        sample_weight = check_sample_weight(sample_weight, log_prob.shape[0])
        positive = sample_weight > 0  # a zero weight removes the row, even at -inf
        return (
            float(np.average(log_prob[positive], weights=sample_weight[positive])),
            float(np.sum(sample_weight)),
        )

    def predict(self, X):
        """Predict the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per sample.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels.
        """
        out_of_core = self._out_of_core(X, "predict")
        if out_of_core is not None:
            return out_of_core
        X = self._validate_fitted_input(X)
        with call_threads(*X.shape, self.n_components):
            return self._labels(X, self._fitted_parameters(), self._model)

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per sample.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            Responsibilities; each row sums to one.
        """
        out_of_core = self._out_of_core(X, "predict_proba")
        if out_of_core is not None:
            return out_of_core
        X = self._validate_fitted_input(X)

        def responsibilities(log_prob):
            normalize_log_prob(log_prob, exact_tail=True)
            return log_prob.T

        with call_threads(*X.shape, self.n_components):
            return map_log_prob_blocks(
                X,
                self._fitted_parameters(),
                self._model,
                responsibilities,
                np.empty(
                    (X.shape[0], self.n_components),
                    dtype=np.result_type(X, self.means_),
                ),
            )

    def sample(self, n_samples=1):
        """Generate random samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Randomly generated samples.

        y : ndarray of shape (n_samples,)
            Component of each sample.
        """
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples} . The sampling requires "
                "at least one sample."
            )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        X = self._model.sample(rng, self.means_, self.covariances_, counts)
        y = np.concatenate(
            [np.full(count, k, dtype=np.int64) for k, count in enumerate(counts)]
        )
        return X.astype(np.float64, copy=False), y

    def _decomposition(self):
        check_is_fitted(self)
        n_components, n_features = self.means_.shape
        parts = self._model.decomposition(self.covariances_, n_components, n_features)
        return tuple(part.astype(self.means_.dtype, copy=False) for part in parts)

    def _full_covariances(self):
        """Every component's covariance matrix (k, d, d), whatever the model's
        layout of ``covariances_``: ``lambda_k D_k A_k D_k.T`` from one
        decomposition."""
        volumes, shapes, orientations = self._decomposition()
        return from_axes(orientations, volumes[:, np.newaxis] * shapes)

    @property
    def volumes_(self):
        """ndarray of shape (n_components,): each covariance's volume
        ``det(Sigma_k) ** (1 / n_features)``, the ``lambda_k`` of
        ``Sigma_k = lambda_k D_k A_k D_k.T``."""
        return self._decomposition()[0]

    @property
    def shapes_(self):
        """ndarray of shape (n_components, n_features): the diagonal of each
        component's shape ``A_k``, of determinant 1."""
        return self._decomposition()[1]

    @property
    def orientations_(self):
        """ndarray of shape (n_components, n_features, n_features): each
        component's orientation ``D_k``, orthogonal, its eigenvectors in columns."""
        return self._decomposition()[2]

    def _n_parameters(self):
        """Number of free parameters of the fitted model."""
        n_components, n_features = self.means_.shape
        return (
            self._model.n_covariance_parameters(n_components, n_features)
            + n_components * n_features
            + n_components
            - 1
        )

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion of the model on X; the lower the better.

        ``-2 log L + n_parameters log(n)``, with ``n`` the total sample weight.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples.

        Returns
        -------
        bic : float
        """
        mean_log_likelihood, n = self._mean_log_likelihood(X, sample_weight)
        return -2 * mean_log_likelihood * n + self._n_parameters() * math.log(n)

    def aic(self, X, sample_weight=None):
        """Akaike information criterion of the model on X; the lower the better.

        ``-2 log L + 2 n_parameters``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the samples.

        Returns
        -------
        aic : float
        """
        mean_log_likelihood, n = self._mean_log_likelihood(X, sample_weight)
        return -2 * mean_log_likelihood * n + 2 * self._n_parameters()

    def to_dict(self, json_compatible=False):
        """Describe the fitted mixture by a dict of plain values, without pickle.

        The dict holds a format name and version, the constructor parameters and the
        fitted attributes (``weights_``, ``means_``, ``covariances_``,
        ``precisions_cholesky_``, ``converged_``, ``n_iter_``, ``lower_bound_``,
        ``lower_bounds_``, ``labels_``, ``n_features_in_`` and, when present,
        ``feature_names_in_``). :meth:`from_dict` reads it back bit-exactly.

        Parameters
        ----------
        json_compatible : bool, default=False
            If True, each array is written as ``{"dtype": str, "shape": list,
            "data": nested lists}``, so that the dict goes through
            :func:`json.dumps`. Otherwise arrays are numpy arrays (copies), e.g.
            of shape ``(n_components, n_features)`` for ``means_``.

        Returns
        -------
        data : dict
            Keys ``"format"``, ``"version"``, ``"params"`` and ``"attributes"``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the mixture is not fitted.
        ValueError
            If ``random_state`` is not an int or None.
        """
        return model_to_dict(self, json_compatible=json_compatible)

    @classmethod
    def from_dict(cls, data):
        """Build a fitted mixture from the output of :meth:`to_dict`.

        Everything is validated first: keys, format and version, parameters,
        shapes (``weights_`` of shape ``(n_components,)``, ``means_`` of shape
        ``(n_components, n_features_in_)``, covariances as for
        ``covariance_type``), dtypes (float32 or float64), finiteness, weights
        summing to one, valid Cholesky factors and covariances consistent with
        them. ``precisions_`` is recomputed from ``precisions_cholesky_``.

        Parameters
        ----------
        data : dict
            The output of :meth:`to_dict`, with numpy arrays or their JSON form
            (e.g. after :func:`json.dumps` and :func:`json.loads`).

        Returns
        -------
        estimator : GaussianMixture
            The fitted mixture.

        Raises
        ------
        ValueError
            If the dict is invalid; the message names the offending key.
        """
        return model_from_dict(data, estimator_class=cls)
