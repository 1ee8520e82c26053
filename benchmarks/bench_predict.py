"""Speed of predict, predict_proba and score_samples against scikit-learn's.

Both estimators hold the same fitted parameters (ours, fitted on the first 10% of
the rows, copied into scikit-learn's), and are timed alternately on all rows; the
results of both are compared as the proof of equal work.

Run from the repository root, with the package installed::

    python benchmarks/bench_predict.py --threads 1
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from threadpoolctl import threadpool_limits

from sklearn_em_gmm import GaussianMixture

from _machine import machine_info
from _workload import COVARIANCE_TYPES, make_data, starting_parameters

METHODS = ("predict", "predict_proba", "score_samples")
FITTED = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def fitted_pair(X, n_components, covariance_type):
    """Our estimator fitted on a tenth of ``X``, and sklearn's holding its fit."""
    start = starting_parameters(X, n_components, covariance_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(
            n_components, covariance_type=covariance_type, max_iter=5, **start
        ).fit(X[: len(X) // 10])
        theirs = SklearnGaussianMixture(
            n_components, covariance_type=covariance_type, max_iter=1, **start
        ).fit(X[:1000])
    for name in FITTED:
        setattr(theirs, name, getattr(ours, name))
    return ours, theirs


def agreement(method, ours, theirs):
    """How far the two results are apart: mismatched labels, or relative error."""
    if method == "predict":
        return f"{np.mean(ours != theirs):.0e} labels differ"
    scale = np.max(np.abs(theirs))
    return f"{np.max(np.abs(ours - theirs)) / scale:.0e} rel."


def time_method(estimators, method, X, rounds):
    """Median seconds of ``method`` on ``X`` for each estimator, alternating."""
    times = {name: [] for name in estimators}
    results = {}
    for _ in range(rounds):
        for name, estimator in estimators.items():
            start = time.perf_counter()
            results[name] = getattr(estimator, method)(X)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="limit BLAS threads of both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    args = parser.parse_args()
    ratios = []
    with threadpool_limits(limits=args.threads):
        for name, value in machine_info():
            print(f"- {name}: {value}")
        print(
            "\n| configuration | method | ours ms | sklearn ms | sklearn/ours "
            "| agreement |\n|:---|:---|---:|---:|---:|:---|"
        )
        for n_features in (2, 8):
            for n_components in (3, 16):
                X = make_data(args.n_samples, n_features, n_components, "float64")
                for covariance_type in COVARIANCE_TYPES:
                    ours, theirs = fitted_pair(X, n_components, covariance_type)
                    label = (
                        f"n={args.n_samples:.0e} d={n_features} k={n_components} "
                        f"{covariance_type}"
                    ).replace("e+0", "e")
                    for method in METHODS:
                        seconds, results = time_method(
                            {"ours": ours, "sklearn": theirs}, method, X, args.rounds
                        )
                        ratio = seconds["sklearn"] / seconds["ours"]
                        ratios.append(ratio)
                        same = agreement(method, results["ours"], results["sklearn"])
                        print(
                            f"| {label} | {method} | {seconds['ours'] * 1e3:.1f} | "
                            f"{seconds['sklearn'] * 1e3:.1f} | {ratio:.2f} | {same} |",
                            flush=True,
                        )
    print(
        f"\nsklearn/ours: geometric mean {np.exp(np.mean(np.log(ratios))):.2f}, "
        f"minimum {min(ratios):.2f} over {len(ratios)} measurements"
    )


if __name__ == "__main__":
    main()
