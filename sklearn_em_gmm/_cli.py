"""Command-line job: choose a Gaussian mixture for a data set by BIC.

``python -m sklearn_em_gmm [data.csv]`` fits :class:`GaussianMixture` over a grid
of numbers of components and covariance types, prints the BIC table and the model
with the lowest BIC, and optionally writes its labels and compares every fit with
:class:`sklearn.mixture.GaussianMixture`.

The job is four steps, each a small function: :func:`parse_args`,
:func:`load_data`, :func:`~sklearn_em_gmm.selection.fit_grid` and the ``format_*``
functions that turn results into text. Bad input raises :class:`UsageError`, which
:func:`main` prints as one line on stderr before returning 2.
"""

import argparse
import csv
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
from sklearn import datasets

from ._covariance import canonical_models, get_covariance_model
from ._estimator import GaussianMixture
from .selection import (
    NON_FINITE_SCORE,
    AllFitsFailedError,
    Fit,
    fit_grid,
    fit_one,
    select_best,
)

PROG = "sklearn-em-gmm"
EXIT_USAGE = 2
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
DATASETS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
MAX_COMPONENTS = 1000  # keeps a typo such as '1-100000' from building a huge grid


class UsageError(Exception):
    """Bad options or a bad data file: reported on one line, exit status 2."""


# --------------------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------------------


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting."""

    def error(self, message):
        raise UsageError(message)


def parse_components(text):
    """Parse ``"1-9"``, ``"2,3,5"`` or ``"2,4-6"`` into sorted distinct ints >= 1."""
    values = set()
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        try:
            low = int(low)
            high = int(high) if sep else low
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: expected integers such as '1-9' or '2,3,5'"
            ) from None
        if low < 1:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: n_components must be at least 1"
            )
        if high < low:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: empty range {low}-{high}"
            )
        if high > MAX_COMPONENTS:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: n_components must be at most {MAX_COMPONENTS}"
            )
        values.update(range(low, high + 1))
    return sorted(values)


def parse_covariance_types(text):
    """Parse ``"full,diag"`` or mclust codes ``"VVV,VVI"`` into sklearn names."""
    by_key = {}
    for model in canonical_models():
        by_key[model.name.lower()] = model.name
        by_key[model.mclust_code.lower()] = model.name
    names = []
    for part in text.split(","):
        name = by_key.get(part.strip().lower())
        if name is None:
            raise argparse.ArgumentTypeError(
                f"unknown covariance type {part.strip()!r}; choose from "
                "full, tied, diag, spherical or VVV, EEE, VVI, VII"
            )
        if name not in names:
            names.append(name)
    return names


def _number_parser(convert, minimum, description, maximum=math.inf):
    """An argparse ``type``: ``convert``, then require a finite value in range."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: expected {description}"
            ) from None
        if not (math.isfinite(value) and minimum <= value <= maximum):
            raise argparse.ArgumentTypeError(
                f"invalid value {text!r}: expected {description}"
            )
        return value

    return parse


def build_parser():
    """The command-line parser; ``--help`` documents every option."""
    parser = _ArgumentParser(
        prog=PROG,
        description=(
            "Fit Gaussian mixtures over a grid of numbers of components and "
            "covariance types, print the BIC of each, and report the model with the "
            "lowest BIC."
        ),
        epilog=(
            "Covariance types: full (VVV), tied (EEE), diag (VVI), spherical (VII). "
            "Exit status: 0 on success, 2 on bad options, a bad data file, or when "
            "every model of the grid fails to fit."
        ),
    )
    parser.add_argument(
        "csv",
        nargs="?",
        metavar="CSV",
        help=(
            "CSV file of numeric columns, one row per sample. A first row that is "
            "not all numeric is read as a header of column names. Without a file, "
            "the --dataset that ships with scikit-learn is used."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        help=(
            "scikit-learn data set to use when no CSV is given (default: iris); "
            "digits, with 64 columns, takes minutes over the default grid."
        ),
    )
    parser.add_argument(
        "--delimiter",
        default=",",
        metavar="CHAR",
        help="field delimiter of the CSV file (default: ',').",
    )
    parser.add_argument(
        "--components",
        type=parse_components,
        default=list(range(1, 10)),
        metavar="LIST",
        help="numbers of components to try, e.g. '1-9' or '2,3,5' (default: 1-9).",
    )
    parser.add_argument(
        "--covariance-types",
        type=parse_covariance_types,
        default=list(COVARIANCE_TYPES),
        metavar="LIST",
        help=(
            "covariance types to try, comma-separated sklearn names or mclust codes "
            "in any case (default: full,tied,diag,spherical)."
        ),
    )
    parser.add_argument(
        "--random-state",
        type=_number_parser(int, 0, "an integer in [0, 2**32 - 1]", 2**32 - 1),
        default=0,
        metavar="INT",
        help="seed of the initialization of every fit (default: 0).",
    )
    parser.add_argument(
        "--n-init",
        type=_number_parser(int, 1, "a positive integer"),
        default=1,
        metavar="INT",
        help="initializations per fit; the best is kept (default: 1).",
    )
    parser.add_argument(
        "--max-iter",
        type=_number_parser(int, 1, "a positive integer"),
        default=100,
        metavar="INT",
        help="maximum number of EM iterations per initialization (default: 100).",
    )
    parser.add_argument(
        "--tol",
        type=_number_parser(float, 0.0, "a non-negative number"),
        default=1e-3,
        metavar="FLOAT",
        help="convergence threshold on the mean log-likelihood (default: 1e-3).",
    )
    parser.add_argument(
        "--reg-covar",
        type=_number_parser(float, 0.0, "a non-negative number"),
        default=1e-6,
        metavar="FLOAT",
        help="non-negative value added to the covariance diagonals (default: 1e-6).",
    )
    parser.add_argument(
        "--init-params",
        choices=INIT_PARAMS,
        default="kmeans",
        help="initialization method (default: kmeans).",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help=(
            "z-score every column before fitting (means are still printed in the "
            "original units); off by default."
        ),
    )
    parser.add_argument(
        "--labels",
        metavar="PATH",
        help=(
            "write the selected model's label (component index, from 0) of every "
            "data row to PATH, as a CSV with a header line and one column 'label'."
        ),
    )
    parser.add_argument(
        "--compare-sklearn",
        action="store_true",
        help=(
            "also fit sklearn.mixture.GaussianMixture with the same settings for "
            "every grid cell and compare fit times, mean log-likelihoods and labels "
            "(adjusted Rand index)."
        ),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {_package_version()}",
    )
    return parser


def _package_version():
    from . import __version__

    return __version__


def parse_args(argv=None):
    """Parse the command line; raise :class:`UsageError` for bad options."""
    options = build_parser().parse_args(argv)
    if options.csv is not None and options.dataset is not None:
        raise UsageError("give either a CSV file or --dataset, not both")
    if len(options.delimiter) != 1:
        raise UsageError(
            f"argument --delimiter: expected one character, got {options.delimiter!r}"
        )
    return options


# --------------------------------------------------------------------------------------
# Data loading
# --------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """The data to fit: a finite float matrix, its column names and its origin."""

    X: np.ndarray
    column_names: list
    source: str
    has_header: bool = False


def load_data(options):
    """The CSV file named on the command line, or a scikit-learn data set."""
    if options.csv is not None:
        return load_csv(options.csv, options.delimiter)
    return load_sklearn_dataset(options.dataset or "iris")


def load_sklearn_dataset(name):
    """One of the data sets shipped with scikit-learn (no download)."""
    bunch = DATASETS[name]()
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float64),
        column_names=[str(column) for column in bunch.feature_names],
        source=f"{name} (scikit-learn)",
    )


def load_csv(path, delimiter=","):
    """Read a CSV of numeric columns, with an optional header row.

    Blank lines are skipped. The first row is a header unless every cell parses as a
    number. Raises :class:`UsageError` for a missing or unreadable file, an empty
    file, ragged rows, non-numeric cells and NaN or infinite values.
    """
    rows = []  # (line number, cells) of every non-blank row
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=delimiter)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read {path!r}: {_describe(exc)}") from None
    if not rows:
        raise UsageError(f"{path!r} is empty")

    header = None
    first_line, first_row = rows[0]
    n_columns = len(first_row)
    if not all(_is_number(cell) for cell in first_row):
        header = rows.pop(0)[1]
        if not rows:
            raise UsageError(f"{path!r} has a header but no data rows")
    X = np.empty((len(rows), n_columns))
    for i, (line, row) in enumerate(rows):
        if len(row) != n_columns:
            raise UsageError(
                f"{path!r}, line {line}: {len(row)} field(s), expected "
                f"{n_columns} as on line {first_line}"
            )
        for j, cell in enumerate(row):
            X[i, j] = _parse_cell(cell, path, line, j + 1)

    if header is None:
        column_names = [f"x{j + 1}" for j in range(n_columns)]
    else:
        column_names = [name.strip() or f"x{j + 1}" for j, name in enumerate(header)]
    return Dataset(X, column_names, source=repr(path), has_header=header is not None)


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_cell(cell, path, line, column):
    try:
        value = float(cell)
    except ValueError:
        raise UsageError(
            f"{path!r}, line {line}, column {column}: non-numeric value {cell!r}"
        ) from None
    if not math.isfinite(value):
        raise UsageError(
            f"{path!r}, line {line}, column {column}: {cell.strip()!r} is not a "
            "finite number"
        )
    return value


def _describe(exc):
    """A one-line description of an exception, without its class for OSErrors."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


def check_enough_rows(dataset, components):
    """Raise :class:`UsageError` unless every grid cell has enough samples."""
    n_samples = dataset.X.shape[0]
    needed = max(2, max(components))
    if n_samples < needed:
        raise UsageError(
            f"{dataset.source} has {n_samples} data rows; at least {needed} are "
            f"needed (the largest n_components is {max(components)})"
        )


def standardize(X):
    """Z-scored columns, with the centre and scale to undo it.

    Constant columns are only centred, so that they stay finite.
    """
    center = X.mean(axis=0)
    centred = X - center
    # Dividing by the largest deviation first keeps the squares from overflowing.
    extent = np.abs(centred).max(axis=0)
    extent[extent == 0.0] = 1.0
    scale = (centred / extent).std(axis=0) * extent
    scale[scale == 0.0] = 1.0
    if not (np.all(np.isfinite(center)) and np.all(np.isfinite(scale))):
        raise UsageError("cannot standardize: the column values are too large")
    return centred / scale, center, scale


# --------------------------------------------------------------------------------------
# Settings of the grid
# --------------------------------------------------------------------------------------


def estimator_params(options):
    """The estimator keyword arguments shared by every grid cell."""
    return {
        "random_state": options.random_state,
        "n_init": options.n_init,
        "max_iter": options.max_iter,
        "tol": options.tol,
        "reg_covar": options.reg_covar,
        "init_params": options.init_params,
    }


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def _table(header, rows, left_first=False):
    """Text table of strings, right-aligned (optionally the first column left)."""
    table = [header, *rows]
    widths = [max(len(row[j]) for row in table) for j in range(len(header))]
    lines = []
    for row in table:
        cells = [cell.rjust(width) for cell, width in zip(row, widths, strict=True)]
        if left_first:
            cells[0] = row[0].ljust(widths[0])
        lines.append("  ".join(cells).rstrip())
    return lines


def format_data_summary(dataset, standardized):
    """One line describing the data that was fitted."""
    n_samples, n_features = dataset.X.shape
    details = []
    if dataset.has_header:
        details.append("header row read as column names")
    if standardized:
        details.append(
            "columns standardized; BIC and log-likelihoods are on that scale"
        )
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"Data: {dataset.source}, {n_samples} rows x {n_features} columns{suffix}"


def format_fit_summary(fits, elapsed, params):
    """Two lines: the size and time of the grid, and the shared settings."""
    components = {k for k, _ in fits}
    covariance_types = {name for _, name in fits}
    settings = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return [
        f"Fitted {len(fits)} models ({len(components)} n_components x "
        f"{len(covariance_types)} covariance types) in {elapsed:.2f} s",
        f"Settings: {settings}",
    ]


def format_bic_table(fits, components, covariance_types, best):
    """The BIC of every cell, rows n_components, columns covariance types."""

    def cell(fit):
        if fit.failed:
            return "failed  "
        marks = ("*" if fit is best else "") + ("" if fit.converged else "!")
        return f"{fit.bic:.2f}{marks:<2}"

    header = ["n_components", *(f"{name}  " for name in covariance_types)]
    rows = [
        [str(k), *(cell(fits[k, name]) for name in covariance_types)]
        for k in components
    ]
    lines = ["BIC (lower is better):", *_table(header, rows)]
    lines.append("  * lowest BIC")
    not_converged = sum(not f.failed and not f.converged for f in fits.values())
    if not_converged:
        lines.append(
            f"  ! did not converge within max_iter ({not_converged} of "
            f"{len(fits)} fits; ConvergenceWarning suppressed)"
        )
    lines.extend(_format_failures(fits))
    return lines


def _format_failures(fits):
    """Each distinct fit error once, with the cells it hit."""
    by_reason = {}
    for fit in fits.values():
        if fit.failed:
            by_reason.setdefault(fit.error, []).append(
                f"{fit.n_components}/{fit.covariance_type}"
            )
    lines = []
    for reason, cells in by_reason.items():
        lines.append(
            f"  failed: {len(cells)} of {len(fits)} fits "
            f"(n_components/covariance_type {', '.join(cells)}), because:"
        )
        lines.append(f"    {reason}")
    return lines


def format_selected(best, column_names, center=None, scale=None):
    """The selected model: its settings, scores, weights and means."""
    model = best.model
    code = get_covariance_model(best.covariance_type).mclust_code
    means = model.means_
    unit_note = ""
    if scale is not None:
        means = means * scale + center
        unit_note = " (means in original units)"
    lines = [
        "Selected model (lowest BIC):",
        f"  n_components         {best.n_components}",
        f"  covariance_type      {best.covariance_type} ({code})",
        f"  BIC                  {best.bic:.6f}",
        f"  mean log-likelihood  {best.mean_log_likelihood:.6f}",
        f"  converged            {'yes' if best.converged else 'no'} "
        f"after {model.n_iter_} iterations",
        f"Weights and means, one column per component{unit_note}:",
    ]
    header = ["component", *(str(k) for k in range(best.n_components))]
    rows = [["weight", *(f"{weight:.4f}" for weight in model.weights_)]]
    rows += [
        [name, *(f"{value:.5g}" for value in column)]
        for name, column in zip(column_names, means.T, strict=True)
    ]
    lines.extend("  " + line for line in _table(header, rows, left_first=True))
    return lines


def write_labels(path, labels):
    """Write one ``label`` column, with a header line, to ``path``."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["label"])
            writer.writerows([int(label)] for label in labels)
    except OSError as exc:
        raise UsageError(f"cannot write labels to {path!r}: {_describe(exc)}") from None


# --------------------------------------------------------------------------------------
# Comparison with scikit-learn
# --------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Our fit and sklearn's fit of one grid cell, and the agreement of labels."""

    ours: Fit
    theirs: Fit
    ari: float = math.nan


def compare_with_sklearn(X, fits, params):
    """Fit sklearn's GaussianMixture on every cell that we fitted."""
    # Imported here: only --compare-sklearn needs them.
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

    comparisons = []
    for (k, covariance_type), ours in fits.items():
        theirs = fit_one(SklearnGaussianMixture, X, k, covariance_type, params)
        comparison = Comparison(ours, theirs)
        if not ours.failed and not theirs.failed:
            comparison.ari = adjusted_rand_score(
                ours.model.labels_, theirs.model.predict(X)
            )
        comparisons.append(comparison)
    return comparisons


def format_comparison(comparisons, best):
    """Per-cell times, log-likelihoods and ARI, then a one-line summary."""

    def number(value, spec):
        return "failed" if math.isnan(value) else format(value, spec)

    header = [
        "n_components",
        "covariance",
        "time ours (s)",
        "time sklearn (s)",
        "ratio",
        "loglik ours",
        "loglik sklearn",
        "ARI",
    ]
    rows = []
    for c in comparisons:
        ours, theirs = c.ours, c.theirs
        ratio = theirs.seconds / ours.seconds if ours.seconds > 0 else math.nan
        rows.append(
            [
                str(ours.n_components) + ("*" if ours is best else " "),
                ours.covariance_type,
                number(ours.seconds, ".4f"),
                number(theirs.seconds, ".4f"),
                "-" if math.isnan(ratio) else f"{ratio:.2f}",
                number(ours.mean_log_likelihood, ".6f"),
                number(theirs.mean_log_likelihood, ".6f"),
                "-" if math.isnan(c.ari) else f"{c.ari:.4f}",
            ]
        )
    lines = [
        "Comparison with sklearn.mixture.GaussianMixture (same settings; "
        "ratio = sklearn time / our time; * selected):",
        *_table(header, rows),
        format_comparison_summary(comparisons),
    ]
    return lines


def format_comparison_summary(comparisons):
    """One line: total times, largest log-likelihood gap, smallest ARI."""
    both = [c for c in comparisons if not (c.ours.failed or c.theirs.failed)]
    if not both:
        return "Summary: no grid cell was fitted by both implementations."
    ours_time = sum(c.ours.seconds for c in both)
    theirs_time = sum(c.theirs.seconds for c in both)
    gap = max(
        abs(c.ours.mean_log_likelihood - c.theirs.mean_log_likelihood) for c in both
    )
    aris = [c.ari for c in both]
    return (
        f"Summary: {len(both)} of {len(comparisons)} cells fitted by both; "
        f"total fit time ours {ours_time:.3f} s, sklearn {theirs_time:.3f} s "
        f"(ratio {theirs_time / ours_time:.2f}); largest |loglik difference| "
        f"{gap:.2e}; ARI min {min(aris):.4f}, mean {np.mean(aris):.4f}"
    )


# --------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------


def main(argv=None):
    """Run the command-line job and return its exit status.

    Fits :class:`~sklearn_em_gmm.GaussianMixture` for every pair of
    ``--components`` and ``--covariance-types`` on a CSV file or a scikit-learn
    data set, prints the BIC table and the model with the lowest BIC, and, on
    request, writes that model's labels and compares every fit with
    :class:`sklearn.mixture.GaussianMixture`.

    Parameters
    ----------
    argv : list of str, default=None
        The command-line arguments without the program name; ``None`` reads
        ``sys.argv[1:]``. Run with ``["--help"]`` for the options.

    Returns
    -------
    status : int
        0 on success; 2 after printing one ``sklearn-em-gmm: error: ...`` line on
        stderr, for bad options, a bad data file, or a grid where every fit failed.

    Examples
    --------
    >>> from sklearn_em_gmm._cli import main
    >>> main(["--components", "2", "--covariance-types", "full"])  # doctest: +ELLIPSIS
    Data: iris (scikit-learn), 150 rows x 4 columns
    ...
    0
    """
    try:
        run(parse_args(argv))
    except UsageError as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # argparse exits after printing --help or --version
        return exc.code
    return 0


def run(options):
    """Load, fit, select and print, as ``options`` ask."""
    dataset = load_data(options)
    check_enough_rows(dataset, options.components)
    X, center, scale = dataset.X, None, None
    if options.standardize:
        X, center, scale = standardize(X)
    params = estimator_params(options)

    start = time.perf_counter()
    fits = fit_grid(
        GaussianMixture, X, options.components, options.covariance_types, params
    )
    elapsed = time.perf_counter() - start
    _point_to_standardize(fits)
    try:
        best = select_best(fits)
    except AllFitsFailedError as exc:
        raise UsageError(str(exc)) from None

    _print_lines(
        format_data_summary(dataset, options.standardize),
        *format_fit_summary(fits, elapsed, params),
        "",
        *format_bic_table(fits, options.components, options.covariance_types, best),
        "",
        *format_selected(best, dataset.column_names, center, scale),
    )
    if options.labels is not None:
        write_labels(options.labels, best.model.labels_)
        _print_lines(f"Labels of the {X.shape[0]} rows written to {options.labels!r}")
    if options.compare_sklearn:
        comparisons = compare_with_sklearn(X, fits, params)
        _print_lines("", *format_comparison(comparisons, best))


def _point_to_standardize(fits):
    """Name the option that scales the data in the library's advice to scale it."""
    for fit in fits.values():
        if fit.error == NON_FINITE_SCORE:
            fit.error += ", e.g. with --standardize"


def _print_lines(*lines):
    print("\n".join(lines), flush=True)
