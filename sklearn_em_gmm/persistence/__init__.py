"""Safe persistence: a fitted mixture as a dict of plain values, without pickle.

It never imports the estimator: :meth:`GaussianMixture.from_dict` passes its class.
"""

from ._dict import FORMAT, VERSION, model_from_dict, model_to_dict

__all__ = ["FORMAT", "VERSION", "model_from_dict", "model_to_dict"]
