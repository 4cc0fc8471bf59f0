"""Rounding and sign ops: floor, ceil, round(decimals), trunc/fix, frac, remainder/fmod (`%`),
sign/sgn/signbit, copysign, clamp_min/clamp_max, positive, nan_to_num.

PyTorch's rules: floor/ceil/trunc/round keep integer dtypes (bool has no kernel); their
gradient is zero (the result is piecewise constant). remainder takes the divisor's sign
(Python's `%`), fmod the dividend's (C's fmod); integer division by zero is an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._math import (
    ZeroGradient,
    float_binary,
    inplace_binary,
    inplace_unary,
    not_implemented,
)
from .elementwise import (
    _check_operands,
    _check_tensor,
    _operator,
    _reflected_operator,
    _shape_of,
    clamp,
)

__all__ = [
    "ceil", "clamp_max", "clamp_min", "copysign", "fix", "floor", "fmod", "frac", "nan_to_num",
    "positive", "remainder", "round", "sgn", "sign", "signbit", "trunc",
]


# ---- floor, ceil, trunc, round, frac --------------------------------------------------------
class Floor(ZeroGradient):
    """floor(x); zero gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(ZeroGradient):
    """ceil(x); zero gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Trunc(ZeroGradient):
    """x rounded toward zero; zero gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.trunc(x)


class Round(ZeroGradient):
    """x rounded half to even at `decimals` digits, as PyTorch computes it (in x's dtype:
    rint(x * 10 ** d) / 10 ** d, or rint(x / 10 ** -d) * 10 ** -d for negative d)."""

    def forward(self, x: np.ndarray, decimals: int) -> np.ndarray:
        if decimals == 0:
            return np.rint(x)
        scale = np.asarray(10.0 ** abs(decimals), dtype=x.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            if decimals > 0:
                return np.rint(x * scale) / scale
            return np.rint(x / scale) * scale


class Frac(Function):
    """x - trunc(x); the gradient passes unchanged."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x - np.trunc(x)

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad


def _rounding(where: str, function: type[Function], input: Tensor, kernel: str,
              **options: Any) -> Tensor:
    """Integers are returned as a copy (already whole); bool has no kernel, as in PyTorch."""
    _check_tensor(where, "input", input)
    if input.dtype == dtypes.bool_:
        raise not_implemented(where, kernel, input.dtype)
    if not dtypes.is_floating(input.dtype):
        return Tensor._from_op(input.data.copy())
    return function.apply(input, **options)


def floor(input: Tensor) -> Tensor:
    """Largest integer <= input, elementwise (integer tensors are returned as they are)."""
    return _rounding("floor", Floor, input, "floor_vml_cpu")


def ceil(input: Tensor) -> Tensor:
    """Smallest integer >= input, elementwise."""
    return _rounding("ceil", Ceil, input, "ceil_vml_cpu")


def trunc(input: Tensor) -> Tensor:
    """input rounded toward zero, elementwise."""
    return _rounding("trunc", Trunc, input, "trunc_vml_cpu")


def fix(input: Tensor) -> Tensor:
    """Alias of `trunc`."""
    return trunc(input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """input rounded half to even (0.5 -> 0, 1.5 -> 2) at `decimals` decimal digits
    (negative: to tens, hundreds, ...). Integer tensors need decimals=0."""
    _check_tensor("round", "input", input)
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, "
                        f"not {type(decimals).__name__}")
    if decimals != 0 and not dtypes.is_floating(input.dtype):
        raise not_implemented("round", "round_cpu", input.dtype)
    return _rounding("round", Round, input, "round_cpu", decimals=int(decimals))


def frac(input: Tensor) -> Tensor:
    """input - trunc(input), keeping input's sign; floating tensors only, as in PyTorch."""
    _check_tensor("frac", "input", input)
    if not dtypes.is_floating(input.dtype):
        raise not_implemented("frac", "frac_cpu", input.dtype)
    return Frac.apply(input)


# ---- remainder, fmod ------------------------------------------------------------------------
class Remainder(Function):
    """a - b * floor(a / b) (the divisor's sign, Python's `%`).

    d/da = 1; d/db = -floor(a / b), a piecewise constant kept as a constant of the second pass.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[1]:
                self.quotient, out = np.divmod(a, b)  # one pass for both
            else:
                out = np.remainder(a, b)
        self.a_shape, self.b_shape = a.shape, b.shape
        return out

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_a = xp.sum_to(grad, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = None
        if self.needs_input_grad[1]:
            grad_b = xp.sum_to(-grad * self.quotient, self.b_shape)
        return grad_a, grad_b


class Fmod(Function):
    """a - b * trunc(a / b) (the dividend's sign, C's fmod); d/db = -trunc(a / b)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.fmod(a, b)
            if self.needs_input_grad[1]:
                self.quotient = np.rint((a - out) / b)  # whole up to rounding
        self.a_shape, self.b_shape = a.shape, b.shape
        return out

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_a = xp.sum_to(grad, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = None
        if self.needs_input_grad[1]:
            grad_b = xp.sum_to(-grad * self.quotient, self.b_shape)
        return grad_a, grad_b


def _modulo(where: str, function: type[Function], input: Any, other: Any) -> Tensor:
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    if a.dtype == dtypes.bool_:
        raise not_implemented(where, f"{where}_cpu", a.dtype)
    if not dtypes.is_floating(a.dtype) and np.any(b.data == 0):
        raise RuntimeError(f"{where}: ZeroDivisionError (integer {where} by zero)")
    return function.apply(a, b)


def remainder(input: Tensor | float, other: Tensor | float) -> Tensor:
    """input modulo other with the sign of other (Python's and PyTorch's `%`)."""
    return _modulo("remainder", Remainder, input, other)


def fmod(input: Tensor, other: Tensor | float) -> Tensor:
    """input modulo other with the sign of input (C's fmod)."""
    return _modulo("fmod", Fmod, input, other)


# ---- sign, sgn, signbit, copysign -----------------------------------------------------------
class Sign(ZeroGradient):
    """-1, 0 or 1 (0 for NaN, as PyTorch on the CPU); zero gradient."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.sign(x)
        if x.dtype.kind == "f":
            out = np.where(np.isnan(x), np.zeros((), dtype=x.dtype), out)
        return out


def sign(input: Tensor) -> Tensor:
    """The sign of input (-1, 0, 1), in input's dtype; bool stays bool."""
    _check_tensor("sign", "input", input)
    if input.dtype == dtypes.bool_:
        return Tensor._from_op(input.data.copy())
    return Sign.apply(input)


def sgn(input: Tensor) -> Tensor:
    """`sign` (for real tensors, the same function)."""
    _check_tensor("sgn", "input", input)
    return sign(input)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0), as a bool tensor."""
    _check_tensor("signbit", "input", input)
    if input.dtype == dtypes.bool_:
        return Tensor._from_op(np.zeros(input.shape, dtype=bool))
    return Tensor._from_op(np.asarray(np.signbit(input.data)))


class Copysign(Function):
    """|a| with the sign of b; d/da = sign(a) * sign(out) (0 at a = 0), d/db = 0."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.asarray(np.copysign(a, b))  # an array even for 0-d, saved as the output
        self.save(a, out)
        self.b_shape = b.shape
        return out

    def backward(self, xp: Any, grad: Any, a: Any, out: Any) -> tuple:
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = xp.sum_to(grad * (xp.sign(a) * xp.sign(out)), a.shape)
        if self.needs_input_grad[1]:
            grad_b = xp.zeros(self.b_shape, dtype=grad.dtype)
        return grad_a, grad_b


def copysign(input: Tensor, other: Tensor | float) -> Tensor:
    """|input| with the sign of other (-0.0 counts as negative); integers give float32."""
    return float_binary("copysign", Copysign, input, other)


# ---- clamp_min, clamp_max, positive, nan_to_num ---------------------------------------------
def clamp_min(input: Tensor, min: Tensor | float) -> Tensor:
    """max(input, min): `clamp(input, min=min)`."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Tensor | float) -> Tensor:
    """min(input, max): `clamp(input, max=max)`."""
    return clamp(input, max=max)


def positive(input: Tensor) -> Tensor:
    """input itself (`+x`); bool tensors are refused, as in PyTorch."""
    _check_tensor("positive", "input", input)
    if input.dtype == dtypes.bool_:
        raise RuntimeError("positive: The `+` operator, on a bool tensor is not supported.")
    return input


class NanToNum(Function):
    """NaN, +inf, -inf replaced by numbers; the gradient passes where x was finite."""

    def forward(self, x: np.ndarray, nan: float, posinf: float | None,
                neginf: float | None) -> np.ndarray:
        self.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.finite, grad, 0)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (default: the dtype's largest and
    smallest finite numbers); integer tensors are returned as they are."""
    _check_tensor("nan_to_num", "input", input)
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and not isinstance(value, (int, float, np.number)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, "
                            f"not {type(value).__name__}")
    if not dtypes.is_floating(input.dtype):
        return Tensor._from_op(input.data.copy())
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


TENSOR_METHODS = {
    "floor": floor, "ceil": ceil, "trunc": trunc, "fix": fix, "round": round, "frac": frac,
    "remainder": remainder, "fmod": fmod, "sign": sign, "sgn": sgn, "signbit": signbit,
    "copysign": copysign, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "positive": positive, "nan_to_num": nan_to_num,
    "__mod__": _operator(remainder), "__rmod__": _reflected_operator(remainder),
    "__pos__": positive,
    "floor_": inplace_unary("floor_", floor), "ceil_": inplace_unary("ceil_", ceil),
    "trunc_": inplace_unary("trunc_", trunc), "fix_": inplace_unary("fix_", trunc),
    "round_": inplace_unary("round_", round), "frac_": inplace_unary("frac_", frac),
    "sign_": inplace_unary("sign_", sign), "sgn_": inplace_unary("sgn_", sgn),
    "nan_to_num_": inplace_unary("nan_to_num_", nan_to_num),
    "remainder_": inplace_binary("remainder_", remainder),
    "fmod_": inplace_binary("fmod_", fmod),
    "copysign_": inplace_binary("copysign_", copysign, result="float"),
    "clamp_min_": inplace_binary("clamp_min_", clamp_min),
    "clamp_max_": inplace_binary("clamp_max_", clamp_max),
    "__imod__": inplace_binary("remainder_", remainder),
}
FUNCTIONAL: dict = {}
TOPLEVEL = {
    "floor": floor, "ceil": ceil, "trunc": trunc, "fix": fix, "round": round, "frac": frac,
    "remainder": remainder, "fmod": fmod, "sign": sign, "sgn": sgn, "signbit": signbit,
    "copysign": copysign, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "positive": positive, "nan_to_num": nan_to_num,
}
