"""The contract every covariance model implements, and the registry that finds them.

A covariance model declares its :class:`Structure` (and the layout of the scatter its
M-step needs), turns sufficient statistics into parameters (the M-step), and
covariances into Cholesky factors of precisions, which it hands the kernels as
:class:`PrecisionFactors`. The rest of the package is written against this contract,
so a new model is one class and one :func:`register` call.
"""

from abc import ABC, abstractmethod
from collections.abc import Set
from dataclasses import dataclass

import numpy as np

from ._structure import FULL, Structure, canonical_factors


def ill_defined_covariance_error(dtype):
    """Build sklearn's error for a covariance that is not positive definite."""
    message = (
        "Fitting the mixture model failed because some components have "
        "ill-defined empirical covariance (for instance caused by singleton "
        "or collapsed samples). Try to decrease the number of components, "
        "increase reg_covar, or scale the input data."
    )
    if dtype == np.float32:
        message += (
            " The numerical accuracy can also be improved by passing float64"
            " data instead of float32."
        )
    return ValueError(message)


@dataclass(frozen=True, eq=False)
class ComponentEstimates:
    """What an M-step estimates of each component, in float64.

    Attributes
    ----------
    nk : ndarray of shape (n_components,)
        Weight sum of each component, kept away from zero.
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray of shape ``parameter_shape``
    """

    nk: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


class CovarianceModel(ABC):
    """One family of covariance matrices, e.g. one full matrix per component.

    Attributes
    ----------
    name : str
        The value of ``covariance_type`` (scikit-learn's name where it has one).
    mclust_code : str
        R mclust's three-letter code (volume, shape, orientation), accepted as an
        alias.
    structure : Structure
        One covariance per component or one shared, and its form.
    statistics_layout : Structure
        The layout of the scatter the M-step needs; by default ``structure``.
    """

    name: str
    mclust_code: str
    structure: Structure

    @property
    def statistics_layout(self):
        return self.structure

    @abstractmethod
    def parameter_shape(self, n_components, n_features):
        """Shape of ``covariances_``, ``precisions_`` and ``precisions_cholesky_``."""

    @abstractmethod
    def n_covariance_parameters(self, n_components, n_features):
        """Number of free parameters of the covariances."""

    def m_step(self, stats, *, reg_covar, dtype, previous=None, prior=None):
        """M-step: each component's weight sum, mean and covariance.

        As in sklearn, ``10 * eps`` of ``dtype`` is added to every weight sum, which
        keeps an emptied component finite: its mean shrinks to zero and its
        covariance to ``reg_covar``.

        Parameters
        ----------
        stats : SufficientStatistics
            In ``statistics_layout``.
        reg_covar : float
            Added to the diagonal of every covariance.
        dtype : numpy dtype
            The fit's dtype.
        previous : MixtureParameters or None
            The parameters that gave ``stats``, for M-steps that iterate from them.
        prior : ConjugatePrior or None
            A conjugate prior (:mod:`sklearn_em_gmm.prior`): the MAP step, which
            calls :meth:`covariances_from_statistics` on augmented statistics.

        Returns
        -------
        estimates : ComponentEstimates
        """
        if prior is not None:
            return prior.m_step(
                self, stats, reg_covar=reg_covar, dtype=dtype, previous=previous
            )
        nk = stats.nk + 10 * np.finfo(dtype).eps
        means = stats.means * (stats.nk / nk)[:, np.newaxis]
        covariances = self.covariances_from_statistics(stats, nk, reg_covar, previous)
        return ComponentEstimates(nk, means, covariances)

    @abstractmethod
    def covariances_from_statistics(self, stats, nk, reg_covar, previous):
        """Covariances from ``stats`` (scatter in ``statistics_layout``) and the
        weight sums ``nk`` (already kept away from zero); ``previous`` as in
        :meth:`m_step`.

        ``reg_covar`` regularises each component's scatter ``W_k`` as
        ``W_k + n_k reg_covar I`` (its covariance estimate plus ``reg_covar I``)
        before the model's constrained estimate is taken: for sklearn's four models
        that is adding ``reg_covar`` to the diagonal of the estimate."""

    @abstractmethod
    def precisions_cholesky(self, covariances):
        """Cholesky factors of the precisions; ValueError unless positive definite."""

    @abstractmethod
    def precisions_cholesky_from_precisions(self, precisions):
        """Cholesky factors of user-given precisions."""

    @abstractmethod
    def precisions(self, precisions_cholesky):
        """Precisions from their Cholesky factors."""

    @abstractmethod
    def covariances_from_precisions_cholesky(self, precisions_cholesky):
        """Covariances from the Cholesky factors of the precisions."""

    @abstractmethod
    def check_precisions(self, precisions):
        """Raise ValueError unless user-given precisions are valid for this model."""

    def precision_factors(self, precisions_cholesky, n_components, n_features):
        """The factors as the kernels read them (:class:`PrecisionFactors`).

        By default the stored factors are sklearn's layout for the structure:
        no component axis when shared, no feature axis when isotropic.
        """
        return canonical_factors(
            self.structure, precisions_cholesky, n_components, n_features
        )

    def check_precisions_cholesky(self, precisions_cholesky):
        """Raise ValueError unless stored factors are valid: upper-triangular with a
        positive diagonal (form 'full'), positive otherwise."""
        if self.structure.form == FULL:
            if np.any(np.tril(precisions_cholesky, -1) != 0):
                raise ValueError("expected upper-triangular factors.")
            diagonal = np.diagonal(precisions_cholesky, axis1=-2, axis2=-1)
            if not np.all(diagonal > 0):
                raise ValueError("expected a strictly positive diagonal.")
        elif not np.all(precisions_cholesky > 0):
            raise ValueError("expected strictly positive values.")

    def covariance_scales(self, covariances):
        """The scale each entry of ``covariances`` is compared with:
        ``sqrt(cov_ii cov_jj)`` for form 'full', the entry itself otherwise."""
        if self.structure.form != FULL:
            return covariances
        variances = np.diagonal(covariances, axis1=-2, axis2=-1)
        return np.sqrt(variances[..., :, np.newaxis] * variances[..., np.newaxis, :])

    def dense_covariances(self, covariances, n_components, n_features):
        """Each component's covariance as a (d, d) matrix.

        Returns
        -------
        matrices : ndarray of shape (n_components, n_features, n_features)
        """
        values = np.asarray(covariances, dtype=np.float64)
        n_matrices = 1 if self.structure.shared else n_components
        if self.structure.form == FULL:
            matrices = values.reshape(n_matrices, n_features, n_features)
        else:
            diagonals = np.broadcast_to(
                values.reshape(n_matrices, -1), (n_matrices, n_features)
            )
            matrices = np.zeros((n_matrices, n_features, n_features))
            features = np.arange(n_features)
            matrices[:, features, features] = diagonals
        return np.broadcast_to(matrices, (n_components, n_features, n_features))

    def decomposition(self, covariances, n_components, n_features):
        """Volume, shape and orientation of each covariance (Celeux & Govaert 1995).

        ``Sigma_k = volumes[k] * D_k @ diag(shapes[k]) @ D_k.T`` with
        ``D_k = orientations[k]`` orthogonal and ``prod(shapes[k]) = 1``. Full forms
        order the shapes decreasingly; diagonal forms keep the features' order with
        ``D_k`` the identity.

        Returns
        -------
        volumes : ndarray of shape (n_components,)
        shapes : ndarray of shape (n_components, n_features)
        orientations : ndarray of shape (n_components, n_features, n_features)
        """
        matrices = self.dense_covariances(covariances, n_components, n_features)
        if self.structure.form == FULL:
            eigenvalues, orientations = decreasing_eigh(matrices)
        else:
            eigenvalues = np.diagonal(matrices, axis1=1, axis2=2)
            orientations = np.broadcast_to(
                np.eye(n_features), (n_components, n_features, n_features)
            )
        return _volumes_and_shapes(eigenvalues) + (np.array(orientations),)

    @abstractmethod
    def degenerate_components(self, covariances, n_components):
        """Boolean mask (k,) of the components whose covariance is not positive
        definite: the ones sklearn's fit fails on."""

    @abstractmethod
    def add_to_diagonal(self, covariances, components, amounts):
        """Copy of ``covariances`` with ``amounts`` (d,) added to the diagonal of the
        masked ``components``."""

    @abstractmethod
    def reset(self, covariances, components, variances):
        """Copy of ``covariances`` with the masked ``components`` set to the diagonal
        ``variances`` (d,), where the model lets a component have its own."""

    @abstractmethod
    def sample(self, rng, means, covariances, counts):
        """Draw ``counts[k]`` rows from each component, consuming ``rng`` as sklearn."""


def decreasing_eigh(matrices):
    """Eigenvalues (k, d) and eigenvectors (k, d, d) of symmetric ``matrices``,
    largest first."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrices)
    return eigenvalues[:, ::-1], eigenvectors[:, :, ::-1]


def _volumes_and_shapes(eigenvalues):
    """Volumes ``det**(1/d)`` and shapes of unit determinant from eigenvalues (k, d)."""
    volumes = np.exp(np.mean(np.log(eigenvalues), axis=1))
    return volumes, eigenvalues / volumes[:, np.newaxis]


# mclust's order of its models: volume, shape, orientation, from the most constrained
MCLUST_CODES = (
    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
    "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)  # fmt: skip

_REGISTRY = {}


def register(model):
    """Make ``model`` available under its name and its mclust code.

    Returns
    -------
    model : CovarianceModel
    """
    keys = dict.fromkeys((model.name, model.mclust_code))
    for key in keys:
        if _lookup(key) is not None:
            raise ValueError(f"covariance type {key!r} is already registered")
    for key in keys:
        _REGISTRY[key] = model
    return model


def unregister(model):
    """Remove ``model`` (both of its keys) from the registry."""
    for key in (model.name, model.mclust_code):
        if _REGISTRY.get(key) is model:
            del _REGISTRY[key]


def _lookup(covariance_type):
    """The model of a name, or of an mclust code in any case; None if unknown."""
    if not isinstance(covariance_type, str):
        return None
    model = _REGISTRY.get(covariance_type)
    if model is None:
        model = _REGISTRY.get(covariance_type.upper())
        if model is not None and model.mclust_code != covariance_type.upper():
            model = None  # names other than codes keep their case, as in sklearn
    return model


def get_covariance_model(covariance_type):
    """Return the registered model for a ``covariance_type`` name or mclust code
    (codes in any case)."""
    model = _lookup(covariance_type)
    if model is None:
        accepted = ", ".join(map(repr, covariance_type_names()))
        raise ValueError(
            f"Unknown covariance_type {covariance_type!r}; expected one of "
            f"{{{accepted}}} (mclust codes in any case)."
        )
    return model


class _AcceptedNames(Set):
    """The accepted ``covariance_type`` values, a live view of the registry.

    Iterates in a stable order, the names that are not codes (sklearn's) first,
    then the codes in mclust's order; contains the codes in any case.
    """

    def _ordered(self):
        models = canonical_models()
        names = [model.name for model in models if model.name != model.mclust_code]
        codes = sorted(
            (model.mclust_code for model in models),
            key=lambda code: (
                MCLUST_CODES.index(code) if code in MCLUST_CODES else len(MCLUST_CODES)
            ),
        )
        return names + codes

    def __iter__(self):
        return iter(self._ordered())

    def __len__(self):
        return len(self._ordered())

    def __contains__(self, value):
        return _lookup(value) is not None

    @classmethod
    def _from_iterable(cls, values):
        return set(values)  # set operations give plain sets


def covariance_type_names():
    """All accepted ``covariance_type`` values, names and mclust codes: a live view
    of the registry, which follows later registrations."""
    return _AcceptedNames()


def canonical_models():
    """Each registered model once, in registration order."""
    return list(dict.fromkeys(_REGISTRY.values()))
