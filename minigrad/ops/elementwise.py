"""Elementwise ops: arithmetic, powers, exp/log, trigonometry, clamping, selection, comparison.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (`x * 2.0` stays float32,
int with float gives the float, `int / int` gives float32). Each broadcasting input's gradient
is summed back to its shape (`xp.sum_to`). Math that is undefined for integers (exp, log,
sqrt, ...) first casts an integer or bool input to float32, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import as_operand, promote
from .cast import cast

__all__ = [
    "abs", "add", "clamp", "clip", "cos", "div", "eq", "exp", "expm1", "floor_divide", "ge",
    "gt", "le", "log", "log1p", "lt", "masked_fill", "maximum", "minimum", "mul", "ne", "neg",
    "pow", "reciprocal", "rsqrt", "sigmoid", "sin", "sqrt", "square", "sub", "tanh", "where",
]

Operand = Tensor | float | int | bool
_NUMBER_TYPES = (bool, int, float, np.number, np.bool_)


# ---- argument checks ------------------------------------------------------------------------
def _is_operand(value: Any) -> bool:
    """True for what a binary op accepts: a Tensor, a Python or NumPy number, an ndarray."""
    return isinstance(value, (Tensor, np.ndarray) + _NUMBER_TYPES)


def _shape_of(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", ()))


def _check_tensor(where: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: argument '{name}' must be a Tensor, "
                        f"not {type(value).__name__}")


def _check_operands(where: str, operands: dict[str, Any], need_tensor: bool = True) -> None:
    """TypeError unless every operand is a Tensor or a number (and, if `need_tensor`, at
    least one is a Tensor)."""
    for name, value in operands.items():
        if not _is_operand(value):
            raise TypeError(f"{where}: argument '{name}' must be a Tensor or a number, "
                            f"not {type(value).__name__}")
    if need_tensor and not any(isinstance(value, Tensor) for value in operands.values()):
        raise TypeError(f"{where}: expected at least one Tensor argument, got "
                        f"{', '.join(type(value).__name__ for value in operands.values())}")


def _float_input(where: str, input: Tensor) -> Tensor:
    """`input` itself if floating, else cast to float32 (exp of an int tensor is float32)."""
    _check_tensor(where, "input", input)
    if dtypes.is_floating(input.dtype):
        return input
    return cast(input, dtypes.default_float)


def _scalar_operand(value: float, dtype: np.dtype) -> Tensor:
    """A Python number as a 0-d constant of the tensor operand's floating dtype."""
    return Tensor._from_op(np.asarray(value, dtype=dtype))


def _binary(where: str, function: type[Function], input: Any, other: Any) -> Tensor:
    """Validate, broadcast-check and promote two operands, then apply `function`."""
    # the common cases first, checked cheaply: two tensors of one dtype, or a floating
    # tensor with a Python float or int (which never promotes it)
    first, second = type(input), type(other)
    if first is Tensor:
        if second is Tensor:
            a, b = input._data, other._data
            if a.dtype == b.dtype:
                if a.shape != b.shape:
                    broadcast_shapes(where, a.shape, b.shape)
                return function.apply(input, other)
        elif (second is float or second is int) and input._data.dtype.kind == "f":
            return function.apply(input, _scalar_operand(other, input._data.dtype))
    elif second is Tensor and (first is float or first is int) \
            and other._data.dtype.kind == "f":
        return function.apply(_scalar_operand(input, other._data.dtype), other)
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    return function.apply(a, b)


# ---- add, sub, mul, div ---------------------------------------------------------------------
class Add(Function):
    """a + b with NumPy broadcasting."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_a = xp.sum_to(grad, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = xp.sum_to(grad, self.b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Sub(Function):
    """a - b with NumPy broadcasting."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_a = xp.sum_to(grad, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = xp.sum_to(-grad, self.b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Mul(Function):
    """a * b with NumPy broadcasting."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        return a * b

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        grad_a = xp.sum_to(grad * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = xp.sum_to(grad * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """a / b (true division) with NumPy broadcasting; d/db = -(a / b) / b."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a / b
        self.a_shape = a.shape
        self.save(b, out)
        return out

    def backward(self, xp: Any, grad: Any, b: Any, out: Any) -> tuple:
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                grad_a = xp.sum_to(grad / b, self.a_shape)
            if self.needs_input_grad[1]:
                grad_b = xp.sum_to(-grad * out / b, b.shape)
        return grad_a, grad_b


class RoundedDiv(Function):
    """a / b rounded toward zero ("trunc") or down ("floor"); the gradient is zero, as in
    PyTorch, since the result is piecewise constant."""

    def forward(self, a: np.ndarray, b: np.ndarray, rounding_mode: str) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        with np.errstate(divide="ignore", invalid="ignore"):
            if rounding_mode == "floor":
                return np.floor_divide(a, b)
            if dtypes.is_floating(a.dtype):
                return np.trunc(a / b)
            quotient = np.floor_divide(a, b)
            # floor and trunc differ where the exact quotient is negative and inexact
            return quotient + ((quotient < 0) & (quotient * b != a))

    def backward(self, xp: Any, grad: Any) -> tuple:
        return (xp.zeros(self.a_shape, dtype=grad.dtype), xp.zeros(self.b_shape, dtype=grad.dtype))


def add(input: Operand, other: Operand, *, alpha: Any = 1) -> Tensor:
    """input + alpha * other, broadcasting and promoting like PyTorch."""
    if alpha != 1:
        _check_operands("add", {"input": input, "other": other})
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary("add", Add, input, other)


def sub(input: Operand, other: Operand, *, alpha: Any = 1) -> Tensor:
    """input - alpha * other, broadcasting and promoting like PyTorch."""
    _check_operands("sub", {"input": input, "other": other})
    if _is_bool(input) and _is_bool(other):
        raise RuntimeError("sub: subtraction, the `-` operator, with two bool tensors is not "
                           "supported; use the `^` or `logical_xor()` operator instead")
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary("sub", Sub, input, other)


def mul(input: Operand, other: Operand) -> Tensor:
    """input * other, broadcasting and promoting like PyTorch."""
    return _binary("mul", Mul, input, other)


def div(input: Operand, other: Operand, *, rounding_mode: str | None = None) -> Tensor:
    """input / other: true division (integers give float32) unless `rounding_mode` is
    "trunc" or "floor", which keep integer dtypes and have zero gradient."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                         f"got {rounding_mode!r}")
    _check_operands("div", {"input": input, "other": other})
    broadcast_shapes("div", _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    if rounding_mode is not None:
        if not dtypes.is_floating(a.dtype) and np.any(b.data == 0):
            raise RuntimeError("div: ZeroDivisionError (integer division by zero)")
        return RoundedDiv.apply(a, b, rounding_mode=rounding_mode)
    if not dtypes.is_floating(a.dtype):
        a, b = cast(a, dtypes.default_float), cast(b, dtypes.default_float)
    return Div.apply(a, b)


def floor_divide(input: Operand, other: Operand) -> Tensor:
    """input // other, rounded down (PyTorch's `//`)."""
    return div(input, other, rounding_mode="floor")


def _is_bool(value: Any) -> bool:
    return isinstance(value, Tensor) and value.dtype == dtypes.bool_


# ---- pow ------------------------------------------------------------------------------------
class Pow(Function):
    """a ** b with NumPy broadcasting.

    d/da = b * a ** (b - 1) (zero where b == 0); d/db = a ** b * log(a), zero where a == 0
    and b >= 0 (the limit), NaN for a negative base as in PyTorch.
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.power(a, b)
        self.save(a, b, out)
        return out

    def backward(self, xp: Any, grad: Any, a: Any, b: Any, out: Any) -> tuple:
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.needs_input_grad[0]:
                slope = xp.where(b == 0, 0, b * a ** (b - 1))
                grad_a = xp.sum_to(grad * slope, a.shape)
            if self.needs_input_grad[1]:
                slope = xp.where(xp.logical_and(a == 0, b >= 0), 0, out * xp.log(a))
                grad_b = xp.sum_to(grad * slope, b.shape)
        return grad_a, grad_b


def pow(input: Operand, exponent: Operand) -> Tensor:
    """input ** exponent: tensor ** number, tensor ** tensor, or number ** tensor."""
    _check_operands("pow", {"input": input, "exponent": exponent})
    broadcast_shapes("pow", _shape_of(input), _shape_of(exponent))
    base, power = promote(input, exponent)
    if not dtypes.is_floating(base.dtype) and np.any(power.data < 0):
        raise RuntimeError(f"pow: Integers to negative integer powers are not allowed "
                           f"(input dtype {base.dtype}, exponent {exponent!r})")
    return Pow.apply(base, power)


# ---- one-input math -------------------------------------------------------------------------
class Neg(Function):
    """-x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, xp: Any, grad: Any) -> Any:
        return -grad


class Exp(Function):
    """e ** x; the derivative is the output itself."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            out = np.exp(x)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * out


class Expm1(Function):
    """e ** x - 1, accurate near 0; the derivative is output + 1."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            out = np.expm1(x)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * (out + 1)


class Log(Function):
    """Natural log; -inf at 0 and NaN below, silently, like PyTorch."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / x


class Log1p(Function):
    """log(1 + x), accurate near 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (1 + x)


class Sqrt(Function):
    """Square root; d/dx = 1 / (2 sqrt(x))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (2 * out)


class Rsqrt(Function):
    """1 / sqrt(x); d/dx = -out ** 3 / 2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1 / np.sqrt(x)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore"):
            return grad * (-0.5 * out ** 3)


class Reciprocal(Function):
    """1 / x; d/dx = -out ** 2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            out = 1 / x
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore"):
            return -grad * (out * out)


class Square(Function):
    """x * x; integers stay integers."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return x * x

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * (2 * x)


class Abs(Function):
    """|x|; the gradient is sign(x), so 0 at 0 as in PyTorch."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.abs(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.sign(x)


class Sin(Function):
    """sin(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.sin(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.cos(x)


class Cos(Function):
    """cos(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.cos(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return -grad * xp.sin(x)


class Tanh(Function):
    """tanh(x); d/dx = 1 - out ** 2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.tanh(x)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * (1 - out * out)


class Sigmoid(Function):
    """1 / (1 + e ** -x), computed from e ** -|x| so no exp can overflow."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        decay = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * (out * (1 - out))


def neg(input: Tensor) -> Tensor:
    """-input (bool tensors are refused, as in PyTorch)."""
    _check_tensor("neg", "input", input)
    if input.dtype == dtypes.bool_:
        raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not "
                           "supported; to invert a mask use `~` or logical_not()")
    return Neg.apply(input)


def exp(input: Tensor) -> Tensor:
    """e ** input, elementwise."""
    return Exp.apply(_float_input("exp", input))


def expm1(input: Tensor) -> Tensor:
    """e ** input - 1, accurate for small inputs."""
    return Expm1.apply(_float_input("expm1", input))


def log(input: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    return Log.apply(_float_input("log", input))


def log1p(input: Tensor) -> Tensor:
    """log(1 + input), accurate for small inputs."""
    return Log1p.apply(_float_input("log1p", input))


def sqrt(input: Tensor) -> Tensor:
    """Square root, elementwise."""
    return Sqrt.apply(_float_input("sqrt", input))


def rsqrt(input: Tensor) -> Tensor:
    """1 / sqrt(input), elementwise."""
    return Rsqrt.apply(_float_input("rsqrt", input))


def reciprocal(input: Tensor) -> Tensor:
    """1 / input, elementwise (integers give float32)."""
    return Reciprocal.apply(_float_input("reciprocal", input))


def square(input: Tensor) -> Tensor:
    """input * input (integers stay integers)."""
    _check_tensor("square", "input", input)
    return Square.apply(input)


def abs(input: Tensor) -> Tensor:
    """|input|; the gradient at 0 is 0."""
    _check_tensor("abs", "input", input)
    return Abs.apply(input)


def sin(input: Tensor) -> Tensor:
    """Sine, elementwise."""
    return Sin.apply(_float_input("sin", input))


def cos(input: Tensor) -> Tensor:
    """Cosine, elementwise."""
    return Cos.apply(_float_input("cos", input))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return Tanh.apply(_float_input("tanh", input))


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e ** -input), stable for large |input|."""
    return Sigmoid.apply(_float_input("sigmoid", input))


# ---- maximum, minimum, clamp ----------------------------------------------------------------
class Maximum(Function):
    """Elementwise larger of a and b; at ties each gets half the gradient (PyTorch's rule)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        return np.maximum(a, b)

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        return _split_at_ties(xp, grad, a, b, a > b, self.needs_input_grad)


class Minimum(Function):
    """Elementwise smaller of a and b; at ties each gets half the gradient (PyTorch's rule)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        return np.minimum(a, b)

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        return _split_at_ties(xp, grad, a, b, a < b, self.needs_input_grad)


def _split_at_ties(xp: Any, grad: Any, a: Any, b: Any, a_wins: Any,
                   needs_input_grad: tuple) -> tuple:
    """Route the gradient to the winner of each pair, half to each side of a tie (the masks
    are constants of a second pass)."""
    half = grad * 0.5
    tie = a == b
    grad_a = grad_b = None
    if needs_input_grad[0]:
        grad_a = xp.sum_to(xp.where(a_wins, grad, xp.where(tie, half, 0)), a.shape)
    if needs_input_grad[1]:
        b_wins = xp.logical_not(xp.logical_or(a_wins, tie))
        grad_b = xp.sum_to(xp.where(b_wins, grad, xp.where(tie, half, 0)), b.shape)
    return grad_a, grad_b


def maximum(input: Operand, other: Operand) -> Tensor:
    """Elementwise maximum, broadcasting; ties split the gradient evenly."""
    return _binary("maximum", Maximum, input, other)


def minimum(input: Operand, other: Operand) -> Tensor:
    """Elementwise minimum, broadcasting; ties split the gradient evenly."""
    return _binary("minimum", Minimum, input, other)


class Clamp(Function):
    """min(max(x, low), high); either bound may be absent (None).

    x gets the gradient where low <= x <= high (bounds inclusive, as in PyTorch); a bound
    gets it where it is the one that won (low also loses when low >= high).
    """

    def forward(self, x: np.ndarray, low: np.ndarray | None,
                high: np.ndarray | None) -> np.ndarray:
        self.save(x, low, high)
        out = x if low is None else np.maximum(x, low)
        return out if high is None else np.minimum(out, high)

    def backward(self, xp: Any, grad: Any, x: Any, low: Any, high: Any) -> tuple:
        grad_x = grad_low = grad_high = None
        if self.needs_input_grad[0]:
            if high is None:
                inside = x >= low
            elif low is None:
                inside = x <= high
            else:
                inside = xp.logical_and(x >= low, x <= high)
            grad_x = xp.sum_to(xp.where(inside, grad, 0), x.shape)
        if self.needs_input_grad[1]:
            low_wins = x < low if high is None else xp.logical_and(x < low, low < high)
            grad_low = xp.sum_to(xp.where(low_wins, grad, 0), low.shape)
        if self.needs_input_grad[2]:
            high_wins = x > high if low is None else xp.logical_or(x > high, high < low)
            grad_high = xp.sum_to(xp.where(high_wins, grad, 0), high.shape)
        return grad_x, grad_low, grad_high


def clamp(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:
    """Limit input to [min, max]; each bound is a number, a Tensor (broadcast) or None.

    The gradient passes where min <= input <= max, bounds included, as in PyTorch.
    """
    _check_tensor("clamp", "input", input)
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    bounds = {name: value for name, value in (("min", min), ("max", max)) if value is not None}
    _check_operands("clamp", {"input": input, **bounds})
    broadcast_shapes("clamp", input.shape, *(_shape_of(value) for value in bounds.values()))
    promoted = promote(input, *bounds.values())
    by_name = dict(zip(bounds, promoted[1:]))
    return Clamp.apply(promoted[0], by_name.get("min"), by_name.get("max"))


def clip(input: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:
    """Alias of `clamp`."""
    return clamp(input, min, max)


# ---- where, masked_fill ---------------------------------------------------------------------
class Where(Function):
    """condition ? a : b, all three broadcast; the gradient follows the chosen side."""

    def forward(self, condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        self.save(condition)
        return np.where(condition, a, b)

    def backward(self, xp: Any, grad: Any, condition: Any) -> tuple:
        grad_a = grad_b = None
        if self.needs_input_grad[1]:
            grad_a = xp.sum_to(xp.where(condition, grad, 0), self.a_shape)
        if self.needs_input_grad[2]:
            grad_b = xp.sum_to(xp.where(condition, 0, grad), self.b_shape)
        return None, grad_a, grad_b


def _check_mask(where: str, name: str, mask: Any) -> None:
    _check_tensor(where, name, mask)
    if mask.dtype != dtypes.bool_:
        raise RuntimeError(f"{where}: expected {name} to be a boolean tensor, but got a "
                           f"tensor with dtype {mask.dtype}")


def where(condition: Tensor, input: Operand | None = None,
          other: Operand | None = None) -> Any:
    """input where condition is True, else other (all broadcast; numbers allowed).

    With only `condition`, returns the indices of its True elements, one int64 tensor per
    dimension, like `torch.where(condition)`.
    """
    _check_mask("where", "condition", condition)
    if input is None and other is None:
        return tuple(Tensor._from_op(index.astype(np.int64))
                     for index in np.nonzero(np.atleast_1d(condition.data)))
    _check_operands("where", {"input": input, "other": other}, need_tensor=False)
    broadcast_shapes("where", condition.shape, _shape_of(input), _shape_of(other))
    a, b = promote(input, other)
    return Where.apply(condition, a, b)


def tensor_where(self: Tensor, condition: Tensor, other: Operand) -> Tensor:
    """`x.where(condition, y)`: same as `where(condition, x, y)`."""
    return where(condition, self, other)


class MaskedFill(Function):
    """x with `value` where mask is True (x and mask broadcast); value is 0-dim."""

    def forward(self, x: np.ndarray, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        self.save(mask)
        return np.where(mask, value, x)

    def backward(self, xp: Any, grad: Any, mask: Any) -> tuple:
        grad_x = grad_value = None
        if self.needs_input_grad[0]:
            grad_x = xp.sum_to(xp.where(mask, 0, grad), self.x_shape)
        if self.needs_input_grad[2]:
            grad_value = xp.sum_to(xp.where(mask, grad, 0), ())
        return grad_x, None, grad_value


def masked_fill(input: Tensor, mask: Tensor, value: Operand) -> Tensor:
    """A copy of input with `value` (a number or 0-dim tensor) where mask is True.

    The result keeps input's dtype; input and mask broadcast together.
    """
    _check_tensor("masked_fill", "input", input)
    _check_mask("masked_fill", "mask", mask)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s) (shape {value.shape})")
    if not isinstance(value, Tensor) and not isinstance(value, _NUMBER_TYPES):
        raise TypeError(f"masked_fill: argument 'value' must be a number or a 0-dim Tensor, "
                        f"not {type(value).__name__}")
    broadcast_shapes("masked_fill", input.shape, mask.shape)
    if isinstance(value, Tensor):
        value = cast(value, input.dtype)
    else:
        value = Tensor._from_op(np.asarray(value).astype(input.dtype))
    return MaskedFill.apply(input, mask, value)


# ---- comparisons ----------------------------------------------------------------------------
def _compare(where: str, compare: Callable, input: Operand, other: Operand) -> Tensor:
    """A bool tensor from comparing in the promoted dtype; never part of the graph."""
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    operands = [Tensor._from_op(value) if isinstance(value, np.ndarray) else value
                for value in (input, other)]
    common = dtypes.result_type(*operands)
    a, b = (as_operand(value, common).data.astype(common, copy=False) for value in operands)
    return Tensor._from_op(np.asarray(compare(a, b)))


def eq(input: Operand, other: Operand) -> Tensor:
    """input == other, elementwise, as a bool tensor."""
    return _compare("eq", np.equal, input, other)


def ne(input: Operand, other: Operand) -> Tensor:
    """input != other, elementwise, as a bool tensor."""
    return _compare("ne", np.not_equal, input, other)


def lt(input: Operand, other: Operand) -> Tensor:
    """input < other, elementwise, as a bool tensor."""
    return _compare("lt", np.less, input, other)


def le(input: Operand, other: Operand) -> Tensor:
    """input <= other, elementwise, as a bool tensor."""
    return _compare("le", np.less_equal, input, other)


def gt(input: Operand, other: Operand) -> Tensor:
    """input > other, elementwise, as a bool tensor."""
    return _compare("gt", np.greater, input, other)


def ge(input: Operand, other: Operand) -> Tensor:
    """input >= other, elementwise, as a bool tensor."""
    return _compare("ge", np.greater_equal, input, other)


# ---- masks in backward formulas -------------------------------------------------------------
def _constant_mask(function: Callable) -> Callable:
    """A NumPy logical function on masks (arrays or bool tensors) giving a constant tensor:
    masks carry no gradient, so the graph side needs no recorded op."""

    def mask(*masks: Any) -> Tensor:
        return Tensor._from_op(np.asarray(function(*(getattr(m, "data", m) for m in masks))))

    return mask


# xp names for combining the masks of a backward formula (comparisons give the masks)
NUMPY_XP = {"logical_and": np.logical_and, "logical_or": np.logical_or,
            "logical_not": np.logical_not}
GRAPH_XP = {name: _constant_mask(function) for name, function in NUMPY_XP.items()}


# ---- operators ------------------------------------------------------------------------------
def _operator(function: Callable) -> Callable:
    """`self <op> other` as a method; unsupported operands give Python's NotImplemented."""

    def method(self: Tensor, other: Any) -> Any:
        if not _is_operand(other):
            return NotImplemented
        return function(self, other)

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


def _reflected_operator(function: Callable) -> Callable:
    """`other <op> self` (as in `2.0 - x`) as a method for `__r<op>__`."""

    def method(self: Tensor, other: Any) -> Any:
        if not _is_operand(other):
            return NotImplemented
        return function(other, self)

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


TENSOR_METHODS = {
    "__add__": _operator(add), "__radd__": _reflected_operator(add),
    "__sub__": _operator(sub), "__rsub__": _reflected_operator(sub),
    "__mul__": _operator(mul), "__rmul__": _reflected_operator(mul),
    "__truediv__": _operator(div), "__rtruediv__": _reflected_operator(div),
    "__floordiv__": _operator(floor_divide), "__rfloordiv__": _reflected_operator(floor_divide),
    "__pow__": _operator(pow), "__rpow__": _reflected_operator(pow),
    "__neg__": neg, "__abs__": abs,
    "__eq__": _operator(eq), "__ne__": _operator(ne),
    "__lt__": _operator(lt), "__le__": _operator(le),
    "__gt__": _operator(gt), "__ge__": _operator(ge),
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "exp": exp,
    "log": log, "sqrt": sqrt, "abs": abs, "sin": sin, "cos": cos, "tanh": tanh,
    "sigmoid": sigmoid, "clamp": clamp, "clip": clip, "maximum": maximum, "minimum": minimum,
    "masked_fill": masked_fill, "where": tensor_where,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "reciprocal": reciprocal, "square": square, "log1p": log1p, "expm1": expm1, "rsqrt": rsqrt,
    "floor_divide": floor_divide,
}
FUNCTIONAL = {"tanh": tanh, "sigmoid": sigmoid}
TOPLEVEL = {
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "exp": exp,
    "log": log, "sqrt": sqrt, "abs": abs, "sin": sin, "cos": cos, "tanh": tanh,
    "sigmoid": sigmoid, "clamp": clamp, "clip": clip, "maximum": maximum, "minimum": minimum,
    "where": where, "masked_fill": masked_fill,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
    "reciprocal": reciprocal, "square": square, "log1p": log1p, "expm1": expm1, "rsqrt": rsqrt,
    "floor_divide": floor_divide,
}
