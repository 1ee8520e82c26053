"""The command line's data: a CSV file or a bundled data set in, labels out.

Bad files raise :class:`UsageError` with the file, line and column at fault.
"""

import csv
import math
from dataclasses import dataclass

import numpy as np
from sklearn import datasets

from ._errors import UsageError, describe

DATASETS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


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
        raise UsageError(f"cannot read {path!r}: {describe(exc)}") from None
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


def write_labels(path, labels):
    """Write one ``label`` column, with a header line, to ``path``."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["label"])
            writer.writerows([int(label)] for label in labels)
    except OSError as exc:
        raise UsageError(f"cannot write labels to {path!r}: {describe(exc)}") from None
