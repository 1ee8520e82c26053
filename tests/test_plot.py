"""The plots, drawn headless (Agg), checked by what they hold."""

import matplotlib
import numpy as np
import pytest
from matplotlib.patches import Ellipse
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris

from sklearn_em_gmm import GaussianMixture, GaussianMixtureIC
from sklearn_em_gmm.plot import plot_classification, plot_criterion, plot_uncertainty

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def iris_search():
    X = load_iris().data
    return X, GaussianMixtureIC(4, covariance_type=["VVV", "EEE", "VII", "VEV"]).fit(X)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_criterion_plot_has_one_line_per_model(iris_search):
    _, search = iris_search
    ax = plot_criterion(search)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"VVV", "EEE", "VII", "VEV"}
    table = search.mclust_table()
    for model, line in lines.items():
        assert_allclose(line.get_xdata(), [1, 2, 3, 4])
        assert_allclose(line.get_ydata(), table[model])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(lines)
    # the chosen cell is circled, in mclust's sign
    circled = ax.collections[-1].get_offsets()
    assert_allclose(circled, [[search.n_components_, -search.criterion_]])
    assert "BIC" in ax.get_ylabel()


def test_criterion_plot_of_another_criterion_and_given_axes(iris_search):
    _, search = iris_search
    fig, ax = plt.subplots()
    assert plot_criterion(search, "icl", ax=ax) is ax
    line = next(line for line in ax.get_lines() if line.get_label() == "VVV")
    assert_allclose(line.get_ydata(), search.mclust_table("icl")["VVV"])
    assert "ICL" in ax.get_ylabel()


def test_classification_plot_has_the_rows_and_an_ellipse_per_component(iris_search):
    X, search = iris_search
    ax = plot_classification(search, X, features=(2, 3))
    ellipses = [patch for patch in ax.patches if isinstance(patch, Ellipse)]
    assert len(ellipses) == search.n_components_
    best = search.best_estimator_
    centres = sorted(tuple(map(float, ellipse.center)) for ellipse in ellipses)
    assert_allclose(centres, sorted(map(tuple, best.means_[:, [2, 3]])))
    points = ax.collections[0]
    assert_allclose(points.get_offsets(), X[:, [2, 3]])
    # rows of one component share its colour
    colours = points.get_facecolors()
    labels = best.predict(X)
    for component in range(search.n_components_):
        assert len(np.unique(colours[labels == component], axis=0)) == 1


def test_ellipse_holds_the_level_of_a_component(iris_search):
    # one Gaussian: about 95% of draws fall inside its 95% ellipse
    rng = np.random.RandomState(0)
    X = rng.multivariate_normal([0, 0], [[2.0, 1.2], [1.2, 1.0]], size=4000)
    ax = plot_classification(GaussianMixture(1).fit(X), X)
    (ellipse,) = ax.patches
    # the patch transform maps the unit circle onto the ellipse in data space
    unit = ellipse.get_patch_transform().inverted().transform(X)
    inside = np.hypot(unit[:, 0], unit[:, 1]) < 1
    assert 0.93 < inside.mean() < 0.97


def test_uncertainty_plot_sizes_rows_by_uncertainty(iris_search):
    X, search = iris_search
    ax = plot_uncertainty(search, X)
    sizes = ax.collections[0].get_sizes()
    uncertainty = 1 - search.predict_proba(X).max(axis=1)
    order = np.argsort(uncertainty)
    assert np.all(np.diff(sizes[order]) >= 0)
    assert len(sizes) == len(X)


def test_bad_features_are_named(iris_search):
    X, search = iris_search
    with pytest.raises(ValueError, match="features"):
        plot_classification(search, X, features=(0, 7))
    with pytest.raises(ValueError, match="shape"):
        plot_uncertainty(search, X[:, :2])
