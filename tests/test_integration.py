"""GaussianMixture where users put it: pipelines, model selection, persistence, I/O.

Most tests run scikit-learn's own ``sklearn.mixture.GaussianMixture`` next to ours
and require the same observable behaviour.
"""

import html
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SKLEARN_COVARIANCE_TYPES as COVARIANCE_TYPES
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

ALIASES = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
FITTED_ATTRIBUTES = [
    "weights_",
    "means_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
    "converged_",
    "n_iter_",
    "lower_bound_",
    "lower_bounds_",
    "n_features_in_",
]


@pytest.fixture(autouse=True)
def _single_thread():
    """Tiny fits: OpenMP/BLAS threads only add contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield


def _blobs(n_samples=240, random_state=0, **kwargs):
    """Three blobs in 2-D; well separated unless ``centers`` is overridden."""
    kwargs.setdefault("centers", [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    return make_blobs(n_samples=n_samples, random_state=random_state, **kwargs)


def _overlapping(n_samples=200, random_state=0):
    """Anisotropic, overlapping data: EM takes a few iterations here."""
    X, _ = make_blobs(
        n_samples=n_samples,
        centers=3,
        cluster_std=[1.0, 2.5, 0.5],
        random_state=random_state,
    )
    return X @ np.array([[0.6, -0.6], [-0.4, 0.8]])


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


def _strip_times(text):
    return re.sub(r"time lapse \d+\.\d+s", "time lapse <t>s", text)


# --------------------------------------------------------------------------------
# Pipeline


def test_pipeline_equals_fitting_on_scaled_data():
    X, _ = _blobs()
    X = X * [100.0, 0.01] + [5.0, -3.0]  # badly scaled on purpose
    params = dict(n_components=3, covariance_type="full", random_state=0)
    pipe = make_pipeline(StandardScaler(), GaussianMixture(**params)).fit(X)
    Xs = StandardScaler().fit_transform(X)
    direct = GaussianMixture(**params).fit(Xs)

    assert isinstance(pipe[-1], GaussianMixture)
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        assert_array_equal(getattr(pipe[-1], name), getattr(direct, name))
    assert_array_equal(pipe.predict(X), direct.predict(Xs))
    assert_array_equal(pipe.predict_proba(X), direct.predict_proba(Xs))
    assert_array_equal(pipe.score_samples(X), direct.score_samples(Xs))
    assert pipe.score(X) == direct.score(Xs)
    assert_array_equal(pipe.fit_predict(X), direct.fit_predict(Xs))
    assert pipe.predict_proba(X).shape == (X.shape[0], 3)
    assert_allclose(pipe.predict_proba(X).sum(axis=1), 1.0)
    # well separated blobs are recovered after scaling
    assert adjusted_rand_score(_blobs()[1], pipe.predict(X)) == 1.0


def test_pipeline_routes_sample_weight_to_the_mixture():
    X, _ = _blobs()
    weights = np.random.RandomState(1).randint(0, 4, size=X.shape[0]).astype(float)
    pipe = Pipeline(
        [("scale", StandardScaler()), ("gmm", GaussianMixture(3, random_state=0))]
    )
    pipe.fit(X, gmm__sample_weight=weights)
    Xs = StandardScaler().fit_transform(X)
    direct = GaussianMixture(3, random_state=0).fit(Xs, sample_weight=weights)
    assert_array_equal(pipe[-1].means_, direct.means_)
    assert_array_equal(pipe.predict(X), direct.predict(Xs))
    unweighted = GaussianMixture(3, random_state=0).fit(Xs)
    assert not np.array_equal(pipe[-1].means_, unweighted.means_)


# --------------------------------------------------------------------------------
# GridSearchCV


def _neg_bic(est, X, y=None):
    return -est.bic(X)


@pytest.mark.parametrize("scoring", [None, _neg_bic], ids=["score", "bic"])
def test_grid_search_matches_sklearn(scoring):
    X, y = _blobs(n_samples=300)
    grid = {"n_components": [1, 2, 3, 4], "covariance_type": COVARIANCE_TYPES}
    ours = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3, scoring=scoring)
    theirs = GridSearchCV(
        SkGaussianMixture(random_state=0), grid, cv=3, scoring=scoring
    )
    ours.fit(X)
    theirs.fit(X)

    assert ours.best_params_["n_components"] == 3
    assert ours.best_params_ == theirs.best_params_
    assert_allclose(
        ours.cv_results_["mean_test_score"],
        theirs.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    # the same ranks, but for one component full and tied: one model, whose two
    # scores tie only by chance of rounding (in sklearn as in ours), so their ranks
    # are r and r or r and r + 1
    params = ours.cv_results_["params"]
    one_model = np.array(
        [
            p["n_components"] == 1 and p["covariance_type"] in ("full", "tied")
            for p in params
        ]
    )
    our_ranks = ours.cv_results_["rank_test_score"]
    their_ranks = theirs.cv_results_["rank_test_score"]
    assert_array_equal(our_ranks[~one_model], their_ranks[~one_model])
    lowest = their_ranks[one_model].min()
    assert set(our_ranks[one_model]) <= {lowest, lowest + 1}
    assert isinstance(ours.best_estimator_, GaussianMixture)
    assert adjusted_rand_score(y, ours.predict(X)) == 1.0


def test_grid_search_passes_sample_weight_to_fit():
    X, _ = _blobs(n_samples=150)
    grid = {"n_components": [2, 3], "covariance_type": ["full", "spherical"]}
    plain = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3).fit(X)
    unit = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3)
    unit.fit(X, sample_weight=np.ones(X.shape[0]))
    assert_allclose(
        unit.cv_results_["mean_test_score"],
        plain.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    assert unit.best_params_ == plain.best_params_


# --------------------------------------------------------------------------------
# clone, pickle, get_params / set_params, repr


def test_clone_copies_params_and_not_the_fit():
    est = GaussianMixture(
        n_components=3,
        covariance_type="VVI",
        tol=1e-4,
        means_init=np.zeros((3, 2)),
        random_state=3,
    ).fit(_blobs()[0])
    cloned = clone(est)
    assert type(cloned) is GaussianMixture
    params, cloned_params = est.get_params(), cloned.get_params()
    assert params.keys() == cloned_params.keys()
    for name, value in params.items():
        assert_array_equal(cloned_params[name], value)
    assert cloned_params["means_init"] is not params["means_init"]
    assert not _fitted_state(cloned)
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)
    with pytest.raises(NotFittedError):
        cloned.predict(_blobs()[0])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_round_trip_is_bit_identical(covariance_type):
    X = _overlapping()
    est = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()
    state, restored_state = _fitted_state(est), _fitted_state(restored)
    assert state.keys() == restored_state.keys()
    for name, value in state.items():
        assert_array_equal(restored_state[name], value, strict=True)
    assert_array_equal(restored.predict(X), est.predict(X))
    assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    assert_array_equal(restored.score_samples(X), est.score_samples(X))
    assert_array_equal(restored.sample(20)[0], est.sample(20)[0])


def test_get_params_and_set_params_like_sklearn():
    ours, theirs = GaussianMixture(), SkGaussianMixture()
    # sklearn's parameters with their defaults, plus our additions
    assert ours.get_params() == {
        **theirs.get_params(),
        "on_degenerate": "raise",
        "prior": None,
        "stopping_rule": "sklearn",
        "learning_offset": 10.0,
        "learning_decay": 0.7,
        "init_sample_size": 100_000,
    }
    assert ours.set_params(n_components=4, covariance_type="diag") is ours
    assert ours.n_components == 4 and ours.covariance_type == "diag"
    assert ours.get_params()["n_components"] == 4
    # unknown parameter: same exception type and message as sklearn
    with pytest.raises(ValueError) as ours_error:
        ours.set_params(n_component=2)
    with pytest.raises(ValueError) as theirs_error:
        theirs.set_params(n_component=2)
    assert type(ours_error.value) is type(theirs_error.value)
    assert str(ours_error.value) == str(theirs_error.value).replace(
        repr(theirs), repr(ours)
    ).replace("'n_init', ", "'n_init', 'on_degenerate', ").replace(
        "'precisions_init', ", "'precisions_init', 'prior', "
    ).replace("'reg_covar', ", "'reg_covar', 'stopping_rule', ").replace(
        "'init_params', ",
        "'init_params', 'init_sample_size', 'learning_decay', 'learning_offset', ",
    )


def test_fit_keeps_user_parameters_untouched():
    # sklearn replaces weights_init & co by validated arrays during fit; we don't
    weights, means = [0.25, 0.25, 0.5], [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]
    est = GaussianMixture(3, weights_init=weights, means_init=means, random_state=0)
    est.fit(_blobs()[0])
    assert est.get_params()["weights_init"] is weights
    assert est.get_params()["means_init"] is means
    assert weights == [0.25, 0.25, 0.5]


def _html_parameter_rows(page):
    """``(kind, name)`` of each row of the parameter table of an HTML repr."""
    row = r'<tr class="(user-set|default)">.*?<td class="param">(.*?)</td>'
    rows = []
    for kind, cell in re.findall(row, page, re.S):
        cell = re.sub(r"<span.*?</span>", "", cell, flags=re.S)
        rows.append((kind, re.sub(r"<[^>]*>", "", cell).strip()))
    return rows


def test_repr_and_html_repr_match_sklearn():
    params = dict(n_components=3, covariance_type="diag", tol=1e-4)
    ours, theirs = GaussianMixture(**params), SkGaussianMixture(**params)
    assert repr(ours) == repr(theirs)
    assert (
        repr(ours)
        == "GaussianMixture(covariance_type='diag', n_components=3, tol=0.0001)"
    )
    page = ours._repr_html_()
    assert "GaussianMixture" in page
    assert repr(ours) in html.unescape(page)

    rows = _html_parameter_rows(page)
    user_set = {name for kind, name in rows if kind == "user-set"}
    assert user_set == {"n_components", "covariance_type", "tol"}
    assert len(rows) == len(ours.get_params())
    # sklearn's page also links each parameter to its documentation; ours need not.
    # Ours has more rows, our added parameters.
    added = {
        "on_degenerate",
        "prior",
        "stopping_rule",
        "learning_offset",
        "learning_decay",
        "init_sample_size",
    }
    assert [row for row in rows if row[1] not in added] == _html_parameter_rows(
        theirs._repr_html_()
    )
    assert ("default", "on_degenerate") in rows


# --------------------------------------------------------------------------------
# pandas


def test_dataframe_feature_names_like_sklearn():
    X, _ = _blobs()
    frame = pd.DataFrame(X, columns=["a", "b"])
    others = {
        "renamed": pd.DataFrame(X, columns=["a", "c"]),
        "reordered": frame[["b", "a"]],
        "ndarray": X,
    }
    ours = GaussianMixture(3, random_state=0).fit(frame)
    theirs = SkGaussianMixture(3, random_state=0).fit(frame)
    assert_array_equal(ours.feature_names_in_, ["a", "b"])
    assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)
    assert_array_equal(ours.predict(frame), theirs.predict(frame))

    for method in ["predict", "predict_proba", "score_samples", "score"]:
        for name, data in others.items():
            outcomes = []
            for est in (ours, theirs):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        getattr(est, method)(data)
                        error = None
                    except Exception as exc:  # noqa: BLE001
                        error = (type(exc), str(exc))
                outcomes.append((error, [(w.category, str(w.message)) for w in caught]))
            assert outcomes[0] == outcomes[1], (method, name)
            raised = outcomes[0][0] is not None
            assert raised == (name != "ndarray"), (method, name)
            assert (outcomes[0][1] != []) == (name == "ndarray"), (method, name)


def test_dataframe_without_string_columns_and_fitted_on_array():
    X, _ = _blobs()
    for est in (GaussianMixture(3, random_state=0), SkGaussianMixture(3)):
        est.fit(pd.DataFrame(X))  # integer column names: no feature names
        assert not hasattr(est, "feature_names_in_")

    ours = GaussianMixture(3, random_state=0).fit(X)
    theirs = SkGaussianMixture(3, random_state=0).fit(X)
    frame = pd.DataFrame(X, columns=["a", "b"])
    messages = []
    for est in (ours, theirs):
        with pytest.warns(UserWarning, match="fitted without feature names") as rec:
            est.predict(frame)
        messages.append([str(w.message) for w in rec])
    assert messages[0] == messages[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_array_equal(ours.predict(frame), theirs.predict(frame))


# --------------------------------------------------------------------------------
# fit_predict, sample, dtypes


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("max_iter", [2, 100])
def test_fit_predict_equals_fit_then_predict(covariance_type, max_iter):
    X = _overlapping()
    for random_state in range(4):
        params = dict(
            n_components=3,
            covariance_type=covariance_type,
            max_iter=max_iter,
            random_state=random_state,
        )
        est = GaussianMixture(**params)
        labels = est.fit_predict(X)
        assert labels.shape == (X.shape[0],)
        assert_array_equal(labels, est.labels_)
        assert_array_equal(labels, GaussianMixture(**params).fit(X).predict(X))
        assert_array_equal(labels, est.predict_proba(X).argmax(axis=1))


# float32 covariances are symmetric only to float32 precision; numpy says so
@pytest.mark.filterwarnings("ignore:covariance is not symmetric:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES + list(ALIASES))
def test_sample_equals_sklearn_for_the_same_parameters(covariance_type, dtype):
    sk_type = ALIASES.get(covariance_type, covariance_type)
    X = _overlapping().astype(dtype)
    theirs = SkGaussianMixture(3, covariance_type=sk_type, random_state=11).fit(X)
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=11)
    for name in FITTED_ATTRIBUTES:
        setattr(ours, name, getattr(theirs, name))

    for n_samples in [1, 57]:
        X_ours, y_ours = ours.sample(n_samples)
        X_theirs, y_theirs = theirs.sample(n_samples)
        assert_array_equal(X_ours, X_theirs, strict=True)
        assert_array_equal(y_ours, y_theirs, strict=True)
    # an int random_state makes sample() repeatable; a RandomState advances
    assert_array_equal(ours.sample(5)[0], ours.sample(5)[0])
    ours.random_state = np.random.RandomState(0)
    theirs.random_state = np.random.RandomState(0)
    for _ in range(2):
        assert_array_equal(ours.sample(9)[0], theirs.sample(9)[0], strict=True)


@pytest.mark.filterwarnings("ignore:covariance is not symmetric:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_dtype_of_attributes_and_outputs_like_sklearn(covariance_type, dtype):
    X = _overlapping().astype(dtype)
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    theirs = SkGaussianMixture(3, covariance_type=covariance_type, random_state=0)
    theirs.fit(X)
    for name in ["weights_", "means_", "covariances_", "precisions_"]:
        assert getattr(ours, name).dtype == dtype, name
    assert ours.precisions_cholesky_.dtype == dtype
    for name in FITTED_ATTRIBUTES:
        ours_value, theirs_value = getattr(ours, name), getattr(theirs, name)
        assert type(ours_value) is type(theirs_value), name
        assert getattr(ours_value, "dtype", None) == getattr(
            theirs_value, "dtype", None
        ), name
    for method in ["predict", "predict_proba", "score_samples"]:
        assert getattr(ours, method)(X).dtype == getattr(theirs, method)(X).dtype
    assert type(ours.score(X)) is type(theirs.score(X))
    assert ours.sample(3)[0].dtype == theirs.sample(3)[0].dtype


# --------------------------------------------------------------------------------
# warm_start


def _initial_parameters(covariance_type, X):
    n_features = X.shape[1]
    precisions = {
        "full": np.stack([np.eye(n_features)] * 3) * [[[1.0]], [[0.5]], [[2.0]]],
        "tied": np.eye(n_features) * 0.5,
        "diag": np.array([[1.0, 0.5], [0.5, 2.0], [2.0, 1.0]]),
        "spherical": np.array([1.0, 0.5, 2.0]),
    }[covariance_type]
    return dict(
        weights_init=[0.2, 0.3, 0.5],
        means_init=X[[0, 70, 140]],
        precisions_init=precisions,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_warm_start_continues_like_sklearn(covariance_type):
    X = _overlapping(n_samples=210)
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        warm_start=True,
        max_iter=3,
        n_init=2,
        random_state=0,
        **_initial_parameters(covariance_type, X),
    )
    ours, theirs = GaussianMixture(**params), SkGaussianMixture(**params)
    histories = []
    for est in (ours, theirs):
        history = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(6):
                est.fit(X)
                history.append(
                    (est.n_iter_, est.converged_, est.lower_bound_, est.means_.copy())
                )
        histories.append(history)

    for ours_step, theirs_step in zip(*histories, strict=True):
        assert ours_step[:2] == theirs_step[:2]
        assert_allclose(ours_step[2], theirs_step[2], rtol=1e-10)
        assert_allclose(ours_step[3], theirs_step[3], rtol=1e-8, atol=1e-10)
    # later fits really continue: the bound does not restart from scratch
    bounds = [step[2] for step in histories[0]]
    assert all(b >= a - 1e-12 for a, b in zip(bounds, bounds[1:], strict=False))


def test_warm_start_equals_one_long_fit():
    X = _overlapping()
    params = dict(n_components=3, random_state=0, tol=0.0)
    long = GaussianMixture(max_iter=6, **params)
    with pytest.warns(ConvergenceWarning):
        long.fit(X)
    warm = GaussianMixture(max_iter=2, warm_start=True, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            warm.fit(X)
    assert_allclose(warm.means_, long.means_, rtol=1e-10)
    assert_allclose(warm.covariances_, long.covariances_, rtol=1e-10)
    assert_allclose(warm.lower_bound_, long.lower_bound_, rtol=1e-12)
    assert_allclose(warm.lower_bounds_, long.lower_bounds_[-2:], rtol=1e-12)


# --------------------------------------------------------------------------------
# verbose


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize(
    "settings",
    [
        dict(n_init=2, max_iter=7, verbose_interval=2, tol=1e-8),
        dict(n_init=1, max_iter=100, verbose_interval=1, tol=1e-3),
        dict(n_init=3, max_iter=0),
        dict(n_init=1, max_iter=5, warm_start=True, tol=1e-8),
    ],
    ids=["not-converged", "converged", "max_iter=0", "warm-start"],
)
def test_verbose_output_matches_sklearn(capsys, verbose, settings):
    X = _overlapping()
    outputs = []
    for cls in (GaussianMixture, SkGaussianMixture):
        est = cls(3, random_state=0, verbose=verbose, **settings)
        est.fit(X)
        if settings.get("warm_start"):
            est.fit(X)
        outputs.append(_strip_times(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith("Initialization 0\n")
    if settings["max_iter"] > 0:
        assert "Initialization " in outputs[0].splitlines()[-1]
        assert ("time lapse <t>s" in outputs[0]) == (verbose == 2)


def test_verbose_zero_prints_nothing(capsys):
    GaussianMixture(3, random_state=0).fit(_overlapping())
    assert capsys.readouterr().out == ""
