"""Worst relative difference from sklearn's GaussianMixture, per covariance type.

Fits ours and sklearn's from the same start (same ``weights_init``, ``means_init``,
``precisions_init``) and from the same ``random_state`` on scikit-learn's bundled data
sets, and prints the largest relative difference of any fitted array.

Run: ``python benchmarks/parity_report.py``
"""

import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.preprocessing import StandardScaler

from sklearn_em_gmm import GaussianMixture

ARRAYS = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]
DATASETS = {
    "iris": load_iris().data,
    "wine": StandardScaler().fit_transform(load_wine().data),
    "breast_cancer": StandardScaler().fit_transform(load_breast_cancer().data),
    "digits": load_digits().data[:, ::2],
}


def _relative_difference(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _compare(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(**params).fit(X)
        theirs = SklearnGaussianMixture(**params).fit(X)
    worst = max(
        _relative_difference(getattr(ours, a), getattr(theirs, a)) for a in ARRAYS
    )
    return worst, ours.n_iter_ == theirs.n_iter_


def _same_start(X, covariance_type, n_components=3):
    rng = np.random.RandomState(0)
    variances = X.var(axis=0) + 1e-3
    precisions = {
        "full": np.tile(np.diag(1 / variances), (n_components, 1, 1)),
        "tied": np.diag(1 / variances),
        "diag": np.tile(1 / variances, (n_components, 1)),
        "spherical": np.full(n_components, 1 / variances.mean()),
    }[covariance_type]
    return dict(
        n_components=n_components,
        weights_init=np.full(n_components, 1 / n_components),
        means_init=X[rng.choice(len(X), n_components, replace=False)],
        precisions_init=precisions,
    )


def main():
    print("worst relative difference over data sets (n_iter_ equal in all: yes/no)")
    print(f"{'covariance':10s} {'same start':>16s} {'same seed':>16s}")
    for covariance_type in COVARIANCE_TYPES:
        start, seeded = [], []
        for X in DATASETS.values():
            common = dict(covariance_type=covariance_type, reg_covar=1e-4)
            start.append(
                _compare(
                    X,
                    tol=1e-6,
                    max_iter=300,
                    **common,
                    **_same_start(X, covariance_type),
                )
            )
            for init_params in INIT_PARAMS:
                if covariance_type == "tied" and init_params in (
                    "k-means++",
                    "random_from_data",
                ):
                    continue  # documented difference: sklearn's start is inflated
                for n_init in (1, 3):
                    seeded.append(
                        _compare(
                            X,
                            n_components=4,
                            init_params=init_params,
                            n_init=n_init,
                            random_state=0,
                            **common,
                        )
                    )

        def summary(results):
            worst = max(r[0] for r in results)
            same_iterations = "yes" if all(r[1] for r in results) else "no"
            return f"{worst:9.1e} ({same_iterations})"

        print(f"{covariance_type:10s} {summary(start):>16s} {summary(seeded):>16s}")


if __name__ == "__main__":
    main()
