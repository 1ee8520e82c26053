"""The command line's options: the parser, its value types, and :func:`parse_args`.

The covariance models come from the covariance registry, so a model registered later
is accepted, named in the error for an unknown model, and listed in ``--help``. The
defaults are :class:`~sklearn_em_gmm.GaussianMixtureIC`'s, which are mclust's.
"""

import argparse
import math

from ..covariance import canonical_models
from ..covariance._base import MCLUST_CODES
from ..init import INIT_METHODS
from ._data import DATASETS
from ._errors import UsageError

PROG = "sklearn-em-gmm"
CRITERIA = ("bic", "icl", "aic")
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


def mclust_ordered_models():
    """Every registered covariance model once, in mclust's order; models
    registered from outside come last, in registration order."""
    return sorted(
        canonical_models(),
        key=lambda model: (
            MCLUST_CODES.index(model.mclust_code)
            if model.mclust_code in MCLUST_CODES
            else len(MCLUST_CODES)
        ),
    )


def parse_models(text):
    """Parse ``"all"``, mclust codes ``"VVV,VEV"`` or sklearn names ``"full,diag"``
    into mclust codes, in the order given (``all``: mclust's order).

    Any registered covariance model is accepted, by either name, in any case.
    """
    models = mclust_ordered_models()
    if text.strip().lower() == "all":
        return [model.mclust_code for model in models]
    by_key = {}
    for model in models:
        by_key[model.name.lower()] = model.mclust_code
        by_key[model.mclust_code.lower()] = model.mclust_code
    codes = []
    for part in text.split(","):
        code = by_key.get(part.strip().lower())
        if code is None:
            raise argparse.ArgumentTypeError(
                f"unknown model {part.strip()!r}; choose from 'all', "
                f"{', '.join(_model_names(models))}"
            )
        if code not in codes:
            codes.append(code)
    return codes


def _model_names(models):
    """``['EII', 'VII (spherical)', ...]``: each code, with its sklearn name."""
    return [
        model.mclust_code
        if model.name == model.mclust_code
        else f"{model.mclust_code} ({model.name})"
        for model in models
    ]


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


def _n_jobs(text):
    """joblib's ``n_jobs``: a non-zero integer (-1 is every processor)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected a non-zero integer"
        )
    return value


def _column_list(text):
    """``"a,b,3"``: header names or 1-based indices, split but not resolved."""
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected comma-separated column names or "
            "1-based indices"
        )
    return names


def build_parser():
    """The command-line parser; ``--help`` documents every option."""
    parser = _ArgumentParser(
        prog=PROG,
        description=(
            "Choose a Gaussian mixture for a data set as R mclust's Mclust() does: "
            "fit every covariance model with every number of components, print the "
            "criterion of each (BIC by default), and report the best model."
        ),
        epilog=(
            f"Models: {', '.join(_model_names(mclust_ordered_models()))}. "
            "Exit status: 0 on success, 2 on bad options, a bad data file, or when "
            "every model of the grid fails to fit."
        ),
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "csv",
        nargs="?",
        metavar="CSV",
        help=(
            "CSV file, one row per sample. A first row with names over numeric "
            "columns is read as a header. Non-numeric columns are skipped; empty "
            "cells and NA/NaN are missing values, an error. Without a file, the "
            "--dataset that ships with scikit-learn is used."
        ),
    )
    data.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        help="scikit-learn data set to use when no CSV is given (default: iris).",
    )
    data.add_argument(
        "--delimiter",
        metavar="CHAR",
        help=(
            "field delimiter of the CSV file, '\\t' for a tab (default: detected "
            "among , ; and tab)."
        ),
    )
    columns = data.add_mutually_exclusive_group()
    columns.add_argument(
        "--columns",
        type=_column_list,
        metavar="LIST",
        help="columns to fit, comma-separated header names or 1-based indices.",
    )
    columns.add_argument(
        "--drop",
        type=_column_list,
        metavar="LIST",
        help="columns not to fit, comma-separated header names or 1-based indices.",
    )
    data.add_argument(
        "--standardize",
        action="store_true",
        help=(
            "z-score every column before fitting (means are still printed in the "
            "original units); off by default."
        ),
    )

    grid = parser.add_argument_group("model selection")
    grid.add_argument(
        "--components",
        type=parse_components,
        default=list(range(1, 10)),
        metavar="LIST",
        help="numbers of components to try, e.g. '1-9' or '2,3,5' (default: 1-9).",
    )
    grid.add_argument(
        "--models",
        "--covariance-types",
        dest="models",
        type=parse_models,
        default=parse_models("all"),
        metavar="LIST",
        help=(
            "covariance models to try: 'all', or comma-separated mclust codes or "
            "sklearn names in any case (default: all)."
        ),
    )
    grid.add_argument(
        "--criterion",
        choices=CRITERIA,
        default="bic",
        help="the criterion the best model minimizes (default: bic).",
    )

    fit = parser.add_argument_group("fitting each model")
    fit.add_argument(
        "--init-params",
        choices=INIT_PARAMS,
        default="hc",
        help="initialization method; hc is mclust's hierarchical start (default: hc).",
    )
    fit.add_argument(
        "--tol",
        type=_number_parser(float, 0.0, "a non-negative number"),
        default=1e-5,
        metavar="FLOAT",
        help="convergence threshold of the stopping rule (default: 1e-5).",
    )
    fit.add_argument(
        "--reg-covar",
        type=_number_parser(float, 0.0, "a non-negative number"),
        default=0.0,
        metavar="FLOAT",
        help="non-negative value added to the covariance diagonals (default: 0).",
    )
    fit.add_argument(
        "--max-iter",
        type=_number_parser(int, 1, "a positive integer"),
        default=1000,
        metavar="INT",
        help="maximum number of EM iterations per initialization (default: 1000).",
    )
    fit.add_argument(
        "--stopping-rule",
        choices=("mclust", "sklearn"),
        default="mclust",
        help=(
            "mclust's relative change of the log-likelihood, or sklearn's absolute "
            "change of its mean (default: mclust)."
        ),
    )
    fit.add_argument(
        "--on-degenerate",
        choices=("raise", "recover"),
        default="raise",
        help=(
            "a singular covariance or a vanished component: 'raise' marks the model "
            "failed, 'recover' repairs it (default: raise)."
        ),
    )
    fit.add_argument(
        "--n-init",
        type=_number_parser(int, 1, "a positive integer"),
        default=1,
        metavar="INT",
        help="initializations per model; the best is kept (default: 1).",
    )
    fit.add_argument(
        "--random-state",
        type=_number_parser(int, 0, "an integer in [0, 2**32 - 1]", 2**32 - 1),
        default=0,
        metavar="INT",
        help="seed of the initializations (default: 0).",
    )
    fit.add_argument(
        "--n-jobs",
        type=_n_jobs,
        metavar="INT",
        help="models fitted in parallel; -1 is every processor (default: 1).",
    )

    outputs = parser.add_argument_group("outputs (paths are checked before fitting)")
    outputs.add_argument(
        "--labels",
        metavar="PATH",
        help=(
            "write the best model's label (component index, from 0) of every data "
            "row to PATH, as a CSV with one column 'label'."
        ),
    )
    outputs.add_argument(
        "--proba",
        metavar="PATH",
        help=(
            "write the best model's responsibilities of every data row to PATH, as "
            "a CSV with columns p0, p1, ..."
        ),
    )
    outputs.add_argument(
        "--save",
        metavar="PATH",
        help=(
            "write the best model to PATH as JSON (GaussianMixture.to_dict; "
            "GaussianMixture.from_dict reads it back)."
        ),
    )
    outputs.add_argument(
        "--plot",
        metavar="PATH",
        help=(
            "save the criterion against n_components and the classification on the "
            "first two columns as an image, e.g. model.png (needs matplotlib)."
        ),
    )
    parser.add_argument(
        "--compare-sklearn",
        action="store_true",
        help=(
            "refit the full, tied, diag and spherical models (VVV, EEE, VVI, VII) "
            "with sklearn_em_gmm and with sklearn.mixture.GaussianMixture and compare "
            "fit times, mean log-likelihoods and labels (adjusted Rand index); needs "
            "--stopping-rule sklearn and an --init-params sklearn has."
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
    if options.csv is None and (options.columns or options.drop):
        raise UsageError("--columns and --drop apply to a CSV file")
    if options.delimiter is not None:
        # the shell makes a tab hard to type: accept its escape
        options.delimiter = options.delimiter.replace("\\t", "\t")
        if len(options.delimiter) != 1:
            raise UsageError(
                "argument --delimiter: expected one character, got "
                f"{options.delimiter!r}"
            )
    return options


def search_params(options):
    """The :class:`~sklearn_em_gmm.GaussianMixtureIC` keyword arguments."""
    return {
        "covariance_type": options.models,
        "criterion": options.criterion,
        "init_params": options.init_params,
        "tol": options.tol,
        "reg_covar": options.reg_covar,
        "max_iter": options.max_iter,
        "n_init": options.n_init,
        "random_state": options.random_state,
        "on_degenerate": options.on_degenerate,
        "stopping_rule": options.stopping_rule,
        "n_jobs": options.n_jobs,
    }
