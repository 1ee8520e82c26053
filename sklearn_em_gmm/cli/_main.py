"""The command-line job: parse, load, fit the grid, select, print.

:func:`main` turns every :class:`UsageError` into one line on stderr and exit
status 2; :func:`run` is the job itself.
"""

import sys
import time

from .._estimator import GaussianMixture
from ..selection import NON_FINITE_SCORE, AllFitsFailedError, fit_grid, select_best
from ._compare import compare_with_sklearn, format_comparison
from ._data import check_enough_rows, load_data, standardize, write_labels
from ._errors import UsageError
from ._parser import PROG, estimator_params, parse_args
from ._report import (
    format_bic_table,
    format_data_summary,
    format_fit_summary,
    format_selected,
)

EXIT_USAGE = 2


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
    >>> from sklearn_em_gmm.cli import main
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
