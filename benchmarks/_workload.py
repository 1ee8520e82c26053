"""What the EM benchmark fits: data, a shared start, and the work of one EM iteration.

Everything here is deterministic (fixed seeds), so the parent process and the fresh
child processes that measure peak memory build exactly the same arrays.
"""

import math
from dataclasses import dataclass

import numpy as np

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
DATA_SEED = 0
START_SEED = 1
# Of the same-start fits. With sklearn's default 1e-6, both implementations fail in
# float32 at n=1e4, k=64, full: components shrink to a few rows, fewer than d + 1.
REG_COVAR = 1e-4
# rows generated at a time, so building X peaks at X plus one small chunk
_CHUNK_ROWS = 1 << 16


@dataclass(frozen=True)
class Config:
    """One benchmark configuration.

    Parameters
    ----------
    n_samples, n_features, n_components : int
        Shape of the data and number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}
    dtype : {"float64", "float32"}
        dtype of X and of the initial parameters.
    """

    n_samples: int
    n_features: int
    n_components: int
    covariance_type: str
    dtype: str

    @property
    def n_label(self):
        """``n_samples`` as ``1e5`` where it is a power of ten."""
        exponent = round(math.log10(self.n_samples))
        return (
            f"1e{exponent}" if 10**exponent == self.n_samples else str(self.n_samples)
        )

    @property
    def label(self):
        """Name, also what ``--filter`` matches: ``n=1e5 d=8 k=3 full float64``."""
        return (
            f"n={self.n_label} d={self.n_features} k={self.n_components} "
            f"{self.covariance_type} {self.dtype}"
        )


def make_data(n_samples, n_features, n_components, dtype, seed=DATA_SEED):
    """Samples of a random mixture of well-separated axis-aligned Gaussian blobs.

    Centres are uniform in ``[-10, 10]**d``, per-axis standard deviations uniform in
    ``[0.5, 2]``, and mixing weights drawn from a Dirichlet(5) distribution. The
    rows are drawn in float64 and rounded to ``dtype``, so float32 data are the
    float64 data rounded.

    Parameters
    ----------
    n_samples, n_features, n_components : int
    dtype : str or numpy dtype
    seed : int, default=DATA_SEED

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(n_components, n_features))
    scales = rng.uniform(0.5, 2.0, size=(n_components, n_features))
    weights = rng.dirichlet(np.full(n_components, 5.0))
    X = np.empty((n_samples, n_features), dtype=dtype)
    for start in range(0, n_samples, _CHUNK_ROWS):
        rows = min(_CHUNK_ROWS, n_samples - start)
        labels = rng.choice(n_components, size=rows, p=weights)
        noise = rng.standard_normal((rows, n_features))
        X[start : start + rows] = centres[labels] + scales[labels] * noise
    return X


def starting_parameters(X, n_components, covariance_type, seed=START_SEED):
    """A k-means-free start: random rows as means, uniform weights, 1 / variances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_components : int
    covariance_type : {"full", "tied", "diag", "spherical"}
    seed : int, default=START_SEED

    Returns
    -------
    params : dict
        ``weights_init``, ``means_init`` and ``precisions_init`` in X's dtype, shaped
        for ``covariance_type``: the precisions are the inverse per-feature variances
        of X (their mean for spherical), tiled over components where the model has
        one matrix per component.
    """
    rng = np.random.default_rng(seed)
    rows = rng.choice(X.shape[0], size=n_components, replace=False)
    inverse_variances = 1.0 / X.var(axis=0, dtype=np.float64)
    precisions = {
        "full": np.tile(np.diag(inverse_variances), (n_components, 1, 1)),
        "tied": np.diag(inverse_variances),
        "diag": np.tile(inverse_variances, (n_components, 1)),
        "spherical": np.full(n_components, inverse_variances.mean()),
    }[covariance_type]
    return {
        "weights_init": np.full(n_components, 1.0 / n_components, dtype=X.dtype),
        "means_init": X[np.sort(rows)].copy(),
        "precisions_init": precisions.astype(X.dtype),
    }


def iteration_flops(n, d, k, covariance_type):
    """Floating-point operations one EM iteration cannot avoid (E-step + M-step).

    Symmetry is exploited, as in the best kernels: a quadratic form or a symmetric
    scatter in ``d`` dimensions costs ``d (d + 1) / 2`` multiply-adds, not ``d**2``.
    Per row and component, with ``2`` flops per multiply-add:

    - full: E ``d (d + 1) + 2 d`` (quadratic form, linear term), M the same
      (symmetric second moments, first moments);
    - tied: the quadratic parts are shared by all components, so per row
      ``d (d + 1)`` in E and in M, plus ``2 d`` per component in each;
    - diag: E ``4 d`` (``x**2 @ p`` and ``x @ (mu p)``), M ``4 d``
      (``resp.T @ x`` and ``resp.T @ x**2``);
    - spherical: E ``2 d`` (``x @ mu``), M ``2 d``, plus ``2 d`` per row for
      ``|x|**2``.

    The exponentials and logarithms of the ``n k`` responsibilities are not counted.

    Returns
    -------
    flops : float
    """
    per_row = {
        "full": 2 * k * (d * (d + 1) + 2 * d),
        "tied": 2 * d * (d + 1) + 4 * k * d,
        "diag": 8 * k * d,
        "spherical": 4 * k * d + 2 * d,
    }[covariance_type]
    return float(n) * per_row


def iteration_bytes(n, d, itemsize):
    """Bytes one EM iteration must move from memory: X read once.

    A blocked one-pass iteration computes a block's responsibilities and uses them
    for the M-step statistics while they are in cache, so neither a second read of
    X nor the ``n x k`` responsibilities need to reach memory. (A two-pass
    implementation moves ``(2 n d + 2 n k) * itemsize`` bytes.)

    Returns
    -------
    n_bytes : float
    """
    return float(n) * d * itemsize
