"""The command line's output files: checked before fitting, written after.

``--labels`` and ``--proba`` are CSV files, ``--save`` is the best model's
:meth:`~sklearn_em_gmm.GaussianMixture.to_dict` as JSON, ``--plot`` an image.
"""

import csv
import json
import os

from ._errors import UsageError, describe

OUTPUT_OPTIONS = ("labels", "proba", "save", "plot")
PLOT_NEEDS = "--plot needs matplotlib: pip install 'sklearn-em-gmm[plot]'"


def check_outputs(options):
    """Raise :class:`UsageError` for an output that could not be written, so that
    a long fit is not wasted: a missing or read-only directory, a directory given
    as the path, one path given to two options, or ``--plot`` without matplotlib.
    """
    seen = {}
    for name in OUTPUT_OPTIONS:
        path = getattr(options, name)
        if path is None:
            continue
        option = f"--{name}"
        directory = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            problem = "it is a directory"
        elif not os.path.isdir(directory):
            problem = f"no directory {directory!r}"
        elif not os.access(directory, os.W_OK | os.X_OK) or (
            os.path.exists(path) and not os.access(path, os.W_OK)
        ):
            problem = "permission denied"
        elif os.path.abspath(path) in seen:
            problem = f"also given to {seen[os.path.abspath(path)]}"
        else:
            seen[os.path.abspath(path)] = option
            continue
        raise UsageError(f"argument {option}: cannot write {path!r}: {problem}")
    if options.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError(PLOT_NEEDS) from None


def write_labels(path, labels):
    """Write one ``label`` column, with a header line, to ``path``."""
    _write_csv(path, ["label"], ([int(label)] for label in labels), "labels")


def write_proba(path, proba):
    """Write the responsibilities, columns ``p0, p1, ...``, to ``path``."""
    header = [f"p{k}" for k in range(proba.shape[1])]
    # csv writes floats by repr, so the values read back exactly
    _write_csv(path, header, proba.tolist(), "responsibilities")


def write_model(path, model):
    """Write ``model.to_dict(json_compatible=True)`` as JSON to ``path``."""
    try:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(model.to_dict(json_compatible=True), file)
    except OSError as exc:
        raise UsageError(
            f"cannot write the model to {path!r}: {describe(exc)}"
        ) from None


def write_plot(path, search, X, column_names):
    """Save the criterion plot, and the classification on the first two columns
    beside it (when there are two), as one figure."""
    import matplotlib

    matplotlib.use("Agg")  # a file, not a window: no display needed
    import matplotlib.pyplot as plt

    from ..plot import plot_classification, plot_criterion

    n_plots = 2 if X.shape[1] >= 2 else 1
    figure, axes = plt.subplots(1, n_plots, figsize=(6 * n_plots, 5), squeeze=False)
    plot_criterion(search, ax=axes[0, 0])
    if n_plots == 2:
        ax = plot_classification(search, X, features=(0, 1), ax=axes[0, 1])
        ax.set_xlabel(column_names[0])
        ax.set_ylabel(column_names[1])
    figure.tight_layout()
    try:
        figure.savefig(path)
    except (OSError, ValueError) as exc:  # ValueError: an unknown image format
        raise UsageError(
            f"cannot write the plot to {path!r}: {describe(exc)}"
        ) from None
    finally:
        plt.close(figure)


def _write_csv(path, header, rows, what):
    try:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise UsageError(f"cannot write {what} to {path!r}: {describe(exc)}") from None
