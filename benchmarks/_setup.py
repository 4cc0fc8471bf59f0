"""Shared benchmark set-up: a clean BLAS environment, thread limits, version facts.

This machine sets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which slow a current NumPy. A
benchmark unsets both together for its own process only (re-executing itself before NumPy
loads) and reports the BLAS kernel threadpoolctl sees. Tests and CI leave them alone.

Fresh memory is expensive on this VM: every new large array costs page faults, and glibc
gives big blocks back to the kernel on free (mmap for blocks above its threshold, trimming
of the heap top). `tune_malloc()` asks glibc, through `mallopt`, to keep freed memory for
reuse instead. It acts on the whole process, so minigrad and PyTorch (whose CPU allocator is
glibc's malloc too) get it alike; the benchmarks say in their output whether it was set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def reexec_without_blas_overrides() -> None:
    """Restart this script without the two OpenBLAS overrides (both together), once."""
    if any(name in os.environ for name in _BLAS_VARIABLES):
        environment = {k: v for k, v in os.environ.items() if k not in _BLAS_VARIABLES}
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)


_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_MAX = -4


def tune_malloc() -> bool:
    """Keep freed memory in the process for reuse: glibc never trims the heap top (threshold
    1 TiB) and never serves a block by mmap (M_MMAP_MAX 0), so a training step that frees
    and re-allocates the same sizes stops paying page faults. True if glibc accepted both."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc: nothing to tune
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    trimmed = mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    mapped = mallopt(_M_MMAP_MAX, 0)
    return trimmed == 1 and mapped == 1


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
    """Median wall seconds per call of each step, calling them in turn so load hits all
    alike."""
    return interleaved_timings(steps, repeats, warmup)["wall"]


def interleaved_timings(steps: dict[str, Callable[[], None]], repeats: int,
                        warmup: int = 3) -> dict[str, dict[str, float]]:
    """Median wall seconds ("wall") and median process CPU seconds ("cpu") per call of each
    step, calling the steps in turn so load from other processes hits all alike.

    On one thread, CPU time leaves out the time the process waited for a core that another
    process held, so it is the steadier figure on a busy machine; wall time is the headline.
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start_cpu = time.process_time()
            start = time.perf_counter()
            step()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {"wall": {name: statistics.median(values) for name, values in wall.items()},
            "cpu": {name: statistics.median(values) for name, values in cpu.items()}}


def machine_line() -> str:
    import numpy

    return (f"numpy {numpy.__version__}, {blas_description()}, python "
            f"{platform.python_version()}, {os.cpu_count()} cores")
