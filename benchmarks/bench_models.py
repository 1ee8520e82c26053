"""EM time per iteration of every registered covariance model, beside VVV's (issue 16).

Each model fits the same data (n = 10^5, d = 8, k = 8, float64: a mixture of 8
Gaussians with random full covariances, seed 0) from the same k-means start
(``init_params="kmeans"``, ``random_state=0``: the start is the same partition for
every model) with ``tol=0``, once with ``--max-iter`` (default 12) and once with
``--short-iter`` (default 2) EM iterations; the difference of the best times of
``--repeats`` (default 3) fits of each, over the difference of the iteration counts,
is the time of one iteration, the start and the final labelling excluded. For
sklearn's four models scikit-learn's ``GaussianMixture`` is timed the same way in the
same run. One untimed fit per model records its inner M-step solves
(``record_inner_runs``): their iteration counts per M-step (median and largest) and
how many stopped at the cap. Everything runs twice: on one BLAS thread and with the
default threads.

Run from the repository root::

    python benchmarks/bench_models.py
    python benchmarks/bench_models.py --markdown models.md
"""

import argparse
import gc
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.covariance import (
    INNER_MAX_ITER,
    canonical_models,
    record_inner_runs,
)

from _machine import load_average, machine_info
from _report import info_lines, markdown_table, text_table

N_SAMPLES, N_FEATURES, N_COMPONENTS = 100_000, 8, 8
DATA_SEED = 0
SKLEARN_TYPES = ("full", "tied", "diag", "spherical")
MCLUST_CODE = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}
HEADERS = [
    "model",
    "ms/it",
    "/ VVV",
    "inner it/M-step median",
    "max",
    "solves (at cap)",
    "sklearn ms/it",
    "sklearn/ours",
]


def make_data(n_samples=N_SAMPLES, n_features=N_FEATURES, k=N_COMPONENTS):
    """A mixture of ``k`` Gaussians with random full covariances, in float64.

    Centres uniform in ``[-4, 4]**d`` (nearest pairs overlap, most are a few standard
    deviations apart), covariances ``Q diag(s**2) Q.T`` with ``Q`` a random rotation
    and ``s`` uniform in ``[0.5, 2]``, Dirichlet(5) weights; seed ``DATA_SEED``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    """
    rng = np.random.default_rng(DATA_SEED)
    centres = rng.uniform(-4.0, 4.0, size=(k, n_features))
    weights = rng.dirichlet(np.full(k, 5.0))
    counts = rng.multinomial(n_samples, weights)
    blocks = []
    for centre, count in zip(centres, counts, strict=True):
        rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        scales = rng.uniform(0.5, 2.0, size=n_features)
        z = rng.standard_normal((count, n_features))
        blocks.append(centre + (z * scales) @ rotation.T)
    X = np.concatenate(blocks)
    return X[rng.permutation(n_samples)]


def estimator(implementation, model, max_iter):
    """An unfitted estimator running exactly ``max_iter`` iterations from k-means."""
    cls = GaussianMixture if implementation == "ours" else SklearnGaussianMixture
    return cls(
        n_components=N_COMPONENTS,
        covariance_type=model,
        init_params="kmeans",
        random_state=0,
        tol=0.0,
        max_iter=max_iter,
    )


def timed_fit(implementation, model, max_iter, X):
    """Seconds of one fit (garbage collected first); checks ``n_iter_``."""
    gm = estimator(implementation, model, max_iter)
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        gm.fit(X)
        seconds = time.perf_counter() - start
    if gm.n_iter_ != max_iter:
        raise RuntimeError(f"{implementation} {model}: n_iter_ {gm.n_iter_}")
    return seconds


def seconds_per_iteration(implementation, model, X, args):
    """(best long fit - best short fit) / iteration difference; fits interleaved."""
    long_times, short_times = [], []
    for _ in range(args.repeats):
        short_times.append(timed_fit(implementation, model, args.short_iter, X))
        long_times.append(timed_fit(implementation, model, args.max_iter, X))
    return (min(long_times) - min(short_times)) / (args.max_iter - args.short_iter)


def inner_runs(model, X, max_iter):
    """Inner solves of one untimed fit of ``model``: a list of InnerRun."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with record_inner_runs() as runs:
            estimator("ours", model, max_iter).fit(X)
    return list(runs)


def measure(X, args):
    """Rows of the table under the current thread limits."""
    results = {}
    for model in args.models:
        _progress(f"  {model}")
        runs = inner_runs(model, X, args.max_iter)  # also warms up
        ours = seconds_per_iteration("ours", model, X, args)
        theirs = None
        if model in SKLEARN_TYPES:
            timed_fit("sklearn", model, args.short_iter, X)  # warm-up
            theirs = seconds_per_iteration("sklearn", model, X, args)
        results[model] = (ours, theirs, runs)
        _progress(f"    ours {1e3 * ours:.3g} ms/it, {len(runs)} inner solves")
    vvv = results["full"][0] if "full" in results else float("nan")
    return [row(model, *results[model], vvv) for model in args.models]


def row(model, ours, theirs, runs, vvv):
    """One line of the table."""
    name = f"{model} ({MCLUST_CODE[model]})" if model in MCLUST_CODE else model
    iterations = [run.n_iter for run in runs]
    capped = sum(not run.converged for run in runs)
    return [
        name,
        f"{1e3 * ours:.2f}",
        f"{ours / vvv:.2f}",
        f"{statistics.median(iterations):g}" if runs else "-",
        str(max(iterations)) if runs else "-",
        f"{len(runs)} ({capped})" if runs else "-",
        f"{1e3 * theirs:.2f}" if theirs is not None else "-",
        f"{theirs / ours:.2f}" if theirs is not None else "-",
    ]


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-iter", type=int, default=12, help="long fit (12)")
    parser.add_argument("--short-iter", type=int, default=2, help="short fit (2)")
    parser.add_argument("--repeats", type=int, default=3, help="fits of each (3)")
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        help="only this model (repeatable; default: every registered model)",
    )
    parser.add_argument("--markdown", metavar="FILE", help="also write Markdown")
    args = parser.parse_args(argv)
    if args.models is None:
        args.models = [model.name for model in canonical_models()]
    return args


def main(argv=None):
    args = parse_arguments(argv)
    if load_average() > 0.5:
        _progress(f"WARNING: load average {load_average():.1f}: timings unreliable")
    X = make_data()
    tables = []
    for threads, title in [(1, "one BLAS thread"), (None, "default threads")]:
        _progress(title)
        with threadpool_limits(limits=threads):
            info = machine_info()
            tables.append((title, info, measure(X, args)))
    notes = (
        f"n={N_SAMPLES} d={N_FEATURES} k={N_COMPONENTS} float64; ms/it = (best of "
        f"{args.repeats} fits of {args.max_iter} it - best of {args.repeats} of "
        f"{args.short_iter}) / {args.max_iter - args.short_iter}; inner solves of "
        f"one fit of {args.max_iter} it, cap {INNER_MAX_ITER}"
    )
    print(notes)
    for title, _, rows in tables:
        print(f"\n{title}:")
        print(text_table(HEADERS, rows))
    if args.markdown:
        parts = ["# EM time per iteration of each covariance model\n"]
        parts += info_lines(tables[0][1]) + [f"- {notes}\n"]
        for title, info, rows in tables:
            blas = dict(info)["BLAS/OpenMP"]
            parts += [f"## {title}\n", f"BLAS/OpenMP: {blas}\n"]
            parts.append(markdown_table(HEADERS, rows))
        with open(args.markdown, "w") as file:
            file.write("\n".join(parts))
        _progress(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
