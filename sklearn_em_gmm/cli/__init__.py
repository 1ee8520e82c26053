"""Command line: choose a Gaussian mixture for a data set by BIC.

``python -m sklearn_em_gmm [data.csv]`` (or the ``sklearn-em-gmm`` script) fits
:class:`~sklearn_em_gmm.GaussianMixture` over a grid of numbers of components and
covariance types, prints the BIC table and the model with the lowest BIC, and
optionally writes its labels and compares every fit with
:class:`sklearn.mixture.GaussianMixture`.

A thin layer over :mod:`sklearn_em_gmm.selection`, one module a role:

- ``_parser``: the options (:func:`parse_args`);
- ``_data``: a CSV file or a bundled data set in, labels out;
- ``_report``: the text of the data summary, the BIC table and the selected model;
- ``_compare``: ``--compare-sklearn``;
- ``_main``: :func:`main` and the job it runs.

Bad input raises :class:`UsageError`, which :func:`main` prints as one line on stderr
before returning 2.
"""

from ._errors import UsageError
from ._main import main
from ._parser import build_parser, parse_args, parse_components, parse_covariance_types

__all__ = [
    "UsageError",
    "build_parser",
    "main",
    "parse_args",
    "parse_components",
    "parse_covariance_types",
]
