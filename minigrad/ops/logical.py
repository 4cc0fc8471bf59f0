"""Predicates, logical and bitwise ops: isnan/isinf/isfinite/isposinf/isneginf,
isclose/allclose/equal, logical_and/or/xor/not, bitwise_and/or/xor/not, shifts, and the
operators `& | ^ ~ << >>` (with their reflected and in-place forms).

None of these is differentiable: they return bool tensors (predicates, logical ops) or
integer/bool tensors (bitwise ops), never part of the graph. PyTorch's rules: logical ops
take any dtype and treat nonzero (and NaN) as True; bitwise ops and shifts exist only for
integer and bool tensors (shifts: integers only) and promote like arithmetic; a shift by a
negative amount or by at least the bit width gives 0 (or -1 for a negative number shifted
right), never NumPy's platform-dependent result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._math import (
    inplace_binary,
    inplace_unary,
    not_implemented,
    require_tensors,
    torch_dtype_name,
)
from .elementwise import _check_operands, _check_tensor, _operator, _reflected_operator, _shape_of

__all__ = [
    "allclose", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "equal", "isclose", "isfinite", "isinf", "isnan",
    "isneginf", "isposinf", "logical_and", "logical_not", "logical_or", "logical_xor",
]


def _bool_tensor(array: Any) -> Tensor:
    return Tensor._from_op(np.asarray(array, dtype=bool))


# ---- predicates -----------------------------------------------------------------------------
def isnan(input: Tensor) -> Tensor:
    """True where input is NaN."""
    _check_tensor("isnan", "input", input)
    return _bool_tensor(np.isnan(input.data) if input.dtype.kind == "f"
                        else np.zeros(input.shape, dtype=bool))


def isinf(input: Tensor) -> Tensor:
    """True where input is +inf or -inf."""
    _check_tensor("isinf", "input", input)
    return _bool_tensor(np.isinf(input.data) if input.dtype.kind == "f"
                        else np.zeros(input.shape, dtype=bool))


def isposinf(input: Tensor) -> Tensor:
    """True where input is +inf."""
    _check_tensor("isposinf", "input", input)
    return _bool_tensor(input.data == np.inf if input.dtype.kind == "f"
                        else np.zeros(input.shape, dtype=bool))


def isneginf(input: Tensor) -> Tensor:
    """True where input is -inf."""
    _check_tensor("isneginf", "input", input)
    return _bool_tensor(input.data == -np.inf if input.dtype.kind == "f"
                        else np.zeros(input.shape, dtype=bool))


def isfinite(input: Tensor) -> Tensor:
    """True where input is neither NaN nor infinite (always, for integers)."""
    _check_tensor("isfinite", "input", input)
    return _bool_tensor(np.isfinite(input.data) if input.dtype.kind == "f"
                        else np.ones(input.shape, dtype=bool))


def _close_arrays(where: str, input: Any, other: Any, rtol: float, atol: float,
                  equal_nan: bool) -> np.ndarray:
    """PyTorch's isclose on the arrays: |a - b| <= atol + rtol |b| (finite), or a == b."""
    require_tensors(where, input=input, other=other)
    if input.dtype != other.dtype:
        raise RuntimeError(f"{where}: {torch_dtype_name(input.dtype)} did not match "
                           f"{torch_dtype_name(other.dtype)} (input dtype {input.dtype}, other "
                           f"dtype {other.dtype})")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
            raise TypeError(f"{where}(): argument '{name}' must be float, "
                            f"not {type(value).__name__}")
        if value < 0:
            raise RuntimeError(f"{where}: {name} must be greater than or equal to zero, "
                               f"but got {value}")
    broadcast_shapes(where, input.shape, other.shape)
    a, b = input.data, other.data
    close = a == b
    floating = a.dtype.kind == "f"
    if equal_nan and floating:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if not floating:
        a, b = a.astype(dtypes.default_float), b.astype(dtypes.default_float)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = atol + np.abs(rtol * b)
        actual = np.abs(a - b)
        return close | (np.isfinite(actual) & (actual <= allowed))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """True where |input - other| <= atol + rtol * |other| (or they are equal, infinities
    included; NaNs only with equal_nan). Both must have one dtype; they broadcast."""
    return _bool_tensor(_close_arrays("isclose", input, other, rtol, atol, equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when `isclose` holds everywhere (a Python bool)."""
    return bool(np.all(_close_arrays("allclose", input, other, rtol, atol, equal_nan)))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values (dtypes may differ; NaN is
    never equal)."""
    require_tensors("equal", input=input, other=other)
    if input.shape != other.shape:
        return False
    a, b = promote(input, other)
    return bool(np.array_equal(a.data, b.data))


# ---- logical --------------------------------------------------------------------------------
def _logical(where: str, function: Callable, input: Any, other: Any) -> Tensor:
    require_tensors(where, input=input, other=other)
    broadcast_shapes(where, input.shape, other.shape)
    return _bool_tensor(function(input.data, other.data))


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """input and other, elementwise, nonzero meaning True; a bool tensor."""
    return _logical("logical_and", np.logical_and, input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """input or other, elementwise, nonzero meaning True; a bool tensor."""
    return _logical("logical_or", np.logical_or, input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """Exactly one of input, other nonzero, elementwise; a bool tensor."""
    return _logical("logical_xor", np.logical_xor, input, other)


def logical_not(input: Tensor) -> Tensor:
    """True where input is zero; a bool tensor."""
    _check_tensor("logical_not", "input", input)
    return _bool_tensor(np.logical_not(input.data))


# ---- bitwise --------------------------------------------------------------------------------
def _integer_operands(where: str, kernel: str, input: Any, other: Any,
                      allow_bool: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both operands as arrays of their promoted integer (or bool) dtype, else PyTorch's
    NotImplementedError naming the dtype."""
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    if a.dtype.kind == "f" or (a.dtype == dtypes.bool_ and not allow_bool):
        raise not_implemented(where, kernel, a.dtype)
    return a.data, b.data


def bitwise_and(input: Tensor | int, other: Tensor | int) -> Tensor:
    """input & other on integer or bool tensors (bool & bool is logical and)."""
    a, b = _integer_operands("bitwise_and", "bitwise_and_cpu", input, other)
    return Tensor._from_op(np.asarray(np.bitwise_and(a, b)))


def bitwise_or(input: Tensor | int, other: Tensor | int) -> Tensor:
    """input | other on integer or bool tensors."""
    a, b = _integer_operands("bitwise_or", "bitwise_or_cpu", input, other)
    return Tensor._from_op(np.asarray(np.bitwise_or(a, b)))


def bitwise_xor(input: Tensor | int, other: Tensor | int) -> Tensor:
    """input ^ other on integer or bool tensors."""
    a, b = _integer_operands("bitwise_xor", "bitwise_xor_cpu", input, other)
    return Tensor._from_op(np.asarray(np.bitwise_xor(a, b)))


def bitwise_not(input: Tensor) -> Tensor:
    """~input: every bit flipped (logical not for bool tensors)."""
    _check_tensor("bitwise_not", "input", input)
    if input.dtype.kind == "f":
        raise not_implemented("bitwise_not", "bitwise_not_cpu", input.dtype)
    return Tensor._from_op(np.asarray(np.invert(input.data)))


def _shift_amounts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(amounts clipped into [0, bits), mask of amounts that were in range)."""
    bits = a.dtype.itemsize * 8
    valid = (b >= 0) & (b < bits)
    return np.where(valid, b, 0).astype(a.dtype, copy=False), valid


def bitwise_left_shift(input: Tensor | int, other: Tensor | int) -> Tensor:
    """input << other on integer tensors; bits shifted out are lost (wrapping), shifts
    outside [0, bit width) give 0."""
    a, b = _integer_operands("bitwise_left_shift", "lshift_cpu", input, other, False)
    amounts, valid = _shift_amounts(a, b)
    shifted = np.left_shift(a, amounts)
    return Tensor._from_op(np.asarray(np.where(valid, shifted, np.zeros((), a.dtype))))


def bitwise_right_shift(input: Tensor | int, other: Tensor | int) -> Tensor:
    """input >> other on integer tensors (arithmetic: negative numbers stay negative);
    shifts outside [0, bit width) give 0, or -1 for a negative number."""
    a, b = _integer_operands("bitwise_right_shift", "rshift_cpu", input, other, False)
    amounts, valid = _shift_amounts(a, b)
    shifted = np.right_shift(a, amounts)
    overflow = np.where(a < 0, np.asarray(-1).astype(a.dtype), np.zeros((), a.dtype)) \
        if a.dtype.kind == "i" else np.zeros((), a.dtype)
    return Tensor._from_op(np.asarray(np.where(valid, shifted, overflow)))


def _invert(self: Tensor) -> Tensor:
    """`~x`: bitwise not, for integer and bool tensors only (TypeError otherwise)."""
    if self.dtype.kind == "f":
        raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type "
                        f"tensors, got dtype {self.dtype}")
    return bitwise_not(self)


_PREDICATES = {"isnan": isnan, "isinf": isinf, "isposinf": isposinf, "isneginf": isneginf,
               "isfinite": isfinite, "isclose": isclose, "allclose": allclose, "equal": equal,
               "logical_not": logical_not}
_LOGICAL = {"logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor}
_BITWISE = {"bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
            "bitwise_left_shift": bitwise_left_shift,
            "bitwise_right_shift": bitwise_right_shift}

TENSOR_METHODS: dict = {
    **_PREDICATES, **_LOGICAL, **_BITWISE, "bitwise_not": bitwise_not,
    "__and__": _operator(bitwise_and), "__rand__": _reflected_operator(bitwise_and),
    "__or__": _operator(bitwise_or), "__ror__": _reflected_operator(bitwise_or),
    "__xor__": _operator(bitwise_xor), "__rxor__": _reflected_operator(bitwise_xor),
    "__lshift__": _operator(bitwise_left_shift),
    "__rlshift__": _reflected_operator(bitwise_left_shift),
    "__rshift__": _operator(bitwise_right_shift),
    "__rrshift__": _reflected_operator(bitwise_right_shift),
    "__invert__": _invert,
    "logical_not_": inplace_unary("logical_not_", logical_not, result="bool"),
    "bitwise_not_": inplace_unary("bitwise_not_", bitwise_not),
}
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function, result="bool")
                       for name, function in _LOGICAL.items()})
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function)
                       for name, function in _BITWISE.items()})
TENSOR_METHODS.update({
    "__iand__": inplace_binary("bitwise_and_", bitwise_and),
    "__ior__": inplace_binary("bitwise_or_", bitwise_or),
    "__ixor__": inplace_binary("bitwise_xor_", bitwise_xor),
    "__ilshift__": inplace_binary("bitwise_left_shift_", bitwise_left_shift),
    "__irshift__": inplace_binary("bitwise_right_shift_", bitwise_right_shift),
})
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {**_PREDICATES, **_LOGICAL, **_BITWISE, "bitwise_not": bitwise_not}
