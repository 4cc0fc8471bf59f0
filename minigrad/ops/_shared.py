"""Helpers shared by the activation and loss op families: argument checks, a stable row max,
constants as tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor, dtypes

__all__ = ["as_tensor", "check_floating", "check_tensor", "row_max"]


def check_tensor(where: str, name: str, value: Any) -> None:
    """TypeError, as PyTorch's, unless `value` is a Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def check_floating(where: str, tensor: Tensor) -> None:
    """PyTorch raises NotImplementedError (a RuntimeError) for integer inputs to these ops."""
    if not dtypes.is_floating(tensor.dtype):
        raise NotImplementedError(f"{where}: not implemented for dtype {tensor.dtype} "
                                  f"(expected a floating point input, shape {tensor.shape})")


def row_max(x: np.ndarray, axis: int | None) -> np.ndarray:
    """The max along `axis`, keeping it; -inf for an empty axis instead of an error."""
    return x.max(axis=axis, keepdims=True, initial=-np.inf)


def as_tensor(value: Any) -> Tensor:
    """A constant (array or number) as a Tensor; a Tensor as it is (graph-side xp functions)."""
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))
