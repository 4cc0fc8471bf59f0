"""Changing a tensor's dtype, differentiably: `to(dtype)`, `float()`, `double()`, `long()`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ..engine.device import check_device, device

__all__ = ["cast"]


class Cast(Function):
    """y = x.astype(dtype); the gradient goes back in x's dtype."""

    def forward(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.astype(grad, self.input_dtype)


def cast(tensor: Tensor, dtype: Any) -> Tensor:
    """`tensor` in `dtype` (itself when already so); float-to-int casts cut the graph."""
    dtype = dtypes.to_dtype(dtype)
    if tensor.dtype == dtype:
        return tensor
    if not dtypes.is_floating(dtype):
        return Tensor._from_op(tensor.data.astype(dtype))
    return Cast.apply(tensor, dtype=dtype)


def to(self: Tensor, *args: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """`x.to(mg.float64)`, `x.to("cpu")`, `x.to(other)`, `x.to(device, dtype)`; a device
    other than the CPU raises a RuntimeError naming it; `copy=True` always copies."""
    for arg in args:
        if isinstance(arg, (str, device)) or (isinstance(arg, int) and not isinstance(arg, bool)):
            check_device(arg, "to")
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        else:
            dtype = arg
    check_device(kwargs.pop("device", None), "to")
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
    result = self if dtype is None else cast(self, dtype)
    if copy and result is self:
        from .movement import clone

        result = clone(self)
    return result


TENSOR_METHODS = {
    "to": to,
    "float": lambda self: cast(self, dtypes.float32),
    "double": lambda self: cast(self, dtypes.float64),
    "half": lambda self: cast(self, dtypes.float16),
    "long": lambda self: cast(self, dtypes.int64),
    "int": lambda self: cast(self, dtypes.int32),
    "bool": lambda self: cast(self, dtypes.bool_),
    "type_as": lambda self, other: cast(self, other.dtype),
}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
