"""The machine the benchmark runs on: a description, and its GEMM and memory speeds."""

import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info

import sklearn_em_gmm

_REPOSITORY = Path(__file__).resolve().parent.parent


def _best_seconds(function, min_total=0.5, min_repeats=3):
    """Fastest call of ``function``, called for at least ``min_total`` seconds."""
    times = []
    while len(times) < min_repeats or sum(times) < min_total:
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_peak(dtype, size=2048):
    """Best rate of a square matrix product ``A @ B``, in flop/s.

    Runs with whatever BLAS threads are allowed when called.

    Parameters
    ----------
    dtype : {"float64", "float32"}
    size : int, default=2048

    Returns
    -------
    flops_per_second : float
    """
    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size)).astype(dtype)
    B = rng.standard_normal((size, size)).astype(dtype)
    out = np.empty_like(A)
    A @ B  # warm up BLAS threads and buffers
    return 2.0 * size**3 / _best_seconds(lambda: np.matmul(A, B, out=out))


def memory_bandwidth(n_bytes=1 << 29):
    """Best rate of copying a large array (numpy's copy, one thread), in bytes/s.

    Counts the bytes read plus the bytes written, as STREAM's "copy" does.

    Returns
    -------
    bytes_per_second : float
    """
    source = np.ones(n_bytes // 8)
    target = np.zeros_like(source)
    return 2.0 * n_bytes / _best_seconds(lambda: np.copyto(target, source))


def exp_seconds_per_value(dtype, size=1 << 15):
    """Best time of numpy's ``exp`` per value, in seconds.

    The values are uniform in ``[-50, 0]``: none falls in exp's slower ranges
    (glibc's below -512, subnormal results below -708), so this is a best case,
    the right one for a lower bound. ``size`` values stay in cache, as a block's
    do. numpy evaluates float64 ``exp`` with SIMD only on AVX-512 machines,
    elsewhere one value at a time, about ten times slower.

    Parameters
    ----------
    dtype : {"float64", "float32"}
    size : int, default=2**15

    Returns
    -------
    seconds : float
    """
    values = np.random.default_rng(0).uniform(-50.0, 0.0, size).astype(dtype)
    out = np.empty_like(values)
    return _best_seconds(lambda: np.exp(values, out=out), min_total=0.2) / size


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _total_memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def load_average():
    """The 1-minute load average (nan where unknown); near 0 on an idle machine."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _git_revision():
    try:
        run = dict(cwd=_REPOSITORY, capture_output=True, text=True, check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run)
        status = subprocess.run(
            ["git", "status", "--porcelain", "sklearn_em_gmm"], **run
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = " + uncommitted changes in sklearn_em_gmm/" if status.stdout.strip() else ""
    return commit.stdout.strip() + dirty


def _blas_description():
    return "; ".join(
        " ".join(filter(None, [pool["internal_api"], pool.get("version")]))
        + f" ({pool.get('architecture') or pool['user_api']}, "
        f"{pool['num_threads']} threads, {Path(pool['filepath']).name})"
        for pool in threadpool_info()
    )


def machine_info():
    """Where and how the benchmark ran, as ``(name, value)`` pairs.

    Call it inside the run's thread limits, so the BLAS line shows them.

    Returns
    -------
    info : list of (str, str)
    """
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return [
        ("date", datetime.datetime.now().astimezone().isoformat(timespec="seconds")),
        ("command", shlex.join([Path(sys.executable).name, *sys.argv])),
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {affinity} usable"),
        ("RAM", f"{_total_memory_gib():.1f} GiB"),
        ("load average at start", f"{load_average():.2f} (1 min)"),
        ("Python", platform.python_version()),
        (
            "versions",
            f"numpy {np.__version__}, scipy {scipy.__version__}, "
            f"scikit-learn {sklearn.__version__}, "
            f"sklearn_em_gmm {sklearn_em_gmm.__version__} ({_git_revision()})",
        ),
        ("BLAS/OpenMP", _blas_description()),
    ]
