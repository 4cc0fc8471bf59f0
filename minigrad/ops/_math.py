"""Helpers shared by the math families (rounding, trigonometric, special, logical): PyTorch's
dtype names in errors, argument checks with promotion, and in-place `_` variants built on
`ops/inplace.py`'s one in-place path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from .cast import cast
from .elementwise import _check_operands, _check_tensor, _shape_of
from .inplace import _check_operand, _check_result, _check_target, _modify

__all__ = [
    "ZeroGradient",
    "float_binary",
    "float_dtype",
    "inplace_binary",
    "inplace_unary",
    "not_implemented",
    "require_tensors",
    "torch_dtype_name",
]

_TORCH_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
}


def torch_dtype_name(dtype: Any) -> str:
    """PyTorch's scalar-type name for a dtype ('Float', 'Long', 'Bool', ...)."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def not_implemented(where: str, kernel: str, dtype: Any) -> NotImplementedError:
    """PyTorch's error for a dtype an op has no kernel for, naming the function."""
    return NotImplementedError(f'{where}: "{kernel}" not implemented for '
                               f"'{torch_dtype_name(dtype)}' (input dtype {np.dtype(dtype)})")


def float_dtype(dtype: Any) -> np.dtype:
    """The dtype float math gives: floats keep theirs, integers and bool give float32."""
    return np.dtype(dtype) if dtypes.is_floating(dtype) else dtypes.default_float


def require_tensors(where: str, **operands: Any) -> None:
    """TypeError in PyTorch's words unless every operand is a Tensor (no Python numbers)."""
    for position, (name, value) in enumerate(operands.items()):
        if not isinstance(value, Tensor):
            raise TypeError(f"{where}(): argument '{name}' (position {position + 1}) must be "
                            f"Tensor, not {type(value).__name__}")


def float_binary(where: str, function: type[Function], input: Any, other: Any,
                 integers: str = "promote", kernel: str | None = None) -> Tensor:
    """Check, broadcast-check and promote two operands, then apply `function` in float.

    integers="promote": integer or bool operands are computed in float32 (atan2, copysign);
    integers="refuse": PyTorch has no integer kernel, so NotImplementedError (hypot).
    """
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    if not dtypes.is_floating(a.dtype):
        if integers == "refuse":
            raise not_implemented(where, kernel or f"{where}_cpu", a.dtype)
        a, b = cast(a, dtypes.default_float), cast(b, dtypes.default_float)
    return function.apply(a, b)


class ZeroGradient(Function):
    """Base of piecewise-constant ops (floor, sign, ...): PyTorch's gradient is zeros."""

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.zeros_like(grad)


# ---- in-place variants ----------------------------------------------------------------------
def _result_dtype(dtype: np.dtype, result: str) -> np.dtype:
    """The dtype an op gives for operands promoting to `dtype`: "promote" (that dtype),
    "float" (float math: integers give float32) or "bool" (a predicate)."""
    if result == "float":
        return float_dtype(dtype)
    if result == "bool":
        return dtypes.bool_
    return dtype


def inplace_unary(name: str, function: Callable[..., Tensor],
                  result: str = "promote") -> Callable[..., Tensor]:
    """`x.<name>()` writing `function(x)` into x; result="float" for float math (an integer
    tensor then cannot hold the result, PyTorch's RuntimeError), "bool" for predicates."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        _check_tensor(name, "self", self)
        _check_target(name, self)
        _check_result(name, self, {}, _result_dtype(self.dtype, result))
        return _modify(self, lambda old: function(old, *args, **kwargs), keeps_self=True)

    method.__name__ = name
    method.__doc__ = f"In-place version of `{name[:-1]}`."
    return method


def inplace_binary(name: str, function: Callable[..., Tensor],
                   result: str = "promote") -> Callable[..., Tensor]:
    """`x.<name>(other)` writing `function(x, other)` into x; `other` broadcasts to x;
    `result` as for `inplace_unary`."""

    def method(self: Tensor, other: Any, *args: Any, **kwargs: Any) -> Tensor:
        _check_tensor(name, "self", self)
        _check_operand(name, "other", other)
        _check_target(name, self)
        operand = Tensor._from_op(other) if isinstance(other, np.ndarray) else other
        result_dtype = _result_dtype(dtypes.result_type(self, operand), result)
        _check_result(name, self, {"other": other}, result_dtype)
        return _modify(self, lambda old: function(old, other, *args, **kwargs), (other,),
                       keeps_self=True)

    method.__name__ = name
    method.__doc__ = f"In-place version of `{name[:-1]}`."
    return method
