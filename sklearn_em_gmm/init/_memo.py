"""The starts of a fit, remembered across fits for an int seed.

A selection grid fits each ``n_components`` once per covariance model, with the same
data and ``random_state``, and so draws the same k-means starts again and again; at
small n they cost as much as the EM. For an int seed, a fit's ``i``-th start depends
only on the data, the weights, the component count, the method and the seed: it is
remembered as the labels it gave and the state the generator was left in, which the
next draw of that fit starts from. A fit whose starts are all remembered creates no
generator at all. Keys are digests of the data; only small data are remembered
(digesting large data costs a good part of a k-means fit), whose fits run on one
thread (k-means labels may round otherwise with other thread counts), and the labels
and states kept are bounded in bytes. A remembered start does not repeat the
warnings its draw gave.
"""

import threading
from collections import OrderedDict
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from .._threads import parallel_call
from ._digest import digest
from ._start import Start

# The methods whose starts are remembered: they give labels, and cost a k-means fit
# or its seeding.
REMEMBERED_METHODS = ("kmeans", "k-means++")
# Largest total of remembered labels and generator states.
_MAX_BYTES = 1 << 24
# Largest data (values of X) whose starts are remembered.
_MAX_VALUES = 1 << 17


class _StartMemo:
    """Labels and generator states by key, least recently used dropped first,
    within ``max_bytes`` in all."""

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
        size = _entry_bytes(labels, state_after)
        if size > self._max_bytes:
            return
        labels = labels.copy()
        labels.flags.writeable = False
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (labels, state_after)
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= _entry_bytes(*dropped)


def _entry_bytes(labels, state):
    """Bytes an entry holds: its labels and the generator state's key array."""
    return labels.nbytes + sum(
        item.nbytes for item in state if isinstance(item, np.ndarray)
    )


_MEMO = _StartMemo(_MAX_BYTES)


def forget_starts():
    """Forget every remembered start."""
    _MEMO.clear()


class StartDraws:
    """The starts one fit draws in turn, ``random_state`` consumed as sklearn does.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,) or None
    n_components : int
    init_params : str
        A key of ``INIT_METHODS``.
    random_state : int, RandomState instance or None
        As the estimator's parameter: only an int seed's starts are remembered.
    """

    def __init__(self, X, sample_weight, n_components, init_params, random_state):
        self._X, self._sample_weight = X, sample_weight
        self._n_components, self._init_params = n_components, init_params
        self._random_state = random_state
        self._generator = None
        # the generator state after the last remembered draw, for the next one
        self._state_after = None
        self._remembered = (
            isinstance(random_state, Integral)
            and init_params in REMEMBERED_METHODS
            and X.size <= _MAX_VALUES
            and not parallel_call(*X.shape, n_components)
        )
        self._key = None

    def draw(self, index):
        """The ``index``-th start (a :class:`Start`); draws come in order."""
        X, sample_weight = self._X, self._sample_weight
        n_components = self._n_components
        key = None
        if self._remembered:
            if self._key is None:  # digested at the first draw: a fit may draw none
                data = digest(X, sample_weight, n_components, self._init_params)
                self._key = (data, int(self._random_state))
            key = self._key + (index,)
        entry = None if key is None else _MEMO.get(key)
        if entry is not None:
            labels, self._state_after = entry
            return Start(X, sample_weight, n_components, labels=labels.copy())
        generator = self._current_generator()
        start = Start.draw(X, sample_weight, n_components, self._init_params, generator)
        if key is not None:
            _MEMO.put(key, start.labels, generator.get_state())
        return start

    def _current_generator(self):
        """The generator, where the draws so far have left it."""
        if self._generator is None:
            self._generator = check_random_state(self._random_state)
        if self._state_after is not None:
            self._generator.set_state(self._state_after)
            self._state_after = None
        return self._generator
