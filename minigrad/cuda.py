"""`minigrad.cuda`: PyTorch's CUDA queries, answered for a CPU-only framework.

`is_available()` is False and `device_count()` 0, so `"cuda" if minigrad.cuda.is_available()
else "cpu"` picks the CPU; seeding calls are accepted and do nothing, as in PyTorch without a
GPU. Asking for a CUDA tensor raises a RuntimeError naming the device.
"""

from __future__ import annotations

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no GPU generator to seed (PyTorch does the same)."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored: there is no GPU generator to seed (PyTorch does the same)."""
