"""Starts remembered across fits: the same draw from the same data is made once.

A selection grid fits each ``n_components`` once per covariance model, with the same
data and ``random_state``, and so draws the same k-means start again and again; at
small n that start costs as much as the EM. A remembered start is the labels the draw
gave and the state its random generator was left in, restored as the draw would
have left it: the fit is the same bit for bit. Keys are digests of the data, weights,
component count and generator state; the labels kept are bounded in bytes. Only small
data are remembered: digesting large data costs a good part of a k-means fit.
"""

import hashlib
import threading
from collections import OrderedDict

import numpy as np

# Largest total of remembered labels; a larger start is not kept.
_MAX_BYTES = 1 << 24
# Largest data (values of X) whose starts are remembered.
_MAX_VALUES = 1 << 17


class _StartMemo:
    def __init__(self, max_bytes):
        self._max_bytes = max_bytes
        self._entries = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, labels, state_after):
        if labels.nbytes > self._max_bytes:
            return
        labels = labels.copy()
        labels.flags.writeable = False
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (labels, state_after)
            self._bytes += labels.nbytes
            while self._bytes > self._max_bytes:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


_MEMO = _StartMemo(_MAX_BYTES)


def forget_starts():
    """Forget every remembered start."""
    _MEMO.clear()


def _digest(*arrays_and_values):
    """A digest of arrays (their dtype, shape and bytes) and plain values."""
    digest = hashlib.blake2b(digest_size=32)
    for item in arrays_and_values:
        if isinstance(item, np.ndarray):
            digest.update(repr((item.dtype.str, item.shape)).encode())
            digest.update(memoryview(np.ascontiguousarray(item)).cast("B"))
        else:
            digest.update(repr(item).encode())
    return digest.digest()


def _state_key(random_state):
    name, keys, position, has_gauss, cached_gaussian = random_state.get_state()
    return _digest(name, keys, position, has_gauss, cached_gaussian)


def remembered(method):
    """``method(X, sample_weight, n_components, random_state)`` returning labels,
    remembered: a repeated call returns the same labels and leaves
    ``random_state`` where the first call left it."""

    def draw(X, sample_weight, n_components, random_state):
        if X.size > _MAX_VALUES:
            return method(X, sample_weight, n_components, random_state)
        key = (
            method.__name__,
            _digest(X, sample_weight, n_components),
            _state_key(random_state),
        )
        entry = _MEMO.get(key)
        if entry is not None:
            labels, state_after = entry
            random_state.set_state(state_after)
            return labels.copy(), None
        labels, resp = method(X, sample_weight, n_components, random_state)
        _MEMO.put(key, labels, random_state.get_state())
        return labels, resp

    draw.__name__ = method.__name__
    draw.__doc__ = method.__doc__
    return draw
