"""Digests that key what is remembered across fits."""

import hashlib

import numpy as np


def digest(*arrays_and_values):
    """A digest of arrays (their dtype, shape and bytes) and plain values."""
    hasher = hashlib.blake2b(digest_size=32)
    for item in arrays_and_values:
        if isinstance(item, np.ndarray):
            hasher.update(repr((item.dtype.str, item.shape)).encode())
            hasher.update(memoryview(np.ascontiguousarray(item)).cast("B"))
        else:
            hasher.update(repr(item).encode())
    return hasher.digest()
