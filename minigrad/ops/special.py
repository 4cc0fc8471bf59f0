"""Logarithms, exponentials and special functions: log2, log10, exp2, erf, erfc, erfinv,
lgamma, digamma, polygamma, xlogy, logaddexp, logaddexp2, lerp, logit, float_power,
true_divide (and `minigrad.special`'s expit).

erf, erfinv, lgamma, digamma and polygamma use SciPy's kernels (`scipy.special`, already
required by scikit-learn), imported on first use. digamma's derivative is polygamma(1, x),
polygamma(n)'s is polygamma(n + 1), lgamma's is digamma: a closed family, so every gradient
can be differentiated again. Integer inputs are computed in float32, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes
from ._broadcast import broadcast_shapes
from ._math import float_binary, inplace_binary, inplace_unary, not_implemented, require_tensors
from .cast import cast
from .elementwise import _check_operands, _check_tensor, _float_input, _shape_of, div, pow

__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "float_power",
    "lerp",
    "lgamma",
    "log2",
    "log10",
    "logaddexp",
    "logaddexp2",
    "logit",
    "polygamma",
    "true_divide",
    "xlogy",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0


def _quiet() -> Any:
    return np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore")


def _scipy_special() -> Any:
    """scipy.special, imported when first needed (importing it costs ~0.1 s)."""
    import scipy.special

    return scipy.special


# ---- the NumPy side of the special functions (also the xp names of the family) ---------------
def _digamma_array(x: np.ndarray) -> np.ndarray:
    """psi(x); -inf at +0 and +inf at -0, as PyTorch."""
    with _quiet():
        out = np.asarray(_scipy_special().psi(x))
    return out.astype(x.dtype, copy=False)


# Bernoulli numbers B2, B4, ..., B12: trigamma(x) ~ 1/x + 1/(2x^2) + sum B2k / x^(2k+1)
_TRIGAMMA_SERIES = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730)


def _trigamma_array(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x), vectorised (SciPy's Hurwitz zeta is several times slower):
    reflection for x < 0.5, ten steps of trigamma(x) = 1/x^2 + trigamma(x + 1), then the
    asymptotic series (relative error ~1e-15 for x > 0, ~1e-11 next to the negative
    integers, where reflection loses digits). +inf at 0 and the negative integers."""
    with _quiet():
        z = x.astype(np.float64)
        reflect = z < 0.5
        z = np.where(reflect, 1 - z, z)
        total = np.zeros_like(z)
        for step in range(10):  # z >= 0.5 becomes >= 10.5: same ops for every element
            shifted = z + step
            total += 1 / (shifted * shifted)
        inverse = 1 / (z + 10)
        inverse2 = inverse * inverse
        series = 0.0
        for coefficient in reversed(_TRIGAMMA_SERIES):
            series = (series + coefficient) * inverse2
        total = total + inverse + inverse2 / 2 + series * inverse
        if reflect.any():
            sine = np.sin(np.pi * x.astype(np.float64))
            total = np.where(reflect, np.pi * np.pi / (sine * sine) - total, total)
            total = np.where(reflect & (x == np.floor(x)), np.inf, total)
    return total.astype(x.dtype, copy=False)


def _polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """The n-th derivative of digamma."""
    if n == 0:
        return _digamma_array(x)
    if n == 1:
        return _trigamma_array(x)
    with _quiet():
        out = np.asarray(_scipy_special().polygamma(n, x))
    return out.astype(x.dtype, copy=False)


class Log2(Function):
    """log2(x); d/dx = 1 / (x ln 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.log2(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / (x * _LN2)


class Log10(Function):
    """log10(x); d/dx = 1 / (x ln 10)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            return np.log10(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad / (x * _LN10)


class Exp2(Function):
    """2 ** x; d/dx = 2 ** x ln 2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with _quiet():
            out = np.asarray(np.exp2(x))  # an array even for 0-d x, so it is saved as the output
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        return grad * out * _LN2


class Erf(Function):
    """erf(x); d/dx = 2 / sqrt(pi) exp(-x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.asarray(_scipy_special().erf(x)).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * (xp.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Erfc(Function):
    """1 - erf(x), accurate where erf(x) is near 1; d/dx = -2 / sqrt(pi) exp(-x ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.asarray(_scipy_special().erfc(x)).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * (xp.exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class Erfinv(Function):
    """The inverse of erf on (-1, 1); d/dx = sqrt(pi) / 2 exp(erfinv(x) ** 2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(_scipy_special().erfinv(x)).astype(x.dtype, copy=False)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        with _quiet():
            return grad * (xp.exp(out * out) * _HALF_SQRT_PI)


class Lgamma(Function):
    """log |gamma(x)|; d/dx = digamma(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            out = np.asarray(_scipy_special().gammaln(x)).astype(x.dtype, copy=False)
        if x.dtype.kind == "f":
            out = np.where(x == -np.inf, np.inf, out).astype(x.dtype, copy=False)
        return out

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.digamma(x)


class Digamma(Function):
    """d/dx log gamma(x); its derivative is polygamma(1, x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return _digamma_array(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.polygamma(1, x)


class Polygamma(Function):
    """The n-th derivative of digamma; its derivative is polygamma(n + 1, x)."""

    def forward(self, x: np.ndarray, n: int) -> np.ndarray:
        self.save(x)
        return _polygamma_array(n, x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.polygamma(self.options["n"] + 1, x)


class Xlogy(Function):
    """x * log(y), and 0 where x == 0 (unless y is NaN); d/dx = log(y) (0 where x and y
    are both 0, as PyTorch), d/dy = x / y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save(x, y)
        with _quiet():
            out = x * np.log(y)
            return np.where((x == 0) & ~np.isnan(y), np.zeros((), dtype=out.dtype), out)

    def backward(self, xp: Any, grad: Any, x: Any, y: Any) -> tuple:
        grad_x = grad_y = None
        with _quiet():
            if self.needs_input_grad[0]:
                both_zero = (x == 0) & (y == 0)
                grad_x = xp.sum_to(xp.where(both_zero, 0, grad * xp.log(y)), x.shape)
            if self.needs_input_grad[1]:
                grad_y = xp.sum_to(grad * x / y, y.shape)
        return grad_x, grad_y


class Logaddexp(Function):
    """log(e ** a + e ** b) without overflow; d/da = sigmoid(a - b), d/db = sigmoid(b - a)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        with _quiet():
            return np.logaddexp(a, b)

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        grad_a = grad_b = None
        with _quiet():
            if self.needs_input_grad[0]:
                grad_a = xp.sum_to(grad * xp.sigmoid(a - b), a.shape)
            if self.needs_input_grad[1]:
                grad_b = xp.sum_to(grad * xp.sigmoid(b - a), b.shape)
        return grad_a, grad_b


class Logaddexp2(Function):
    """log2(2 ** a + 2 ** b); d/da = sigmoid((a - b) ln 2), d/db likewise."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.save(a, b)
        with _quiet():
            return np.logaddexp2(a, b)

    def backward(self, xp: Any, grad: Any, a: Any, b: Any) -> tuple:
        grad_a = grad_b = None
        with _quiet():
            if self.needs_input_grad[0]:
                grad_a = xp.sum_to(grad * xp.sigmoid((a - b) * _LN2), a.shape)
            if self.needs_input_grad[1]:
                grad_b = xp.sum_to(grad * xp.sigmoid((b - a) * _LN2), b.shape)
        return grad_a, grad_b


class Lerp(Function):
    """start + weight * (end - start); weight a tensor (broadcast) or, if None, the number
    `scalar`. d/dstart = 1 - weight, d/dend = weight, d/dweight = end - start."""

    def forward(self, start: np.ndarray, end: np.ndarray, weight: np.ndarray | None,
                scalar: float) -> np.ndarray:
        self.save(start, end, weight)
        w = scalar if weight is None else weight
        return start + w * (end - start)

    def backward(self, xp: Any, grad: Any, start: Any, end: Any, weight: Any) -> tuple:
        w = self.options["scalar"] if weight is None else weight
        grad_start = grad_end = grad_weight = None
        if self.needs_input_grad[0]:
            grad_start = xp.sum_to(grad * (1 - w), start.shape)
        if self.needs_input_grad[1]:
            grad_end = xp.sum_to(grad * w, end.shape)
        if self.needs_input_grad[2]:
            grad_weight = xp.sum_to(grad * (end - start), weight.shape)
        return grad_start, grad_end, grad_weight


class Logit(Function):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given.

    d/dx = 1 / (x (1 - x)); 0 outside [eps, 1 - eps], NaN outside [0, 1] without eps
    (PyTorch's logit_backward).
    """

    def forward(self, x: np.ndarray, eps: float | None) -> np.ndarray:
        self.save(x)
        clamped = x if eps is None else np.clip(x, eps, 1 - eps)
        with _quiet():
            return np.log(clamped / (1 - clamped)).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        eps = self.options["eps"]
        with _quiet():
            slope = grad / (x * (1 - x))
            if eps is None:
                return xp.where((x < 0) | (x > 1), math.nan, slope)
            return xp.where((x < eps) | (x > 1 - eps), 0, slope)


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


class Ndtr(Function):
    """The standard normal CDF; d/dx = exp(-x ** 2 / 2) / sqrt(2 pi)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return np.asarray(_scipy_special().ndtr(x)).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * (xp.exp(x * x * -0.5) * _INV_SQRT_2PI)


class LogNdtr(Function):
    """log of the standard normal CDF, accurate far in the left tail;
    d/dx = exp(-x ** 2 / 2 - out) / sqrt(2 pi)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with _quiet():
            out = np.asarray(_scipy_special().log_ndtr(x)).astype(x.dtype, copy=False)
        self.save(x, out)
        return out

    def backward(self, xp: Any, grad: Any, x: Any, out: Any) -> Any:
        with _quiet():
            return grad * (xp.exp(x * x * -0.5 - out) * _INV_SQRT_2PI)


class Ndtri(Function):
    """The inverse of the standard normal CDF on (0, 1);
    d/dp = sqrt(2 pi) exp(out ** 2 / 2)."""

    def forward(self, p: np.ndarray) -> np.ndarray:
        with _quiet():
            out = np.asarray(_scipy_special().ndtri(p)).astype(p.dtype, copy=False)
        self.save(out)
        return out

    def backward(self, xp: Any, grad: Any, out: Any) -> Any:
        with _quiet():
            return grad * (xp.exp(out * out * 0.5) * _SQRT_2PI)


class Entr(Function):
    """-x log x for x > 0, 0 at 0, -inf below; d/dx = -(1 + log x) (PyTorch's formula)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        with _quiet():
            out = np.where(x < 0, -np.inf, np.where(x == 0, 0, -x * np.log(x)))  # NaN stays
        return out.astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        with _quiet():
            return grad * -(xp.log(x) + 1)


# ---- public functions -----------------------------------------------------------------------
def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm, elementwise."""
    return Log2.apply(_float_input("log2", input))


def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm, elementwise."""
    return Log10.apply(_float_input("log10", input))


def exp2(input: Tensor) -> Tensor:
    """2 ** input, elementwise."""
    return Exp2.apply(_float_input("exp2", input))


def erf(input: Tensor) -> Tensor:
    """The error function 2 / sqrt(pi) * integral from 0 to x of e ** -t ** 2 dt."""
    return Erf.apply(_float_input("erf", input))


def erfc(input: Tensor) -> Tensor:
    """The complementary error function 1 - erf(input)."""
    return Erfc.apply(_float_input("erfc", input))


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function on (-1, 1) (+-inf at +-1, NaN outside)."""
    return Erfinv.apply(_float_input("erfinv", input))


def lgamma(input: Tensor) -> Tensor:
    """log |gamma(input)| (inf at 0 and the negative integers)."""
    return Lgamma.apply(_float_input("lgamma", input))


def digamma(input: Tensor) -> Tensor:
    """The logarithmic derivative of gamma; -inf at 0, NaN at negative integers."""
    return Digamma.apply(_float_input("digamma", input))


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma (n >= 0): `polygamma(1, x)` is the trigamma function."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, "
                        f"not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    return Polygamma.apply(_float_input("polygamma", input), n=int(n))


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF: the area under the Gaussian left of input."""
    return Ndtr.apply(_float_input("ndtr", input))


def log_ndtr(input: Tensor) -> Tensor:
    """log(ndtr(input)), accurate far in the left tail."""
    return LogNdtr.apply(_float_input("log_ndtr", input))


def ndtri(input: Tensor) -> Tensor:
    """The argument at which the standard normal CDF equals input (-inf at 0, inf at 1)."""
    return Ndtri.apply(_float_input("ndtri", input))


def entr(input: Tensor) -> Tensor:
    """Elementwise entropy -input * log(input) (0 at 0, -inf for negative input)."""
    return Entr.apply(_float_input("entr", input))


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """`x.polygamma(n)`: polygamma(n, x)."""
    return polygamma(n, self)


def xlogy(input: Tensor | float, other: Tensor | float) -> Tensor:
    """input * log(other), and 0 where input == 0 (unless other is NaN)."""
    return float_binary("xlogy", Xlogy, input, other)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(e ** input + e ** other) without overflow (floating tensors only)."""
    require_tensors("logaddexp", input=input, other=other)
    return float_binary("logaddexp", Logaddexp, input, other, integers="refuse")


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2 ** input + 2 ** other) without overflow (floating tensors only)."""
    require_tensors("logaddexp2", input=input, other=other)
    return float_binary("logaddexp2", Logaddexp2, input, other, integers="refuse")


def lerp(input: Tensor, end: Tensor, weight: Tensor | float) -> Tensor:
    """input + weight * (end - input): linear interpolation, weight a number or a tensor.

    input, end (and a weight tensor that is not 0-d) must be floating and of one dtype, as in
    PyTorch; all three broadcast.
    """
    require_tensors("lerp", input=input, end=end)
    if not isinstance(weight, (Tensor, int, float, np.number)) or isinstance(weight, bool):
        raise TypeError(f"lerp(): argument 'weight' must be Tensor or float, "
                        f"not {type(weight).__name__}")
    if not dtypes.is_floating(input.dtype):
        raise not_implemented("lerp", "lerp_kernel_scalar", input.dtype)
    if isinstance(weight, Tensor) and weight.ndim == 0 and dtypes.is_floating(weight.dtype):
        weight = cast(weight, input.dtype)  # a 0-d weight acts as a number, as in PyTorch
    tensors = {"end": end} if not isinstance(weight, Tensor) else {"end": end, "weight": weight}
    for name, tensor in tensors.items():
        if tensor.dtype != input.dtype:
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `{name}` but got "
                               f"dtype {tensor.dtype}")
    broadcast_shapes("lerp", input.shape, *(tensor.shape for tensor in tensors.values()))
    if isinstance(weight, Tensor):
        return Lerp.apply(input, end, weight, scalar=0.0)
    return Lerp.apply(input, end, None, scalar=weight)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(input / (1 - input)), the inverse of sigmoid; with `eps`, input is first
    clamped to [eps, 1 - eps]."""
    if eps is not None and not isinstance(eps, (int, float, np.number)):
        raise TypeError(f"logit(): argument 'eps' must be float, not {type(eps).__name__}")
    return Logit.apply(_float_input("logit", input), eps=None if eps is None else float(eps))


def float_power(input: Tensor | float, exponent: Tensor | float) -> Tensor:
    """input ** exponent computed in float64 (PyTorch's float_power always gives double)."""
    _check_operands("float_power", {"input": input, "exponent": exponent})
    broadcast_shapes("float_power", _shape_of(input), _shape_of(exponent))
    base, power = (cast(value, dtypes.float64) if isinstance(value, Tensor) else float(value)
                   for value in (input, exponent))
    return pow(base, power)


def true_divide(input: Tensor | float, other: Tensor | float) -> Tensor:
    """input / other (true division; integers give float32): `div` without rounding."""
    return div(input, other)


def _float_power_method(self: Tensor, exponent: Any) -> Tensor:
    """`x.float_power(e)`: float_power(x, e)."""
    _check_tensor("float_power", "input", self)
    return float_power(self, exponent)


_UNARY = {"log2": log2, "log10": log10, "exp2": exp2, "erf": erf, "erfc": erfc,
          "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma}
_BINARY = {"xlogy": xlogy, "logaddexp": logaddexp, "logaddexp2": logaddexp2,
           "true_divide": true_divide}

TENSOR_METHODS: dict = {
    **_UNARY, **_BINARY, "polygamma": _polygamma_method, "lerp": lerp, "logit": logit,
    "float_power": _float_power_method,
}
TENSOR_METHODS.update({f"{name}_": inplace_unary(f"{name}_", function, result="float")
                       for name, function in _UNARY.items()})
TENSOR_METHODS.update({f"{name}_": inplace_binary(f"{name}_", function, result="float")
                       for name, function in _BINARY.items()})
TENSOR_METHODS["lerp_"] = inplace_binary("lerp_", lerp, result="float")
TENSOR_METHODS["logit_"] = inplace_unary("logit_", logit, result="float")
TENSOR_METHODS["polygamma_"] = inplace_unary(
    "polygamma_", lambda x, n: polygamma(n, x), result="float")
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {**_UNARY, **_BINARY, "polygamma": polygamma, "lerp": lerp, "logit": logit,
                  "float_power": float_power}


def _graph_functions() -> dict:
    from .namespace import _tensor

    return {"digamma": lambda x: digamma(_tensor(x)),
            "polygamma": lambda n, x: polygamma(n, _tensor(x))}


NUMPY_XP = {"digamma": _digamma_array, "polygamma": _polygamma_array}
GRAPH_XP = _graph_functions()
