"""Starts of EM: the ``init_params`` registry, and initial parameters from a start."""

from ._hc import forget_trees
from ._memo import StartDraws, forget_starts
from ._methods import INIT_METHODS
from ._start import Start, initial_parameters

__all__ = [
    "INIT_METHODS",
    "Start",
    "StartDraws",
    "forget_starts",
    "forget_trees",
    "initial_parameters",
]
