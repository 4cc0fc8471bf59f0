"""Tensor methods that make no arithmetic: device queries, `type()`, `new_*` factories.

minigrad computes on the CPU only: `x.device` is `device("cpu")`, `x.is_cuda` is False,
`x.cpu()` is `x` itself (as in PyTorch for a CPU tensor) and `x.cuda()` raises naming the
device. `x.new_zeros(2, 3)` and friends default to x's dtype, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from ..engine.device import CPU, check_device, device
from .cast import cast

__all__ = ["tensor_type"]

# PyTorch's legacy type names, dtype by dtype
TYPE_NAMES = {
    dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor", dtypes.float16: "HalfTensor",
    dtypes.int64: "LongTensor", dtypes.int32: "IntTensor", dtypes.int16: "ShortTensor",
    dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor", dtypes.bool_: "BoolTensor",
}
_DTYPE_OF_NAME = {name: dtype for dtype, name in TYPE_NAMES.items()}


def _dtype_of_type_name(name: str) -> np.dtype:
    """'torch.FloatTensor' or 'minigrad.FloatTensor' (or bare 'FloatTensor') -> float32."""
    prefix, _, short = name.rpartition(".")
    if prefix not in ("", "torch", "minigrad") or short not in _DTYPE_OF_NAME:
        raise ValueError(f"type: invalid type: {name!r}")
    return _DTYPE_OF_NAME[short]


def tensor_type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """With no argument the type name ('minigrad.FloatTensor'); else x converted to `dtype`
    (a dtype or a type name such as 'torch.DoubleTensor')."""
    if dtype is None:
        return f"minigrad.{TYPE_NAMES[self.dtype]}"
    if isinstance(dtype, str):
        dtype = _dtype_of_type_name(dtype)
    elif isinstance(dtype, type) and getattr(dtype, "legacy_dtype", None) is not None:
        dtype = dtype.legacy_dtype  # minigrad.FloatTensor and friends
    return cast(self, dtype)


def _device(self: Tensor) -> device:
    return CPU


def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself: it already lives on the CPU."""
    return self


def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    check_device("cuda" if device is None else device, "cuda")
    return self  # only reached for device="cpu"


def is_floating_point(self: Tensor) -> bool:
    return dtypes.is_floating(self.dtype)


# ---- new_* factories: x's dtype unless told -------------------------------------------------
def _new(self: Tensor, where: str, dtype: Any, device: Any, requires_grad: bool,
         array: np.ndarray) -> Tensor:
    check_device(device, where)
    tensor = Tensor._from_op(array)
    return tensor.requires_grad_(True) if requires_grad else tensor


def _target(self: Tensor, dtype: Any) -> np.dtype:
    return self.dtype if dtype is None else dtypes.to_dtype(dtype)


def _new_shape(where: str, sizes: tuple, size: Any) -> tuple[int, ...]:
    from ..creation import _shape

    return _shape(sizes, size)


def new_zeros(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _new_shape("new_zeros", sizes, size)
    return _new(self, "new_zeros", dtype, device, requires_grad,
                np.zeros(shape, dtype=_target(self, dtype)))


def new_ones(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _new_shape("new_ones", sizes, size)
    return _new(self, "new_ones", dtype, device, requires_grad,
                np.ones(shape, dtype=_target(self, dtype)))


def new_empty(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _new_shape("new_empty", sizes, size)
    return _new(self, "new_empty", dtype, device, requires_grad,
                np.empty(shape, dtype=_target(self, dtype)))


def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    shape = _new_shape("new_full", (size,), None)
    return _new(self, "new_full", dtype, device, requires_grad,
                np.full(shape, fill_value, dtype=_target(self, dtype)))


def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A copy of `data` in x's dtype (unless told), cut from any graph."""
    values = data.data if isinstance(data, Tensor) else data
    return _new(self, "new_tensor", dtype, device, requires_grad,
                np.array(values, dtype=_target(self, dtype)))


TENSOR_METHODS = {
    "device": property(_device),
    "is_cuda": property(lambda self: False),
    "is_cpu": property(lambda self: True),
    "cpu": cpu,
    "cuda": cuda,
    "type": tensor_type,
    "is_floating_point": is_floating_point,
    "new_zeros": new_zeros,
    "new_ones": new_ones,
    "new_empty": new_empty,
    "new_full": new_full,
    "new_tensor": new_tensor,
}
FUNCTIONAL: dict = {}
TOPLEVEL = {
    "is_floating_point": is_floating_point,
    "is_tensor": lambda obj: isinstance(obj, Tensor),
}
