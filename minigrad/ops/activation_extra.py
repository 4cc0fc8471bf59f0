"""More activations, PyTorch's names: selu, celu, hardtanh, relu6, hardswish, hardsigmoid, mish,
softplus, softsign, logsigmoid, tanhshrink, softshrink, hardshrink, threshold, prelu, rrelu,
glu, softmin, softmax2d.

Each fused op is one Function whose backward is one formula against `xp` (CONTRIBUTING.md),
so it is twice differentiable. Masks (which side of a threshold an element is on) are
constants of the second pass, as are the random slopes of rrelu in training. softsign,
tanhshrink and softmin are composites of existing ops that cost no extra pass.

`inplace=True` is accepted and ignored, as in the rest of minigrad: a new tensor is returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from ..engine.random import default_generator
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from .activation import elu, leaky_relu, relu, softmax
from .elementwise import abs as _abs
from .elementwise import tanh as _tanh
from .inplace import _check_target, _modify

__all__ = [
    "celu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "logsigmoid",
    "mish",
    "prelu",
    "relu6",
    "rrelu",
    "selu",
    "softmax2d",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}(): argument '{name}' must be Number, not "
                        f"{type(value).__name__}")
    return float(value)


def _float_input(where: str, input: Any) -> None:
    _check_tensor(where, "input", input)
    _check_floating(where, input)


def _softplus_array(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ---- values forward computes and backward reuses: formulas of xp --------------------------
def _tanh_softplus(xp: Any, x: Any) -> Any:
    """tanh(log(1 + exp(x))), the gate of mish."""
    return xp.tanh(xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))


# ---- exponential family: selu, celu ---------------------------------------------------------
class ScaledELU(Function):
    """y = scale * x for x > 0, else scale * alpha * (exp(x * input_scale) - 1).

    selu (fixed alpha and scale) and celu (input_scale = 1 / alpha) are this op, as in
    PyTorch's elu kernel. For x <= 0, dy/dx = input_scale * (y + scale * alpha): backward
    differentiates the saved output.
    """

    def forward(self, x: np.ndarray, alpha: float, scale: float,
                input_scale: float) -> np.ndarray:
        self.positive = x > 0
        # clip before expm1 so large positive x (not used by where) cannot overflow
        negative = np.expm1(np.minimum(x, 0) * x.dtype.type(input_scale))
        output = np.where(self.positive, x * x.dtype.type(scale),
                          negative * x.dtype.type(scale * alpha))
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, output: Any) -> Any:
        alpha, scale, input_scale = (self.options[name] for name in
                                     ("alpha", "scale", "input_scale"))
        return xp.where(self.positive, grad * scale,
                        grad * (input_scale * (output + scale * alpha)))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))), alpha ~ 1.6733, scale ~ 1.0507.

    Shape: any -> same.
    """
    _float_input("selu", input)
    return ScaledELU.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); alpha must not be 0.

    Shape: any -> same.
    """
    _float_input("celu", input)
    alpha = _check_number("celu", "alpha", alpha)
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must not be 0")
    return ScaledELU.apply(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


# ---- piecewise linear: hardtanh, relu6, threshold, shrinks, hardsigmoid ---------------------
class Hardtanh(Function):
    """min(max(x, min_val), max_val); the gradient passes only strictly inside (PyTorch)."""

    def forward(self, x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
        self.inside = (x > min_val) & (x < max_val)
        return np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val))

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.inside, grad, 0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; integer inputs stay integer (no gradient).

    Shape: any -> same.
    """
    _check_tensor("hardtanh", "input", input)
    min_val = _check_number("hardtanh", "min_val", min_val)
    max_val = _check_number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError("hardtanh: min_val cannot be greater than max_val "
                         f"(min_val={min_val}, max_val={max_val})")
    if input.dtype == dtypes.bool_:
        raise RuntimeError("hardtanh: Boolean inputs not supported")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6) = hardtanh(x, 0, 6). Shape: any -> same."""
    return hardtanh(input, 0.0, 6.0)


class Threshold(Function):
    """y = x where x > threshold, else value; the gradient passes where x > threshold."""

    def forward(self, x: np.ndarray, threshold: float, value: float) -> np.ndarray:
        self.above = x > threshold
        return np.where(self.above, x, x.dtype.type(value))

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.above, grad, 0)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value. Shape: any -> same."""
    _check_tensor("threshold", "input", input)
    threshold = _check_number("threshold", "threshold", threshold)
    value = _check_number("threshold", "value", value)
    return Threshold.apply(input, threshold=threshold, value=value)


class Softshrink(Function):
    """x - lambd above lambd, x + lambd below -lambd, 0 between; slope 1 outside."""

    def forward(self, x: np.ndarray, lambd: float) -> np.ndarray:
        self.outside = np.abs(x) > lambd
        shift = x.dtype.type(lambd)
        return np.where(x > lambd, x - shift, np.where(x < -lambd, x + shift, 0)).astype(
            x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.outside, grad, 0)


class Hardshrink(Function):
    """x where |x| > lambd, else 0; slope 1 outside."""

    def forward(self, x: np.ndarray, lambd: float) -> np.ndarray:
        self.outside = (x > lambd) | (x < -lambd)
        return np.where(self.outside, x, 0).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.outside, grad, 0)


def _check_lambd(where: str, lambd: Any) -> float:
    lambd = _check_number(where, "lambd", lambd)
    if where == "softshrink" and lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found "
                           f"to be {lambd}.")
    return lambd


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0 (lambd >= 0).

    Shape: any -> same.
    """
    _float_input("softshrink", input)
    return Softshrink.apply(input, lambd=_check_lambd("softshrink", lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd, else 0. Shape: any -> same."""
    _float_input("hardshrink", input)
    return Hardshrink.apply(input, lambd=_check_lambd("hardshrink", lambd))


class Hardsigmoid(Function):
    """relu6(x + 3) / 6; slope 1/6 strictly between -3 and 3 (PyTorch's boundaries)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.inside = (x > -3) & (x < 3)
        return (np.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)).astype(x.dtype,
                                                                              copy=False)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.inside, grad / 6, 0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """0 below -3, 1 above 3, x / 6 + 1/2 between. Shape: any -> same."""
    _float_input("hardsigmoid", input)
    return Hardsigmoid.apply(input)


class Hardswish(Function):
    """x * relu6(x + 3) / 6; d/dx = 0 for x <= -3, x / 3 + 1/2 below 3, 1 from 3 on."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        self.middle = (x > -3) & (x < 3)
        self.upper = x >= 3
        gate = np.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)
        return (x * gate).astype(x.dtype, copy=False)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return xp.where(self.middle, grad * (x / 3 + 0.5), xp.where(self.upper, grad, 0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6 (MobileNetV3). Shape: any -> same."""
    _float_input("hardswish", input)
    return Hardswish.apply(input)


# ---- smooth: softplus, logsigmoid, mish, softsign, tanhshrink -------------------------------
class Softplus(Function):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold.

    d/dx = sigmoid(beta * x) (1 above the threshold), as PyTorch's softplus_backward.
    """

    def forward(self, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        self.save(x)
        scaled = x * x.dtype.type(beta)
        self.linear = scaled > threshold
        return np.where(self.linear, x, _softplus_array(scaled) / x.dtype.type(beta))

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return xp.where(self.linear, grad, grad * xp.sigmoid(x * self.options["beta"]))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold.

    Shape: any -> same.
    """
    _float_input("softplus", input)
    beta = _check_number("softplus", "beta", beta)
    threshold = _check_number("softplus", "threshold", threshold)
    return Softplus.apply(input, beta=beta, threshold=threshold)


class LogSigmoid(Function):
    """log(sigmoid(x)) = -softplus(-x), stably; d/dx = sigmoid(-x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return -_softplus_array(-x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * xp.sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + exp(-x))), stable for large |x|. Shape: any -> same."""
    _float_input("logsigmoid", input)
    return LogSigmoid.apply(input)


class Mish(Function):
    """x * tanh(softplus(x)); d/dx = t + x * sigmoid(x) * (1 - t^2), t = tanh(softplus(x))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        self.gate = np.tanh(_softplus_array(x))
        return x * self.gate

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        gate = xp.recompute(self.gate, _tanh_softplus, x)
        return grad * (gate + x * xp.sigmoid(x) * (1 - gate * gate))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)). Shape: any -> same."""
    _float_input("mish", input)
    return Mish.apply(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|). Shape: any -> same."""
    _check_tensor("softsign", "input", input)
    return input / (_abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x). Shape: any -> same."""
    _check_tensor("tanhshrink", "input", input)
    return input - _tanh(input)


# ---- parametric and random slopes: prelu, rrelu --------------------------------------------
class PReLU(Function):
    """x for x > 0, else weight[c] * x, weight (C,) or (1,) along dim 1 (the channel).

    grad_x = grad (x > 0) or grad * weight; grad_weight sums grad * x over x <= 0, all but
    the channel axis.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        self.save(x, weight)
        self.positive = x > 0
        self.view_shape = _prelu_view(x.ndim, weight.size)
        return np.where(self.positive, x, x * weight.reshape(self.view_shape))

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        grad_x = grad_weight = None
        if self.needs_input_grad[0]:
            grad_x = xp.where(self.positive, grad,
                              grad * xp.reshape(weight, self.view_shape))
        if self.needs_input_grad[1]:
            grad_weight = xp.reshape(
                xp.sum_to(xp.where(self.positive, 0, grad * x), self.view_shape),
                weight.shape)
        return grad_x, grad_weight


def _prelu_view(ndim: int, count: int) -> tuple[int, ...]:
    """The weight's broadcast shape against an input of `ndim` dims."""
    if count == 1 or ndim < 2:
        return (1,) * ndim if ndim else ()
    return (1, count) + (1,) * (ndim - 2)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x), weight (C,) per channel (dim 1) or (1,) shared.

    Shape: input (N, C, *) or any with a 1-element weight -> same.
    """
    _check_tensor("prelu", "input", input)
    _check_tensor("prelu", "weight", weight)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                           f"Found parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and "
                           f"{weight.dtype}")
    _check_floating("prelu", input)
    return PReLU.apply(input, weight)


class RandomSlopeReLU(Function):
    """x for x > 0, else slope * x with a slope per element (a constant of both passes)."""

    def forward(self, x: np.ndarray, lower: float, upper: float) -> np.ndarray:
        drawn = default_generator().uniform(lower, upper, size=x.shape).astype(x.dtype)
        self.slope = np.where(x > 0, x.dtype.type(1), drawn)
        return x * self.slope

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad * self.slope


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training, each x <= 0 is scaled by a slope drawn from
    U(lower, upper) (minigrad's generator); in eval, by (lower + upper) / 2 (leaky_relu).

    Shape: any -> same.
    """
    _float_input("rrelu", input)
    lower = _check_number("rrelu", "lower", lower)
    upper = _check_number("rrelu", "upper", upper)
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper "
                           f"bound (lower={lower}, upper={upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    return RandomSlopeReLU.apply(input, lower=lower, upper=upper)


# ---- gates and softmax variants: glu, softmin, softmax2d -----------------------------------
class GLU(Function):
    """a * sigmoid(b), a and b the two halves of x along `dim`.

    grad_a = grad * s, grad_b = grad * a * s * (1 - s), joined along `dim`.
    """

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.save(x)
        first, second = np.split(x, 2, axis=dim)
        self.gate = _gate_array(second)
        return first * self.gate

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        dim = self.options["dim"]
        half = x.shape[dim] // 2
        lead = (slice(None),) * dim
        first, second = x[lead + (slice(0, half),)], x[lead + (slice(half, None),)]
        gate = xp.recompute(self.gate, _sigmoid_formula, second)
        grad_first = grad * gate
        return xp.concatenate([grad_first, grad_first * first * (1 - gate)], axis=dim)


def _sigmoid_formula(xp: Any, x: Any) -> Any:
    return xp.sigmoid(x)


def _gate_array(x: np.ndarray) -> np.ndarray:
    exps = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + exps), exps / (1 + exps)).astype(x.dtype, copy=False)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """First half of `input` along dim times the sigmoid of the second half.

    Shape: (*, 2n, *) -> (*, n, *).
    """
    _check_tensor("glu", "input", input)
    if input.ndim == 0:
        raise RuntimeError("glu: glu does not support scalars because halving size must be "
                           "even")
    axis = normalize_dim(dim, input.ndim, "glu")
    if input.shape[axis] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {axis} is "
                           f"size {input.shape[axis]} (input {input.shape})")
    _check_floating("glu", input)
    return GLU.apply(input, dim=axis)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-input) along dim (dim=None: PyTorch's deprecated implicit choice).

    Shape: any -> same.
    """
    _check_tensor("softmin", "input", input)
    return softmax(-input, dim, _stacklevel, dtype)


def softmax2d(input: Tensor) -> Tensor:
    """softmax over the channels at each location. Shape: (N, C, H, W) or (C, H, W)."""
    _check_tensor("softmax2d", "input", input)
    if input.ndim not in (3, 4):
        raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                         f"instead")
    return softmax(input, -3)


# ---- in-place forms: F.relu_, F.elu_, ... ---------------------------------------------------
def _in_place(name: str, function: Any) -> Any:
    """`function` written into its input (PyTorch's F.<name>_): input's values are replaced
    and, when recorded, its history becomes the op's, as for the other in-place ops."""

    def modify(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        _check_tensor(name, "input", input)
        _check_target(name, input)
        return _modify(input, lambda old: function(old, *args, **kwargs), keeps_self=True)

    modify.__name__ = modify.__qualname__ = name
    modify.__doc__ = (f"{function.__name__}(input, ...) written into `input` itself; returns "
                      f"input. Shape: any -> same.")
    return modify


relu_ = _in_place("relu_", relu)
elu_ = _in_place("elu_", elu)
leaky_relu_ = _in_place("leaky_relu_", leaky_relu)
hardtanh_ = _in_place("hardtanh_", hardtanh)
rrelu_ = _in_place("rrelu_", rrelu)
threshold_ = _in_place("threshold_", threshold)
celu_ = _in_place("celu_", celu)
selu_ = _in_place("selu_", selu)
__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_",
            "threshold_"]

TENSOR_METHODS = {"hardshrink": hardshrink, "prelu": prelu}
FUNCTIONAL = {name: globals()[name] for name in __all__ if name != "softmax2d"}
TENSOR_METHODS.update({"relu_": relu_})
TOPLEVEL = {
    "celu": celu,
    "hardshrink": hardshrink,
    "prelu": prelu,
    "rrelu": rrelu,
    "selu": selu,
    "threshold": threshold,
}
NUMPY_XP: dict = {}
GRAPH_XP: dict = {}
