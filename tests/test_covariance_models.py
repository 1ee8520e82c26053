"""The covariance models' registry, parameter counts and precision factors.

(mclust's models have their own tests in test_mclust_models.py.)

The factors each model stores, and those it hands the kernels, must invert the
covariances they come from, checked on dense matrices written out here.
"""

import numpy as np
import pytest
from conftest import COVARIANCE_TYPES
from mixture_cases import dense_covariance, random_parameters

from sklearn_em_gmm.covariance import (
    DIAGONAL,
    FULL,
    ISOTROPIC,
    Structure,
    canonical_models,
    covariance_type_names,
    get_covariance_model,
)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_factors_invert_the_covariances(covariance_type):
    model, params = random_parameters(covariance_type)
    precisions = model.precisions(params.precisions_cholesky)
    # the factors as the kernels read them: precisions per component, log det U
    factors = model.precision_factors(params.precisions_cholesky, 3, 4)
    kernel_precisions = factors.precisions()
    for k in range(3):
        cov = dense_covariance(model, params.covariances, k, 4)
        prec = dense_covariance(model, precisions, k, 4)
        np.testing.assert_allclose(prec @ cov, np.eye(4), atol=1e-12)
        kernel_prec = kernel_precisions[k]
        if model.structure.form != FULL:
            kernel_prec = np.diag(kernel_prec)
        np.testing.assert_allclose(kernel_prec @ cov, np.eye(4), atol=1e-12)
        # det(U)**2 = det(P) = 1 / det(Sigma)
        _, log_det_cov = np.linalg.slogdet(cov)
        assert factors.log_det[k] == pytest.approx(-0.5 * log_det_cov, rel=1e-12)
    np.testing.assert_allclose(
        model.precisions_cholesky_from_precisions(precisions),
        params.precisions_cholesky,
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        model.covariances_from_precisions_cholesky(params.precisions_cholesky),
        params.covariances,
        rtol=1e-10,
    )
    if model.structure.form == FULL:
        # upper triangular, like sklearn's precisions_cholesky_
        assert np.allclose(np.tril(params.precisions_cholesky, -1), 0.0)


def test_registry_has_each_sklearn_name_and_mclust_alias():
    aliases = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}
    # mclust's other ten are named by their codes, registered after in its order
    others = ["EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV"]
    assert set(covariance_type_names()) == set(aliases) | set(aliases.values()) | set(
        others
    )
    for name, code in aliases.items():
        assert get_covariance_model(name) is get_covariance_model(code)
        assert get_covariance_model(name).name == name
    for code in others:
        assert get_covariance_model(code.lower()).name == code
    assert [m.name for m in canonical_models()] == list(aliases) + others
    with pytest.raises(ValueError, match="Unknown covariance_type 'XYZ'"):
        get_covariance_model("XYZ")


@pytest.mark.parametrize(
    ("covariance_type", "expected"),
    [
        ("full", 3 * 4 * 5 // 2),
        ("tied", 4 * 5 // 2),
        ("diag", 3 * 4),
        ("spherical", 3),
        ("EII", 1),
        ("EEI", 4),
        ("VEI", 3 + 3),
        ("EVI", 1 + 3 * 3),
        ("VEE", 3 + 3 + 6),
        ("EVE", 1 + 3 * 3 + 6),
        ("VVE", 3 + 3 * 3 + 6),
        ("EEV", 1 + 3 + 3 * 6),
        ("VEV", 3 + 3 + 3 * 6),
        ("EVV", 1 + 3 * 3 + 3 * 6),
    ],
)
def test_covariance_parameter_counts(covariance_type, expected):
    assert (
        get_covariance_model(covariance_type).n_covariance_parameters(3, 4) == expected
    )


def test_structures_declare_what_they_can():
    assert Structure(shared=False, form=FULL, common_orientation=True).form == FULL
    for shared, form in [(True, FULL), (False, DIAGONAL), (False, ISOTROPIC)]:
        with pytest.raises(ValueError, match="orientation"):
            Structure(shared=shared, form=form, common_orientation=True)
    with pytest.raises(ValueError, match="form"):
        Structure(shared=False, form="banded")
    # richer layouts hold poorer ones: per component gives pooled, full gives the rest
    per_component_full = Structure(shared=False, form=FULL)
    pooled_isotropic = Structure(shared=True, form=ISOTROPIC)
    assert per_component_full.holds(pooled_isotropic)
    assert not pooled_isotropic.holds(per_component_full)
    assert not Structure(shared=True, form=FULL).holds(Structure(False, DIAGONAL))
