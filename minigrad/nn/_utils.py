"""Small argument helpers shared by the layer files (PyTorch's `_pair` and device check)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_device", "pair"]


def pair(value: Any, name: str = "value") -> tuple[int, int]:
    """An int becomes (int, int); a pair stays a pair (as a tuple)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(int(item) for item in value)  # type: ignore[return-value]
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def check_device(device: Any, where: str) -> None:
    """Accept device=None, "cpu" or minigrad.device("cpu") (minigrad runs on the CPU only)."""
    from ..engine.device import check_device as check

    check(device, where)
