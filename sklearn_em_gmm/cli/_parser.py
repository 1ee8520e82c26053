"""The command line's options: the parser, its value types, and :func:`parse_args`.

The covariance types come from the covariance registry, so a model registered later
is accepted, named in the error for an unknown type, and listed in ``--help``. Only
the default grid is a fixed list: scikit-learn's four types.
"""

import argparse
import math

from ..covariance import canonical_models, covariance_type_names
from ..init import INIT_METHODS
from ._data import DATASETS
from ._errors import UsageError

PROG = "sklearn-em-gmm"
DEFAULT_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_PARAMS = tuple(INIT_METHODS)
MAX_COMPONENTS = 1000  # keeps a typo such as '1-100000' from building a huge grid


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
    """Parse ``"full,diag"`` or mclust codes ``"VVV,VVI"`` into sklearn names.

    Any registered covariance model is accepted, by either name, in any case.
    """
    models = canonical_models()
    by_key = {}
    for model in models:
        by_key[model.name.lower()] = model.name
        by_key[model.mclust_code.lower()] = model.name
    names = []
    for part in text.split(","):
        name = by_key.get(part.strip().lower())
        if name is None:
            raise argparse.ArgumentTypeError(
                f"unknown covariance type {part.strip()!r}; choose from "
                f"{', '.join(covariance_type_names())}"
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
    covariance_types = ", ".join(
        model.name
        if model.name == model.mclust_code
        else f"{model.name} ({model.mclust_code})"
        for model in canonical_models()
    )
    parser = _ArgumentParser(
        prog=PROG,
        description=(
            "Fit Gaussian mixtures over a grid of numbers of components and "
            "covariance types, print the BIC of each, and report the model with the "
            "lowest BIC."
        ),
        epilog=(
            f"Covariance types: {covariance_types}. "
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
        default=list(DEFAULT_COVARIANCE_TYPES),
        metavar="LIST",
        help=(
            "covariance types to try, comma-separated sklearn names or mclust codes "
            f"in any case (default: {','.join(DEFAULT_COVARIANCE_TYPES)})."
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
    from .. import __version__

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
