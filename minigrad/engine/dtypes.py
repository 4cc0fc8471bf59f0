"""Dtypes and PyTorch's type-promotion rules on top of NumPy dtypes.

minigrad's dtypes are NumPy dtypes (`mg.float32 is np.dtype("float32")`), so arrays and
tensors interoperate. Promotion follows PyTorch, not NumPy: a Python scalar never widens a
tensor (`x * 2.0` stays float32), integer with float gives the float, and a Python float
meeting only integer tensors gives the default float dtype, float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "bool_",
    "check_supported",
    "default_float",
    "float16",
    "float32",
    "float64",
    "infer_dtype",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_floating",
    "result_type",
    "to_dtype",
    "uint8",
]

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
default_float = float32

_CATEGORY_BOOL, _CATEGORY_INT, _CATEGORY_FLOAT = 0, 1, 2
_DEFAULT_OF_CATEGORY = {_CATEGORY_BOOL: bool_, _CATEGORY_INT: int64, _CATEGORY_FLOAT: float32}


def is_floating(dtype: Any) -> bool:
    """True for floating-point dtypes, the only ones that can require grad."""
    return np.dtype(dtype).kind == "f"


def to_dtype(dtype: Any) -> np.dtype:
    """Normalise a user's dtype (np.float32, "float32", mg.float32, float, int) to np.dtype."""
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        result = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype: cannot interpret {dtype!r} as a dtype") from error
    if result.kind not in "biuf":
        raise TypeError(f"dtype: {result} is not supported (use bool, integer or float dtypes)")
    return result


SUPPORTED_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def check_supported(dtype: Any, where: str = "tensor") -> None:
    """TypeError (as PyTorch's) for array dtypes a tensor cannot hold: strings, bytes,
    objects, datetimes, timedeltas, complex numbers, structured records."""
    dtype = np.dtype(dtype)
    if dtype.kind not in SUPPORTED_KINDS:
        what = _KIND_NAMES.get(dtype.kind, "unsupported")
        raise TypeError(f"{where}: can't convert np.ndarray of dtype {dtype} ({what}); the only "
                        f"supported types are bool, integers and float16, float32, float64")


_KIND_NAMES = {"U": "strings", "S": "bytes", "O": "Python objects", "M": "datetimes",
               "m": "timedeltas", "c": "complex numbers", "V": "raw or structured records"}


def _category(dtype: np.dtype) -> int:
    if dtype.kind == "b":
        return _CATEGORY_BOOL
    if dtype.kind in "iu":
        return _CATEGORY_INT
    return _CATEGORY_FLOAT


def _scalar_category(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        return _CATEGORY_BOOL
    if isinstance(value, (int, np.integer)):
        return _CATEGORY_INT
    if isinstance(value, (float, np.floating)):
        return _CATEGORY_FLOAT
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


# Python scalar types that never change a float tensor's dtype in `tensor op scalar`
_PLAIN = frozenset({int, float})


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives `a op b` for Tensors and Python scalars.

    Dimensioned tensors take priority over zero-dim tensors, which take priority over Python
    scalars, within the highest category (bool < integer < float) present.
    """
    if len(operands) == 2:  # the common cases first: same-dtype tensors, tensor with scalar
        first, second = operands
        first_dtype = getattr(first, "dtype", None)
        if first_dtype is not None and first_dtype == getattr(second, "dtype", None) \
                and hasattr(first, "ndim") and hasattr(second, "ndim"):
            return first_dtype
        if first_dtype is not None and first_dtype.kind == "f" and type(second) in _PLAIN \
                and hasattr(first, "ndim"):
            return first_dtype
    groups: list[list[np.dtype]] = [[], [], []]  # dimensioned, zero-dim, scalar
    categories = []
    for operand in operands:
        dtype = getattr(operand, "dtype", None)
        if dtype is not None and hasattr(operand, "ndim"):
            group = 0 if operand.ndim > 0 else 1
            groups[group].append(np.dtype(dtype))
            categories.append(_category(np.dtype(dtype)))
        else:
            category = _scalar_category(operand)
            groups[2].append(_DEFAULT_OF_CATEGORY[category])
            categories.append(category)
    top = max(categories)
    for group in groups[:2]:
        in_top = [dtype for dtype in group if _category(dtype) == top]
        if in_top:
            return np.result_type(*in_top)
    return _DEFAULT_OF_CATEGORY[top]


def infer_dtype(data: Any) -> np.dtype:
    """Dtype for `mg.tensor(data)`: NumPy arrays keep theirs; Python floats give float32,
    Python ints int64, bools bool."""
    if isinstance(data, (np.ndarray, np.generic)):
        check_supported(data.dtype)
        return data.dtype
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return float32
    if array.dtype.kind in "iu":
        return int64
    if array.dtype.kind == "b":
        return bool_
    raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} "
                    f"(NumPy sees dtype {array.dtype})")
