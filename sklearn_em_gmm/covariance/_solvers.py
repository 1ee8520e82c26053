"""Inner iterative solvers of the constrained M-steps, and a hook that records them.

Five of mclust's models have no closed-form M-step. Each solver here maximises the
covariance part of the expected complete-data log-likelihood,

    Q = -1/2 sum_k [n_k log det(Sigma_k) + tr(Sigma_k^-1 W_k)],

over its model's factors by block-coordinate ascent: every update is the exact
maximiser of ``Q`` over one block with the others fixed, so ``Q`` never decreases
(Celeux & Govaert 1995 for the volume/shape blocks; for a common orientation,
Jacobi plane rotations, each the exact minimiser of a majorizer of ``-Q``).

A solver stops when no component's covariance changes by more than
:data:`INNER_TOL` relative to its largest entry, or after :data:`INNER_MAX_ITER`
updates; stopped at the cap (common-orientation models in some 30 dimensions,
where the sweeps converge slowly) the M-step still raises ``Q``, so EM still never
lowers the likelihood. :func:`record_inner_runs` collects each solve's iteration
count and the values of ``Q``; nothing is computed for it when no recording is open.
"""

import contextlib
import functools
import threading
from dataclasses import dataclass

import numpy as np

# A parameter criterion: Q is flat at its optimum, so a relative change of Q of
# 1e-10 would leave the parameters only about 1e-5 from it.
INNER_TOL = 1e-10
INNER_MAX_ITER = 500


@dataclass(frozen=True)
class InnerRun:
    """One solve of an iterative M-step.

    Attributes
    ----------
    label : str
        The model's mclust code.
    n_iter : int
        Updates made (each a full pass over the blocks).
    converged : bool
        Whether the covariances settled within :data:`INNER_TOL` before
        :data:`INNER_MAX_ITER`.
    objective : tuple of float
        ``Q`` per unit weight (``Q / sum(n_k)``, constants left out) at the start
        and after each update: ``n_iter + 1`` values, non-decreasing.
    """

    label: str
    n_iter: int
    converged: bool
    objective: tuple


_recordings = []
_lock = threading.Lock()


@contextlib.contextmanager
def record_inner_runs():
    """Collect an :class:`InnerRun` for every iterative M-step solved inside.

    Solves on any thread are recorded, in the order they end.

    Yields
    ------
    runs : list of InnerRun
    """
    runs = []
    with _lock:
        _recordings.append(runs)
    try:
        yield runs
    finally:
        with _lock:
            _recordings.remove(runs)


def _relative_change(new, old):
    """Largest change of a component's entries over its largest entry."""
    new, old = new.reshape(len(new), -1), old.reshape(len(old), -1)
    scale = np.max(np.abs(old), axis=1)
    change = np.max(np.abs(new - old), axis=1)
    return float(np.max(change / np.where(scale > 0, scale, 1.0)))


def _iterate(label, state, update, covariances, objective):
    """Apply ``update`` to ``state`` until the covariances settle; record the run."""
    with _lock:
        recording = bool(_recordings)
    current = covariances(state)
    values = [objective(state)] if recording else []
    n_iter, converged = 0, False
    while not converged and n_iter < INNER_MAX_ITER:
        n_iter += 1
        state = update(state)
        updated = covariances(state)
        if recording:
            values.append(objective(state))
        converged = _relative_change(updated, current) <= INNER_TOL
        current = updated
    if recording:
        run = InnerRun(label, n_iter, converged, tuple(values))
        with _lock:
            for runs in _recordings:
                runs.append(run)
    return state


def unit_determinant(values):
    """``values`` (..., m) over their geometric mean: a shape of determinant one."""
    with np.errstate(divide="ignore"):
        return values / np.exp(np.mean(np.log(values), axis=-1, keepdims=True))


def common_shape(label, variances, nk, shape):
    """Own volumes, one shape: ``sigma_k = volumes[k] * shape`` (VEI, VEV).

    ``variances[k]`` are component k's regularised scatter along the model's axes
    (VEI: the diagonal; VEV: the eigenvalues, decreasing). Alternates
    ``volume_k = mean(variances[k] / shape) / n_k`` and
    ``shape ~ sum_k variances[k] / volume_k``.

    Parameters
    ----------
    label : str
    variances : ndarray of shape (n_components, n_features)
    nk : ndarray of shape (n_components,)
    shape : ndarray of shape (n_features,) or None
        The start; None starts from the pooled variances.

    Returns
    -------
    volumes : ndarray of shape (n_components,) or None
        Zero for a component without scatter. None when no finite estimate exists
        (a feature without variance in every component).
    shape : ndarray of shape (n_features,)
    """
    if shape is None:
        shape = unit_determinant(variances.sum(axis=0))
    live = variances.sum(axis=1) > 0
    if not np.all(variances[live].sum(axis=0) > 0):
        return None, None

    def volumes_of(shape):
        return np.mean(variances / shape, axis=1) / nk

    def update(state):
        volumes, _ = state
        inverse = np.divide(1.0, volumes, out=np.zeros_like(volumes), where=live)
        shape = unit_determinant(inverse @ variances)
        return volumes_of(shape), shape

    def covariances(state):
        volumes, shape = state
        return volumes[:, np.newaxis] * shape

    def objective(state):
        volumes, shape = state
        v = volumes[live]
        fit = np.sum(variances[live] / shape, axis=1) / v
        return -0.5 * np.sum(nk[live] * len(shape) * np.log(v) + fit) / nk.sum()

    return _iterate(label, (volumes_of(shape), shape), update, covariances, objective)


def common_matrix(label, scatters, nk, shape):
    """Own volumes, one shape and orientation: ``Sigma_k = volumes[k] * C`` (VEE).

    Alternates ``volume_k = tr(C^-1 W_k) / (n_k d)`` and
    ``C ~ sum_k W_k / volume_k`` (with ``det C = 1``).

    Parameters
    ----------
    label : str
    scatters : ndarray of shape (n_components, n_features, n_features)
        Regularised scatter ``W_k`` of each component.
    nk : ndarray of shape (n_components,)
    shape : ndarray of shape (n_features, n_features) or None
        The start ``C``, positive definite; None starts from the pooled scatter.

    Returns
    -------
    volumes : ndarray of shape (n_components,) or None
        Zero for a component without scatter; None when no finite estimate exists
        (the pooled scatter is singular).
    matrix : ndarray of shape (n_features, n_features)
        ``C``, of determinant one.
    """
    n_features = scatters.shape[1]
    live = np.trace(scatters, axis1=1, axis2=2) > 0
    if not _is_positive_definite(scatters[live].sum(axis=0)):
        return None, None

    def unit(matrix):
        _, log_det = np.linalg.slogdet(matrix)
        return matrix / np.exp(log_det / n_features)

    def volumes_of(matrix):
        inverse = np.linalg.inv(matrix)
        return np.einsum("ab,kba->k", inverse, scatters) / (nk * n_features)

    def update(state):
        volumes, _ = state
        inverse = np.divide(1.0, volumes, out=np.zeros_like(volumes), where=live)
        matrix = unit(np.einsum("k,kab->ab", inverse, scatters))
        matrix = (matrix + matrix.T) / 2
        return volumes_of(matrix), matrix

    def covariances(state):
        volumes, matrix = state
        return volumes[:, np.newaxis, np.newaxis] * matrix

    def objective(state):
        volumes, matrix = state
        v = volumes[live]
        fit = np.einsum("ab,kba->k", np.linalg.inv(matrix), scatters[live]) / v
        return -0.5 * np.sum(nk[live] * n_features * np.log(v) + fit) / nk.sum()

    start = unit(scatters.sum(axis=0) if shape is None else shape)
    return _iterate(label, (volumes_of(start), start), update, covariances, objective)


def common_orientation(label, scatters, nk, orientation, equal_volume):
    """One orientation, own shapes: ``Sigma_k = D diag(sigma_k) D.T`` (VVE, EVE).

    Given ``D``, the variances along its axes are closed: ``diag(D.T W_k D) / n_k``
    (VVE) or their shape with one volume (EVE). Each update is a sweep of Jacobi
    rotations of pairs of axes, the disjoint pairs of a round at once, each the
    exact minimiser of ``sum_j d_j.T (sum_k W_k / sigma_kj) d_j`` in its plane (the
    majorizer of ``-2Q`` at fixed variances); the variances are refitted after
    every round. Costs O(k d^3) a sweep.

    Parameters
    ----------
    label : str
    scatters : ndarray of shape (n_components, n_features, n_features)
        Regularised scatter ``W_k``, each positive definite.
    nk : ndarray of shape (n_components,)
    orientation : ndarray of shape (n_features, n_features) or None
        The start ``D``, orthogonal; None starts from the eigenvectors of the pooled
        scatter.
    equal_volume : bool
        One volume for all components (EVE), or one each (VVE).

    Returns
    -------
    orientation : ndarray of shape (n_features, n_features) or None
        None when a scatter is not positive definite: no finite estimate need
        exist.
    variances : ndarray of shape (n_components, n_features)
        ``sigma_k``, the variances along the columns of ``D``.
    """
    if not all(_is_positive_definite(w) for w in scatters):
        return None, None
    total = nk.sum()

    def fitted(projected):
        spreads = np.diagonal(projected, axis1=1, axis2=2)
        if not equal_volume:
            return spreads / nk[:, np.newaxis]
        volumes = np.exp(np.mean(np.log(spreads), axis=1))
        return np.sum(volumes) / total * (spreads / volumes[:, np.newaxis])

    def update(state):
        orientation, _ = state
        orientation = orientation.copy()
        projected = _project(scatters, orientation)
        variances = fitted(projected)
        for first, second in _rounds(len(orientation)):
            _rotate(projected, orientation, first, second, variances)
            variances = fitted(projected)
        return orientation, variances

    def covariances(state):
        return from_axes(*state)

    def objective(state):
        orientation, variances = state
        spreads = np.diagonal(_project(scatters, orientation), axis1=1, axis2=2)
        log_det = np.sum(np.log(variances), axis=1)
        return -0.5 * np.sum(nk * log_det + np.sum(spreads / variances, 1)) / total

    if orientation is None:
        orientation = np.linalg.eigh(scatters.sum(axis=0))[1][:, ::-1]
    start = (orientation, fitted(_project(scatters, orientation)))
    return _iterate(label, start, update, covariances, objective)


def _rotate(projected, orientation, first, second, variances):
    """Rotate each plane (first[i], second[i]) of ``orientation`` and ``projected``
    (``D.T W_k D``, in place) by the angle that minimises the majorizer."""
    a = projected[:, first, first]
    b = projected[:, second, second]
    off = projected[:, first, second]
    # along angle phi = 2 theta the majorizer is const + U cos(phi) + V sin(phi)
    weights = 1.0 / variances[:, first] - 1.0 / variances[:, second]
    u = np.sum(weights * (a - b), axis=0) / 2
    v = np.sum(weights * off, axis=0)
    theta = np.arctan2(-v + 0.0, -u + 0.0) / 2  # + 0.0: no angle from -0.0
    cos, sin = np.cos(theta), np.sin(theta)
    for matrix, axis in ((projected, 1), (projected, 2), (orientation, 1)):
        x = np.take(matrix, first, axis=axis)
        y = np.take(matrix, second, axis=axis)
        shape = [1] * matrix.ndim
        shape[axis] = len(first)
        c, s = cos.reshape(shape), sin.reshape(shape)
        index = [slice(None)] * matrix.ndim
        index[axis] = first
        matrix[tuple(index)] = c * x + s * y
        index[axis] = second
        matrix[tuple(index)] = c * y - s * x


@functools.cache
def _rounds(n_features):
    """All pairs of axes in rounds of disjoint pairs (the circle method)."""
    players = list(range(n_features + n_features % 2))
    rounds = []
    for _ in range(len(players) - 1):
        half = len(players) // 2
        pairs = [
            sorted((players[i], players[-1 - i]))
            for i in range(half)
            if max(players[i], players[-1 - i]) < n_features
        ]
        if pairs:
            rounds.append(tuple(np.array(side) for side in zip(*pairs, strict=True)))
        players = [players[0], players[-1]] + players[1:-1]
    return tuple(rounds)


def _project(scatters, orientation):
    """``D.T W_k D`` for each component."""
    return orientation.T @ scatters @ orientation


def from_axes(orientation, variances):
    """``D diag(sigma_k) D.T`` for each component (k, d, d), exactly symmetric;
    ``orientation`` is one (d, d) or one per component (k, d, d)."""
    axes = np.broadcast_to(orientation, (len(variances),) + orientation.shape[-2:])
    matrices = np.einsum("kaj,kj,kbj->kab", axes, variances, axes)
    return (matrices + np.swapaxes(matrices, 1, 2)) / 2


def _is_positive_definite(matrix):
    if not np.all(np.isfinite(matrix)):
        return False
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True
