"""Scratch arrays that the blocks of a fit's passes reuse instead of allocating."""

import math

import numpy as np


class Workspace:
    """Named scratch arrays, each reused by every block and pass that asks for it.

    A block's temporaries allocated afresh are, at some sizes, returned by the C
    allocator to the system after each block and faulted back in at the next (see
    ``benchmarks/RESULTS.md``). An array stays valid until the next request under
    its name.
    """

    def __init__(self):
        self._buffers = {}

    def empty(self, name, shape, dtype):
        """An uninitialised C-ordered array, valid until the next request for ``name``.

        Parameters
        ----------
        name : str
        shape : tuple of int
        dtype : dtype

        Returns
        -------
        array : ndarray of shape ``shape``
            A view of the buffer kept under ``(name, dtype)``, grown if too small.
        """
        dtype = np.dtype(dtype)
        size = math.prod(shape)
        buffer = self._buffers.get((name, dtype))
        if buffer is None or buffer.size < size:
            buffer = np.empty(size, dtype=dtype)
            self._buffers[name, dtype] = buffer
        return buffer[:size].reshape(shape)
