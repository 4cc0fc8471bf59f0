"""Reductions: sum, mean, prod, max/min (with indices), amax/amin, var/std, logsumexp, argmax.

`dim` is None (every dimension), an int or a tuple of ints, negative allowed, and `keepdim`
keeps reduced dimensions with size 1, as in PyTorch. A reduction's backward broadcasts the
output gradient back over the reduced dimensions. Each backward is one formula against `xp`
(CONTRIBUTING.md), so gradients of gradients work; values forward already computed
(centered inputs, shifted exponentials) serve an ordinary backward as caches only.

Tie rules follow PyTorch: `x.max()` and `amax` share the gradient evenly among tied
maxima; `x.max(dim)` returns (values, indices) and sends the gradient only to the returned
index, the first occurrence.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, normalize_dim
from . import elementwise
from ._select import along_axis_key
from .cast import cast
from .elementwise import maximum, minimum
from .movement import expand, unsqueeze

__all__ = [
    "amax", "amin", "argmax", "argmin", "logsumexp", "max", "mean", "min", "prod", "std", "sum",
    "sum_to_size", "var",
]

Dim = int | tuple[int, ...] | list[int] | None

# PyTorch's torch.return_types.max / min: a named pair (values, indices).
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


# ---- dims -----------------------------------------------------------------------------------
def _check_tensor(where: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: argument 'input' must be a Tensor, "
                        f"not {type(value).__name__}")


def _reduced_axes(where: str, dim: Dim, ndim: int) -> tuple[int, ...]:
    """The axes `dim` names, normalised and sorted; None or () means every axis.

    A 0-dim tensor accepts dim 0 or -1 (as in PyTorch) and has no axis to reduce.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return tuple(range(ndim))
    axes = []
    for one in dims:
        axis = normalize_dim(one, ndim, where)
        if axis in axes:
            raise RuntimeError(f"{where}: dim {axis} appears multiple times in the list of dims")
        axes.append(axis)
    return tuple(sorted(axes)) if ndim > 0 else ()


def _single_axis(where: str, dim: Any, ndim: int) -> int:
    """One dim as a normalised axis (max(dim), argmax(dim), prod(dim) take one int)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{where}: dim must be a single int, got {dim!r}")
    return normalize_dim(dim, ndim, where)


def _check_nonempty(where: str, input: Tensor, axes: tuple[int, ...], full: bool) -> None:
    """max/min/argmax of nothing is undefined: PyTorch's errors for empty reductions."""
    if full and input.numel() == 0:
        raise RuntimeError(f"{where}: Expected reduction dim to be specified for "
                           f"input.numel() == 0 (input shape {input.shape}); specify the "
                           f"reduction dim with the 'dim' argument")
    for axis in axes:
        if input.shape[axis] == 0:
            raise IndexError(f"{where}: Expected reduction dim {axis} to have non-zero size "
                             f"(input shape {input.shape})")


def _is_full(dim: Dim) -> bool:
    """True when `dim` asks for a reduction over every dimension."""
    return dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each output element reduces over."""
    return int(np.prod([shape[axis] for axis in axes], dtype=np.int64))


def _restore(xp: Any, value: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
    """A reduction's output (or its gradient) with the reduced axes back as size 1, ready
    to broadcast against the input."""
    return value if keepdim else xp.expand_dims(value, axes)


def _broadcast_back(xp: Any, grad: Any, shape: tuple[int, ...], axes: tuple[int, ...],
                    keepdim: bool) -> Any:
    """The output gradient over every element that was reduced: a read-only broadcast view
    on arrays (never written to), an expand op in a graph."""
    return xp.broadcast_to(_restore(xp, grad, axes, keepdim), shape)


# ---- sum, mean, prod ------------------------------------------------------------------------
class Sum(Function):
    """Sum over `dim`; every input element gets the output gradient."""

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        # bool and integer sums accumulate in int64, as in PyTorch
        accumulator = None if dtypes.is_floating(x.dtype) else np.int64
        return np.asarray(np.sum(x, axis=dim, keepdims=keepdim, dtype=accumulator))

    def backward(self, xp: Any, grad: Any) -> Any:
        return _broadcast_back(xp, grad, self.shape, self.dim, self.keepdim)


class Mean(Function):
    """Mean over `dim`; every input element gets grad / count."""

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.shape, self.dim, self.keepdim = x.shape, dim, keepdim
        self.count = _count(x.shape, dim)
        with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is NaN
            return np.asarray(np.sum(x, axis=dim, keepdims=keepdim) / self.count)

    def backward(self, xp: Any, grad: Any) -> Any:
        return _broadcast_back(xp, grad / self.count, self.shape, self.dim, self.keepdim)


class Prod(Function):
    """Product over one axis (or all, flattened when axis is None).

    The gradient of each element is the product of all the others (`xp.product_of_others`),
    so zeros need no special case.
    """

    def forward(self, x: np.ndarray, dim: int | None, keepdim: bool) -> np.ndarray:
        self.dim, self.keepdim = dim, keepdim
        self.save(x)
        if dim is None:
            out = np.prod(x)
            return np.asarray(out).reshape((1,) * x.ndim if keepdim else ())
        return np.asarray(np.prod(x, axis=dim, keepdims=keepdim))

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        if self.dim is None:
            others = xp.product_of_others(xp.reshape(x, (-1,)), 0)
            return xp.reshape(others, x.shape) * xp.reshape(grad, ())
        return xp.product_of_others(x, self.dim) * _restore(xp, grad, (self.dim,), self.keepdim)


def _product_of_others(x: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of the other elements along `axis`: exclusive
    cumulative products from the left and the right, exact with zeros."""
    ones_shape = list(x.shape)
    ones_shape[axis] = 1
    ones = np.ones(ones_shape, dtype=x.dtype)
    length = x.shape[axis]
    if length == 0:
        return np.ones(x.shape, dtype=x.dtype)
    before = np.take(x, range(length - 1), axis=axis)
    after = np.take(x, range(1, length), axis=axis)
    # left[i] = x[0] * ... * x[i-1], right[i] = x[i+1] * ... * x[n-1]
    left = np.concatenate([ones, np.cumprod(before, axis=axis)], axis=axis)
    right_reversed = np.cumprod(np.flip(after, axis=axis), axis=axis)
    right = np.concatenate([np.flip(right_reversed, axis=axis), ones], axis=axis)
    return left * right


def sum(input: Tensor, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over `dim` (all by default); bool and integer tensors sum to int64.

    Shape: reduced dims removed, or kept as size 1 with keepdim=True.
    """
    _check_tensor("sum", input)
    axes = _reduced_axes("sum", dim, input.ndim)
    if dtype is not None:
        input = cast(input, dtype)
    return Sum.apply(input, dim=axes, keepdim=bool(keepdim))


def mean(input: Tensor, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over `dim` (all by default); integer tensors need `dtype=` as in PyTorch."""
    _check_tensor("mean", input)
    axes = _reduced_axes("mean", dim, input.ndim)
    if dtype is not None:
        input = cast(input, dtype)
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {input.dtype}")
    return Mean.apply(input, dim=axes, keepdim=bool(keepdim))


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Product over one `dim` (all elements by default); integers multiply in int64."""
    _check_tensor("prod", input)
    axis = None if dim is None else _single_axis("prod", dim, input.ndim)
    if dtype is not None:
        input = cast(input, dtype)
    elif not dtypes.is_floating(input.dtype):
        input = cast(input, dtypes.int64)
    if input.ndim == 0:
        axis = None
    return Prod.apply(input, dim=axis, keepdim=bool(keepdim))


# ---- max, min, amax, amin, argmax, argmin ---------------------------------------------------
class Amax(Function):
    """Largest value over `dim`; tied maxima share the gradient evenly (PyTorch's rule)."""

    pick = staticmethod(np.max)

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool) -> np.ndarray:
        kept = np.asarray(self.pick(x, axis=dim, keepdims=True))
        self.dim, self.keepdim = dim, keepdim
        out = np.asarray(kept if keepdim else np.squeeze(kept, axis=dim))
        self.save(x, out)  # the very array returned (a 0-d result too), so a graph finds it
        return out

    def backward(self, xp: Any, grad: Any, x: Any, out: Any) -> Any:
        # which elements won is a constant of the second pass (the gradient is piecewise linear)
        winners = x == _restore(xp, out, self.dim, self.keepdim)
        ties = xp.astype(xp.sum(winners, axis=self.dim, keepdims=True), grad.dtype)
        share = _restore(xp, grad, self.dim, self.keepdim) / ties
        return xp.where(winners, share, 0)


class Amin(Amax):
    """Smallest value over `dim`; tied minima share the gradient evenly (PyTorch's rule)."""

    pick = staticmethod(np.min)


class PickAlongDim(Function):
    """The elements at `index` along `dim` (what max/min(dim) chose); the gradient goes only
    to those elements. `index` has the input's shape with size 1 on `dim`."""

    def forward(self, x: np.ndarray, index: np.ndarray, dim: int, keepdim: bool) -> np.ndarray:
        self.shape, self.index, self.dim, self.keepdim = x.shape, index, dim, keepdim
        if x.ndim == 0:
            return x.copy()
        values = np.take_along_axis(x, index, axis=dim)
        return values if keepdim else np.squeeze(values, axis=dim)

    def backward(self, xp: Any, grad: Any) -> tuple:
        if len(self.shape) == 0:
            return grad, None
        # a scatter into zeros at the picked positions (one per row: no accumulation); its
        # own gradient is the same pick (see ops/_select.py)
        kept = _restore(xp, grad, (self.dim,), self.keepdim)
        key = along_axis_key(self.index, self.dim)
        return xp.index_scatter(kept, self.shape, None, key, False), None


class MaxAlongDim(PickAlongDim):
    """max(dim)'s values: the gradient goes only to the returned (first) maximum."""


class MinAlongDim(PickAlongDim):
    """min(dim)'s values: the gradient goes only to the returned (first) minimum."""


def _extreme(where: str, amax_function: type[Function], pick_function: type[Function],
             pick_index: Any, result_type: type, input: Tensor, dim: Any, keepdim: bool) -> Any:
    """Shared body of max and min: a full reduction, or (values, indices) along one dim."""
    if dim is None:
        if keepdim:
            raise TypeError(f"{where}: keepdim needs a dim")
        _check_nonempty(where, input, (), full=True)
        return amax_function.apply(input, dim=tuple(range(input.ndim)), keepdim=False)
    axis = _single_axis(where, dim, input.ndim)
    if input.ndim == 0:
        index = np.zeros((), dtype=np.int64)
        values = pick_function.apply(input, Tensor._from_op(index), dim=0, keepdim=bool(keepdim))
        return result_type(values, Tensor._from_op(index))
    _check_nonempty(where, input, (axis,), full=False)
    # np.argmax / np.argmin return the first occurrence of a tie, as PyTorch does
    index = pick_index(input.data, axis=axis, keepdims=True).astype(np.int64)
    values = pick_function.apply(input, Tensor._from_op(index), dim=axis, keepdim=bool(keepdim))
    indices = index if keepdim else np.squeeze(index, axis=axis)
    return result_type(values, Tensor._from_op(indices))


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest element, or (values, indices) along `dim`, or `maximum(input, other)`.

    `x.max()`: a 0-dim tensor; tied maxima share the gradient evenly.
    `x.max(dim)`: a named pair (values, indices); indices are the first maximum, and only
    they receive the gradient.
    """
    _check_tensor("max", input)
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    return _extreme("max", Amax, MaxAlongDim, np.argmax, MaxResult, input, dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest element, or (values, indices) along `dim`, or `minimum(input, other)`."""
    _check_tensor("min", input)
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    return _extreme("min", Amin, MinAlongDim, np.argmin, MinResult, input, dim, keepdim)


def amax(input: Tensor, dim: Dim = (), keepdim: bool = False) -> Tensor:
    """Largest values over `dim` (all by default); ties share the gradient evenly."""
    _check_tensor("amax", input)
    axes = _reduced_axes("amax", dim, input.ndim)
    _check_nonempty("amax", input, axes, full=_is_full(dim))
    return Amax.apply(input, dim=axes, keepdim=bool(keepdim))


def amin(input: Tensor, dim: Dim = (), keepdim: bool = False) -> Tensor:
    """Smallest values over `dim` (all by default); ties share the gradient evenly."""
    _check_tensor("amin", input)
    axes = _reduced_axes("amin", dim, input.ndim)
    _check_nonempty("amin", input, axes, full=_is_full(dim))
    return Amin.apply(input, dim=axes, keepdim=bool(keepdim))


def _arg_extreme(where: str, pick_index: Any, input: Tensor, dim: int | None,
                 keepdim: bool) -> Tensor:
    _check_tensor(where, input)
    if dim is None:
        _check_nonempty(where, input, (), full=True)
        flat_index = np.asarray(pick_index(input.data.reshape(-1)), dtype=np.int64)
        shape = (1,) * input.ndim if keepdim else ()
        return Tensor._from_op(flat_index.reshape(shape))
    axis = _single_axis(where, dim, input.ndim)
    if input.ndim == 0:
        return Tensor._from_op(np.zeros((), dtype=np.int64))
    _check_nonempty(where, input, (axis,), full=False)
    return Tensor._from_op(pick_index(input.data, axis=axis, keepdims=bool(keepdim))
                           .astype(np.int64))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when dim is None), int64;
    ties give the first occurrence."""
    return _arg_extreme("argmax", np.argmax, input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when dim is None), int64;
    ties give the first occurrence."""
    return _arg_extreme("argmin", np.argmin, input, dim, keepdim)


# ---- var, std, logsumexp --------------------------------------------------------------------
class Var(Function):
    """sum((x - mean) ** 2) / max(0, N - correction) over `dim`."""

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool,
                correction: float) -> np.ndarray:
        out = self._variance(x, dim, keepdim, correction)
        self.save(x)
        return out

    def _variance(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool,
                  correction: float) -> np.ndarray:
        centered = x - x.mean(axis=dim, keepdims=True) if x.size else x
        # `centered` is a first-order cache only: a graph recomputes it from x
        self.centered, self.dim, self.keepdim = centered, dim, keepdim
        self.divisor = builtins.max(0, _count(x.shape, dim) - correction)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.sum(centered * centered, axis=dim, keepdims=keepdim)
                              / self.divisor)

    def backward(self, xp: Any, grad: Any, x: Any) -> Any:
        return self._variance_grad(xp, grad, x)

    def _variance_grad(self, xp: Any, grad: Any, x: Any) -> Any:
        centered = xp.centered(x, self.dim, self.__dict__.get("centered"))
        kept = _restore(xp, grad, self.dim, self.keepdim)
        with np.errstate(invalid="ignore", divide="ignore"):
            return kept * (2 / self.divisor if self.divisor else np.inf) * centered


class Std(Var):
    """sqrt(var); the gradient is var's times 1 / (2 std), and 0 where std is 0 (PyTorch)."""

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool,
                correction: float) -> np.ndarray:
        out = np.asarray(np.sqrt(self._variance(x, dim, keepdim, correction)))
        self.save(x, out)
        return out

    def backward(self, xp: Any, grad: Any, x: Any, out: Any) -> Any:
        zero = out == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            # 1 in the denominator where std is 0 keeps the second derivative free of NaN
            var_grad = xp.where(zero, 0, grad / (2 * xp.where(zero, 1, out)))
        return self._variance_grad(xp, var_grad, x)


def _correction(where: str, dim: Any, unbiased: Any, correction: Any) -> tuple[Any, float]:
    """(dim, correction) from PyTorch's two spellings: correction=, or legacy unbiased=."""
    if isinstance(dim, bool):  # legacy x.var(True): the bool is `unbiased`
        if unbiased is not None:
            raise TypeError(f"{where}: got unbiased twice ({dim!r} and {unbiased!r})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{where}: pass either unbiased= or correction=, not both "
                        f"(got unbiased={unbiased!r}, correction={correction!r})")
    if unbiased is not None:
        return dim, 1 if unbiased else 0
    return dim, 1 if correction is None else correction


def _var_like(where: str, function: type[Function], input: Tensor, dim: Any, unbiased: Any,
              keepdim: bool, correction: Any) -> Tensor:
    _check_tensor(where, input)
    dim, correction = _correction(where, dim, unbiased, correction)
    axes = _reduced_axes(where, dim, input.ndim)
    if not dtypes.is_floating(input.dtype):
        raise RuntimeError(f"{where}: std and var only support floating point dtypes "
                           f"(got {input.dtype})")
    return function.apply(input, dim=axes, keepdim=bool(keepdim), correction=correction)


def var(input: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Variance over `dim`, divided by N - correction (correction=1 by default: unbiased).

    `unbiased=False` is the legacy spelling of correction=0.
    """
    return _var_like("var", Var, input, dim, unbiased, keepdim, correction)


def std(input: Tensor, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Standard deviation over `dim`: sqrt(var(input, dim, correction=correction))."""
    return _var_like("std", Std, input, dim, unbiased, keepdim, correction)


class LogSumExp(Function):
    """log(sum(exp(x))) over `dim`, shifted by the max so exp cannot overflow.

    The gradient is softmax(x) along `dim`, exp(x - out) (`xp.softmax_of_logsumexp`); an
    ordinary backward takes it from the shifted exponentials forward already made,
    exp(x - shift) / total (more accurate than exp(x - out) for huge x).
    """

    def forward(self, x: np.ndarray, dim: tuple[int, ...], keepdim: bool) -> np.ndarray:
        if x.size:
            shift = np.max(x, axis=dim, keepdims=True)
            shift = np.where(np.isinf(shift), 0, shift)  # all -inf (or +inf) rows: no shift
        else:
            shift = np.zeros([1 if i in dim else n for i, n in enumerate(x.shape)], x.dtype)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            exps = np.exp(x - shift)
            total = np.sum(exps, axis=dim, keepdims=True)
            kept = np.log(total) + shift
        # (exps, total) is a first-order cache only: a graph recomputes exp(x - out)
        self.cache, self.dim, self.keepdim = (exps, total), dim, keepdim
        out = np.asarray(kept if keepdim else np.squeeze(kept, axis=dim))
        self.save(x, out)  # the very array returned (a 0-d result too), so a graph finds it
        return out

    def backward(self, xp: Any, grad: Any, x: Any, out: Any) -> Any:
        kept = _restore(xp, out, self.dim, self.keepdim)
        softmax = xp.softmax_of_logsumexp(x, kept, self.__dict__.get("cache"))
        return _restore(xp, grad, self.dim, self.keepdim) * softmax


def logsumexp(input: Tensor, dim: Dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over `dim`, stable for large inputs; integers give float32."""
    _check_tensor("logsumexp", input)
    axes = _reduced_axes("logsumexp", dim, input.ndim)
    if not dtypes.is_floating(input.dtype):
        input = cast(input, dtypes.default_float)
    return LogSumExp.apply(input, dim=axes, keepdim=bool(keepdim))


# ---- backward namespace: this family's own functions (see ops/namespace.py) ---------------
def _centered_array(x: np.ndarray, axes: tuple[int, ...], cache: Any = None) -> np.ndarray:
    """x - mean(x) over `axes`; an ordinary backward passes forward's result as `cache`."""
    if cache is not None:
        return cache
    return x - x.mean(axis=axes, keepdims=True) if x.size else x


def _softmax_of_logsumexp_array(x: np.ndarray, logsumexp_kept: np.ndarray,
                                cache: Any = None) -> np.ndarray:
    """exp(x - logsumexp(x)) (reduced dims kept); from forward's (exps, total) if cached."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if cache is not None:
            exps, total = cache
            return exps / total
        return np.exp(x - logsumexp_kept)


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _centered_graph(x: Any, axes: tuple[int, ...], cache: Any = None) -> Tensor:
    x = _as_tensor(x)
    if x.numel() == 0:
        return x
    return x - Mean.apply(x, dim=tuple(axes), keepdim=True)


def _softmax_of_logsumexp_graph(x: Any, logsumexp_kept: Any, cache: Any = None) -> Tensor:
    return elementwise.exp(_as_tensor(x) - logsumexp_kept)


def _product_of_others_graph(x: Any, axis: int) -> Tensor:
    """For each element, the product of the others along `axis`, as differentiable ops: a
    matrix along `axis` whose row i is x with a 1 at i, multiplied out by `Prod`. Exact with
    zeros at every order (each derivative is again a Prod); costs size(axis) times x."""
    x = _as_tensor(x)
    length = x.shape[axis]
    rows = expand(unsqueeze(x, axis), x.shape[:axis] + (length,) + x.shape[axis:])
    diagonal = np.eye(length, dtype=bool).reshape(
        (length, length) + (1,) * (x.ndim - axis - 1))
    matrix = elementwise.where(Tensor._from_op(diagonal), 1, rows)
    return Prod.apply(matrix, dim=axis + 1, keepdim=False)


NUMPY_XP: dict[str, Any] = {
    "product_of_others": _product_of_others, "centered": _centered_array,
    "softmax_of_logsumexp": _softmax_of_logsumexp_array,
}
GRAPH_XP: dict[str, Any] = {
    "product_of_others": _product_of_others_graph, "centered": _centered_graph,
    "softmax_of_logsumexp": _softmax_of_logsumexp_graph,
}


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """Sum `input` down to `size`, which must broadcast to input's shape: the gradient rule of
    broadcasting, for custom ops (`grad.sum_to_size(x.shape)`). Takes sizes or one tuple;
    returns `input` itself when the shapes are equal, as PyTorch does.

    Shape: (*lead, *S) -> size, summing the leading dims and where size has 1 and S not.
    """
    _check_tensor("sum_to_size", input)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(length, (int, np.integer)) and not isinstance(length, bool)
               for length in size):
        raise TypeError(f"sum_to_size(): size must be ints or one tuple of ints, got {size!r}")
    size = tuple(int(length) for length in size)
    shape = tuple(input.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(length not in (1, full) for length, full in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if size == shape:
        return input
    axes = tuple(range(lead)) + tuple(lead + axis for axis, length in enumerate(size)
                                      if length == 1 and shape[lead + axis] != 1)
    summed = sum(input, dim=axes, keepdim=True) if axes else input
    return summed.reshape(size)


_REDUCTIONS = {
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "amax": amax,
    "amin": amin, "argmax": argmax, "argmin": argmin, "var": var, "std": std,
    "logsumexp": logsumexp,
}
TENSOR_METHODS = dict(_REDUCTIONS, sum_to_size=sum_to_size)
FUNCTIONAL: dict = {}
TOPLEVEL = dict(_REDUCTIONS)
