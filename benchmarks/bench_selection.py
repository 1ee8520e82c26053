"""The default selection table against R mclust's ``mclustBIC``, side by side.

For each data set, ``GaussianMixtureIC()`` (14 models x G = 1..9, mclust's defaults)
and ``mclustBIC(X, G = 1:9)`` are timed in the same run, alternating, each the best
of ``--repeats`` runs, on the default BLAS threads; mclust runs in one ``Rscript``
per data set that loads the package before timing. The chosen model and BIC of both
are printed beside the times. Data: mclust's reference data sets of
``tests/data/mclust`` (100-1,000 rows, 2-6 features) and, with ``--large``, n = 10^5,
d = 8 rows from 8 Gaussians on a reduced grid (``--large-models``), where mclust
starts from a 2,000-row subset as we do.

Needs R with mclust (``apt-get install r-base-core r-cran-mclust``). Run from the
repository root::

    python benchmarks/bench_selection.py [--repeats 3] [--large]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sklearn_em_gmm import GaussianMixtureIC

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "mclust"
DATASETS = ("faithful", "iris", "diabetes", "banknote", "thyroid", "wreath")

_R_TIMING = r"""
suppressMessages(library(mclust))
args <- commandArgs(TRUE)
X <- as.matrix(read.csv(args[1]))
models <- if (args[3] == "all") mclust.options("emModelNames") else
  strsplit(args[3], ",")[[1]]
best <- Inf
for (r in seq_len(as.integer(args[2]))) {
  t <- system.time(b <- mclustBIC(X, G = 1:9, modelNames = models,
                                  verbose = FALSE))[["elapsed"]]
  best <- min(best, t)
}
s <- summary(b, X)
cat(best, s$modelName, s$G, sprintf("%.10g", s$bic), "\n")
"""


def time_mclust(path, repeats, models):
    """Best time of ``mclustBIC`` on the CSV at ``path``, and its choice."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as script:
        script.write(_R_TIMING)
    output = subprocess.run(
        ["Rscript", "--vanilla", script.name, str(path), str(repeats), models],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    seconds, model, n_components, bic = output
    return float(seconds), model, int(n_components), float(bic)


def time_ours(X, repeats, models):
    """Best time of ``GaussianMixtureIC`` on ``X``, and its choice."""
    covariance_type = "all" if models == "all" else models.split(",")
    best, search = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        search = GaussianMixtureIC(covariance_type=covariance_type).fit(X)
        best = min(best, time.perf_counter() - start)
    return best, search.covariance_type_, search.n_components_, -search.criterion_


def large_data(path, n_samples=100_000, n_features=8, seed=0):
    """Rows from 8 Gaussians with random covariances, written to ``path``."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-6, 6, (8, n_features))
    labels = rng.integers(0, 8, n_samples)
    X = (
        centres[labels]
        + rng.normal(size=(n_samples, n_features))
        * rng.uniform(0.5, 1.5, (8, n_features))[labels]
    )
    header = ",".join(f"x{j}" for j in range(n_features))
    np.savetxt(path, X, delimiter=",", header=header, comments="")
    return X


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--large-models", default="EII,VVI,EEE,VVV")
    options = parser.parse_args(argv)
    if shutil.which("Rscript") is None:
        sys.exit("Rscript is not installed: apt-get install r-base-core r-cran-mclust")
    print(
        "| data | n x d | models | mclustBIC s | ours s | mclust/ours | mclust's "
        "choice | ours |"
    )
    print("|---|---|---|---:|---:|---:|---|---|")
    cases = [(name, DATA / f"data_{name}.csv", "all") for name in DATASETS]
    if options.large:
        path = Path(tempfile.mkdtemp()) / "large.csv"
        large_data(path)
        cases.append(("gaussians", path, options.large_models))
    for name, path, models in cases:
        X = np.loadtxt(path, delimiter=",", skiprows=1)
        theirs = time_mclust(path, options.repeats, models)
        ours = time_ours(X, options.repeats, models)
        label = "14" if models == "all" else models
        print(
            f"| {name} | {X.shape[0]} x {X.shape[1]} | {label} | {theirs[0]:.3f} | "
            f"{ours[0]:.3f} | {theirs[0] / ours[0]:.2f} | {theirs[1]},{theirs[2]} "
            f"{theirs[3]:.4f} | {ours[1]},{ours[2]} {ours[3]:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
