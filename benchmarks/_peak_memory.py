"""Extra peak memory of one fit, measured in a fresh Python process.

The parent calls :func:`extra_peak_memory`, which runs this file as a script. The
child imports one implementation (or only k-means, the start both implementations
call), warms it up on a small problem of the same shape
(so one-off costs such as lazily imported modules and BLAS buffers are not charged
to the fit), builds the data and the start, returns freed heap memory to the kernel
(``malloc_trim``), resets the kernel's peak-RSS counter (``/proc/self/clear_refs``),
fits, and reports the peak resident memory during the fit minus the resident memory
before it. Where the counter cannot be reset, it falls back to ``ru_maxrss`` after
the fit minus ``ru_maxrss`` before it, which can only underestimate.
"""

import ctypes
import dataclasses
import gc
import json
import resource
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from _workload import REG_COVAR, Config, make_data, starting_parameters

_KIB = 1024


def _status_kib(*fields):
    """The given fields of ``/proc/self/status`` in KiB, from one read of it."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in fields:
            values[name] = int(rest.split()[0])
    return [values[field] for field in fields]


def _release_free_heap():
    """Return freed heap memory to the kernel (glibc), so RSS counts live data only.

    Without it, memory freed while building the data stays resident and the fit
    reuses it unseen.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak(attempts=5):
    """Reset VmHWM to the current RSS; False where the kernel does not allow it.

    In one of three fresh processes on a 2-core machine the reset was found not
    taken, and the ``ru_maxrss`` fallback measured 0.0 MiB; why was not found. So
    both counters are read at once, and the reset is tried again.
    """
    for _ in range(attempts):
        try:
            Path("/proc/self/clear_refs").write_text("5")
            peak, resident = _status_kib("VmHWM", "VmRSS")
        except (OSError, KeyError):
            return False
        if peak <= resident + 64:
            return True
    return False


def _estimator_class(implementation):
    # import only the implementation measured
    if implementation == "ours":
        from sklearn_em_gmm import GaussianMixture
    else:
        from sklearn.mixture import GaussianMixture
    return GaussianMixture


def _fit(estimator_class, config, X, max_iter):
    """A function fitting ``X`` from the benchmark's start, which is built now."""
    params = starting_parameters(X, config.n_components, config.covariance_type)
    estimator = estimator_class(
        n_components=config.n_components,
        covariance_type=config.covariance_type,
        tol=0.0,
        max_iter=max_iter,
        reg_covar=REG_COVAR,
        **params,
    )
    return lambda: estimator.fit(X)


def _measured_fit(request, config, X):
    """A function running the fit ``request`` names on ``X``, which is built now."""
    implementation = request["implementation"]
    if implementation == "kmeans":
        from sklearn.cluster import KMeans

        # what both implementations run for init_params="kmeans", random_state=0
        kmeans = KMeans(
            n_clusters=config.n_components,
            n_init=1,
            random_state=np.random.RandomState(0),
        )
        return lambda: kmeans.fit(X)
    estimator_class = _estimator_class(implementation)
    if request["max_iter"] is not None:
        return _fit(estimator_class, config, X, request["max_iter"])
    estimator = estimator_class(
        n_components=config.n_components,
        covariance_type=config.covariance_type,
        init_params=request["init_params"],
        random_state=0,
    )
    return lambda: estimator.fit(X)


def _peak_since_reset():
    if _reset_peak():
        return "VmHWM", _status_kib("VmRSS")[0], lambda: _status_kib("VmHWM")[0]
    return "ru_maxrss", _max_rss_kib(), _max_rss_kib


def _max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(request):
    """Measure one fit in this process; return the result as a dict."""
    config = Config(**request["config"])
    n, d, k = config.n_samples, config.n_features, config.n_components
    warnings.simplefilter("ignore")
    with threadpool_limits(limits=request["threads"]):
        warm_up_rows = min(n, max(1000, 4 * k * (d + 1)))
        warm_up_data = make_data(warm_up_rows, d, k, config.dtype)
        _measured_fit(request, config, warm_up_data)()
        X = make_data(n, d, k, config.dtype)
        fit = _measured_fit(request, config, X)
        gc.collect()
        _release_free_heap()
        method, before, peak = _peak_since_reset()
        fit()
        after = peak()
    return {
        "extra_mib": (after - before) / _KIB,
        "data_mib": X.nbytes / 2**20,
        "method": method,
    }


def extra_peak_memory(
    implementation, config, max_iter=None, threads=None, init_params="kmeans"
):
    """Extra peak resident memory of one fit, from a fresh Python process.

    Parameters
    ----------
    implementation : {"ours", "sklearn", "kmeans"}
        ``"kmeans"`` is the k-means start alone, as both implementations run it:
        ``KMeans(n_clusters=k, n_init=1, random_state=RandomState(0)).fit(X)``.
    config : Config
    max_iter : int or None, default=None
        EM iterations of a fit from the benchmark's shared start with ``tol=0``
        (the peak is reached in the first). None fits with default settings and
        ``random_state=0`` instead, start included.
    threads : int or None
        BLAS/OpenMP thread limit in the child; None leaves the default.
    init_params : str, default="kmeans"
        The start of a default-settings fit (``max_iter=None``).

    Returns
    -------
    result : dict
        ``extra_mib`` (peak during the fit minus resident memory before it, MiB),
        ``data_mib`` (size of X) and ``method`` (``"VmHWM"`` or ``"ru_maxrss"``).
    """
    request = {
        "implementation": implementation,
        "config": dataclasses.asdict(config),
        "max_iter": max_iter,
        "threads": threads,
        "init_params": init_params,
    }
    completed = subprocess.run(
        [sys.executable, __file__, json.dumps(request)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"memory child failed for {implementation} {config.label}:\n"
            + completed.stderr
        )
    return json.loads(completed.stdout.splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))))
