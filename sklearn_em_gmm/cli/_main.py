"""The command-line job: parse, check, load, fit the grid, print, write.

:func:`main` turns every :class:`UsageError` into one line on stderr and exit
status 2; :func:`run` is the job itself.
"""

import sys
import time
import warnings

from .._ic import GaussianMixtureIC
from .._recovery import DegenerateComponentWarning
from ._compare import check_comparable, compare_with_sklearn, format_comparison
from ._data import check_enough_rows, load_data, standardize
from ._errors import UsageError, describe
from ._outputs import (
    check_outputs,
    write_labels,
    write_model,
    write_plot,
    write_proba,
)
from ._parser import PROG, parse_args, search_params
from ._progress import Progress
from ._report import (
    format_criterion_table,
    format_data_summary,
    format_fit_summary,
    format_selected,
)

EXIT_USAGE = 2


def main(argv=None):
    """Run the command-line job and return its exit status.

    Fits :class:`~sklearn_em_gmm.GaussianMixtureIC` over ``--components`` and
    ``--models`` (by default mclust's grid: every covariance model, 1 to 9
    components) on a CSV file or a scikit-learn data set, prints the criterion
    table and the best model, and, on request, writes that model's labels,
    responsibilities, JSON description and plots, and compares sklearn's models
    with :class:`sklearn.mixture.GaussianMixture`.

    Parameters
    ----------
    argv : list of str, default=None
        The command-line arguments without the program name; ``None`` reads
        ``sys.argv[1:]``. Run with ``["--help"]`` for the options.

    Returns
    -------
    status : int
        0 on success; 2 after printing one ``sklearn-em-gmm: error: ...`` line on
        stderr, for bad options, a bad data file, an output that cannot be
        written, or a grid where every fit failed.

    Examples
    --------
    >>> from sklearn_em_gmm.cli import main
    >>> main(["--components", "2", "--models", "VVV"])  # doctest: +ELLIPSIS
    Data: iris (scikit-learn), 150 rows x 4 columns
    ...
    Selected model (lowest BIC):
      n_components         2
      covariance_type      VVV (full)
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
    """Check, load, fit, print and write, as ``options`` ask."""
    # Everything that can be checked without the fit is, so a long fit is not wasted.
    check_comparable(options)
    check_outputs(options)
    dataset = load_data(options)
    if dataset.skipped:
        names = ", ".join(repr(name) for name in dataset.skipped)
        print(
            f"{PROG}: skipped non-numeric column(s): {names} "
            "(use --columns or --drop to choose)",
            file=sys.stderr,
        )
    check_enough_rows(dataset, options.components)
    X, center, scale = dataset.X, None, None
    if options.standardize:
        X, center, scale = standardize(X)

    search = GaussianMixtureIC(options.components, **search_params(options))
    progress = Progress(sys.stderr)
    # Each repair warns with a paragraph; the report counts them on one line instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateComponentWarning)
        try:
            search._fit(X, progress=progress)
        except ValueError as exc:  # every cell failed, or the data were refused
            raise UsageError(describe(exc)) from None
        finally:
            progress.finish()
    for warning in caught:
        if not issubclass(warning.category, DegenerateComponentWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    repairs = sum(issubclass(w.category, DegenerateComponentWarning) for w in caught)
    elapsed = time.monotonic() - progress.start

    _print_lines(
        format_data_summary(dataset, options.standardize),
        *format_fit_summary(search, elapsed),
        "",
        *format_criterion_table(search, repairs),
        "",
        *format_selected(search, X, dataset.column_names, center, scale),
    )
    _write_outputs(options, search, X, dataset.column_names)
    if options.compare_sklearn:
        comparisons = compare_with_sklearn(X, options)
        _print_lines("", *format_comparison(comparisons, search, options.models))


def _write_outputs(options, search, X, column_names):
    """Write the files asked for, one line each on stdout."""
    scaled = " (fitted on the standardized columns)" if options.standardize else ""
    if options.labels is not None:
        write_labels(options.labels, search.labels_)
        _print_lines(f"Labels of the {len(X)} rows written to {options.labels!r}")
    if options.proba is not None:
        write_proba(options.proba, search.predict_proba(X))
        _print_lines(
            f"Responsibilities of the {len(X)} rows written to {options.proba!r}"
        )
    if options.save is not None:
        write_model(options.save, search.best_estimator_)
        _print_lines(
            f"Model written to {options.save!r}{scaled}; "
            "GaussianMixture.from_dict(json.load(file)) reads it back"
        )
    if options.plot is not None:
        write_plot(options.plot, search, X, column_names)
        _print_lines(f"Plot written to {options.plot!r}{scaled}")


def _print_lines(*lines):
    print("\n".join(lines), flush=True)
