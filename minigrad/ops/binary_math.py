"""More elementwise binary ops: fmax/fmin (NaN-ignoring maximum/minimum), heaviside, gcd,
lcm and ldexp, with PyTorch's dtype rules and gradients.

fmax/fmin route the whole gradient to input where it wins or ties (or other is NaN), to
other elsewhere (PyTorch's rule; `maximum` splits ties instead). heaviside, gcd and lcm are
not differentiable; ldexp is input * 2 ** other, differentiable in both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._convert import promote
from ._math import inplace_binary, not_implemented, require_tensors
from .elementwise import _check_operands, _shape_of, mul
from .special import exp2

__all__ = ["fmax", "fmin", "gcd", "heaviside", "lcm", "ldexp"]


class Fmax(Function):
    """The larger of a and b, NaN only where both are NaN."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_wins = (a >= b) | np.isnan(b)
        self.a_shape, self.b_shape = a.shape, b.shape
        return np.fmax(a, b)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return _route(xp, grad, self.a_wins, self.a_shape, self.b_shape, self.needs_input_grad)


class Fmin(Function):
    """The smaller of a and b, NaN only where both are NaN."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_wins = (a <= b) | np.isnan(b)
        self.a_shape, self.b_shape = a.shape, b.shape
        return np.fmin(a, b)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return _route(xp, grad, self.a_wins, self.a_shape, self.b_shape, self.needs_input_grad)


def _route(xp: Any, grad: Any, a_wins: np.ndarray, a_shape: tuple, b_shape: tuple,
           needs_input_grad: tuple) -> tuple:
    """The gradient to a where a won (a constant mask), to b elsewhere."""
    grad_a = grad_b = None
    if needs_input_grad[0]:
        grad_a = xp.sum_to(xp.where(a_wins, grad, 0), a_shape)
    if needs_input_grad[1]:
        grad_b = xp.sum_to(xp.where(a_wins, 0, grad), b_shape)
    return grad_a, grad_b


def _promoted(where: str, input: Any, other: Any) -> list[Tensor]:
    _check_operands(where, {"input": input, "other": other})
    broadcast_shapes(where, _shape_of(input), _shape_of(other))
    return promote(input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum ignoring NaN (NaN only where both are NaN)."""
    require_tensors("fmax", input=input, other=other)
    a, b = _promoted("fmax", input, other)
    if not dtypes.is_floating(a.dtype):
        return Tensor._from_op(np.asarray(np.fmax(a.data, b.data)))
    return Fmax.apply(a, b)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum ignoring NaN (NaN only where both are NaN)."""
    require_tensors("fmin", input=input, other=other)
    a, b = _promoted("fmin", input, other)
    if not dtypes.is_floating(a.dtype):
        return Tensor._from_op(np.asarray(np.fmin(a.data, b.data)))
    return Fmin.apply(a, b)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, `values` where input == 0, 1 where input > 0 (NaN input gives 0).

    input and values must have one dtype, as in PyTorch; not differentiable.
    """
    require_tensors("heaviside", input=input, values=values)
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes (input {input.dtype}, values {values.dtype})")
    broadcast_shapes("heaviside", input.shape, values.shape)
    a, b = input.data, values.data
    positive = (a > 0).astype(a.dtype)
    return Tensor._from_op(np.asarray(np.where(a == 0, b, positive)))


def _integer_pair(where: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:
    require_tensors(where, input=input, other=other)
    a, b = _promoted(where, input, other)
    if a.dtype.kind not in "iu":
        raise not_implemented(where, f"{where}_cpu", a.dtype)
    return a.data, b.data


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Greatest common divisor (non-negative) of integer tensors; gcd(0, 0) = 0."""
    a, b = _integer_pair("gcd", input, other)
    return Tensor._from_op(np.asarray(np.gcd(a, b)))


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Least common multiple (non-negative) of integer tensors; 0 if either is 0."""
    a, b = _integer_pair("lcm", input, other)
    return Tensor._from_op(np.asarray(np.lcm(a, b)))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2 ** other (integers give float32), differentiable in both."""
    require_tensors("ldexp", input=input, other=other)
    broadcast_shapes("ldexp", input.shape, other.shape)
    return mul(input, exp2(other))


_BINARY = {"fmax": fmax, "fmin": fmin, "heaviside": heaviside, "gcd": gcd, "lcm": lcm,
           "ldexp": ldexp}
TENSOR_METHODS: dict = dict(_BINARY)
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", _BINARY[name])
                       for name in ("heaviside", "gcd", "lcm")})
TENSOR_METHODS["ldexp_"] = inplace_binary("ldexp_", ldexp, result="float")
FUNCTIONAL: dict = {}
TOPLEVEL: dict = dict(_BINARY)
