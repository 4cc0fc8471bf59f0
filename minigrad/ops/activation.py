"""Activations, softmax, dropout and one_hot: relu, leaky_relu, gelu, silu, elu, softmax, ...

Every op is one Function on NumPy arrays with its backward right below its forward; none is
composed from other families. The public functions check their arguments the way PyTorch
does (same exception types, messages naming the function and the shapes), then call `apply`.

Each backward is one formula against the namespace `xp` (CONTRIBUTING.md): NumPy for an
ordinary backward, differentiable ops for `create_graph=True`. Masks (relu, dropout) are
constants of the second pass; elu, softmax and log_softmax differentiate their saved output.
A value forward already computed and backward needs again (sigmoid for silu, Phi for gelu) is
written once as a small formula of `xp` and passed through `xp.recompute(cache, formula, ...)`:
the NumPy side reuses forward's array, the graph side recomputes it from the saved inputs as
ops, so it is differentiated too (the loss family uses the same name).

Deliberate differences from PyTorch, all documented at the function:
  - `inplace=True` is accepted and ignored: minigrad always returns a new tensor.
  - `softmax(x)` / `log_softmax(x)` without `dim` follow PyTorch's deprecated implicit-dim
    rule (dim 0 for 0-, 1- and 3-D inputs, else 1) with the same warning.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from ..engine import namespace as backward_namespace
from ..engine.random import default_generator
from ._shared import as_tensor as _as_tensor
from ._shared import check_floating as _check_floating
from ._shared import check_tensor as _check_tensor
from ._shared import row_max as _row_max
from .cast import cast

__all__ = [
    "dropout",
    "dropout2d",
    "elu",
    "gelu",
    "leaky_relu",
    "log_softmax",
    "one_hot",
    "relu",
    "silu",
    "softmax",
]


# ---- argument checks ------------------------------------------------------------------------
def _check_probability(where: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    exps = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + exps), exps / (1 + exps))


# ---- values forward computes and backward reuses: formulas of xp --------------------------
def _logistic(xp: Any, x: Any) -> Any:
    """sigmoid(x)."""
    return xp.sigmoid(x)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


def _gelu_tanh(xp: Any, x: Any) -> Any:
    """tanh(sqrt(2 / pi) * (x + 0.044715 x^3)), the tanh in GELU's tanh approximation."""
    return xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))


def _normal_cdf(xp: Any, x: Any) -> Any:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF."""
    return xp.normal_cdf(x)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise, in x's dtype (SciPy comes with scikit-learn)."""
    from scipy.special import erf  # imported on first use: `import minigrad` stays fast

    return erf(x)


class NormalCdf(Function):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2; its derivative is the normal density phi(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        return _normal_cdf_array(x)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return grad * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x))


# ---- activations ----------------------------------------------------------------------------
class ReLU(Function):
    """y = max(x, 0); the gradient at 0 is 0, as in PyTorch. The mask is a constant."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad * self.positive


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) elementwise. Integer tensors work too (no gradient); `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("relu", "input", input)
    if input.dtype == dtypes.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return ReLU.apply(input)


class LeakyReLU(Function):
    """y = x for x > 0, else negative_slope * x; the gradient at 0 is negative_slope."""

    def forward(self, x: np.ndarray, negative_slope: float) -> np.ndarray:
        self.positive = x > 0
        self.negative_slope = negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.where(self.positive, grad, grad * self.negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x, elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("leaky_relu", "input", input)
    _check_floating("leaky_relu", input)
    if not isinstance(negative_slope, (int, float, np.number)) or isinstance(negative_slope,
                                                                            bool):
        raise TypeError(f"leaky_relu(): argument 'negative_slope' must be Number, not "
                        f"{type(negative_slope).__name__}")
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


class GELU(Function):
    """y = x * Phi(x) (Phi the standard normal CDF), or PyTorch's tanh approximation of it.

    d/dx = Phi(x) + x * phi(x), or for the tanh form
    (1 + t) / 2 + x (1 - t^2) / 2 * sqrt(2 / pi) (1 + 3 * 0.044715 x^2).
    """

    def forward(self, x: np.ndarray, approximate: str) -> np.ndarray:
        self.approximate = approximate
        self.save(x)
        if approximate == "tanh":
            self.tanh = _gelu_tanh(np, x)
            return 0.5 * x * (1 + self.tanh)
        self.cdf = _normal_cdf_array(x)
        return x * self.cdf

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        if self.approximate == "tanh":
            tanh = xp.recompute(self.tanh, _gelu_tanh, x)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (0.5 * (1 + tanh) + 0.5 * x * (1 - tanh * tanh) * d_inner)
        density = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return grad * (xp.recompute(self.cdf, _normal_cdf, x) + x * density)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact erf form (approximate='none') or the tanh form ('tanh').

    Shape: any -> same.
    """
    _check_tensor("gelu", "input", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, "
                           f"got {approximate!r}")
    _check_floating("gelu", input)
    return GELU.apply(input, approximate=approximate)


class SiLU(Function):
    """y = x * sigmoid(x) (also called swish); d/dx = s * (1 + x * (1 - s))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save(x)
        self.sigmoid = _sigmoid_array(x)
        return x * self.sigmoid

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        sigmoid = xp.recompute(self.sigmoid, _logistic, x)
        return grad * (sigmoid * (1 + x * (1 - sigmoid)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("silu", "input", input)
    _check_floating("silu", input)
    return SiLU.apply(input)


class ELU(Function):
    """y = x for x > 0, else alpha * (exp(x) - 1); the gradient at 0 is alpha, as in PyTorch."""

    def forward(self, x: np.ndarray, alpha: float) -> np.ndarray:
        self.positive = x > 0
        self.alpha = alpha
        # clip before expm1 so large positive x (not used by where) cannot overflow
        output = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, output: Any) -> Any:
        # for x <= 0: d/dx alpha * (exp(x) - 1) = alpha * exp(x) = output + alpha
        return xp.where(self.positive, grad, grad * (output + self.alpha))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1), elementwise; `inplace` is ignored.

    Shape: any -> same.
    """
    _check_tensor("elu", "input", input)
    _check_floating("elu", input)
    return ELU.apply(input, alpha=float(alpha))


# ---- softmax --------------------------------------------------------------------------------
class Softmax(Function):
    """exp(x) / sum(exp(x)) along `dim`; backward uses the saved output."""

    def forward(self, x: np.ndarray, dim: int | None) -> np.ndarray:
        self.dim = dim
        output = _softmax_array(x, dim)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, output: Any) -> Any:
        return output * (grad - xp.sum(grad * output, axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along `dim`; backward uses the saved output."""

    def forward(self, x: np.ndarray, dim: int | None) -> np.ndarray:
        self.dim = dim
        output = _log_softmax_array(x, dim)
        self.save(output)
        return output

    def backward(self, xp: Any, grad: Any, output: Any) -> Any:
        return grad - xp.exp(output) * xp.sum(grad, axis=self.dim, keepdims=True)


def _softmax_array(x: np.ndarray, axis: int | None) -> np.ndarray:
    # subtract the max so exp cannot overflow (logits of 1e4 stay finite)
    exps = np.exp(x - _row_max(x, axis))
    return exps / exps.sum(axis=axis, keepdims=True)


def _log_softmax_array(x: np.ndarray, axis: int | None) -> np.ndarray:
    shifted = x - _row_max(x, axis)  # subtract the max so exp cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax_axis(where: str, input: Tensor, dim: int | None) -> int | None:
    """The NumPy axis for `dim` (None for a 0-d input); dim=None follows PyTorch's old rule."""
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {where} has been deprecated. "
                      f"Change the call to include dim=X as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    axis = normalize_dim(dim, input.ndim, where)
    return axis if input.ndim > 0 else None


def _softmax_input(where: str, input: Tensor, dtype: Any) -> Tensor:
    _check_tensor(where, "input", input)
    if dtype is not None:
        input = cast(input, dtype)
    _check_floating(where, input)
    return input


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably (the max is subtracted first).

    dtype: cast the input to it first (as PyTorch). dim=None is PyTorch's deprecated implicit
    choice (0 for 0-, 1- and 3-D inputs, else 1) and warns; pass `dim`.
    Shape: any -> same.
    """
    input = _softmax_input("softmax", input, dtype)
    return Softmax.apply(input, dim=_softmax_axis("softmax", input, dim))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along `dim`, stable for large logits.

    dtype and dim=None as in `softmax`.
    Shape: any -> same.
    """
    input = _softmax_input("log_softmax", input, dtype)
    return LogSoftmax.apply(input, dim=_softmax_axis("log_softmax", input, dim))


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`x.softmax(dim)`: dim is required, as for torch.Tensor.softmax."""
    input = _softmax_input("softmax", self, dtype)
    return Softmax.apply(input, dim=_softmax_axis("softmax", input, dim))


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`x.log_softmax(dim)`: dim is required, as for torch.Tensor.log_softmax."""
    input = _softmax_input("log_softmax", self, dtype)
    return LogSoftmax.apply(input, dim=_softmax_axis("log_softmax", input, dim))


# ---- dropout --------------------------------------------------------------------------------
class Dropout(Function):
    """Inverted dropout: zero each element (or each channel) with probability p and scale
    the survivors by 1 / (1 - p), so the expected output equals the input."""

    def forward(self, x: np.ndarray, p: float, channelwise: bool) -> np.ndarray:
        mask_shape = x.shape[:2] + (1,) * (x.ndim - 2) if channelwise else x.shape
        keep = default_generator().random(mask_shape, dtype=np.float32) >= p
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        self.mask = keep * x.dtype.type(scale)  # (mask_shape) in x's dtype: 0 or 1 / (1 - p)
        return x * self.mask

    def backward(self, xp: Any, grad: Any) -> Any:
        return grad * self.mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p, scale the rest by 1 / (1 - p) (inverted dropout).

    The mask comes from minigrad's global generator (`mg.manual_seed` repeats it). With
    training=False or p=0 the input itself is returned. `inplace` is ignored.
    Shape: any -> same.
    """
    _check_tensor("dropout", "input", input)
    p = _check_probability("dropout", p)
    if not training or p == 0.0:
        return input
    _check_floating("dropout", input)
    return Dropout.apply(input, p=p, channelwise=False)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: one draw per (n, c), as PyTorch's feature dropout.

    Like PyTorch, a 3-D input is read as (N, C, L) (with its warning) and inputs that are not
    4-D warn; fewer than 2 dimensions is an error. `inplace` is ignored.
    Shape: (N, C, H, W) -> same.
    """
    _check_tensor("dropout2d", "input", input)
    p = _check_probability("dropout2d", p)
    if input.ndim < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {input.shape}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim.", stacklevel=2)
    elif input.ndim != 4:
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated; dropout2d expects (N, C, H, W).", stacklevel=2)
    if not training or p == 0.0:
        return input
    _check_floating("dropout2d", input)
    return Dropout.apply(input, p=p, channelwise=True)


# ---- encoding -------------------------------------------------------------------------------
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 class indices of shape (*) -> int64 (*, num_classes) with a 1 at each index.

    num_classes=-1 means max(tensor) + 1. Not differentiable (integer output).
    """
    _check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype != dtypes.int64:
        raise RuntimeError(f"one_hot: one_hot is only applicable to index tensor of type "
                           f"LongTensor (int64), got {tensor.dtype}")
    values = tensor.data
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative (got {values.min()}).")
    if values.size and values.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"(got {values.max()}, num_classes={num_classes}).")
    encoded = values[..., None] == np.arange(num_classes)
    return Tensor._from_op(encoded.astype(np.int64))


TENSOR_METHODS = {
    "relu": relu,
    "softmax": _softmax_method,
    "log_softmax": _log_softmax_method,
}
FUNCTIONAL = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "gelu": gelu,
    "silu": silu,
    "elu": elu,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "dropout": dropout,
    "dropout2d": dropout2d,
    "one_hot": one_hot,
}
TOPLEVEL = {
    "relu": relu,
    "softmax": softmax,
    "log_softmax": log_softmax,
}


# ---- this family's names in the backward namespaces (see ops/namespace.py) ------------------
def _recompute_array(cache: np.ndarray | None, formula: Any, *args: Any) -> np.ndarray:
    """The value forward computed (`cache`), or the formula evaluated on arrays."""
    if cache is not None:
        return cache
    return formula(backward_namespace.arrays, *args)


def _recompute_graph(cache: Any, formula: Any, *args: Any) -> Tensor:
    """The formula as differentiable ops on the saved tensors; forward's array is unused."""
    return formula(backward_namespace.graph, *args)


def _normal_cdf_array(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + _erf(x * _SQRT_HALF))


NUMPY_XP = {
    "recompute": _recompute_array,
    "normal_cdf": _normal_cdf_array,
    "softmax": _softmax_array,
    "log_softmax": _log_softmax_array,
}
GRAPH_XP = {
    "recompute": _recompute_graph,
    "normal_cdf": lambda x: NormalCdf.apply(_as_tensor(x)),
    "softmax": lambda x, axis: Softmax.apply(_as_tensor(x), dim=axis),
    "log_softmax": lambda x, axis: LogSoftmax.apply(_as_tensor(x), dim=axis),
}
