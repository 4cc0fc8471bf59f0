"""Turning op arguments into tensors of one dtype, by PyTorch's promotion rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor, dtypes

__all__ = ["as_operand", "promote"]


def as_operand(value: Any, dtype: np.dtype) -> Tensor:
    """A Python number or array as a constant tensor of `dtype`."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return Tensor._from_op(np.asarray(value, dtype=dtype))
    if isinstance(value, np.ndarray):
        return _from_array(value)
    raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")


def promote(*values: Any) -> list[Tensor]:
    """Tensors of the common dtype PyTorch would compute `values` in (casts are recorded)."""
    from .cast import cast

    if len(values) == 2:  # fast path: two tensors of one dtype need nothing
        first, second = values
        if type(first) is Tensor and type(second) is Tensor and first.data.dtype == \
                second.data.dtype:
            return [first, second]
    operands = [_from_array(value) if isinstance(value, np.ndarray) else value
                for value in values]
    target = dtypes.result_type(*operands)
    return [cast(as_operand(value, target), target) for value in operands]


def _from_array(array: np.ndarray) -> Tensor:
    """A NumPy operand as a tensor, refusing dtypes a tensor cannot hold (str, object...)."""
    dtypes.check_supported(array.dtype, "operand")
    return Tensor._from_op(array)
