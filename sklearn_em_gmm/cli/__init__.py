"""Command line: choose a Gaussian mixture for a data set, as R mclust's Mclust().

``python -m sklearn_em_gmm [data.csv]`` (or the ``sklearn-em-gmm`` script) fits
:class:`~sklearn_em_gmm.GaussianMixtureIC` over a grid of numbers of components and
covariance models (by default mclust's: every model, 1 to 9 components), prints the
criterion table and the best model, and optionally writes its labels,
responsibilities, JSON description and plots, and compares sklearn's four models
with :class:`sklearn.mixture.GaussianMixture`.

A thin layer over :class:`~sklearn_em_gmm.GaussianMixtureIC`, one module a role:

- ``_parser``: the options (:func:`parse_args`);
- ``_data``: a CSV file (delimiter, header, columns, missing values) or a bundled
  data set in;
- ``_outputs``: the output paths, checked before fitting and written after;
- ``_progress``: progress of a slow grid on stderr;
- ``_report``: the text of the data summary, the criterion table and the best model;
- ``_compare``: ``--compare-sklearn``;
- ``_main``: :func:`main` and the job it runs.

Bad input raises :class:`UsageError`, which :func:`main` prints as one line on stderr
before returning 2.
"""

from ._errors import UsageError
from ._main import main
from ._parser import build_parser, parse_args, parse_components, parse_models

__all__ = [
    "UsageError",
    "build_parser",
    "main",
    "parse_args",
    "parse_components",
    "parse_models",
]
