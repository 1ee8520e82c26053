import os

# sklearn's check_array_api_input runs only when SciPy's array API support is on; it
# must be set before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
)
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_em_gmm.covariance import canonical_models  # noqa: E402
from sklearn_em_gmm.init import INIT_METHODS, forget_starts, forget_trees  # noqa: E402

# every registered covariance model; tests against scikit-learn take the ones it has
COVARIANCE_TYPES = [model.name for model in canonical_models()]
SKLEARN_COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]
INIT_PARAMS = list(INIT_METHODS)
# the starts scikit-learn has too ('hc' is mclust's)
SKLEARN_INIT_PARAMS = [
    name
    for name in INIT_METHODS
    if name in SklearnGaussianMixture._parameter_constraints["init_params"][0].options
]


def _overlapping_blobs():
    # close, wide clusters: EM needs many iterations to separate them
    X, _ = make_blobs(
        n_samples=600, n_features=3, centers=4, cluster_std=2.5, random_state=3
    )
    return X


DATASETS = {
    "iris": lambda: load_iris().data,
    "wine": lambda: StandardScaler().fit_transform(load_wine().data),
    "breast_cancer": lambda: StandardScaler().fit_transform(load_breast_cancer().data)[
        :, :10
    ],
    # every other pixel of 600 digits: 32 features, some constant
    "digits": lambda: load_digits().data[:600, ::2],
    "overlapping_blobs": _overlapping_blobs,
}


@pytest.fixture(autouse=True)
def no_remembered_starts():
    """Each test draws its starts as a first fit does: none remembered."""
    forget_starts()
    forget_trees()
    yield
    forget_starts()
    forget_trees()


@pytest.fixture(params=sorted(DATASETS))
def dataset(request):
    return request.param, DATASETS[request.param]()


def relative_difference(actual, desired):
    """Largest absolute difference scaled by the largest magnitude of ``desired``."""
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    scale = np.max(np.abs(desired))
    return float(np.max(np.abs(actual - desired)) / (scale if scale > 0 else 1.0))
