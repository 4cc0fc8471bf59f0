"""Which implementation conv2d, max_pool2d and avg_pool2d run: "fast" or "reference".

The fast kernels (`conv`, `pool`) work per kernel offset on strided views; the reference ones
(`reference_kernels`) loop over output positions, the way the maths is written on paper. Both
take the same arguments and give the same results, so switching is a way to learn what the
fast ones compute and to rule them out when debugging:

    mg.set_kernels("reference")
    loss = F.cross_entropy(model(x), y)   # convs and pools now run the readable loops
    mg.set_kernels("fast")

The choice is read when an op is called, so it applies to every model at once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KERNEL_KINDS", "get_kernels", "kernel_for", "set_kernels"]

KERNEL_KINDS = ("fast", "reference")
_selected = {"kind": "fast"}


def set_kernels(kind: str) -> None:
    """Run conv2d, max_pool2d and avg_pool2d with the "fast" (default) or "reference"
    kernels from now on."""
    if kind not in KERNEL_KINDS:
        raise ValueError(f"set_kernels: kind must be 'fast' or 'reference', got {kind!r}")
    _selected["kind"] = kind


def get_kernels() -> str:
    """The kernels in use: "fast" or "reference"."""
    return _selected["kind"]


def kernel_for(name: str, fast: Any) -> Any:
    """The Function class to run for op `name`: `fast` itself, or its reference twin."""
    if _selected["kind"] == "fast":
        return fast
    from .reference_kernels import REFERENCE_KERNELS

    return REFERENCE_KERNELS[name]
