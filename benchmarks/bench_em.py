"""Speed and memory of our EM against scikit-learn's GaussianMixture.

For each configuration both implementations fit the same data from the same start
(``weights_init``, ``means_init``, ``precisions_init``) with ``tol=0`` and the same
``max_iter``, so they run exactly the same EM iterations; the fits alternate (ours,
sklearn, ours, sklearn, ...) over several rounds. Then an end-to-end section fits
with default settings (k-means initialisation, default ``tol``) from the same
``random_state``. The protocol is written down in ``benchmarks/README.md``.

Run from the repository root::

    python benchmarks/bench_em.py --quick
    python benchmarks/bench_em.py --threads 1 --markdown benchmarks/RESULTS-1thread.md
"""

import argparse
import gc
import math
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

from _machine import (
    exp_seconds_per_value,
    gemm_peak,
    load_average,
    machine_info,
    memory_bandwidth,
)
from _peak_memory import extra_peak_memory
from _report import add_filter_argument, markdown_report, summary_lines, text_table
from _workload import (
    COVARIANCE_TYPES,
    REG_COVAR,
    Config,
    iteration_bytes,
    iteration_flops,
    make_data,
    starting_parameters,
)

IMPLEMENTATIONS = {"ours": GaussianMixture, "sklearn": SklearnGaussianMixture}
MIN_ITER = 3
MIN_ROUNDS = 3
PILOT_ITER = 2
MEMORY_ITER = 2


# ---------------------------------------------------------------- configurations


def em_grid(quick):
    """The configurations of the same-start EM comparison.

    Parameters
    ----------
    quick : bool
        The ``--quick`` subset instead of the full grid.

    Returns
    -------
    configs : list of Config
    """
    if quick:
        configs = [
            Config(100_000, d, k, covariance_type, "float64")
            for d in (2, 8)
            for k in (3, 16)
            for covariance_type in COVARIANCE_TYPES
        ]
        return configs + [Config(100_000, 8, 16, "full", "float32")]
    return [
        Config(n, d, k, covariance_type, dtype)
        for dtype in ("float64", "float32")
        for n in (10_000, 100_000, 1_000_000)
        for d in (2, 8, 32, 128)
        if not (d == 128 and n > 100_000)
        for k in (3, 16, 64)
        if not (k == 64 and (d > 32 or n > 100_000))
        for covariance_type in COVARIANCE_TYPES
    ]


def end_to_end_grid(quick):
    """The configurations of the default-settings comparison (full, float64)."""
    if quick:
        return [Config(100_000, 2, 3, "full", "float64")]
    return [
        Config(n, d, k, "full", "float64")
        for n in (100_000, 1_000_000)
        for d in (2, 8)
        for k in (3, 16)
    ]


def data_for(config):
    """The benchmark's data set for ``config``."""
    n, d, k = config.n_samples, config.n_features, config.n_components
    return make_data(n, d, k, config.dtype)


def selected(configs, filters):
    """The configurations whose label contains every one of ``filters``."""
    return [c for c in configs if all(f in c.label for f in filters)]


# ---------------------------------------------------------------- timing


class FitFailed(Exception):
    """A fit raised: its configuration is reported as failed and the run goes on."""


def timed_fit(estimator, X, name):
    """Fit ``estimator`` on ``X``; return the wall-clock seconds of ``fit``.

    Garbage is collected before the clock starts; ``ConvergenceWarning`` (expected
    with ``tol=0``) is silenced. A ``ValueError`` or ``LinAlgError`` of the fit is
    raised again as :class:`FitFailed`, naming the implementation ``name``.
    """
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        try:
            estimator.fit(X)
        except (ValueError, np.linalg.LinAlgError) as error:
            first_sentence = str(error).split(". ")[0]
            raise FitFailed(f"{name} raised {first_sentence}") from error
        return time.perf_counter() - start


def paired_ratios(seconds):
    """sklearn's time over ours in each round."""
    return [s / o for s, o in zip(seconds["sklearn"], seconds["ours"], strict=True)]


def same_start_estimator(implementation, config, start, max_iter):
    """An unfitted estimator that runs exactly ``max_iter`` EM steps from ``start``."""
    return IMPLEMENTATIONS[implementation](
        n_components=config.n_components,
        covariance_type=config.covariance_type,
        tol=0.0,
        max_iter=max_iter,
        reg_covar=REG_COVAR,
        **start,
    )


def plan(seconds_per_iteration, max_iter, rounds, budget):
    """Iterations and rounds that keep a configuration within the time budget.

    Parameters
    ----------
    seconds_per_iteration : dict
        Pilot estimate for each implementation.
    max_iter, rounds : int
        What was asked for.
    budget : float
        Seconds one round (ours then sklearn) may take; a configuration may take
        about three budgets in all.

    Returns
    -------
    max_iter, rounds : int
    skip_sklearn : bool
        True when even ``MIN_ITER`` sklearn iterations exceed the budget.
    """
    per_round_iteration = sum(seconds_per_iteration.values())
    skip_sklearn = seconds_per_iteration["sklearn"] * MIN_ITER > budget
    if skip_sklearn:
        per_round_iteration = seconds_per_iteration["ours"]
    max_iter = max(MIN_ITER, min(max_iter, math.floor(budget / per_round_iteration)))
    round_seconds = max_iter * per_round_iteration
    affordable = math.floor(3 * budget / round_seconds)
    rounds = max(min(rounds, MIN_ROUNDS), min(rounds, affordable))
    return max_iter, rounds, skip_sklearn


# ---------------------------------------------------------------- one configuration


@dataclass
class EMResult:
    """Timings, equal-work check and memory of one same-start configuration."""

    config: Config
    max_iter: int
    rounds: int
    seconds: dict = field(default_factory=dict)
    lower_bound: dict = field(default_factory=dict)
    extra_mib: dict = field(default_factory=dict)
    bound_seconds: float = math.nan
    bound_kind: str = ""
    exp_seconds: float = math.nan

    def ms_per_iteration(self, implementation):
        """Median over rounds of fit time / ``max_iter``, in ms (nan if not run)."""
        if implementation not in self.seconds:
            return math.nan
        return 1e3 * statistics.median(self.seconds[implementation]) / self.max_iter

    @property
    def ratios(self):
        """sklearn time / our time, per round (empty when sklearn was skipped)."""
        return paired_ratios(self.seconds) if "sklearn" in self.seconds else []

    @property
    def ratio(self):
        """Median sklearn time / median our time."""
        return self.ms_per_iteration("sklearn") / self.ms_per_iteration("ours")

    @property
    def relative_lower_bound_difference(self):
        if len(self.lower_bound) < 2:
            return math.nan
        ours, theirs = self.lower_bound["ours"], self.lower_bound["sklearn"]
        return abs(ours - theirs) / abs(theirs)


def iteration_lower_bound(config, speeds):
    """Seconds one EM iteration needs at least on this machine, and what binds.

    Parameters
    ----------
    config : Config
    speeds : dict
        ``"float64"``/``"float32"``: GEMM flop/s; ``"bandwidth"``: bytes/s.

    Returns
    -------
    seconds : float
        ``max(flops / peak, bytes / bandwidth)``.
    kind : {"F", "M"}
        Whether the flops (F) or the memory traffic (M) bind.
    """
    n, d, k = config.n_samples, config.n_features, config.n_components
    compute = iteration_flops(n, d, k, config.covariance_type) / speeds[config.dtype]
    itemsize = np.dtype(config.dtype).itemsize
    traffic = iteration_bytes(n, d, itemsize) / speeds["bandwidth"]
    return (compute, "F") if compute >= traffic else (traffic, "M")


def iteration_exp_seconds(config, speeds):
    """Seconds numpy's ``exp`` takes for the ``n k`` responsibilities of an iteration.

    Every responsibility needs an exponential; an implementation on numpy makes them
    in calls of their own. Run one after another on one thread, as here, with one
    exp per responsibility at the measured best-case speed, no BLAS call overlaps
    them. So ``bound + this`` bounds such an implementation's iteration, and
    sklearn's time over it bounds its ratio (``ratio ceiling``).
    """
    n, k = config.n_samples, config.n_components
    return n * k * speeds[f"exp {config.dtype}"]


def benchmark_em(config, args, speeds, measure_memory):
    """Time both implementations on one configuration, interleaved over rounds.

    Parameters
    ----------
    config : Config
    args : argparse.Namespace
        ``max_iter``, ``rounds``, ``budget`` and ``threads`` are used.
    speeds : dict
        Machine speeds, see :func:`iteration_lower_bound`.
    measure_memory : bool
        Also measure each implementation's extra peak memory in a fresh process.

    Returns
    -------
    result : EMResult
    """
    X = data_for(config)
    start = starting_parameters(X, config.n_components, config.covariance_type)
    pilot = {
        name: timed_fit(same_start_estimator(name, config, start, PILOT_ITER), X, name)
        / PILOT_ITER
        for name in IMPLEMENTATIONS
    }
    max_iter, rounds, skip_sklearn = plan(
        pilot, args.max_iter, args.rounds, args.budget
    )
    implementations = ["ours"] if skip_sklearn else list(IMPLEMENTATIONS)
    _progress(
        f"  pilot ms/it: ours {1e3 * pilot['ours']:.3g}, "
        f"sklearn {1e3 * pilot['sklearn']:.3g} -> {max_iter} it x {rounds} rounds"
        + (" (sklearn skipped: over budget)" if skip_sklearn else "")
    )
    result = EMResult(config, max_iter, rounds)
    result.bound_seconds, result.bound_kind = iteration_lower_bound(config, speeds)
    result.exp_seconds = iteration_exp_seconds(config, speeds)
    for _ in range(rounds):
        for name in implementations:
            estimator = same_start_estimator(name, config, start, max_iter)
            result.seconds.setdefault(name, []).append(timed_fit(estimator, X, name))
            result.lower_bound[name] = float(estimator.lower_bound_)
    del X
    if measure_memory:
        for name in implementations:
            _progress(f"  peak memory of {name} in a fresh process")
            try:
                measured = extra_peak_memory(name, config, MEMORY_ITER, args.threads)
            except RuntimeError as error:
                _progress(f"  memory measurement FAILED: {error}")
                continue
            result.extra_mib[name] = measured["extra_mib"]
    return result


@dataclass
class EndToEndResult:
    """Timings and outcome of one default-settings fit of each implementation."""

    config: Config
    rounds: int
    seconds: dict = field(default_factory=dict)
    n_iter: dict = field(default_factory=dict)
    lower_bound: dict = field(default_factory=dict)
    bound_seconds: float = math.nan


def benchmark_end_to_end(config, args, speeds):
    """Time ``fit`` with default settings and the same ``random_state``, interleaved.

    The first round decides how many rounds fit in about three ``args.budget``.

    Returns
    -------
    result : EndToEndResult
        ``bound_seconds`` is the machine bound of one EM iteration times our
        ``n_iter_`` (k-means not included).
    """
    X = data_for(config)
    result = EndToEndResult(config, args.rounds)
    round_index = 0
    while round_index < result.rounds:
        for name, estimator_class in IMPLEMENTATIONS.items():
            estimator = estimator_class(
                n_components=config.n_components, random_state=0
            )
            result.seconds.setdefault(name, []).append(timed_fit(estimator, X, name))
            result.n_iter[name] = estimator.n_iter_
            result.lower_bound[name] = float(estimator.lower_bound_)
        if round_index == 0:
            round_seconds = result.seconds["ours"][0] + result.seconds["sklearn"][0]
            affordable = math.floor(3 * args.budget / round_seconds)
            result.rounds = max(min(args.rounds, 2), min(args.rounds, affordable))
        round_index += 1
    per_iteration, _ = iteration_lower_bound(config, speeds)
    result.bound_seconds = per_iteration * result.n_iter["ours"]
    return result


# ---------------------------------------------------------------- tables


EM_HEADERS = [
    "configuration",
    "it x rounds",
    "ours ms/it",
    "sklearn ms/it",
    "sklearn/ours",
    "(min-max)",
    "bound ms/it",
    "ours/bound",
    "exp ms/it",
    "ratio ceiling",
    "ours MiB",
    "sklearn MiB",
    "rel. diff lower_bound_",
]
END_TO_END_HEADERS = [
    "configuration",
    "rounds",
    "ours s",
    "sklearn s",
    "sklearn/ours",
    "(min-max)",
    "n_iter_ ours/sklearn",
    "lower_bound_ ours",
    "lower_bound_ sklearn",
    "rel. diff",
    "EM bound s",
]


def _number(value, digits=3):
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}g}"


def em_row(result):
    """One line of the same-start table for ``result``."""
    ratios = result.ratios
    ours = result.ms_per_iteration("ours")
    bound_ms = 1e3 * result.bound_seconds
    return [
        result.config.label,
        f"{result.max_iter} x {result.rounds}",
        _number(ours),
        _number(result.ms_per_iteration("sklearn")),
        _number(result.ratio) if ratios else "-",
        f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-",
        f"{_number(bound_ms)} {result.bound_kind}",
        _number(ours / bound_ms),
        _number(1e3 * result.exp_seconds),
        _number(
            result.ms_per_iteration("sklearn") / (bound_ms + 1e3 * result.exp_seconds)
        ),
        _number(result.extra_mib.get("ours")),
        _number(result.extra_mib.get("sklearn")),
        f"{result.relative_lower_bound_difference:.1e}",
    ]


def end_to_end_row(result):
    """One line of the end-to-end table for ``result``."""
    ours = statistics.median(result.seconds["ours"])
    theirs = statistics.median(result.seconds["sklearn"])
    ratios = paired_ratios(result.seconds)
    bounds = result.lower_bound
    return [
        result.config.label,
        str(result.rounds),
        _number(ours),
        _number(theirs),
        _number(theirs / ours),
        f"{min(ratios):.2f}-{max(ratios):.2f}",
        f"{result.n_iter['ours']}/{result.n_iter['sklearn']}",
        f"{bounds['ours']:.8g}",
        f"{bounds['sklearn']:.8g}",
        f"{abs(bounds['ours'] - bounds['sklearn']) / abs(bounds['sklearn']):.1e}",
        _number(result.bound_seconds),
    ]


# ---------------------------------------------------------------- main


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small subset, about a minute"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS/OpenMP threads of both implementations (default: as is)",
    )
    parser.add_argument("--rounds", type=int, help="rounds (default 5; quick 3)")
    parser.add_argument(
        "--max-iter", type=int, help="EM iterations per fit (default 20; quick 10)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds one round of a configuration may take (default 60)",
    )
    add_filter_argument(parser)
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory children"
    )
    parser.add_argument(
        "--memory-filter",
        metavar="TEXT",
        action="append",
        default=[],
        help="measure peak memory only where the label also contains TEXT",
    )
    parser.add_argument(
        "--no-end-to-end", action="store_true", help="skip the default-settings fits"
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="also write a Markdown report"
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.max_iter is None:
        args.max_iter = 10 if args.quick else 20
    return args


def measure_speeds():
    """GEMM peak and exp time (float64, float32) and copy bandwidth, once."""
    _progress("measuring GEMM peak, exp and memory bandwidth")
    return {
        "float64": gemm_peak("float64"),
        "float32": gemm_peak("float32"),
        "exp float64": exp_seconds_per_value("float64"),
        "exp float32": exp_seconds_per_value("float32"),
        "bandwidth": memory_bandwidth(),
    }


def _memory_configs(configs, quick, filters):
    if quick:
        return {Config(100_000, 8, 16, "full", "float64")}
    return set(selected(configs, filters))


def _warm_up():
    """One tiny fit of each, so first-call costs land in no configuration."""
    config = Config(1000, 2, 3, "full", "float64")
    X = data_for(config)
    start = starting_parameters(X, config.n_components, config.covariance_type)
    for name in IMPLEMENTATIONS:
        timed_fit(same_start_estimator(name, config, start, PILOT_ITER), X, name)


def _row_progress(headers, row, keys):
    cells = dict(zip(headers, row, strict=True))
    _progress("  " + ", ".join(f"{key} {cells[key]}" for key in keys))


def run(args):
    """Run the selected benchmarks.

    Returns
    -------
    outcome : dict
        ``info`` (machine description), ``speeds`` (machine speeds), ``em`` (list of
        EMResult), ``end_to_end`` (list of EndToEndResult) and ``failures`` (list of
        str: configurations where a fit raised).
    """
    info = machine_info()
    if load_average() > 0.5:
        _progress(
            f"WARNING: load average {load_average():.1f}: other processes use the "
            "cores, timings (above all with several threads) will be unreliable"
        )
    speeds = measure_speeds()
    configs = selected(em_grid(args.quick), args.filter)
    end_to_end = [] if args.no_end_to_end else end_to_end_grid(args.quick)
    end_to_end = selected(end_to_end, args.filter)
    memory = set()
    if not args.no_memory:
        memory = _memory_configs(configs, args.quick, args.memory_filter)
    _warm_up()

    em_results, e2e_results, failures = [], [], []
    for index, config in enumerate(configs, 1):
        _progress(f"[{index}/{len(configs)}] {config.label}")
        try:
            em_results.append(benchmark_em(config, args, speeds, config in memory))
        except FitFailed as failure:
            failures.append(f"{config.label}: {failure}")
            _progress(f"  FAILED: {failure}")
            continue
        keys = ["ours ms/it", "sklearn ms/it", "sklearn/ours", "(min-max)"]
        _row_progress(EM_HEADERS, em_row(em_results[-1]), keys)
    for index, config in enumerate(end_to_end, 1):
        _progress(f"[end-to-end {index}/{len(end_to_end)}] {config.label}")
        try:
            e2e_results.append(benchmark_end_to_end(config, args, speeds))
        except FitFailed as failure:
            failures.append(f"end to end {config.label}: {failure}")
            _progress(f"  FAILED: {failure}")
            continue
        keys = ["ours s", "sklearn s", "n_iter_ ours/sklearn"]
        _row_progress(END_TO_END_HEADERS, end_to_end_row(e2e_results[-1]), keys)
    return {
        "info": info,
        "speeds": speeds,
        "em": em_results,
        "end_to_end": e2e_results,
        "failures": failures,
    }


def report(outcome, args):
    """Print the tables and summary; write the Markdown file if asked."""
    em_rows = [em_row(r) for r in outcome["em"]]
    e2e_rows = [end_to_end_row(r) for r in outcome["end_to_end"]]
    speeds = outcome["speeds"]
    speed_line = (
        f"GEMM peak {speeds['float64'] / 1e9:.1f} GFLOP/s (float64), "
        f"{speeds['float32'] / 1e9:.1f} GFLOP/s (float32); "
        f"numpy exp {1e9 * speeds['exp float64']:.2f} ns per value (float64), "
        f"{1e9 * speeds['exp float32']:.2f} (float32); "
        f"copy bandwidth {speeds['bandwidth'] / 1e9:.1f} GB/s"
    )
    summary = summary_lines(outcome["em"])
    summary += [f"FAILED {failure}" for failure in outcome["failures"]]
    print()
    print(speed_line)
    print("\nsame start, tol=0, fixed max_iter:")
    print(text_table(EM_HEADERS, em_rows))
    if e2e_rows:
        print(
            "\nend to end, default settings (k-means init, tol=1e-3), random_state=0:"
        )
        print(text_table(END_TO_END_HEADERS, e2e_rows))
    print("\nsummary:")
    print("\n".join(summary))
    if args.markdown:
        sections = [("Same start, `tol=0`, fixed `max_iter`", EM_HEADERS, em_rows)]
        if e2e_rows:
            title = "End to end, default settings, `random_state=0`"
            sections.append((title, END_TO_END_HEADERS, e2e_rows))
        with open(args.markdown, "w") as file:
            file.write(markdown_report(outcome["info"], speed_line, sections, summary))
        _progress(f"wrote {args.markdown}")


def main(argv=None):
    args = parse_arguments(argv)
    started = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        outcome = run(args)
        report(outcome, args)
    _progress(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
