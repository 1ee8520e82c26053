"""EM speed per iteration of two source trees of sklearn_em_gmm, before and after.

A change to the package's internals should leave no configuration slower. This
script times our EM as ``bench_em.py`` does (same data, same start, ``tol=0``,
``reg_covar=1e-4``, exactly ``--max-iter`` EM iterations per fit), with the package of
one source tree and of another, interleaved in one run, each timing in a fresh
process with one BLAS thread.

Configurations: the ``--quick`` grid of ``bench_em.py`` (n=1e5, d in {2, 8}, k in
{3, 16}, every covariance type, float64, plus ``n=1e5 d=8 k=16 full float32``) and
the n=1e6 configurations of its full grid with d in {2, 8}, k in {3, 16}, float64
and float32 (the full grid's d=32 ones are left out for time): 49 in all.

How:

- Each timing is a worker, this script run again with ``--worker`` in a fresh
  process, with ``PYTHONPATH`` set to the tree measured. ``sys.path`` wins over the
  editable install of the package (its finder is appended to ``sys.meta_path``), and
  the worker checks, after its fits, that every ``sklearn_em_gmm`` module it loaded
  lies under that tree; it stops the whole run otherwise. ``OPENBLAS_NUM_THREADS``,
  ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are 1, and the worker checks with
  threadpoolctl that every thread pool it loaded has one thread.
  ``PYTHONDONTWRITEBYTECODE`` is set, so the workers write nothing into the trees.
- A worker builds the configuration's data and start (``_workload.py``, as
  ``bench_em.py`` does), makes one untimed warm-up fit of 2 iterations, then times
  ``--fits`` fits (default 3), each a fresh estimator, and reports their median: a
  fresh process is noisier than a fit, and a worker costs about a second before it
  times anything, so a few fits per worker are cheaper than more rounds.
- Each fit is timed by the wall clock and by the process's CPU time. With one
  thread the two agree on an idle machine; when other processes share the cores,
  the wall clock also counts the time spent waiting for one (on the 2-core
  development machine, identical trees then measured up to 1.47x apart by it), the
  CPU time does not. So the CPU time decides by default (``--clock wall`` otherwise);
  the table shows the other clock's ratio too, and the largest 1-minute load
  average the configuration's workers saw (their own counts 1).
- For each configuration and round, a "before" worker and an "after" one run one
  after the other; which goes first alternates from round to round and from one
  configuration to the next, so a drift of the machine's speed falls on both.

As in ``bench_em.py``, the fit time includes the fixed costs of ``fit`` (input
checks, the start's Cholesky factors, the final labelling pass), spread over the
iterations. Reported per configuration: the median over rounds of each tree's ms
per iteration, their ratio after/before, the range of the per-round ratios, the
other clock's ratio, the load, and each tree's final ``lower_bound_`` with their
relative difference (0 for identical code; ~1e-15 in float64 for a change that
reorders floating-point sums). Then the largest ratio, the geometric mean of the
ratios, and the configurations with a ratio above 1.10. The exit status is 1 when
there are such configurations or a fit failed.

Noise floor: comparing a tree with itself, with the defaults, on the 2-core
development machine while other processes raised the load to 3.9, the ratios were
0.93-1.02 (geometric mean 0.995), and the lower bounds equal. A ratio up to ~1.07
is therefore no evidence of a slowdown; rerun a flagged configuration with
``--filter`` and more ``--rounds`` before believing it.

Run from the repository root, on an idle machine if possible (16 to 18 minutes for
the 49 configurations with the defaults on the 2-core development machine)::

    python benchmarks/compare_revisions.py --before /work/before --after /work/main
    python benchmarks/compare_revisions.py --before ../old --after . --filter n=1e5
"""

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_info, threadpool_limits

# bench_em and _machine import sklearn_em_gmm: they are imported once it is known
# which tree's package that must be (see main)
from _report import add_filter_argument, geometric_mean, info_lines, markdown_table
from _workload import Config, starting_parameters

TREES = ("before", "after")
CLOCKS = ("cpu", "wall")
# the n=1e6 part of the full grid also has d=32, which would more than double the run
LARGE_N = 1_000_000
LARGE_N_FEATURES = (2, 8)
LARGE_N_COMPONENTS = (3, 16)
WARM_UP_ITER = 2
MAX_SLOWDOWN = 1.10
# the run's own worker counts 1: above this, something else wants the cores
LOADED = 1.5
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# a worker's exit status when it did not measure what was asked: stop the run
WRONG_SETUP = 3


# ---------------------------------------------------------------- configurations


def comparison_grid():
    """The configurations compared: bench_em's quick grid and part of its n=1e6 grid.

    Returns
    -------
    configs : list of Config
    """
    from bench_em import em_grid

    large = [
        config
        for config in em_grid(quick=False)
        if config.n_samples == LARGE_N
        and config.n_features in LARGE_N_FEATURES
        and config.n_components in LARGE_N_COMPONENTS
    ]
    return em_grid(quick=True) + large


# ---------------------------------------------------------------- worker


def _package_modules_outside(tree):
    """``sklearn_em_gmm`` modules loaded from outside ``tree``, with their files."""
    return {
        name: str(getattr(module, "__file__", None))
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "sklearn_em_gmm"
        and not Path(getattr(module, "__file__", None) or "/")
        .resolve()
        .is_relative_to(tree)
    }


def check_setup(tree, threads="1"):
    """Stop with status ``WRONG_SETUP`` unless this process measures ``tree``.

    Every loaded ``sklearn_em_gmm`` module must lie under ``tree``, and with
    ``threads="1"`` every BLAS and OpenMP thread pool must have one thread.

    Parameters
    ----------
    tree : Path
        The source tree the worker was asked to measure, resolved.
    threads : {"1", "default"}
    """
    problems = [
        f"{name} imported from {file}, not from {tree}"
        for name, file in _package_modules_outside(tree).items()
    ]
    problems += [
        f"{pool['internal_api']} ({pool['filepath']}) has {pool['num_threads']} "
        "threads, not 1"
        for pool in threadpool_info()
        if threads == "1" and pool["num_threads"] != 1
    ]
    if problems:
        print("worker setup is wrong:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(WRONG_SETUP)


def _blas_line():
    return "; ".join(
        " ".join(filter(None, [pool["internal_api"], pool.get("version")]))
        + f" ({pool.get('architecture') or pool['user_api']}, "
        f"{pool['num_threads']} threads)"
        for pool in threadpool_info()
    )


class _CpuTimed:
    """An estimator whose ``fit`` also records the CPU time it took.

    ``bench_em.timed_fit`` gives the wall-clock time; this adds the process's CPU
    time over the same call, which a process waiting for a busy core does not
    accumulate.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.cpu_seconds = float("nan")

    def fit(self, X):
        start = time.process_time()
        try:
            return self.estimator.fit(X)
        finally:
            self.cpu_seconds = time.process_time() - start


def worker(args):
    """Time ``args.fits`` same-start fits of ``args.tree``'s package.

    Parameters
    ----------
    args : argparse.Namespace
        ``tree``, ``name``, ``config`` (JSON of a Config), ``max_iter`` and ``fits``.

    Returns
    -------
    result : dict
        ``wall`` and ``cpu`` (seconds) and ``lower_bound``, a list of each with one
        value per timed fit; ``load`` (1-minute load average before and after the
        fits), ``module`` (the package's ``__init__.py``) and ``blas``; and
        ``failed`` (the message) when a fit raised.
    """
    from bench_em import FitFailed, data_for, same_start_estimator, timed_fit

    import sklearn_em_gmm

    from _machine import load_average

    tree = Path(args.tree).resolve()
    check_setup(tree, args.threads)
    config = Config(**json.loads(args.config))
    X = data_for(config)
    start = starting_parameters(X, config.n_components, config.covariance_type)
    result = {"module": sklearn_em_gmm.__file__, "wall": [], "cpu": []}
    result.update(lower_bound=[], load=[load_average()])
    try:
        warm_up = same_start_estimator("ours", config, start, WARM_UP_ITER)
        timed_fit(warm_up, X, args.name)
        for _ in range(args.fits):
            estimator = same_start_estimator("ours", config, start, args.max_iter)
            timed = _CpuTimed(estimator)
            result["wall"].append(timed_fit(timed, X, args.name))
            result["cpu"].append(timed.cpu_seconds)
            result["lower_bound"].append(float(estimator.lower_bound_))
            if estimator.n_iter_ != args.max_iter:
                raise FitFailed(
                    f"{args.name} ran {estimator.n_iter_} iterations, "
                    f"not {args.max_iter}"
                )
    except FitFailed as failure:
        result["failed"] = str(failure)
    # the fits may have imported more of the package, and started thread pools
    check_setup(tree, args.threads)
    result["load"].append(load_average())
    result["blas"] = _blas_line()
    return result


def worker_environment(tree, threads="1"):
    """The environment of a worker measuring ``tree``: its package, and one thread
    unless ``threads`` is ``"default"``."""
    environment = dict(os.environ)
    # the tree alone: an inherited entry could hold another copy of the package
    environment["PYTHONPATH"] = str(tree)
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    for variable in THREAD_VARIABLES:
        environment.pop(variable, None)
    if threads == "1":
        environment.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    return environment


class WorkerFailed(Exception):
    """A worker crashed or a fit raised: its configuration is reported as failed."""


def run_worker(name, tree, config, args):
    """Time ``tree``'s package on ``config`` in a fresh process.

    Parameters
    ----------
    name : {"before", "after"}
    tree : Path
    config : Config
    args : argparse.Namespace
        ``max_iter`` and ``fits`` are passed on.

    Returns
    -------
    result : dict
        See :func:`worker`; ``wall`` and ``cpu`` are the medians of the timed fits.

    Raises
    ------
    WorkerFailed
        When a fit raised or the worker crashed.
    SystemExit
        When the worker did not measure ``tree`` with one thread.
    """
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--tree",
        str(tree),
        "--name",
        name,
        "--config",
        json.dumps(dataclasses.asdict(config)),
        "--max-iter",
        str(args.max_iter),
        "--fits",
        str(args.fits),
        "--threads",
        args.threads,
    ]
    completed = subprocess.run(
        command,
        env=worker_environment(tree, args.threads),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode == WRONG_SETUP:
        raise SystemExit(f"{name} worker for {config.label}:\n{completed.stderr}")
    if completed.returncode != 0:
        last_lines = "\n".join(completed.stderr.strip().splitlines()[-3:])
        raise WorkerFailed(f"{name} worker crashed: {last_lines}")
    result = json.loads(completed.stdout.splitlines()[-1])
    if "failed" in result:
        raise WorkerFailed(result["failed"])
    for clock in CLOCKS:
        result[clock] = statistics.median(result[clock])
    return result


# ---------------------------------------------------------------- one configuration


@dataclasses.dataclass
class Comparison:
    """Per-round timings and final lower bounds of both trees on one configuration."""

    config: Config
    max_iter: int
    clock: str
    # (tree, clock) -> per-round seconds
    seconds: dict = dataclasses.field(default_factory=dict)
    lower_bounds: dict = dataclasses.field(default_factory=dict)
    loads: list = dataclasses.field(default_factory=list)
    modules: dict = dataclasses.field(default_factory=dict)
    blas: str = ""
    failure: str = ""

    def ms_per_iteration(self, name, clock=None):
        """Median over rounds of fit time / ``max_iter``, in ms.

        Parameters
        ----------
        name : {"before", "after"}
        clock : {"cpu", "wall"}, default=None
            The run's ``--clock`` where None.
        """
        seconds = self.seconds[name, clock or self.clock]
        return 1e3 * statistics.median(seconds) / self.max_iter

    def ratio(self, clock=None):
        """Median after / median before, with ``clock`` (default: the run's)."""
        after = self.ms_per_iteration("after", clock)
        return after / self.ms_per_iteration("before", clock)

    @property
    def round_ratios(self):
        """After / before in each round, with the run's clock."""
        after = self.seconds["after", self.clock]
        before = self.seconds["before", self.clock]
        return [a / b for a, b in zip(after, before, strict=True)]

    @property
    def relative_lower_bound_difference(self):
        """Largest relative difference of any after and any before ``lower_bound_``."""
        return max(
            abs(after - before) / abs(before)
            for after in self.lower_bounds["after"]
            for before in self.lower_bounds["before"]
        )


def compare(config, index, trees, args):
    """Time both trees on ``config``, one worker each per round, interleaved.

    Parameters
    ----------
    config : Config
    index : int
        Position of the configuration in the run, which alternates who goes first.
    trees : dict
        ``"before"`` and ``"after"``: the source trees.
    args : argparse.Namespace

    Returns
    -------
    comparison : Comparison
        With ``failure`` set, and the rounds stopped, when a worker failed.
    """
    comparison = Comparison(config, args.max_iter, args.clock)
    for round_index in range(args.rounds):
        order = TREES if (index + round_index) % 2 == 0 else TREES[::-1]
        for name in order:
            try:
                result = run_worker(name, trees[name], config, args)
            except WorkerFailed as failure:
                comparison.failure = str(failure)
                return comparison
            for clock in CLOCKS:
                comparison.seconds.setdefault((name, clock), []).append(result[clock])
            comparison.loads += result["load"]
            comparison.lower_bounds.setdefault(name, []).extend(result["lower_bound"])
            comparison.modules[name] = result["module"]
            comparison.blas = result["blas"]
    return comparison


# ---------------------------------------------------------------- report


def headers(clock):
    """Column names of the table, ``clock`` being the run's ``--clock``."""
    other = CLOCKS[1 - CLOCKS.index(clock)]
    return [
        "configuration",
        f"before {clock} ms/it",
        f"after {clock} ms/it",
        "after/before",
        "(min-max)",
        f"{other} after/before",
        "load max",
        "lower_bound_ before",
        "lower_bound_ after",
        "rel. diff",
    ]


def row(comparison):
    """One line of the table for ``comparison``."""
    if comparison.failure:
        return [comparison.config.label, *["-"] * 8, "FAILED"]
    ratios = comparison.round_ratios
    other = CLOCKS[1 - CLOCKS.index(comparison.clock)]
    return [
        comparison.config.label,
        f"{comparison.ms_per_iteration('before'):.3g}",
        f"{comparison.ms_per_iteration('after'):.3g}",
        f"{comparison.ratio():.3f}",
        f"{min(ratios):.2f}-{max(ratios):.2f}",
        f"{comparison.ratio(other):.3f}",
        f"{max(comparison.loads):.1f}",
        f"{comparison.lower_bounds['before'][0]:.15g}",
        f"{comparison.lower_bounds['after'][0]:.15g}",
        f"{comparison.relative_lower_bound_difference:.1e}",
    ]


def _ratio_lines(timed, clock):
    """Largest and geometric-mean after/before with ``clock``, and per dtype."""
    slowest = max(timed, key=lambda c: c.ratio(clock))
    by_dtype = {}
    for comparison in timed:
        by_dtype.setdefault(comparison.config.dtype, []).append(comparison.ratio(clock))
    per_dtype = ", ".join(
        f"{dtype}: {geometric_mean(ratios):.3f}" for dtype, ratios in by_dtype.items()
    )
    return [
        f"largest after/before ({clock}): {slowest.ratio(clock):.3f} at "
        f"{slowest.config.label}",
        f"geometric mean of after/before ({clock}) over {len(timed)} configurations: "
        f"{geometric_mean(c.ratio(clock) for c in timed):.3f} ({per_dtype})",
    ]


def summary_lines(comparisons, clock):
    """Largest and geometric-mean ratio, slowdowns over ``MAX_SLOWDOWN``, failures.

    Parameters
    ----------
    comparisons : list of Comparison
    clock : {"cpu", "wall"}
        The clock that decides (``--clock``); the other one is summarised too.

    Returns
    -------
    lines : list of str
    """
    timed = [c for c in comparisons if not c.failure]
    lines = [f"FAILED {c.config.label}: {c.failure}" for c in comparisons if c.failure]
    if not timed:
        return lines + ["no configuration timed"]
    over = [c for c in timed if c.ratio() > MAX_SLOWDOWN]
    loaded = [c for c in timed if max(c.loads) > LOADED]
    lines += _ratio_lines(timed, clock)
    lines += [
        f"configurations with after/before ({clock}) > {MAX_SLOWDOWN:.2f}: "
        + (", ".join(f"{c.config.label} ({c.ratio():.3f})" for c in over) or "none")
    ]
    lines += _ratio_lines(timed, CLOCKS[1 - CLOCKS.index(clock)])
    lines.append(
        f"configurations timed with a 1-minute load average above {LOADED} "
        f"(other processes on the cores): {len(loaded)} of {len(timed)}"
    )
    for dtype in dict.fromkeys(c.config.dtype for c in timed):
        worst = max(
            (c for c in timed if c.config.dtype == dtype),
            key=lambda c: c.relative_lower_bound_difference,
        )
        lines.append(
            f"largest relative difference of lower_bound_ ({dtype}): "
            f"{worst.relative_lower_bound_difference:.1e} at {worst.config.label}"
        )
    return lines


def _tree_revision(tree):
    """Commit of ``tree``, and whether its package has uncommitted changes."""
    try:
        run = dict(cwd=tree, capture_output=True, text=True, check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run)
        # no optional locks: the tree may be someone's working copy
        status = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "sklearn_em_gmm"],
            **run,
        )
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    dirty = " + uncommitted changes in sklearn_em_gmm/" if status.stdout.strip() else ""
    return commit.stdout.strip() + dirty


def _tree_lines(trees, revisions, comparisons):
    """Each tree, its revision, the package its workers imported; their BLAS.

    Parameters
    ----------
    trees, revisions : dict
        The trees, and their revisions at the start of the run, by name.
    comparisons : list of Comparison

    Returns
    -------
    info : list of (str, str)
    """
    modules, blas, lines = {}, "", []
    for comparison in comparisons:
        modules.update(comparison.modules)
        blas = blas or comparison.blas
    for name, tree in trees.items():
        revision = revisions[name]
        # someone may commit or edit in the tree while the run goes on
        if _tree_revision(tree) != revision:
            revision += f" at the start, {_tree_revision(tree)} at the end"
        imported = f"; workers imported {modules[name]}" if name in modules else ""
        lines.append((name, f"{tree} ({revision}){imported}"))
    return lines + [("workers' BLAS/OpenMP", blas or "-")]


def report(info, comparisons, args, seconds):
    """The whole report as Markdown: machine, trees, table and summary.

    Parameters
    ----------
    info : list of (str, str)
        From ``machine_info``, plus the trees and the worker's BLAS.
    comparisons : list of Comparison
    args : argparse.Namespace
    seconds : float
        Wall-clock time of the run.

    Returns
    -------
    text : str
    """
    parts = ["# EM speed per iteration: before against after\n"]
    parts += info_lines(info)
    parts.append(
        f"- **protocol**: same start, `tol=0`, {args.max_iter} EM iterations per fit; "
        f"per worker a 2-iteration warm-up and the median of {args.fits} timed fits; "
        f"{args.rounds} rounds, the order alternating; "
        f"{'one BLAS thread' if args.threads == '1' else 'default BLAS threads'}; "
        f"ratios of {args.clock} time (`--clock`); run time {seconds / 60:.1f} min\n"
    )
    rows = [row(c) for c in comparisons]
    parts.append(markdown_table(headers(args.clock), rows))
    summary = summary_lines(comparisons, args.clock)
    parts += ["## Summary\n", "```", *summary, "```", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------- main


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="source tree before the change")
    parser.add_argument("--after", type=Path, help="source tree after the change")
    parser.add_argument(
        "--rounds", type=int, default=3, help="worker pairs per configuration (3)"
    )
    parser.add_argument(
        "--max-iter", type=int, default=10, help="EM iterations per timed fit (10)"
    )
    parser.add_argument(
        "--fits", type=int, default=3, help="timed fits per worker, median (3)"
    )
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="cpu",
        help="time that decides: the workers' CPU time (default), which waiting "
        "for a core busy with other processes does not add to, or wall-clock time",
    )
    add_filter_argument(parser)
    parser.add_argument(
        "--markdown", metavar="PATH", help="also write the report to PATH"
    )
    parser.add_argument(
        "--threads",
        choices=("1", "default"),
        default="1",
        help="BLAS and OpenMP threads of the workers: one (default), or the "
        "default (then compared by the wall clock)",
    )
    # the worker mode, run by the script itself
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    for name in TREES:
        tree = getattr(args, name)
        if tree is None:
            parser.error(f"--{name} is required")
        if not (tree / "sklearn_em_gmm" / "__init__.py").is_file():
            parser.error(f"--{name} {tree}: no sklearn_em_gmm/__init__.py there")
        setattr(args, name, tree.resolve())
    if min(args.rounds, args.max_iter, args.fits) < 1:
        parser.error("--rounds, --max-iter and --fits must be at least 1")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    if args.threads == "default":
        # CPU time would count the threads' waiting
        args.clock = "wall"
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    started = time.perf_counter()
    # The helpers import sklearn_em_gmm, and the editable install's is the tree this
    # script lives in, which may be half-way through the change: use "before"'s.
    sys.path.insert(1, str(args.before))
    from bench_em import selected

    from _machine import load_average, machine_info

    # the BLAS line of the description shows the workers' limit
    with threadpool_limits(limits=1 if args.threads == "1" else None):
        info = machine_info()
    if load_average() > 0.5:
        _progress(
            f"WARNING: load average {load_average():.1f}: other processes use the "
            "cores, the ratios will be noisier"
        )
    trees = {name: getattr(args, name) for name in TREES}
    revisions = {name: _tree_revision(tree) for name, tree in trees.items()}
    configs = selected(comparison_grid(), args.filter)
    comparisons = []
    for index, config in enumerate(configs):
        _progress(f"[{index + 1}/{len(configs)}] {config.label}")
        comparisons.append(compare(config, index, trees, args))
        names = headers(args.clock)
        cells = dict(zip(names, row(comparisons[-1]), strict=True))
        keys = names[1:7] + ["rel. diff"]
        _progress("  " + ", ".join(f"{key} {cells[key]}" for key in keys))
        if comparisons[-1].failure:
            _progress(f"  FAILED: {comparisons[-1].failure}")
    info += _tree_lines(trees, revisions, comparisons)
    text = report(info, comparisons, args, time.perf_counter() - started)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
        _progress(f"wrote {args.markdown}")
    _progress(f"total {time.perf_counter() - started:.0f} s")
    failed = any(c.failure or c.ratio() > MAX_SLOWDOWN for c in comparisons)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
