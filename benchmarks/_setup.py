"""Shared benchmark set-up: a clean BLAS environment, thread limits, version facts.

This machine sets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which slow a current NumPy. A
benchmark unsets both together for its own process only (re-executing itself before NumPy
loads) and reports the BLAS kernel threadpoolctl sees. Tests and CI leave them alone.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

_BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def reexec_without_blas_overrides() -> None:
    """Restart this script without the two OpenBLAS overrides (both together), once."""
    if any(name in os.environ for name in _BLAS_VARIABLES):
        environment = {k: v for k, v in os.environ.items() if k not in _BLAS_VARIABLES}
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)


def blas_description() -> str:
    """'openblas 0.3.x (Haswell, 1 threads)' as threadpoolctl reports NumPy's BLAS."""
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return (f"{pool.get('internal_api')} {pool.get('version')} "
                    f"({pool.get('architecture')})")
    return "unknown BLAS"


@contextmanager
def threads(count: int) -> Iterator[None]:
    """Limit NumPy's BLAS (threadpoolctl) and PyTorch (if loaded) to `count` threads."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(count)
    with threadpool_limits(limits=count):
        yield
    if torch:
        torch.set_num_threads(previous)


def interleaved_medians(steps: dict[str, Callable[[], None]], repeats: int,
                        warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each step, calling them in turn so load hits all alike."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine_line() -> str:
    import numpy

    return (f"numpy {numpy.__version__}, {blas_description()}, python "
            f"{platform.python_version()}, {os.cpu_count()} cores")
