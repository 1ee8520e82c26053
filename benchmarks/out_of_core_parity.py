"""Out-of-core fits against the in-memory fit from the same start (issue 18).

For every registered covariance model, without and with integer sample weights
(zeros included), fits 4,000 rows of 4 blobs in memory, as a dask array (uneven
700-row chunks, on a LocalCluster of 2 worker processes x 1 thread) and as an
``np.memmap`` fitted out of core (``init_sample_size=500``; the chunk size set to
700 rows, so that sums over chunks are compared too), all from the same
starting parameters (a 2-iteration in-memory fit), ``tol=1e-6``. Prints the
largest relative difference from the in-memory fit over ``weights_``, ``means_``,
``covariances_``, ``precisions_cholesky_`` and ``lower_bounds_``, and whether
``n_iter_`` is equal. Needs the extra ``dask``. Run from the repository root::

    python benchmarks/out_of_core_parity.py
"""

import tempfile
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import canonical_models
from sklearn_em_gmm.engine import _mapped

ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def _largest_difference(fit, reference):
    worst = 0.0
    for name in ATTRIBUTES + ("lower_bounds_",):
        actual = np.asarray(getattr(fit, name))
        desired = np.asarray(getattr(reference, name))
        scale = np.maximum(np.abs(desired), np.finfo(float).tiny)
        worst = max(worst, float(np.max(np.abs(actual - desired) / scale)))
    return worst


def main():
    X, _ = make_blobs(4000, 3, centers=4, cluster_std=1.8, random_state=0)
    weights = np.random.RandomState(0).randint(0, 4, len(X)).astype(float)
    path = Path(tempfile.mkdtemp()) / "X.npy"
    np.save(path, X)
    X_map = np.load(path, mmap_mode="r")
    _mapped.CHUNK_BYTES = 700 * X.shape[1] * X.itemsize  # 700-row chunks
    X_lazy = da.from_array(X, chunks=(700, 3))
    w_lazy = da.from_array(weights, chunks=(700,))
    print("| model | weights | dask: rel. diff | n_iter equal | memmap: rel. diff "
          "| n_iter equal | n_iter |")  # fmt: skip
    print("|---|---|---:|---|---:|---|---:|")
    warnings.simplefilter("ignore", ConvergenceWarning)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        for model in canonical_models():
            for weighted in (False, True):
                w = weights if weighted else None
                start = GaussianMixture(
                    4, covariance_type=model.name, max_iter=2, random_state=0
                ).fit(X, sample_weight=w)
                params = dict(
                    n_components=4,
                    covariance_type=model.name,
                    tol=1e-6,
                    weights_init=start.weights_,
                    means_init=start.means_,
                    precisions_init=start.precisions_,
                    init_sample_size=500,
                )
                in_memory = GaussianMixture(**params).fit(X, sample_weight=w)
                lazy = GaussianMixture(**params).fit(
                    X_lazy, sample_weight=w_lazy if weighted else None
                )
                mapped = GaussianMixture(**params).fit(X_map, sample_weight=w)
                print(
                    f"| {model.name} | {'yes' if weighted else 'no'} | "
                    f"{_largest_difference(lazy, in_memory):.1e} | "
                    f"{lazy.n_iter_ == in_memory.n_iter_} | "
                    f"{_largest_difference(mapped, in_memory):.1e} | "
                    f"{mapped.n_iter_ == in_memory.n_iter_} | {in_memory.n_iter_} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
