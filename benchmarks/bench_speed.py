"""Speed where users feel it: small fits, BIC tables, default fits, peak memory.

Four parts, chosen with ``--part`` (default: all):

- ``threads``: do the default BLAS/OpenMP threads ever slow a small default fit of
  ours down? Each cell of a grid of small problems is fitted with the default
  threads and inside ``threadpool_limits(limits=1)``.
- ``tables``: the whole BIC table of classic data sets (k = 1..9, every covariance
  type, default settings), ours against scikit-learn's, and the fixed cost per fit
  and per EM iteration on iris.
- ``end-to-end``: one default fit (k-means start included) at n = 1e5 and 1e6,
  ours against scikit-learn's, with one thread and with the default threads.
- ``memory``: extra peak memory of one default fit at n = 2e6, split into the
  k-means start, our EM alone, our whole fit and scikit-learn's whole fit.

The timed parts run on the machine as it is (``idle``) and while a process this
script starts keeps one core busy (``busy``), chosen with ``--load`` (default: both;
``end-to-end`` runs idle only unless ``--load`` is given). The variants compared
take turns within each round, so all see the same load, and each reports its
minimum over the rounds. Memory does not depend on the load; it is measured once.

Run from the repository root::

    python benchmarks/bench_speed.py --quick
    python benchmarks/bench_speed.py --markdown benchmarks/RESULTS-speed.md
"""

import argparse
import contextlib
import gc
import math
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture
from sklearn_em_gmm.init import forget_starts

from _machine import load_average, machine_info
from _peak_memory import extra_peak_memory
from _report import (
    ITEMSIZE,
    geometric_mean,
    info_lines,
    markdown_table,
    text_table,
)
from _workload import COVARIANCE_TYPES, Config, make_data

PARTS = ("threads", "tables", "end-to-end", "memory")
LOADS = ("idle", "busy")
IMPLEMENTATIONS = {"ours": GaussianMixture, "sklearn": SklearnGaussianMixture}
# threadpool_limits' value for each thread setting; None leaves the default
THREAD_SETTINGS = {"1 thread": 1, "default threads": None}
# a busy core: a Python process spinning on core 0 only
_SPINNER = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass"
SPINNER_START_SECONDS = 0.3
# ratios of default to one-thread time above this count as threads hurting
HURT_RATIO = 1.1
FAITHFUL = Path(__file__).resolve().parent / "data" / "faithful.csv"
# iris fits of the fixed-cost table: EM iterations of the short and the long fit
SHORT_ITER, LONG_ITER = 1, 21


@dataclass(frozen=True)
class Scale:
    """How much each part runs: the full benchmark, or its ``--quick`` version.

    Attributes
    ----------
    thread_grid, end_to_end_grid : tuple
        The n values, d values and k values of the part.
    larger_thread_grid : tuple
        The same for the threads part's calls beyond the issue's grid, which may
        use threads.
    thread_block_seconds, overhead_block_seconds : float
        How long a timed block of repeated fits lasts at least.
    data_sets : tuple of str
        Names of the BIC-table data sets.
    max_components : int
        BIC tables fit k = 1..max_components.
    warm_up_rows : int
        Rows of the untimed end-to-end warm-up fits.
    memory_rows : int
        n of the memory part.
    """

    thread_grid: tuple
    larger_thread_grid: tuple
    thread_block_seconds: float
    data_sets: tuple
    max_components: int
    overhead_block_seconds: float
    end_to_end_grid: tuple
    warm_up_rows: int
    memory_rows: int


FULL = Scale(
    thread_grid=((150, 1000, 10_000), (2, 4, 20, 64), (1, 3, 10)),
    larger_thread_grid=((40_000, 100_000), (2, 8), (3,)),
    thread_block_seconds=0.05,
    data_sets=("iris", "wine", "faithful", "diabetes", "digits", "digits-PCA20"),
    max_components=9,
    overhead_block_seconds=0.2,
    end_to_end_grid=((100_000, 1_000_000), (2, 8), (3, 16)),
    warm_up_rows=50_000,
    memory_rows=2_000_000,
)
QUICK = Scale(
    thread_grid=((150, 1000), (2, 20), (1, 3)),
    larger_thread_grid=((40_000,), (2,), (3,)),
    thread_block_seconds=0.01,
    data_sets=("iris", "faithful"),
    max_components=3,
    overhead_block_seconds=0.02,
    end_to_end_grid=((10_000, 50_000), (2,), (3,)),
    warm_up_rows=5_000,
    memory_rows=200_000,
)


# ---------------------------------------------------------------- timing


@contextlib.contextmanager
def machine_load(load):
    """The machine as it is (``"idle"``), or with one core kept busy (``"busy"``).

    ``"busy"`` starts a process spinning on core 0 and stops it on exit.
    """
    if load == "idle":
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", _SPINNER])
    try:
        time.sleep(SPINNER_START_SECONDS)  # let it start spinning before any timing
        if spinner.poll() is not None:
            raise RuntimeError("the process meant to keep core 0 busy exited")
        yield
    finally:
        spinner.kill()
        spinner.wait()


def seconds_per_call(function, repeats=1, limits=None):
    """Wall-clock seconds of ``repeats`` calls of ``function``, divided by ``repeats``.

    Parameters
    ----------
    function : callable
    repeats : int, default=1
    limits : int or None, default=None
        BLAS/OpenMP thread limit (None: default threads), set before the clock
        starts, so its cost is not the call's.

    Returns
    -------
    seconds : float
    result : object
        What the last call returned.
    """
    gc.collect()
    with threadpool_limits(limits=limits):
        start = time.perf_counter()
        for _ in range(repeats):
            result = function()
        seconds = time.perf_counter() - start
    return seconds / repeats, result


def repeats_for(variants, block_seconds):
    """Warm each variant up, then the repeats that make its timed block long enough.

    Parameters
    ----------
    variants : dict
        Name to ``(function, limits)``, as for :func:`fastest`.
    block_seconds : float

    Returns
    -------
    repeats : dict
        Name to the number of calls per timed block.
    """
    repeats = {}
    for name, (function, limits) in variants.items():
        seconds_per_call(function, 1, limits)  # first-call costs: imports, caches
        seconds, _ = seconds_per_call(function, 1, limits)
        repeats[name] = max(1, math.ceil(block_seconds / seconds))
    return repeats


def fastest(variants, rounds, repeats=None):
    """Minimum over rounds of each variant's seconds per call; the variants alternate.

    Parameters
    ----------
    variants : dict
        Name to ``(function, limits)``: the function to time and its thread limit
        (None: default threads).
    rounds : int
    repeats : dict or None, default=None
        Name to calls per timed block; None for one.

    Returns
    -------
    seconds : dict
        Name to the minimum seconds per call.
    results : dict
        Name to what the variant's last call returned.
    """
    seconds = dict.fromkeys(variants, math.inf)
    results = {}
    for _ in range(rounds):
        for name, (function, limits) in variants.items():
            calls = repeats[name] if repeats else 1
            elapsed, results[name] = seconds_per_call(function, calls, limits)
            seconds[name] = min(seconds[name], elapsed)
    return seconds, results


def default_fit(
    estimator_class, X, n_components, covariance_type, remembered=False, **params
):
    """A function making a fresh default-settings fit of ``X``, ``random_state=0``.

    Ours remembers the starts of small data across fits; unless ``remembered``, it
    forgets them first, so that every fit draws its start as a first fit does.
    """

    def fit():
        if not remembered:
            forget_starts()
        estimator = estimator_class(
            n_components=n_components,
            covariance_type=covariance_type,
            random_state=0,
            **params,
        )
        return estimator.fit(X)

    return fit


def kmeans_start(X, n_components):
    """A function running the k-means start both implementations call."""
    return lambda: KMeans(n_clusters=n_components, n_init=1, random_state=0).fit(X)


# ---------------------------------------------------------------- part 1: threads


def left_out_reason(n, d, k, covariance_type):
    """Why a threads-grid cell is too small for its k and d ('' if it is not).

    A cell is left out when it has fewer than 10 rows per component, or when the
    model has more covariance parameters than rows: ``k d (d + 1) / 2`` for full,
    ``d (d + 1) / 2`` for tied.
    """
    if n < 10 * k:
        return "n < 10 k"
    parameters = {"full": k * d * (d + 1) // 2, "tied": d * (d + 1) // 2}
    if parameters.get(covariance_type, 0) > n:
        return f"{parameters[covariance_type]} covariance parameters > n"
    return ""


def run_threads(scale, args, load, larger=False):
    """Default-threads time over one-thread time of our default fit, per cell:
    of the issue's grid, or of the ``larger`` calls beyond it, which may use
    threads.

    Returns
    -------
    section : tuple
        Title, headers, rows and notes of the part's table.
    """
    grid = scale.larger_thread_grid if larger else scale.thread_grid
    ratios, one_thread_ms, left_out = {}, {}, []
    for n, d, k in product(*grid):
        X = make_data(n, d, k, "float64")
        for covariance_type in COVARIANCE_TYPES:
            cell = f"n={n} d={d} k={k} {covariance_type}"
            reason = left_out_reason(n, d, k, covariance_type)
            if reason:
                left_out.append(f"{cell} ({reason})")
                continue
            fit = default_fit(GaussianMixture, X, k, covariance_type)
            variants = {"default": (fit, None), "one thread": (fit, 1)}
            repeats = repeats_for(variants, scale.thread_block_seconds)
            seconds, _ = fastest(variants, args.rounds, repeats)
            ratios[cell] = seconds["default"] / seconds["one thread"]
            one_thread_ms[cell] = 1e3 * seconds["one thread"]
        _progress(f"  threads, {load}: n={n} d={d} k={k} done")
    rows = []
    for n, d, k in product(*grid):
        cells = [ratios.get(f"n={n} d={d} k={k} {c}") for c in COVARIANCE_TYPES]
        rows.append([f"n={n} d={d} k={k}", *(_ratio(r) for r in cells)])
    largest = max(ratios, key=ratios.get)
    hurt = sum(ratio > HURT_RATIO for ratio in ratios.values())
    notes = [
        "default/one-thread: seconds per default fit of ours with the default "
        "BLAS/OpenMP threads over the same fit inside threadpool_limits(limits=1); "
        f"each the minimum over {args.rounds} rounds of a block of repeated fits "
        f"lasting at least {1e3 * scale.thread_block_seconds:.0f} ms, the two "
        "alternating",
        f"largest ratio: {ratios[largest]:.2f} at {largest} "
        f"({one_thread_ms[largest]:.3g} ms per fit with one thread)",
        f"cells above {HURT_RATIO}: {hurt} of {len(ratios)}",
        f"geometric mean: {geometric_mean(ratios.values()):.3f}",
        "left out (-), as too small for their k and d (fewer than 10 rows per "
        "component, or more covariance parameters than rows: k d (d+1)/2 for "
        f"full, d (d+1)/2 for tied): {', '.join(left_out) or 'none'}",
    ]
    headers = ["cell", *(f"{c} default/1" for c in COVARIANCE_TYPES)]
    title = "threads in larger calls" if larger else "threads never hurt"
    return f"{title}, {_load_label(load)}", headers, rows, notes


# ---------------------------------------------------------------- part 2: tables


def _faithful():
    return np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)


DATA_LOADERS = {
    "iris": lambda: datasets.load_iris().data,
    "wine": lambda: datasets.load_wine().data,
    "faithful": _faithful,
    "diabetes": lambda: datasets.load_diabetes().data,
    "digits": lambda: datasets.load_digits().data,
    "digits-PCA20": lambda: PCA(n_components=20, random_state=0).fit_transform(
        datasets.load_digits().data
    ),
}


def classic_data_sets(names):
    """The data sets named, and a note for each one that is missing.

    Returns
    -------
    data : dict
        Name to X.
    notes : list of str
    """
    data, notes = {}, []
    for name in names:
        if name == "faithful" and not FAITHFUL.exists():
            notes.append(f"faithful skipped: {FAITHFUL} does not exist")
            _progress(notes[-1])
            continue
        data[name] = DATA_LOADERS[name]()
    return data, notes


def bic_table(estimator_class, X, max_components, remembered=True):
    """A function fitting the whole BIC table; it returns the total EM iterations.

    The table starts with no start remembered; with ``remembered``, ours then
    draws each k-means start once for the four covariance types, as a user's loop
    over the table does.
    """

    def table():
        forget_starts()
        return sum(
            default_fit(estimator_class, X, k, covariance_type, remembered)().n_iter_
            for k in range(1, max_components + 1)
            for covariance_type in COVARIANCE_TYPES
        )

    return table


def run_tables(scale, args, load, data, missing_notes):
    """Seconds of each data set's BIC table, ours and sklearn's.

    Returns
    -------
    section : tuple
        Title, headers, rows and notes of the part's table.
    """
    rows, ratios, drawn_ratios = [], {}, {}
    for name, X in data.items():
        for estimator_class in IMPLEMENTATIONS.values():
            for covariance_type in COVARIANCE_TYPES:
                default_fit(estimator_class, X, 2, covariance_type)()  # warm up
        variants = {
            implementation: (bic_table(estimator_class, X, scale.max_components), None)
            for implementation, estimator_class in IMPLEMENTATIONS.items()
        }
        variants["ours, every start drawn"] = (
            bic_table(GaussianMixture, X, scale.max_components, remembered=False),
            None,
        )
        seconds, iterations = fastest(variants, args.rounds)
        ratios[name] = seconds["sklearn"] / seconds["ours"]
        drawn_ratio = seconds["sklearn"] / seconds["ours, every start drawn"]
        drawn_ratios[name] = drawn_ratio
        rows.append(
            [
                name,
                str(X.shape[0]),
                str(X.shape[1]),
                _number(seconds["ours"]),
                _number(seconds["sklearn"]),
                f"{ratios[name]:.2f}",
                f"{drawn_ratio:.2f}",
                str(iterations["ours"]),
                str(iterations["sklearn"]),
            ]
        )
        _progress(f"  tables, {load}: {name} done")
    slowest = min(ratios, key=ratios.get)
    fits = scale.max_components * len(COVARIANCE_TYPES)
    notes = [
        f"the {fits} default fits (k = 1..{scale.max_components}, every covariance "
        "type, random_state=0, default threads) of each data set timed as one "
        f"block; minimum over {args.rounds} rounds, ours and sklearn alternating; "
        "EM iterations: sum of n_iter_ over the fits. Ours starts each table with "
        "no start remembered and draws each k-means start once for the four "
        "types; 'every start drawn': ours forgetting its starts before every fit",
        f"minimum sklearn/ours: {ratios[slowest]:.2f} ({slowest}); every start "
        f"drawn: {min(drawn_ratios.values()):.2f} "
        f"({min(drawn_ratios, key=drawn_ratios.get)})",
        f"geometric mean of sklearn/ours: {geometric_mean(ratios.values()):.2f}; "
        f"every start drawn: {geometric_mean(drawn_ratios.values()):.2f}",
        *missing_notes,
    ]
    headers = [
        "data set",
        "n",
        "d",
        "ours s",
        "sklearn s",
        "sklearn/ours",
        "sklearn/ours, every start drawn",
        "EM it. ours",
        "EM it. sklearn",
    ]
    return f"BIC tables, {_load_label(load)}", headers, rows, notes


def run_overhead(scale, args, load, X):
    """Fixed cost per fit and cost per EM iteration on iris, ours and sklearn's.

    From fits with ``tol=0`` of ``SHORT_ITER`` and ``LONG_ITER`` iterations: per
    iteration ``(t_long - t_short) / (LONG_ITER - SHORT_ITER)``, per fit
    ``t_short`` minus ``SHORT_ITER`` iterations.

    Returns
    -------
    section : tuple
        Title, headers, rows and notes of the table.
    """
    rows = []
    for covariance_type in COVARIANCE_TYPES:
        variants = {
            (implementation, max_iter): (
                default_fit(
                    estimator_class, X, 3, covariance_type, tol=0, max_iter=max_iter
                ),
                None,
            )
            for implementation, estimator_class in IMPLEMENTATIONS.items()
            for max_iter in (SHORT_ITER, LONG_ITER)
        }
        # the floor: the k-means start both implementations call
        variants["k-means"] = (kmeans_start(X, 3), None)
        repeats = repeats_for(variants, scale.overhead_block_seconds)
        seconds, _ = fastest(variants, args.rounds, repeats)
        row = [covariance_type]
        for implementation in IMPLEMENTATIONS:
            short_fit = seconds[implementation, SHORT_ITER]
            long_fit = seconds[implementation, LONG_ITER]
            per_iteration = (long_fit - short_fit) / (LONG_ITER - SHORT_ITER)
            per_fit = short_fit - SHORT_ITER * per_iteration
            row += [_number(1e3 * per_iteration), _number(1e3 * per_fit)]
        rows.append([*row, _number(1e3 * seconds["k-means"])])
    notes = [
        f"GaussianMixture(n_components=3, tol=0, max_iter=M, random_state=0) on "
        f"iris for M = {SHORT_ITER} and {LONG_ITER}: ms per iteration = (t{LONG_ITER}"
        f" - t{SHORT_ITER}) / {LONG_ITER - SHORT_ITER}, ms per fit = t{SHORT_ITER} "
        "- ms per iteration (differences of minimums: noise can make them "
        "negative); floor: KMeans(n_clusters=3, n_init=1, random_state=0)"
        f".fit(X), the start both call; each the minimum over {args.rounds} rounds "
        f"of a block of repeated fits lasting at least "
        f"{1e3 * scale.overhead_block_seconds:.0f} ms, all alternating",
    ]
    headers = [
        "covariance",
        "ours ms/it",
        "ours fixed ms/fit",
        "sklearn ms/it",
        "sklearn fixed ms/fit",
        "floor: k-means ms",
    ]
    return f"Fixed costs on iris, {_load_label(load)}", headers, rows, notes


# ---------------------------------------------------------------- part 3: end to end


def _relative_difference(ours, theirs):
    return abs(ours - theirs) / abs(theirs)


def run_end_to_end(scale, args, load):
    """One default fit of ours and of sklearn's, per thread setting, per config.

    Returns
    -------
    section : tuple
        Title, headers, rows and notes of the part's table.
    """
    n_values, d_values, k_values = scale.end_to_end_grid
    largest_n = max(n_values)
    rows, ratios = [], {}
    for n, d, k in product(n_values, d_values, k_values):
        X = make_data(n, d, k, "float64")
        for covariance_type in COVARIANCE_TYPES:
            label = Config(n, d, k, covariance_type, "float64").label
            for estimator_class in IMPLEMENTATIONS.values():
                # untimed, on fewer rows: first-call costs only
                default_fit(
                    estimator_class, X[: scale.warm_up_rows], k, covariance_type
                )()
            variants = {
                (setting, implementation): (
                    default_fit(estimator_class, X, k, covariance_type),
                    limits,
                )
                for setting, limits in THREAD_SETTINGS.items()
                for implementation, estimator_class in IMPLEMENTATIONS.items()
            }
            rounds = args.rounds_large if n == largest_n else args.rounds
            seconds, fitted = fastest(variants, rounds)
            for setting in THREAD_SETTINGS:
                ours, theirs = seconds[setting, "ours"], seconds[setting, "sklearn"]
                ours_fit = fitted[setting, "ours"]
                their_fit = fitted[setting, "sklearn"]
                ratios[label, setting] = theirs / ours
                lower_bounds = (ours_fit.lower_bound_, their_fit.lower_bound_)
                rows.append(
                    [
                        label,
                        setting,
                        str(rounds),
                        _number(ours),
                        _number(theirs),
                        f"{theirs / ours:.2f}",
                        f"{ours_fit.n_iter_}/{their_fit.n_iter_}",
                        f"{_relative_difference(*lower_bounds):.1e}",
                    ]
                )
            _progress(f"  end to end, {load}: {label} done")
    notes = [
        "GaussianMixture(n_components=k, covariance_type=..., random_state=0)"
        ".fit(X), k-means start included, with threadpool_limits(limits=1) and "
        "with the default threads; minimum over the rounds (--rounds-large at "
        f"n={largest_n}), the four fits of a round alternating",
    ]
    for setting in THREAD_SETTINGS:
        label = min((key for key in ratios if key[1] == setting), key=ratios.get)[0]
        notes.append(
            f"minimum sklearn/ours with {setting}: "
            f"{ratios[label, setting]:.2f} at {label}"
        )
    headers = [
        "configuration",
        "threads",
        "rounds",
        "ours s",
        "sklearn s",
        "sklearn/ours",
        "n_iter_ ours/sklearn",
        "rel. diff lower_bound_",
    ]
    return f"Default fit end to end, {_load_label(load)}", headers, rows, notes


# ---------------------------------------------------------------- part 4: memory


MEMORY_MEASUREMENTS = {
    "k-means start": {"implementation": "kmeans"},
    "ours EM alone": {"implementation": "ours", "init_params": "random_from_data"},
    "ours fit": {"implementation": "ours"},
    "sklearn fit": {"implementation": "sklearn"},
}


def run_memory(scale):
    """Extra peak memory of one default fit and of its parts, each in a fresh process.

    Returns
    -------
    section : tuple
        Title, headers, rows and notes of the part's table.
    """
    rows, methods = [], set()
    for dtype in ("float64", "float32"):
        config = Config(scale.memory_rows, 8, 3, "full", dtype)
        data_mib = config.n_samples * config.n_features * ITEMSIZE[dtype] / 2**20
        row = [config.label, _number(data_mib)]
        for what, request in MEMORY_MEASUREMENTS.items():
            _progress(f"  memory: {what}, {config.label}")
            measured = extra_peak_memory(config=config, **request)
            methods.add(measured["method"])
            row.append(f"{measured['extra_mib']:.1f}")
        rows.append(row)
    notes = [
        "peak resident memory during the fit minus the resident memory just before "
        "it, which already holds X: MiB above the data's own; each in a fresh "
        "process after a warm-up fit on a small problem (peak read from "
        f"{' and '.join(sorted(methods))}); default settings, random_state=0, "
        "default threads",
        "k-means start: KMeans(n_clusters=3, n_init=1, random_state=RandomState(0))"
        ".fit(X), what both implementations call",
        "ours EM alone: our fit with init_params='random_from_data', a start of k "
        "random rows that costs almost no memory",
    ]
    headers = [
        "configuration",
        "X MiB",
        *(f"{what} MiB" for what in MEMORY_MEASUREMENTS),
    ]
    return "Extra peak memory of one default fit", headers, rows, notes


# ---------------------------------------------------------------- report


def _number(value, digits=3):
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}g}"


def _ratio(value):
    return "-" if value is None else f"{value:.2f}"


def _load_label(load):
    if load == "idle":
        return "idle (no load added)"
    return "one core kept busy by a spinning process"


def _progress(message):
    print(message, file=sys.stderr, flush=True)


class Report:
    """Sections printed as they are done; the Markdown file rewritten after each."""

    def __init__(self, info, markdown_path):
        self.info = info
        self.markdown_path = markdown_path
        self.sections = []

    def add(self, section):
        """Print ``(title, headers, rows, notes)`` and add it to the Markdown file."""
        title, headers, rows, notes = section
        print(f"\n{title}:\n{text_table(headers, rows)}")
        print("\n".join(notes), flush=True)
        self.sections.append(section)
        if self.markdown_path:
            Path(self.markdown_path).write_text(self.markdown())

    def markdown(self):
        """The report so far, as a Markdown document."""
        parts = [
            "# Speed where users feel it\n",
            *info_lines(self.info),
            "- **loads**: idle adds no load; busy runs a Python process spinning on "
            "core 0, started before the part's timings and stopped after them",
            "- **timings**: time.perf_counter; each variant warmed up once, then the "
            "variants compared alternate within each round; the minimum over the "
            "rounds is reported",
            "",
        ]
        for title, headers, rows, notes in self.sections:
            parts += [f"## {title}\n", markdown_table(headers, rows)]
            parts += [f"- {note}" for note in notes] + [""]
        return "\n".join(parts)


# ---------------------------------------------------------------- main


def parse_arguments(argv=None):
    """The command line's options; ``part`` defaults to every part."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--part",
        action="append",
        choices=PARTS,
        help="part to run; repeat for several (default: all)",
    )
    parser.add_argument(
        "--load",
        action="append",
        choices=LOADS,
        help="machine load of the timed parts; repeat for both (default: both, "
        "idle only for end-to-end; memory is measured once, without added load)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of each timing (default 3)"
    )
    parser.add_argument(
        "--rounds-large",
        type=int,
        default=1,
        help="rounds of the end-to-end fits at the largest n, 1e6 (default 1)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a much smaller version, a smoke test"
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write a Markdown report"
    )
    args = parser.parse_args(argv)
    args.part = args.part or list(PARTS)
    return args


def loads_of(part, args):
    """The loads ``part`` runs under: memory once, end-to-end idle by default."""
    if part == "memory":
        return ["idle"]
    if args.load:
        return args.load
    return ["idle"] if part == "end-to-end" else list(LOADS)


def main(argv=None):
    """Run the parts and loads asked for, printing each table as it is done."""
    args = parse_arguments(argv)
    scale = QUICK if args.quick else FULL
    started = time.perf_counter()
    # expected: the fixed-cost fits stop after max_iter, short of convergence
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    report = Report(machine_info(), args.markdown)
    if load_average() > 0.5:
        _progress(
            f"WARNING: load average {load_average():.1f}: other processes use the "
            "cores, so even the idle timings will see them"
        )
    if "tables" in args.part:
        data, missing_notes = classic_data_sets(scale.data_sets)
    for part in (p for p in PARTS if p in args.part):
        for load in loads_of(part, args):
            _progress(f"{part}, {load}")
            if part == "memory":
                report.add(run_memory(scale))
                continue
            with machine_load(load):
                if part == "threads":
                    report.add(run_threads(scale, args, load))
                    report.add(run_threads(scale, args, load, larger=True))
                elif part == "tables":
                    report.add(run_tables(scale, args, load, data, missing_notes))
                    if "iris" in data:
                        report.add(run_overhead(scale, args, load, data["iris"]))
                else:
                    report.add(run_end_to_end(scale, args, load))
    if args.markdown:
        _progress(f"wrote {args.markdown}")
    _progress(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
