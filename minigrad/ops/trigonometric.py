"""Trigonometric and hyperbolic ops: tan, asin, acos, atan, atan2, sinh, cosh, asinh, acosh,
atanh (and PyTorch's arc* aliases), hypot, sinc, deg2rad, rad2deg.

Integer and bool inputs are computed in float32, as in PyTorch (hypot has no integer
kernel there, so it refuses them). Outside an op's domain the result is NaN, without NumPy
warnings. Derivatives follow PyTorch's derivatives.yaml, written with `xp` so they can be
differentiated again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._math import float_binary, inplace_binary, inplace_unary, require_tensors
from .elementwise import _float_input, mul

__all__ = [
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "cosh", "deg2rad", "hypot", "rad2deg", "sinc",
    "sinh", "tan",
]


def _quiet() -> Any:
    """No NumPy warnings for results outside a domain: they are NaN or inf, as in PyTorch."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


class Tan(Function):
    """tan(x); d/dx = 1 + tan(x) ** 2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with _quiet():
            out = np.asarray(np.tan(x))  # an array even for 0-d x, so it is saved as the output
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * (1 + out * out)


class Asin(Function):
    """asin(x); d/dx = 1 / sqrt(1 - x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.arcsin(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / xp.sqrt(1 - x * x)


class Acos(Function):
    """acos(x); d/dx = -1 / sqrt(1 - x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.arccos(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return -grad / xp.sqrt(1 - x * x)


class Atan(Function):
    """atan(x); d/dx = 1 / (1 + x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.arctan(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad / (1 + x * x)


class Sinh(Function):
    """sinh(x); d/dx = cosh(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.sinh(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad * xp.cosh(x)


class Cosh(Function):
    """cosh(x); d/dx = sinh(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.cosh(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad * xp.sinh(x)


class Asinh(Function):
    """asinh(x); d/dx = 1 / sqrt(x ** 2 + 1)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.arcsinh(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / xp.sqrt(x * x + 1)


class Acosh(Function):
    """acosh(x) for x >= 1; d/dx = 1 / sqrt(x ** 2 - 1)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.arccosh(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / xp.sqrt(x * x - 1)


class Atanh(Function):
    """atanh(x) for |x| < 1; d/dx = 1 / (1 - x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.arctanh(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / (1 - x * x)


class Sinc(Function):
    """sin(pi x) / (pi x), 1 at 0; d/dx = (cos(pi x) - sinc(x)) / x, 0 at 0 (PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with _quiet():
            scaled = x * math.pi
            out = np.where(x == 0, np.ones((), dtype=x.dtype), np.sin(scaled) / scaled)
        self.save(x, out)
        return out.astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any, out: Any) -> Any:
        at_zero = x == 0
        safe_x = xp.where(at_zero, 1, x)
        with _quiet():
            slope = (xp.cos(x * math.pi) - out) / safe_x
        return xp.where(at_zero, 0, grad * slope)


class Atan2(Function):
    """atan2(a, b), the angle of the point (b, a); d/da = b / r2, d/db = -a / r2."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        return np.arctan2(a, b)

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        grad_a = grad_b = None
        with _quiet():
            scaled = grad / (a * a + b * b)
            if self.needs_input_grad[0]:
                grad_a = xp.sum_to(scaled * b, a.shape)
            if self.needs_input_grad[1]:
                grad_b = xp.sum_to(-scaled * a, b.shape)
        return grad_a, grad_b


class Hypot(Function):
    """sqrt(a ** 2 + b ** 2) without overflow; d/da = a / out, d/db = b / out."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.asarray(np.hypot(a, b))
        self.save(a, b, out)
        return out

    def backward(self, xp: Any, grad: Any, a: Any, b: Any, out: Any) -> tuple:
        grad_a = grad_b = None
        with _quiet():
            scaled = grad / out
            if self.needs_input_grad[0]:
                grad_a = xp.sum_to(scaled * a, a.shape)
            if self.needs_input_grad[1]:
                grad_b = xp.sum_to(scaled * b, b.shape)
        return grad_a, grad_b


# ---- public functions -----------------------------------------------------------------------
def tan(input: Tensor) -> Tensor:
    """Tangent, elementwise."""
    return Tan.apply(_float_input("tan", input))


def asin(input: Tensor) -> Tensor:
    """Arcsine, elementwise (NaN outside [-1, 1])."""
    return Asin.apply(_float_input("asin", input))


def acos(input: Tensor) -> Tensor:
    """Arccosine, elementwise (NaN outside [-1, 1])."""
    return Acos.apply(_float_input("acos", input))


def atan(input: Tensor) -> Tensor:
    """Arctangent, elementwise."""
    return Atan.apply(_float_input("atan", input))


def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine, elementwise."""
    return Sinh.apply(_float_input("sinh", input))


def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine, elementwise."""
    return Cosh.apply(_float_input("cosh", input))


def asinh(input: Tensor) -> Tensor:
    """Inverse hyperbolic sine, elementwise."""
    return Asinh.apply(_float_input("asinh", input))


def acosh(input: Tensor) -> Tensor:
    """Inverse hyperbolic cosine, elementwise (NaN below 1)."""
    return Acosh.apply(_float_input("acosh", input))


def atanh(input: Tensor) -> Tensor:
    """Inverse hyperbolic tangent, elementwise (NaN outside [-1, 1], +-inf at +-1)."""
    return Atanh.apply(_float_input("atanh", input))


def sinc(input: Tensor) -> Tensor:
    """Normalized sinc: sin(pi x) / (pi x), and 1 at x = 0."""
    return Sinc.apply(_float_input("sinc", input))


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point (other, input) in (-pi, pi], elementwise, broadcasting."""
    require_tensors("atan2", input=input, other=other)
    return float_binary("atan2", Atan2, input, other)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input ** 2 + other ** 2), elementwise, broadcasting (floating tensors only)."""
    require_tensors("hypot", input=input, other=other)
    return float_binary("hypot", Hypot, input, other, integers="refuse")


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians: input * pi / 180 (integers give float32)."""
    return mul(_float_input("deg2rad", input), math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees: input * 180 / pi (integers give float32)."""
    return mul(_float_input("rad2deg", input), 180 / math.pi)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

_UNARY = {
    "tan": tan, "asin": asin, "acos": acos, "atan": atan, "sinh": sinh, "cosh": cosh,
    "asinh": asinh, "acosh": acosh, "atanh": atanh, "sinc": sinc, "deg2rad": deg2rad,
    "rad2deg": rad2deg, "arcsin": asin, "arccos": acos, "arctan": atan, "arcsinh": asinh,
    "arccosh": acosh, "arctanh": atanh,
}
_BINARY = {"atan2": atan2, "arctan2": atan2, "hypot": hypot}

TENSOR_METHODS: dict = {**_UNARY, **_BINARY}
TENSOR_METHODS.update({f"{name}_": inplace_unary(f"{name}_", function, result="float")
                       for name, function in _UNARY.items()})
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function, result="float")
                       for name, function in _BINARY.items()})
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {**_UNARY, **_BINARY}


def _graph_unary(function: Any) -> Any:
    from .namespace import _tensor

    return lambda x: function(_tensor(x))


NUMPY_XP = {"sinh": np.sinh, "cosh": np.cosh}
GRAPH_XP = {"sinh": _graph_unary(sinh), "cosh": _graph_unary(cosh)}
