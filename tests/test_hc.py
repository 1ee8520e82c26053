"""``init_params='hc'``: mclust's model-based hierarchical start, against mclust 6.0.0.

The reference trees are ``hc(data, "VVV", use = "SVD")`` from
``tests/data/mclust``; the merge criterion is also checked against a direct
recomputation over every pair at every stage.
"""

import numpy as np
import pytest
from _mclust_reference import hc_merges as mclust_merges
from _mclust_reference import (
    hc_partitions,
    hc_transformed,
    load_dataset,
    meta,
    run_r,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils import check_random_state

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.init import INIT_METHODS, Start, _hc
from sklearn_em_gmm.init._hc import cut_tree, hc_merges, svd_transform

# wreath has no ties, but mclust's last three merges are not its criterion's
# cheapest: from its own 4-cluster partition, hcVVV merges as we do (see
# test_wreath_tree_is_mclusts_down_to_four_clusters)
EXACT_TREES = ("faithful", "iris", "diabetes", "banknote", "thyroid")


@pytest.mark.parametrize("name", EXACT_TREES + ("wreath",))
def test_svd_transform_is_mclusts(name):
    Z, reference = svd_transform(load_dataset(name)), hc_transformed(name)
    # singular vectors are defined up to sign
    signs = np.sign(np.sum(Z * reference, axis=0))
    assert_allclose(Z * signs, reference, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", EXACT_TREES)
def test_tree_is_mclusts(name):
    # faithful (16 duplicated rows) and iris (rows at equal distances) have ties:
    # they are broken as mclust breaks them
    merges = hc_merges(svd_transform(load_dataset(name)))
    assert_array_equal(merges + 1, mclust_merges(name))


def test_wreath_tree_is_mclusts_down_to_four_clusters():
    X = load_dataset("wreath")
    merges = hc_merges(svd_transform(X))
    reference = mclust_merges("wreath")
    assert_array_equal(merges[:-3] + 1, reference[:-3])
    partitions = hc_partitions("wreath")
    for n_clusters in range(4, 10):
        labels = cut_tree(merges, len(X), n_clusters)
        assert_array_equal(labels + 1, partitions[:, n_clusters - 1])


@pytest.mark.parametrize("name", EXACT_TREES)
def test_partitions_are_mclusts(name):
    X = load_dataset(name)
    merges = hc_merges(svd_transform(X))
    partitions = hc_partitions(name)
    for n_clusters in range(1, 10):
        labels = cut_tree(merges, len(X), n_clusters)
        assert_array_equal(labels + 1, partitions[:, n_clusters - 1])


def _criterion(rows, weights, alpha, beta):
    """The VVV criterion of one cluster, from its rows."""
    n, n_dims = weights.sum(), rows.shape[1]
    mean = weights @ rows / n
    scatter = (rows - mean).T @ ((rows - mean) * weights[:, np.newaxis])
    inside = beta * (np.trace(scatter) + alpha) / n
    if n > n_dims:
        inside += np.linalg.det(scatter / n)
    return n * np.log(inside)


def _naive_merges(Z, weights, alpha=1.0, beta=1.0):
    """Each stage, the cheapest pair by recomputing every pair from its rows."""
    n_rows, n_dims = Z.shape
    centred = Z - weights @ Z / weights.sum()
    alpha *= weights @ (centred**2).sum(axis=1) / (weights.sum() * n_dims)
    clusters = [[row] for row in range(n_rows)]
    merges = []
    while len(clusters) > 1:
        best = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                union = clusters[a] + clusters[b]
                gap = (
                    _criterion(Z[union], weights[union], alpha, beta)
                    - _criterion(Z[clusters[a]], weights[clusters[a]], alpha, beta)
                    - _criterion(Z[clusters[b]], weights[clusters[b]], alpha, beta)
                )
                if best is None or gap < best[0]:
                    best = (gap, a, b)
        _, a, b = best
        merges.append(sorted((min(clusters[a]), min(clusters[b]))))
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]
    return np.array(merges)


@pytest.mark.parametrize("n_dims", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_each_merge_is_the_cheapest_pair(n_dims, weighted):
    rng = np.random.RandomState(n_dims)
    Z = np.vstack([rng.normal(size=(12, n_dims)), rng.normal(4, 2, (12, n_dims))])
    weights = rng.uniform(0.5, 3, len(Z)) if weighted else np.ones(len(Z))
    expected = _naive_merges(Z, weights, alpha=0.7, beta=1.3)
    merges = hc_merges(Z, weights if weighted else None, alpha=0.7, beta=1.3)
    assert_array_equal(merges, expected)


@pytest.mark.parametrize("weight", [1.0, 3.0])
def test_equal_weights_are_no_weights(weight):
    X = load_dataset("diabetes")
    weights = np.full(len(X), weight)
    expected, _ = INIT_METHODS["hc"](X, None, 4, None)
    labels, _ = INIT_METHODS["hc"](X, weights, 4, None)
    assert_array_equal(labels, expected)


def test_weights_are_relative():
    X = load_dataset("diabetes")
    counts = np.random.RandomState(1).randint(1, 8, len(X)).astype(float)
    starts = [
        GaussianMixture(4, init_params="hc", max_iter=0).fit(X, sample_weight=weights)
        for weights in (counts, 10 * counts)
    ]
    assert_allclose(starts[0].means_, starts[1].means_, rtol=1e-12)
    unweighted = GaussianMixture(4, init_params="hc", max_iter=0).fit(X)
    assert not np.allclose(starts[0].means_, unweighted.means_)


@pytest.mark.parametrize("scale", [1e-170, 1.0, 1e200])
def test_tree_of_tiny_and_huge_data(scale):
    X = load_dataset("iris")
    expected = hc_merges(svd_transform(X))
    assert_array_equal(hc_merges(svd_transform(X * scale)), expected)


@pytest.mark.parametrize("shape", [(20, 3), (10, 1)])
def test_identical_rows_start_without_error(shape):
    labels, _ = INIT_METHODS["hc"](np.full(shape, 3.0), None, 2, None)
    assert set(labels) == {0, 1}
    fit = GaussianMixture(2, init_params="hc").fit(np.full(shape, 3.0))
    assert np.isfinite(fit.lower_bound_)


def test_a_weighted_row_counts_as_repeated_rows():
    # a row of weight 2 costs what two identical rows cost once merged
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(9, 2))
    weights = np.ones(9)
    weights[4] = 2.0
    repeated = np.vstack([Z, Z[4:5]])
    merges = hc_merges(repeated)
    # the identical pair merges first, at a cost no other pair undercuts
    assert_array_equal(merges[0], [4, 9])
    assert_array_equal(hc_merges(Z, weights), merges[1:])


def test_cut_labels_in_order_of_first_row():
    merges = np.array([[1, 3], [0, 2], [0, 1]])
    assert_array_equal(cut_tree(merges, 4, 4), [0, 1, 2, 3])
    assert_array_equal(cut_tree(merges, 4, 3), [0, 1, 2, 1])
    assert_array_equal(cut_tree(merges, 4, 2), [0, 1, 0, 1])
    assert_array_equal(cut_tree(merges, 4, 1), [0, 0, 0, 0])


def test_one_tree_serves_every_number_of_components(monkeypatch):
    X = load_dataset("iris")
    calls = []
    original = _hc.hc_merges

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_hc, "hc_merges", counted)
    partitions = hc_partitions("iris")
    for n_components in (2, 3, 5):
        labels, resp = INIT_METHODS["hc"](X, None, n_components, None)
        assert resp is None
        assert_array_equal(labels + 1, partitions[:, n_components - 1])
    assert len(calls) == 1


def test_large_data_are_clustered_on_a_subset(monkeypatch):
    monkeypatch.setattr(_hc, "SUBSET_SIZE", 40)
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(6, 1, (100, 2))])
    labels, _ = INIT_METHODS["hc"](X, None, 2, check_random_state(3))
    clustered = np.flatnonzero(labels >= 0)
    assert len(clustered) == 40
    assert set(labels[clustered]) == {0, 1}
    # the subset is the seed's, and the tree is that of the subset alone
    again, _ = INIT_METHODS["hc"](X, None, 2, check_random_state(3))
    assert_array_equal(again, labels)
    subset_tree = cut_tree(hc_merges(svd_transform(X[clustered])), 40, 2)
    assert_array_equal(labels[clustered], subset_tree)
    other, _ = INIT_METHODS["hc"](X, None, 2, check_random_state(4))
    assert not np.array_equal(other >= 0, labels >= 0)
    # the rows left out get their responsibilities from the first E-step
    fit = GaussianMixture(2, init_params="hc", random_state=3).fit(X)
    assert set(fit.predict(X)) == {0, 1}


def test_small_data_consume_no_randomness():
    X = load_dataset("faithful")
    random_state = check_random_state(0)
    state = random_state.get_state()[1].copy()
    INIT_METHODS["hc"](X, None, 3, random_state)
    assert_array_equal(random_state.get_state()[1], state)


def test_start_is_mclusts_partition():
    X = load_dataset("faithful")
    start = Start.draw(X, None, 3, "hc", check_random_state(0))
    assert_array_equal(start.labels + 1, hc_partitions("faithful")[:, 2])


@pytest.mark.parametrize("cell", sorted(meta()["published_bic"]))
def test_published_bic_is_reproduced(cell):
    name, model, n_components = cell.split("_")
    X = load_dataset(name)
    fit = GaussianMixture(
        int(n_components),
        covariance_type=model,
        init_params="hc",
        reg_covar=0.0,
        tol=1e-5,
        stopping_rule="mclust",
    ).fit(X)
    # mclust's BIC is 2 log L - p log n: minus sklearn's
    assert_allclose(-fit.bic(X), meta()["published_bic"][cell], rtol=1e-9)


def test_tree_equals_mclusts_live():
    """A fresh data set with R's mclust, when Rscript is installed."""
    rng = np.random.RandomState(7)
    X = np.vstack(
        [
            rng.normal(0, 1, (60, 3)),
            rng.normal(3, 0.5, (50, 3)),
            rng.normal(-3, 2, (40, 3)),
        ]
    )
    rows = ",".join(repr(float(value)) for value in X.ravel())
    output = run_r(
        "suppressMessages(library(mclust))\n"
        f"X <- matrix(c({rows}), ncol = 3, byrow = TRUE)\n"
        'tree <- hc(X, modelName = "VVV", use = "SVD")\n'
        "cat(tree[, ], sep = ' ')\n"
        "cat('\\n')\n"
        'fit <- Mclust(X, G = 3, modelNames = "VEV", verbose = FALSE)\n'
        "cat(sprintf('%.17g', fit$bic))\n"
    )
    tree_line, bic_line = output.strip().splitlines()[-2:]
    reference = np.array(tree_line.split(), dtype=int).reshape(-1, 2)
    assert_array_equal(hc_merges(svd_transform(X)) + 1, reference)
    fit = GaussianMixture(
        3,
        covariance_type="VEV",
        init_params="hc",
        reg_covar=0.0,
        tol=1e-5,
        stopping_rule="mclust",
    ).fit(X)
    assert_allclose(-fit.bic(X), float(bic_line), rtol=1e-6)
