"""Loaders for the R mclust reference data in ``tests/data/mclust``.

The files are produced by ``Rscript tests/data/mclust/regenerate.R`` (R 4.2.2,
mclust 6.0.0); ``tests/data/mclust/README.md`` documents every file and column.
Only numpy, csv and json are used here.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parent / "data" / "mclust"

DATASETS = ("faithful", "iris", "diabetes", "banknote", "thyroid", "wreath")
"""Names of the reference data sets, in the order the R script processes them."""

MODELS = (
    "EII",
    "VII",
    "EEI",
    "VEI",
    "EVI",
    "VVI",
    "EEE",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "VVV",
)
"""mclust's 14 covariance models, in ``mclust.options("emModelNames")`` order."""

NO_PRIOR_MODELS = ("VEE", "EVE", "VVE", "EVV")
"""Models for which mclust 6.0.0 refuses a conjugate prior."""

BIC_KINDS = ("default", "tight", "prior")

_TEXT_COLUMNS = frozenset({"dataset", "model", "method", "status"})
_INT_COLUMNS = frozenset(
    {"G", "n", "d", "npar", "n_iter", "inner_iter", "return_code"}
    | {"nVarParams", "nMclustParams"}
)
_BOOL_COLUMNS = frozenset({"converged", "stable"})


def _check_dataset(name):
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; expected one of {DATASETS}")


def _read_csv(filename):
    with open(DATA_DIR / filename, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    return header, rows


def _numeric_csv(filename, dtype=float):
    header, rows = _read_csv(filename)
    # float() parses with correct rounding, so values are R's doubles exactly
    values = [[float(value) for value in row] for row in rows]
    array = np.array(values, dtype=float).reshape(len(rows), len(header))
    return header, array.astype(dtype)


def _convert(column, value):
    if column in _TEXT_COLUMNS:
        return value
    if value == "":
        return None
    if column in _INT_COLUMNS:
        return int(value)
    if column in _BOOL_COLUMNS:
        return value == "1"
    return float(value)


def _records(filename):
    header, rows = _read_csv(filename)
    return [
        {
            column: _convert(column, value)
            for column, value in zip(header, row, strict=True)
        }
        for row in rows
    ]


@cache
def _json(filename):
    with open(DATA_DIR / filename) as handle:
        return json.load(handle)


def load_dataset(name):
    """Return a reference data set exactly as R holds it.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The numeric columns, bit-identical to R's doubles.
    """
    _check_dataset(name)
    return _numeric_csv(f"data_{name}.csv")[1]


def dataset_columns(name):
    """Return the column names of a reference data set (R's names)."""
    _check_dataset(name)
    return _read_csv(f"data_{name}.csv")[0]


def bic_table(kind):
    """Return one of the BIC tables as a list of records.

    Parameters
    ----------
    kind : {'default', 'tight', 'prior'}
        ``'default'``: ``mclustBIC(data, G = 1:9)`` with all defaults;
        ``'tight'``: EM from the same hc start run to tight tolerances;
        ``'prior'``: as ``'tight'`` with ``prior = priorControl()``.

    Returns
    -------
    records : list of dict
        One dict per (dataset, model, G) with the CSV's columns. Text columns
        are ``str``, counts ``int``, flags ``bool``, the rest ``float``; a cell
        left empty by R (e.g. ``bic`` where mclust gives NA) is ``None``.
        ``bic`` has mclust's sign: ``2 * loglik - npar * log(n)``, larger is
        better.
    """
    if kind not in BIC_KINDS:
        raise ValueError(f"kind must be one of {BIC_KINDS}, got {kind!r}")
    return _records(f"bic_{kind}.csv")


def bic_lookup(kind):
    """Return :func:`bic_table` keyed by ``(dataset, model, G)``."""
    return {(r["dataset"], r["model"], r["G"]): r for r in bic_table(kind)}


def hc_merges(name):
    """Return the merge pairs of ``hc(data, "VVV", use = "SVD")``.

    Returns
    -------
    merges : ndarray of shape (n_samples - 1, 2), dtype int
        Row ``k`` is stage ``k + 1``: clusters labelled ``i < j`` (1-based) are
        merged and the result keeps label ``i``. A cluster's label is the
        smallest 1-based row index in it (the agglomeration starts from
        singletons). mclust returns the transpose, a 2 x (n - 1) matrix.
    """
    _check_dataset(name)
    return _numeric_csv(f"hc_{name}_merge.csv", dtype=int)[1]


def hc_partitions(name):
    """Return ``hclass(tree, 1:9)`` for the mclust default hc tree.

    Returns
    -------
    labels : ndarray of shape (n_samples, 9), dtype int
        Column ``G - 1`` is the partition into ``G`` clusters, labelled
        ``1..G`` in order of first appearance (row 0 is always in cluster 1).
        ``z = one_hot(labels[:, G - 1] - 1)`` is the start mclustBIC uses.
    """
    _check_dataset(name)
    return _numeric_csv(f"hc_{name}_classes.csv", dtype=int)[1]


def hc_transformed(name):
    """Return the data that hc actually clusters for ``use = "SVD"``.

    Returns
    -------
    Z : ndarray of shape (n_samples, n_features)
        ``Z = S V diag(1 / sqrt(s))`` where ``S`` is the data centred and
        scaled by column standard deviations (``n - 1`` denominator) and
        ``S = U diag(s) V'`` its thin SVD; equivalently ``Z = U diag(sqrt(s))``.
    """
    _check_dataset(name)
    return _numeric_csv(f"hc_{name}_svd.csv")[1]


def nparams():
    """Return ``nVarParams`` / ``nMclustParams`` records (model, d, G)."""
    return _records("nparams.csv")


def default_prior(name, model, n_components):
    """Return ``defaultPrior(data, G, modelName)`` for G in {1, 3, 9}.

    Returns
    -------
    prior : dict
        Keys ``shrinkage``, ``dof`` (floats), ``mean`` (ndarray of shape
        (n_features,)) and ``scale`` (float for spherical and diagonal models,
        ndarray of shape (n_features, n_features) otherwise).
    """
    _check_dataset(name)
    entry = _json("default_prior.json")[name][model][str(n_components)]
    return {
        "shrinkage": entry["shrinkage"],
        "dof": entry["dof"],
        "mean": np.asarray(entry["mean"], dtype=float),
        "scale": (
            np.asarray(entry["scale"], dtype=float)
            if isinstance(entry["scale"], list)
            else entry["scale"]
        ),
    }


def _as_arrays(entry):
    out = dict(entry)
    for key in ("pro", "mean", "sigma", "scale", "shape", "orientation"):
        if key in out:
            out[key] = np.asarray(out[key], dtype=float)
    return out


def one_mstep(model, variant="none"):
    """Return mclust's single M-step on iris from the hc G = 3 partition.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    variant : {'none', 'none_tight_inner', 'prior', 'prior_tight_inner'}
        Without or with ``priorControl()``; ``*_tight_inner`` ran iterative
        M-steps to an inner tolerance of 1e-13 instead of mclust's default
        ``sqrt(eps)``.

    Returns
    -------
    result : dict
        ``available`` (False where mclust refuses a prior), ``message``,
        ``return_code``, ``inner_iter``, and when available ``pro`` (G,),
        ``mean`` (G, d), ``sigma`` (G, d, d) and, where mclust reports a
        decomposition, ``scale``, ``shape`` and ``orientation`` as arrays.
    """
    return _as_arrays(_json("one_mstep.json")["models"][model][variant])


def one_mstep_partition():
    """Return the iris hc partition (1-based labels) used by :func:`one_mstep`."""
    return np.asarray(_json("one_mstep.json")["hc_partition"], dtype=int)


def tight_params():
    """Return the fitted parameters recorded for a few tight / prior cells.

    Returns
    -------
    cells : list of dict
        Each with ``kind``, ``dataset``, ``model``, ``G``, ``loglik``,
        ``n_iter`` and arrays ``pro`` (G,), ``mean`` (G, d), ``sigma`` (G, d, d)
        (plus ``scale``, ``shape``, ``orientation`` where mclust gives them).
    """
    return [_as_arrays(cell) for cell in _json("params_tight.json")]


def meta():
    """Return ``meta.json``: versions, controls, published numbers, ties, hc."""
    return _json("meta.json")


def run_r(script, timeout=600):
    """Run an R script with ``Rscript`` and return its standard output.

    Parameters
    ----------
    script : str
        R code; ``library(mclust)`` is not loaded automatically.
    timeout : float, default=600
        Seconds before the run is abandoned.

    Returns
    -------
    stdout : str

    Raises
    ------
    pytest.skip.Exception
        If ``Rscript`` is not on the PATH.
    RuntimeError
        If R exits with a non-zero status.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(script)
        path = Path(handle.name)
    try:
        done = subprocess.run(
            [rscript, "--vanilla", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        path.unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"Rscript failed with status {done.returncode}:\n{done.stderr}"
        )
    return done.stdout
