"""EM on a dask array read from zarr, on 1 and 2 workers (issue 18).

Writes ``--rows`` x 10 float32 rows from 8 Gaussians (random full covariances,
seed 0) to a zarr store in 10^6-row chunks (once; ``--store``), then on a
``LocalCluster`` of 1 and of 2 worker processes with one thread each fits
``GaussianMixture(8, covariance_type="full")`` with ``max_iter`` of 1 and of 3
(``tol=0``), both from the same starting parameters (a 2-iteration in-memory fit
of the first 10^6 rows): the difference over 2 is the time of one EM iteration.
Reports seconds per iteration, rows per second per worker, the largest resident
memory of a worker, and the speed-up from 1 to 2 workers. Then a converged fit of
every row on 2 workers, started from an in-memory fit of the first 10^6 rows, is
compared with that fit: both models' mean log-likelihood on those rows and on the
last 10^6. The in-memory EM's rows per second on one core, on the same 10^6 rows
from the same start, is the reference for the per-worker rate (an iteration's
cost depends on the parameters, through the kernel they select).

Needs the extra ``dask`` and zarr. Run from the repository root (about 10 minutes
at 10^8 rows on 2 cores, and 4 GB of disk)::

    python benchmarks/bench_dask.py --rows 100000000 --store /tmp/gmm.zarr
"""

import argparse
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

N_FEATURES, N_COMPONENTS, CHUNK = 10, 8, 1_000_000


def mixture():
    """The 8 Gaussians' centres and covariance factors (seed 0)."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(-8, 8, (N_COMPONENTS, N_FEATURES))
    factors = rng.normal(0, 0.5, (N_COMPONENTS, N_FEATURES, N_FEATURES))
    return centres, factors


def chunk_rows(index, centres, factors):
    """The ``index``-th chunk of 10^6 float32 rows, drawn with seed ``index``."""
    rng = np.random.default_rng(index)
    labels = rng.integers(0, N_COMPONENTS, CHUNK)
    noise = rng.standard_normal((CHUNK, N_FEATURES))
    rows = centres[labels] + np.einsum("nj,nij->ni", noise, factors[labels])
    return rows.astype(np.float32)


def write_store(path, n_rows):
    """The data, written to zarr in 10^6-row chunks."""
    centres, factors = mixture()
    X = da.map_blocks(
        lambda block_id=None: chunk_rows(block_id[0], centres, factors),
        dtype=np.float32,
        chunks=((CHUNK,) * (n_rows // CHUNK), (N_FEATURES,)),
    )
    X.to_zarr(str(path), overwrite=True)


def _peak_memory():
    """The worker's peak resident memory in bytes: VmHWM, whose count starts at the
    worker's own program (``ru_maxrss`` keeps the forking parent's size across
    exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _fit_seconds(X, max_iter, **params):
    model = GaussianMixture(
        N_COMPONENTS,
        covariance_type="full",
        random_state=0,
        max_iter=max_iter,
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start, model


def _starting_parameters(model):
    return dict(
        weights_init=model.weights_,
        means_init=model.means_,
        precisions_init=model.precisions_,
    )


def per_iteration(store, n_workers, start):
    """Seconds per EM iteration from ``start`` and the largest worker memory, on
    ``n_workers``."""
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit="8GB",
        ) as cluster,
        Client(cluster) as client,
    ):
        X = da.from_zarr(str(store))
        one, _ = _fit_seconds(X, 1, tol=0.0, **start)
        three, _ = _fit_seconds(X, 3, tol=0.0, **start)
        memory = max(client.run(_peak_memory).values())
    return (three - one) / 2, memory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--store", type=Path, default=Path("/tmp/gmm.zarr"))
    options = parser.parse_args(argv)
    if not (options.store / "zarr.json").exists():
        start = time.perf_counter()
        write_store(options.store, options.rows)
        print(f"wrote {options.store} in {time.perf_counter() - start:.0f} s")
    X = da.from_zarr(str(options.store))
    n_rows = X.shape[0]
    sample = np.asarray(X[:CHUNK])
    given = _starting_parameters(_fit_seconds(sample, 2)[1])
    with threadpool_limits(1):
        short, _ = _fit_seconds(sample, 1, tol=0.0, **given)
        long, _ = _fit_seconds(sample, 3, tol=0.0, **given)
    in_memory_rate = 2 * CHUNK / (long - short)
    print("| workers | s/iteration | rows/s per worker | peak worker memory |")
    print("|---:|---:|---:|---:|")
    seconds = {}
    for n_workers in (1, 2):
        seconds[n_workers], memory = per_iteration(options.store, n_workers, given)
        rate = n_rows / seconds[n_workers] / n_workers
        print(
            f"| {n_workers} | {seconds[n_workers]:.2f} | {rate / 1e6:.2f} M | "
            f"{memory / 2**30:.2f} GiB |",
            flush=True,
        )
    print(f"speed-up 1 -> 2 workers: {seconds[1] / seconds[2]:.2f}x")
    print(f"in-memory EM, one core, {CHUNK} rows: {in_memory_rate / 1e6:.2f} M rows/s")
    _, in_memory = _fit_seconds(sample, 100)
    start = _starting_parameters(in_memory)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        fit_seconds, lazy = _fit_seconds(X, 100, **start)
    held_out = np.asarray(X[-CHUNK:])
    print(
        "converged fit of all rows on 2 workers from the in-memory fit of the "
        f"first {CHUNK}: {lazy.n_iter_} iterations, {fit_seconds:.0f} s; mean "
        f"log-likelihood on those rows {lazy.score(sample):.5f} (in-memory "
        f"{in_memory.score(sample):.5f}), on the last {CHUNK} rows "
        f"{lazy.score(held_out):.5f} (in-memory {in_memory.score(held_out):.5f})"
    )


if __name__ == "__main__":
    main()
