"""The EM engine: data sources, the E-step pass, log-sum-exp numerics, the driver."""

from ._blocks import data_mean, kernel_row_blocks, row_blocks, total_weight
from ._driver import EMResult, MixtureParameters, expectation, maximization, run_em
from ._estep import PassSums, PreparedData, expectation_pass, prepare_data
from ._logsumexp import (
    component_argmax,
    exponentiate_below_bound,
    exponentiate_log_prob,
    normalize_log_prob,
)
from ._predict import map_log_prob_blocks
from ._sources import ArraySource, ChunkedSource

__all__ = [
    "ArraySource",
    "ChunkedSource",
    "EMResult",
    "MixtureParameters",
    "PassSums",
    "PreparedData",
    "component_argmax",
    "data_mean",
    "expectation_pass",
    "expectation",
    "exponentiate_below_bound",
    "exponentiate_log_prob",
    "kernel_row_blocks",
    "map_log_prob_blocks",
    "maximization",
    "normalize_log_prob",
    "prepare_data",
    "row_blocks",
    "run_em",
    "total_weight",
]
