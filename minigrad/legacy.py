"""PyTorch's legacy constructors: `minigrad.FloatTensor([1, 2])`, `minigrad.LongTensor(3)`.

Each builds a tensor of its dtype from data or from sizes, and `isinstance(x,
minigrad.FloatTensor)` checks the dtype, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Tensor, dtypes

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
           "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "legacy_new"]


def legacy_new(args: tuple, dtype: np.dtype) -> np.ndarray:
    """The array `torch.<Type>Tensor(*args)` holds: zeros of the given sizes (PyTorch leaves
    them uninitialised), or a copy of the data in `dtype`."""
    if not args:
        return np.zeros((0,), dtype=dtype)
    if all(isinstance(arg, (int, np.integer)) and not isinstance(arg, (bool, np.bool_))
           for arg in args):
        if any(arg < 0 for arg in args):
            raise RuntimeError(f"Trying to create tensor with negative dimension: {list(args)}")
        return np.zeros(tuple(int(arg) for arg in args), dtype=dtype)
    if len(args) == 1:
        data = args[0].data if isinstance(args[0], Tensor) else args[0]
        if isinstance(data, np.ndarray):
            dtypes.check_supported(data.dtype)
        return np.array(data, dtype=dtype)
    raise TypeError(f"new(): takes either sizes (ints) or one sequence of data, got "
                    f"{tuple(type(arg).__name__ for arg in args)}")


class _LegacyType(type):
    legacy_dtype: np.dtype

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.legacy_dtype

    def __call__(cls, *args: Any) -> Tensor:
        return Tensor._from_op(legacy_new(args, cls.legacy_dtype))


def _legacy(name: str, dtype: np.dtype) -> type:
    return _LegacyType(name, (), {"legacy_dtype": dtype, "__doc__": f"{dtype} tensors."})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
CharTensor = _legacy("CharTensor", dtypes.int8)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool_)
