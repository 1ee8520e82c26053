"""The command line's data: a CSV file or a bundled data set in, a float matrix out.

A CSV file's delimiter is detected, its header row recognized, its non-numeric
columns skipped (or columns chosen by ``--columns`` and ``--drop``). Bad files raise
:class:`UsageError` with the file, line and column at fault.
"""

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets

from ._errors import UsageError, describe

DATASETS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
DELIMITERS = (",", ";", "\t")
MISSING = frozenset({"", "na", "nan"})  # as R and pandas write a missing value
SNIFFED_LINES = 20


@dataclass
class Dataset:
    """The data to fit: a finite float matrix, its column names and its origin."""

    X: np.ndarray
    column_names: list
    source: str
    has_header: bool = False
    delimiter: str = ","
    skipped: list = field(default_factory=list)  # names of non-numeric columns


@dataclass(eq=False)  # columns are told apart by identity
class _Column:
    """One CSV column: its name and its cells, with the line of each."""

    name: str
    cells: list
    lines: list

    def first_non_number(self):
        """``(line, cell)`` of the first cell that is neither missing nor a number."""
        for line, cell in zip(self.lines, self.cells, strict=True):
            if not _is_missing(cell) and not _is_number(cell):
                return line, cell
        return None

    @property
    def numeric(self):
        """Every cell that is not missing is a number, and there is one."""
        return self.first_non_number() is None and not all(map(_is_missing, self.cells))


def load_data(options):
    """The CSV file named on the command line, or a scikit-learn data set."""
    if options.csv is not None:
        return load_csv(options.csv, options.delimiter, options.columns, options.drop)
    return load_sklearn_dataset(options.dataset or "iris")


def load_sklearn_dataset(name):
    """One of the data sets shipped with scikit-learn (no download)."""
    bunch = DATASETS[name]()
    return Dataset(
        X=np.asarray(bunch.data, dtype=np.float64),
        column_names=[str(column) for column in bunch.feature_names],
        source=f"{name} (scikit-learn)",
    )


def load_csv(path, delimiter=None, columns=None, drop=None):
    """Read the numeric columns of a CSV file, with an optional header row.

    Blank lines are skipped. ``delimiter`` None detects it among ``,``, ``;`` and
    tab. The first row is a header when it has a name over a numeric column (or
    is the only row). ``columns`` or ``drop`` (header names or 1-based indices)
    choose the columns; otherwise the non-numeric ones are skipped and named in
    ``skipped``. Raises :class:`UsageError` for a missing or unreadable file, an
    empty file, ragged rows, a chosen non-numeric column, missing values and
    infinite values.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            text = file.read()
        if delimiter is None:
            delimiter = detect_delimiter(text)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read {path!r}: {describe(exc)}") from None
    if not rows:
        raise UsageError(f"{path!r} is empty")
    first_line, first_row = rows[0]
    for line, row in rows:
        if len(row) != len(first_row):
            raise UsageError(
                f"{path!r}, line {line}: {len(row)} field(s), expected "
                f"{len(first_row)} as on line {first_line}"
            )

    has_header = _is_header(first_row, [row for _, row in rows[1:]])
    if has_header:
        rows.pop(0)
        if not rows:
            raise UsageError(f"{path!r} has a header but no data rows")
        names = [name.strip() or f"x{j + 1}" for j, name in enumerate(first_row)]
    else:
        names = [f"x{j + 1}" for j in range(len(first_row))]
    lines = [line for line, _ in rows]
    table = [
        _Column(name, [row[j] for _, row in rows], lines)
        for j, name in enumerate(names)
    ]

    chosen, skipped = _choose_columns(table, columns, drop, path)
    X = np.column_stack([_parse_column(column, path) for column in chosen])
    return Dataset(
        X,
        [column.name for column in chosen],
        source=repr(path),
        has_header=has_header,
        delimiter=delimiter,
        skipped=[column.name for column in skipped],
    )


def detect_delimiter(text):
    """The delimiter among ``,``, ``;`` and tab that splits the first lines into
    the same number (at least 2) of fields, the most fields winning; ``,`` if none
    does."""
    sample = [line for line in text.splitlines() if line.strip()][:SNIFFED_LINES]
    best, most = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(counts) == 1 and (n_fields := counts.pop()) > most:
            best, most = delimiter, n_fields
    return best


def _is_header(first_row, body):
    """A header names the columns: some cell of it is text over numeric cells."""
    if not body:
        return not all(map(_is_number, first_row))
    for j, cell in enumerate(first_row):
        column = [row[j] for row in body]
        if (
            not _is_missing(cell)
            and not _is_number(cell)
            and all(_is_missing(c) or _is_number(c) for c in column)
            and not all(map(_is_missing, column))
        ):
            return True
    return False


def _choose_columns(table, columns, drop, path):
    """The columns to fit and the non-numeric ones skipped."""
    if columns is not None:
        chosen = []
        for key in columns:
            column = _find_column(table, key, "--columns")
            _check_numeric(column, path)
            if column not in chosen:
                chosen.append(column)
        return chosen, []
    dropped = [_find_column(table, key, "--drop") for key in drop or ()]
    kept = [column for column in table if column not in dropped]
    if not kept:
        raise UsageError("argument --drop: no column left to fit")
    chosen = [column for column in kept if column.numeric]
    skipped = [column for column in kept if not column.numeric]
    if not chosen:
        names = ", ".join(repr(column.name) for column in skipped)
        raise UsageError(
            f"{path!r} has no numeric column to fit (not numeric: {names})"
        )
    return chosen, skipped


def _find_column(table, key, option):
    """The column named ``key``, else the one at 1-based index ``key``."""
    for column in table:
        if column.name == key:
            return column
    if key.isdigit() and 1 <= int(key) <= len(table):
        return table[int(key) - 1]
    names = ", ".join(repr(column.name) for column in table)
    raise UsageError(
        f"argument {option}: no column {key!r}; the columns are {names} "
        f"(or 1 to {len(table)})"
    )


def _check_numeric(column, path):
    """Raise :class:`UsageError` naming the first cell that is not a number."""
    found = column.first_non_number()
    if found is not None:
        line, cell = found
        raise UsageError(
            f"{path!r}, line {line}, column {column.name!r}: non-numeric value "
            f"{cell!r}; only numeric columns can be fitted"
        )
    if not column.numeric:
        raise UsageError(f"{path!r}, column {column.name!r}: every value is missing")


def _parse_column(column, path):
    """The column as floats; a missing or infinite value raises."""
    values = np.empty(len(column.cells))
    for i, (line, cell) in enumerate(zip(column.lines, column.cells, strict=True)):
        where = f"{path!r}, line {line}, column {column.name!r}"
        if _is_missing(cell):
            raise UsageError(
                f"{where}: missing value; drop or fill the rows with missing values "
                "first (this tool does not impute)"
            )
        values[i] = float(cell)
        if not math.isfinite(values[i]):
            raise UsageError(f"{where}: {cell.strip()!r} is not a finite number")
    return values


def _is_missing(cell):
    return cell.strip().lower() in MISSING


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


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
