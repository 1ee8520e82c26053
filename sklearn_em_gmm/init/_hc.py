"""Model-based agglomerative hierarchical clustering: mclust's default start.

At each stage the two clusters whose union least increases the criterion of the
unconstrained (VVV) Gaussian model merge (Fraley 1998). A cluster of weight ``n``
(its number of rows, or their total weight) with scatter matrix ``W`` about its mean
costs::

    n log(|W / n| + beta (tr(W) + alpha) / n)

where the determinant counts only once ``n`` exceeds the dimension: below that ``W``
is singular and the trace term alone keeps the criterion defined, down to single
rows. ``alpha`` is scaled by the data's scatter per value. The rows are first
transformed as mclust's ``hcUse = "SVD"`` (Scrucca & Raftery 2015).

Ties are broken as mclust 6.0.0 breaks them, so that its trees are reproduced on
data with identical rows, whose merges all cost the same: the clusters sit in
numbered slots (row order at the start); a merge keeps the lower slot and moves the
cluster of the last slot into the higher one, and of the cheapest pairs the one with
the highest higher slot, then the highest lower slot, merges.
"""

import threading
from collections import OrderedDict

import numpy as np

from ._digest import digest

SUBSET_SIZE = 2000
"""Rows above which the tree is built on a random subset of this many (mclust's
``mclust.options("subset")``)."""

# Values in the temporaries of one block of pair evaluations.
_BLOCK_VALUES = 1 << 18
# Trees remembered across fits: one tree serves every number of components.
_MAX_TREES = 16


def svd_transform(X, sample_weight=None):
    """The rows as mclust's ``hcUse = "SVD"`` transforms them.

    Each column is centred and divided by its standard deviation (denominator
    ``n - 1``), giving ``S``; with the thin SVD ``S = U diag(s) V'``, the result is
    ``S V diag(s)^(-1/2) = U diag(s)^(1/2)``. Constant columns stay zero and
    directions without spread are dropped (identical rows give one zero column).
    Weights count as repeated rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    Z : ndarray of shape (n_samples, rank), float64
    """
    X = np.asarray(X, dtype=np.float64)
    n_samples = X.shape[0]
    weights = None if sample_weight is None else np.asarray(sample_weight, float)
    total = n_samples if weights is None else weights.sum()
    centred = X - np.average(X, axis=0, weights=weights)
    # a power of two per column, exact, keeps the squares from overflowing or
    # underflowing
    exponent = np.frexp(np.max(np.abs(centred), axis=0))[1]
    centred = np.ldexp(centred, -exponent)
    squares = centred**2
    sums = squares.sum(axis=0) if weights is None else weights @ squares
    scale = np.sqrt(sums / (total - 1 if total > 1 else total))
    scale[scale == 0] = 1.0
    scaled = centred / scale
    spread = scaled if weights is None else scaled * np.sqrt(weights)[:, np.newaxis]
    _, singular, vt = np.linalg.svd(spread, full_matrices=False)
    rank = singular > singular[0] * max(spread.shape) * np.finfo(float).eps
    if not rank.any():  # every row the same
        return np.zeros((n_samples, 1))
    return scaled @ (vt[rank].T / np.sqrt(singular[rank]))


def _costs(weight, scatter, alpha, beta):
    """The criterion of clusters of ``weight`` (b,) and ``scatter`` (b, d, d)."""
    n_dims = scatter.shape[-1]
    trace = np.trace(scatter, axis1=1, axis2=2)
    cost = np.log(beta * (trace + alpha) / weight)
    full = weight > n_dims
    if full.any():
        sign, log_det = np.linalg.slogdet(scatter[full] / weight[full, None, None])
        log_det[sign <= 0] = -np.inf
        cost[full] = np.logaddexp(log_det, cost[full])
    return weight * cost


class _Clusters:
    """Weights, means, scatter matrices and costs of the clusters, by cluster."""

    def __init__(self, Z, weight, alpha, beta):
        n_rows, n_dims = Z.shape
        self.weight = weight.copy()
        self.mean = Z.copy()
        self.scatter = np.zeros((n_rows, n_dims, n_dims))
        self.alpha, self.beta = alpha, beta
        self.cost = _costs(self.weight, self.scatter, alpha, beta)

    def union(self, a, b):
        """Weight, mean, scatter and cost of each union of cluster ``a`` with the
        clusters ``b`` (an index array)."""
        weight = self.weight[a] + self.weight[b]
        difference = self.mean[a] - self.mean[b]
        between = self.weight[a] * self.weight[b] / weight
        scatter = self.scatter[a] + self.scatter[b]
        scatter += between[:, None, None] * (
            difference[:, :, None] * difference[:, None, :]
        )
        mean = (
            self.weight[a] * self.mean[a] + self.weight[b, None] * self.mean[b]
        ) / weight[:, None]
        return weight, mean, scatter, _costs(weight, scatter, self.alpha, self.beta)

    def gaps(self, a, others):
        """Increase of the criterion when cluster ``a`` merges with each of
        ``others``, in blocks that bound the temporaries."""
        gaps = np.empty(len(others))
        n_dims = self.mean.shape[1]
        step = max(1, _BLOCK_VALUES // (n_dims * n_dims))
        for begin in range(0, len(others), step):
            block = others[begin : begin + step]
            merged = self.union(a, block)[3]
            gaps[begin : begin + step] = merged - (self.cost[a] + self.cost[block])
        return gaps


def _initial_gaps(clusters):
    """The (m, m) merge costs of the single rows, infinite on the diagonal: the
    scatter of two rows has rank one, so beyond one dimension only its trace counts."""
    weight, mean, alpha, beta = (
        clusters.weight,
        clusters.mean,
        clusters.alpha,
        clusters.beta,
    )
    n_rows, n_dims = mean.shape
    gaps = np.empty((n_rows, n_rows))
    step = max(1, _BLOCK_VALUES // (n_rows * n_dims))
    for begin in range(0, n_rows, step):
        block = slice(begin, begin + step)
        difference = mean[block, np.newaxis, :] - mean
        union = weight[block, np.newaxis] + weight
        trace = weight[block, np.newaxis] * weight / union
        trace *= np.einsum("ijk,ijk->ij", difference, difference)
        cost = np.log(beta * (trace + alpha) / union)
        if n_dims == 1:
            full = union > 1
            with np.errstate(divide="ignore"):
                log_det = np.log(trace[full] / union[full])
            cost[full] = np.logaddexp(log_det, cost[full])
        gaps[block] = union * cost - (clusters.cost[block, np.newaxis] + clusters.cost)
    np.fill_diagonal(gaps, np.inf)
    return gaps


def hc_merges(Z, sample_weight=None, *, alpha=1.0, beta=1.0):
    """The merges of model-based agglomerative clustering of the rows of ``Z``.

    Parameters
    ----------
    Z : ndarray of shape (m, d)
        Rows to cluster, usually from :func:`svd_transform`.
    sample_weight : ndarray of shape (m,) or None
        A row of weight ``w`` starts as a cluster of ``w`` identical rows.
    alpha, beta : float
        mclust's ``hcVVV`` tuning parameters; ``alpha`` is multiplied by the
        scatter of ``Z`` per value, ``tr(W) / (n d)``.

    Returns
    -------
    merges : ndarray of shape (m - 1, 2)
        At stage ``s`` the clusters labelled ``merges[s, 0] < merges[s, 1]`` merge;
        a cluster's label is its first row (0-based), which the union keeps.
    """
    Z = np.asarray(Z, dtype=np.float64)
    n_rows, n_dims = Z.shape
    weight = (
        np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    )
    centred = Z - np.average(Z, axis=0, weights=weight)
    spread = weight @ (centred**2).sum(axis=1) / (weight.sum() * n_dims)
    clusters = _Clusters(Z, weight, max(alpha * spread, np.finfo(float).eps), beta)
    gaps = _initial_gaps(clusters)
    best = gaps.min(axis=1) if n_rows > 1 else np.full(n_rows, np.inf)
    label = np.arange(n_rows)
    slot_of = np.arange(n_rows)
    at_slot = list(range(n_rows))
    live = np.ones(n_rows, dtype=bool)
    merges = np.empty((max(n_rows - 1, 0), 2), dtype=np.intp)
    for stage in range(n_rows - 1):
        keep, gone = _cheapest_pair(gaps, best, slot_of)
        merges[stage] = sorted((label[keep], label[gone]))
        label[keep] = min(label[keep], label[gone])
        weight, mean, scatter, cost = clusters.union(keep, np.array([gone]))
        clusters.weight[keep], clusters.mean[keep] = weight[0], mean[0]
        clusters.scatter[keep], clusters.cost[keep] = scatter[0], cost[0]
        live[gone] = False
        _free_slot(at_slot, slot_of, slot_of[gone])
        others = np.flatnonzero(live)
        others = others[others != keep]
        old_keep, old_gone = gaps[others, keep], gaps[others, gone]
        gaps[gone, :] = gaps[:, gone] = np.inf
        best[gone] = np.inf
        fresh = clusters.gaps(keep, others)
        gaps[keep, others] = gaps[others, keep] = fresh
        best[keep] = fresh.min() if len(others) else np.inf
        # a cluster whose cheapest partner was one of the two looks again
        stale = (old_keep == best[others]) | (old_gone == best[others])
        best[others] = np.minimum(best[others], fresh)
        if stale.any():
            best[others[stale]] = gaps[others[stale]].min(axis=1)
    return merges


def _cheapest_pair(gaps, best, slot_of):
    """The pair of clusters to merge, ``(keep, gone)``, by mclust's slot order."""
    value = best.min()
    rows = np.flatnonzero(best == value)
    first, second = np.nonzero(gaps[rows] == value)
    first = rows[first]
    low = np.minimum(slot_of[first], slot_of[second])
    high = np.maximum(slot_of[first], slot_of[second])
    chosen = np.lexsort((low, high))[-1]
    a, b = first[chosen], second[chosen]
    return (a, b) if slot_of[a] < slot_of[b] else (b, a)


def _free_slot(at_slot, slot_of, slot):
    """Empty ``slot``: the cluster of the last slot moves into it."""
    last = at_slot.pop()
    if slot < len(at_slot):
        at_slot[slot] = last
        slot_of[last] = slot


def cut_tree(merges, n_rows, n_clusters):
    """Labels 0 .. n_clusters - 1 of the rows after the first ``n_rows -
    n_clusters`` merges, numbered in order of each cluster's first row.

    Parameters
    ----------
    merges : ndarray of shape (n_rows - 1, 2)
        From :func:`hc_merges`.
    n_rows, n_clusters : int

    Returns
    -------
    labels : ndarray of shape (n_rows,)
    """
    parent = np.arange(n_rows)
    done = merges[: n_rows - n_clusters]
    parent[done[:, 1]] = done[:, 0]
    while True:
        grandparent = parent[parent]
        if np.array_equal(grandparent, parent):
            break
        parent = grandparent
    # a cluster's label is its first row, so sorted roots are in order of appearance
    return np.unique(parent, return_inverse=True)[1].reshape(n_rows)


class _TreeCache:
    """Merges by digest of the clustered rows, least recently used dropped first."""

    def __init__(self, max_trees):
        self._max_trees = max_trees
        self._trees = OrderedDict()
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._trees.clear()

    def merges(self, X, sample_weight):
        key = digest(X, sample_weight)
        with self._lock:
            merges = self._trees.get(key)
            if merges is not None:
                self._trees.move_to_end(key)
                return merges
        merges = hc_merges(svd_transform(X, sample_weight), sample_weight)
        merges.flags.writeable = False
        with self._lock:
            self._trees[key] = merges
            while len(self._trees) > self._max_trees:
                self._trees.popitem(last=False)
        return merges


_TREES = _TreeCache(_MAX_TREES)


def forget_trees():
    """Forget every remembered tree."""
    _TREES.clear()


def hc_subset_labels(X, sample_weight, n_components, random_state):
    """mclust's hc start: the rows clustered and their labels.

    Above :data:`SUBSET_SIZE` rows (or ``n_components``, if more) the tree is built
    on a subset of that many rows drawn uniformly with ``random_state``; otherwise
    every row is clustered and ``random_state`` is not used.

    Returns
    -------
    rows : ndarray of shape (m,) or None
        The clustered rows, in increasing order; None for every row.
    labels : ndarray of shape (m,)
        Their component, 0 .. n_components - 1.
    """
    n_samples = X.shape[0]
    # weights are relative, as everywhere in a fit: equal weights are no weights
    if sample_weight is not None and np.ptp(sample_weight) == 0:
        sample_weight = None
    size = max(SUBSET_SIZE, n_components)
    rows = None
    if n_samples > size:
        rows = np.sort(random_state.choice(n_samples, size=size, replace=False))
        X = X[rows]
        sample_weight = None if sample_weight is None else sample_weight[rows]
    X = np.asarray(X, dtype=np.float64)
    merges = _TREES.merges(X, sample_weight)
    return rows, cut_tree(merges, X.shape[0], n_components)
