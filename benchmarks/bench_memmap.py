"""EM on an ``np.memmap`` of 10^8 rows, out of core (issue 18).

Writes ``--rows`` x 10 float32 rows, the same 8 Gaussians as ``bench_dask.py``
(10^6-row chunks, seeded by chunk), to an ``.npy`` file (once; ``--path``), and
fits ``GaussianMixture(8, covariance_type="full", tol=0)`` on
``np.load(path, mmap_mode="r")`` in a fresh process per fit, with one BLAS thread and
with the default threads:

- seconds per EM iteration: fits with ``max_iter`` of 1 and of 3 from the same
  starting parameters (a 2-iteration fit of the first 10^6 rows), the difference
  over 2; the reference is the in-memory EM from the same start on the first 10^6
  and 10^7 rows (arrays of 40 and 400 MB), best of 3;
- memory: the process's largest resident memory (VmHWM, reset after imports and a
  warm-up fit) during a whole fit with its own start (k-means on a 100,000-row
  sample, ``random_state=0``, 3 iterations), above the resident memory before it,
  and the mapped file's resident share at the end.

Run from the repository root (about 10 minutes at 10^8 rows on 2 cores, 4 GB of
disk)::

    python benchmarks/bench_memmap.py --rows 100000000 --path /tmp/gmm.npy
"""

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from bench_dask import CHUNK, N_COMPONENTS, N_FEATURES, chunk_rows, mixture
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture


def write_rows(path, n_rows):
    """The data, written chunk by chunk to an ``.npy`` file."""
    centres, factors = mixture()
    X = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_rows, N_FEATURES)
    )
    for index in range(n_rows // CHUNK):
        X[index * CHUNK : (index + 1) * CHUNK] = chunk_rows(index, centres, factors)
    X.flush()


def _status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _mapped_kib(path):
    """Resident KiB of this process's maps of ``path``."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and "-" in fields[0] and not fields[0].endswith(":"):
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def _given_start(path):
    """Starting parameters: a 2-iteration fit of the first 10^6 rows."""
    sample = np.array(np.load(path, mmap_mode="r")[:CHUNK])
    start = _fit(sample, 2)[1]
    return dict(
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
    )


def _fit(X, max_iter, **params):
    model = GaussianMixture(
        N_COMPONENTS,
        covariance_type="full",
        random_state=0,
        max_iter=max_iter,
        tol=0,
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - start, model


def child(path, threads, max_iter, given):
    """One fit of the map in this process: its seconds and memory, as JSON."""
    with threadpool_limits(threads):
        params = _given_start(path) if given else {}
        X = np.load(path, mmap_mode="r")
        _fit(np.array(X[:20_000]), 2)  # warm-up: imports, BLAS buffers
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        before = _status_kib("VmRSS")
        seconds = _fit(X, max_iter, **params)[0]
        peak = _status_kib("VmHWM")
        mapped = _mapped_kib(Path(path).resolve())
    print(json.dumps(dict(seconds=seconds, before=before, peak=peak, mapped=mapped)))


def _measure(path, threads, max_iter, given):
    command = [sys.executable, __file__, "--child", str(path), str(threads)]
    command += [str(max_iter), str(int(given))]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--path", type=Path, default=Path("/tmp/gmm.npy"))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        path, threads, max_iter, given = options.child
        threads = None if threads == "None" else int(threads)
        child(path, threads, int(max_iter), given == "1")
        return
    if not options.path.exists():
        start = time.perf_counter()
        write_rows(options.path, options.rows)
        print(f"wrote {options.path} in {time.perf_counter() - start:.0f} s")
    X = np.load(options.path, mmap_mode="r")
    n_rows = X.shape[0]
    given = _given_start(options.path)
    print(f"{n_rows} x {X.shape[1]} float32, {X.nbytes / 2**30:.2f} GiB on disk")
    print(
        "| BLAS threads | s/iteration | rows/s | in memory: rows/s at 10^6, 10^7 "
        "rows | whole fit: s | peak RSS above start | peak RSS | file resident "
        "at end |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for threads in (1, None):
        rates = []
        for n_in_memory in (CHUNK, 10 * CHUNK):
            rows = np.array(X[:n_in_memory])
            with threadpool_limits(threads):
                short = min(_fit(rows, 1, **given)[0] for _ in range(3))
                long = min(_fit(rows, 3, **given)[0] for _ in range(3))
            rates.append(f"{2 * n_in_memory / (long - short) / 1e6:.2f} M")
        one = _measure(options.path, threads, 1, given=True)
        three = _measure(options.path, threads, 3, given=True)
        seconds = (three["seconds"] - one["seconds"]) / 2
        whole = _measure(options.path, threads, 3, given=False)
        print(
            f"| {threads or 'default'} | {seconds:.2f} | "
            f"{n_rows / seconds / 1e6:.2f} M | {', '.join(rates)} | "
            f"{whole['seconds']:.1f} | "
            f"{(whole['peak'] - whole['before']) / 2**10:.0f} MiB | "
            f"{whole['peak'] / 2**10:.0f} MiB | {whole['mapped'] / 2**10:.1f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
