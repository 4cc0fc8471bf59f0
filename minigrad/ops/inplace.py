"""In-place ops: `add_`, `sub_`, `mul_`, `div_`, `clamp_`, `fill_`, `zero_`, `copy_`,
`x[key] = value` and the augmented operators (`x += y`, ...).

Each writes into the tensor's own array, so views see the change, and bumps the version
counter the tensor shares with its views; an op that saved the old values then refuses to
backward (see `Function._check_versions`) instead of giving a wrong gradient.

PyTorch's rules:
  - while grad mode is on, a leaf that requires grad (or a view of one) cannot be changed in
    place: RuntimeError "a leaf Variable that requires grad is being used in an in-place
    operation." Initialise and update parameters under `mg.no_grad()`;
  - the result keeps the tensor's shape (the operand broadcasts to it) and dtype (the result
    type must be castable to it: no float into an integer tensor), else RuntimeError.

When grad mode is on and the tensor, its base or an operand requires grad, the op is recorded,
as in PyTorch: the out-of-place op runs on the tensor's old history (on a copy of the old
values when that op keeps them, like PyTorch's `original_self`) and its node becomes the
tensor's new `grad_fn`. On a view, the base's history is rewritten instead (PyTorch's
CopySlices: the base with the view's elements replaced), and every view of it replays its
view ops on the new history the next time it is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, Tensor, dtypes, enable_grad, is_grad_enabled, no_grad
from ..engine.function import move_retain_grad, refresh_view, replay_view, view_positions
from ._broadcast import broadcast_shapes
from .cast import cast
from .elementwise import add, clamp, div, masked_fill, mul, sub
from .movement import _ARRAY_SLOT, Index, _check_key, _index_item

__all__ = ["add_", "clamp_", "copy_", "div_", "fill_", "mul_", "setitem", "sub_", "zero_"]

_NUMBER_TYPES = (bool, int, float, np.number, np.bool_)
_LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF_MESSAGE = ("a view of a leaf Variable that requires grad is being used in an "
                         "in-place operation.")
_NO_GRAD_VIEW_MESSAGE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode "
    "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can "
    "clarify your code by moving both the view and the inplace either both inside the no_grad "
    "block (if you don't want the inplace to be tracked) or both outside (if you want the "
    "inplace to be tracked).")


# ---- the one path every in-place op takes -------------------------------------------------
def _modify(target: Tensor, compute: Callable[[Tensor], Tensor],
            operands: tuple = (), keeps_self: bool = False,
            direct: Callable[[np.ndarray], None] | None = None) -> Tensor:
    """Replace `target`'s values by `compute(target)` in place; record it when needed.

    `compute` is the out-of-place op (result with target's shape); `keeps_self` says whether
    its node keeps its first input's values for backward (they are copied first, since they
    are about to be overwritten); `direct`, if given, writes the new values straight into
    the array when nothing is recorded (cheaper than computing a whole new array).
    """
    base = target._base
    if not _needs_graph(target, operands):
        if direct is not None:
            direct(target.data)
        else:
            with no_grad():
                result = compute(target)
            np.copyto(target.data, result.data, casting="unsafe")
        target._version[0] += 1
        return target
    if base is None:
        _record(target, compute, keeps_self)
    else:
        _record_on_view(target, base, compute, keeps_self)
    return target


def _check_target(where: str, target: Tensor) -> None:
    """RuntimeErrors that do not depend on the operands: read-only memory, leaves."""
    if not target.data.flags.writeable:
        if any(stride == 0 and size > 1
               for stride, size in zip(target.data.strides, target.data.shape)):
            raise RuntimeError(f"{where}: unsupported operation: more than one element of the "
                               f"written-to tensor refers to a single memory location (an "
                               f"expanded tensor of shape {target.shape}). Please clone() the "
                               f"tensor before performing the operation.")
        raise RuntimeError(f"{where}: the tensor's memory is read-only (a read-only NumPy "
                           f"array of shape {target.shape}); clone() it first")
    if not is_grad_enabled():
        return
    if target.requires_grad and target.is_leaf:
        raise RuntimeError(_LEAF_MESSAGE + f" ({where} on a tensor of shape {target.shape}; "
                                           f"wrap it in `with mg.no_grad():` to change it)")
    base = target._base
    if base is not None and base.requires_grad and base.is_leaf:
        raise RuntimeError(_VIEW_OF_LEAF_MESSAGE + f" ({where} on a view of shape "
                                                   f"{target.shape} of a leaf of shape "
                                                   f"{base.shape})")


def _needs_graph(target: Tensor, operands: tuple) -> bool:
    """True when the change must be recorded: grad mode is on and the tensor, its base or
    an operand requires grad (and the tensor is a float tensor, which can hold a gradient)."""
    if not is_grad_enabled() or not dtypes.is_floating(target.dtype):
        return False
    if target.requires_grad or (target._base is not None and target._base.requires_grad):
        return True
    return any(isinstance(operand, Tensor) and operand.requires_grad for operand in operands)


def _old_values(tensor: Tensor, copy: bool) -> Tensor:
    """A tensor standing for `tensor` before the change: same history, and its data (shared,
    with the shared version counter) or a copy when the op will keep it."""
    old = Tensor._from_op(tensor.data.copy() if copy else tensor.data,
                          requires_grad=tensor.requires_grad)
    old.grad_fn = tensor.grad_fn
    if not copy:
        old._version = tensor._version
    return old


def _take_history(tensor: Tensor, result: Tensor) -> None:
    """Make `result`'s node the history of `tensor` (whose data now holds result's values)."""
    previous = tensor.grad_fn
    tensor.grad_fn = result.grad_fn
    tensor.requires_grad = result.requires_grad
    if tensor._retains_grad and previous is not None and tensor.grad_fn is not None:
        move_retain_grad(previous, tensor.grad_fn)


def _record(target: Tensor, compute: Callable[[Tensor], Tensor], keeps_self: bool) -> None:
    """target = compute(target) in the graph; the data is overwritten in place."""
    result = cast(compute(_old_values(target, keeps_self)), target.dtype)
    np.copyto(target.data, result.data)
    target._version[0] += 1
    _take_history(target, result)


def _record_on_view(view: Tensor, base: Tensor, compute: Callable[[Tensor], Tensor],
                    keeps_self: bool) -> None:
    """view = compute(view), recorded as a new history of the base: the old base with the
    view's elements replaced by the result (PyTorch's CopySlices)."""
    if not view._view_grad_mode:
        raise RuntimeError(_NO_GRAD_VIEW_MESSAGE)
    with enable_grad():
        current = replay_view(base, view._view_chain)  # the view on the base's history now
    result = cast(compute(_old_values(current, keeps_self)), view.dtype)
    positions = Tensor._from_op(view_positions(view))
    new_base = WriteRegion.apply(_old_values(base, copy=False), result, positions)
    np.copyto(view.data, result.data)
    view._version[0] += 1
    _take_history(base, new_base)
    refresh_view(view)


class WriteRegion(Function):
    """The base of a view after an in-place op on the view: `base` with the elements at flat
    `positions` replaced by `values` (positions has the view's shape).

    Its backward zeroes those positions of the gradient (another WriteRegion, of zeros) and
    gathers them for `values` (`TakePositions`, whose backward scatters them back).
    """

    def forward(self, base: np.ndarray, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        self.positions = positions.reshape(-1)
        self.values_shape = values.shape
        out = base.copy()  # C-contiguous, so reshape(-1) below is a view
        out.reshape(-1)[self.positions] = values.reshape(-1)
        return out

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_base = grad_values = None
        if self.needs_input_grad[0]:
            grad_base = xp.zero_positions(grad, self.positions)  # those were overwritten
        if self.needs_input_grad[1]:
            grad_values = xp.take_positions(grad, self.positions, self.values_shape)
        return grad_base, grad_values, None


class TakePositions(Function):
    """y = x's elements at flat (C-order) `positions`, in the shape `shape`.

    The gradient of WriteRegion's values; its own backward scatters (adds) the gradient
    back to those positions (`ScatterPositions`).
    """

    def forward(self, x: np.ndarray, positions: np.ndarray, shape: tuple) -> np.ndarray:
        self.positions, self.x_shape = positions.reshape(-1), x.shape
        return _take_positions(x, self.positions, shape)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.scatter_positions(grad, self.positions, self.x_shape), None


class ScatterPositions(Function):
    """y = zeros of `shape` with `values` added at flat (C-order) `positions` (repeated
    positions add up); the backward gathers them again (`TakePositions`)."""

    def forward(self, values: np.ndarray, positions: np.ndarray, shape: tuple) -> np.ndarray:
        self.positions, self.values_shape = positions.reshape(-1), values.shape
        return _scatter_positions(values, self.positions, shape)

    def backward(self, xp: Any, grad: Any) -> tuple:
        return xp.take_positions(grad, self.positions, self.values_shape), None


def _zero_positions(grad: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """A C-ordered copy of `grad` with the elements at flat `positions` set to 0."""
    out = np.array(grad, order="C")
    out.reshape(-1)[positions] = 0
    return out


def _take_positions(x: np.ndarray, positions: np.ndarray, shape: tuple) -> np.ndarray:
    """x's elements at flat `positions`, as an array of `shape`."""
    return np.ascontiguousarray(x).reshape(-1)[positions].reshape(shape)


def _scatter_positions(values: np.ndarray, positions: np.ndarray, shape: tuple) -> np.ndarray:
    """Zeros of `shape` with `values` added at flat `positions`."""
    out = np.zeros(math.prod(shape), dtype=values.dtype)
    np.add.at(out, positions, np.ravel(values))
    return out.reshape(shape)


def _positions_tensor(positions: np.ndarray) -> Tensor:
    return Tensor._from_op(np.asarray(positions))


def _zero_positions_graph(grad: Tensor, positions: np.ndarray) -> Tensor:
    zeros = Tensor._from_op(np.zeros(positions.shape, dtype=grad.dtype))
    return WriteRegion.apply(grad, zeros, _positions_tensor(positions))


def _take_positions_graph(x: Tensor, positions: np.ndarray, shape: tuple) -> Tensor:
    return TakePositions.apply(x, _positions_tensor(positions), shape=tuple(shape))


def _scatter_positions_graph(values: Tensor, positions: np.ndarray, shape: tuple) -> Tensor:
    return ScatterPositions.apply(values, _positions_tensor(positions), shape=tuple(shape))


# ---- argument checks ------------------------------------------------------------------------
def _check_operand(where: str, name: str, value: Any) -> None:
    if not isinstance(value, (Tensor, np.ndarray) + _NUMBER_TYPES):
        raise TypeError(f"{where}: argument '{name}' must be a Tensor or a number, "
                        f"not {type(value).__name__}")


def _can_cast(source: np.dtype, target: np.dtype) -> bool:
    """PyTorch's rule for writing a result into a tensor: no float into an integer or bool
    tensor, nothing but bool into a bool tensor."""
    if source.kind == "f" and target.kind in "biu":
        return False
    return not (source.kind != "b" and target.kind == "b")


def _check_result(where: str, target: Tensor, operands: dict[str, Any],
                  result_dtype: np.dtype | None = None) -> None:
    """The operands broadcast to exactly target's shape; the result type fits its dtype."""
    shapes = [tuple(getattr(value, "shape", ())) for value in operands.values()]
    shape = broadcast_shapes(where, target.shape, *shapes)
    if shape != target.shape:
        described = ", ".join(f"{name} {list(value_shape)}"
                              for name, value_shape in zip(operands, shapes))
        raise RuntimeError(f"{where}: output with shape {list(target.shape)} doesn't match the "
                           f"broadcast shape {list(shape)} ({described})")
    if result_dtype is None:
        values = [Tensor._from_op(value) if isinstance(value, np.ndarray) else value
                  for value in operands.values()]
        result_dtype = dtypes.result_type(target, *values)
    if not _can_cast(result_dtype, target.dtype):
        raise RuntimeError(f"{where}: result type {result_dtype} can't be cast to the desired "
                           f"output type {target.dtype}")


# ---- arithmetic -----------------------------------------------------------------------------
def add_(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """self += alpha * other, in place; `other` broadcasts to self's shape."""
    _check_operand("add_", "other", other)
    _check_target("add_", self)
    _check_result("add_", self, {"other": other})
    return _modify(self, lambda old: add(old, other, alpha=alpha), (other,))


def sub_(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """self -= alpha * other, in place; `other` broadcasts to self's shape."""
    _check_operand("sub_", "other", other)
    _check_target("sub_", self)
    _check_result("sub_", self, {"other": other})
    return _modify(self, lambda old: sub(old, other, alpha=alpha), (other,))


def mul_(self: Tensor, other: Any) -> Tensor:
    """self *= other, in place; `other` broadcasts to self's shape."""
    _check_operand("mul_", "other", other)
    _check_target("mul_", self)
    _check_result("mul_", self, {"other": other})
    return _modify(self, lambda old: mul(old, other), (other,), keeps_self=True)


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """self /= other, in place (true division unless `rounding_mode` is "trunc"/"floor").

    Integer tensors need a rounding mode, since true division gives floats.
    """
    _check_operand("div_", "other", other)
    _check_target("div_", self)
    if rounding_mode is None:
        values = [Tensor._from_op(other) if isinstance(other, np.ndarray) else other]
        common = dtypes.result_type(self, *values)
        result_dtype = common if dtypes.is_floating(common) else dtypes.default_float
    else:
        result_dtype = None
    _check_result("div_", self, {"other": other}, result_dtype)
    return _modify(self, lambda old: div(old, other, rounding_mode=rounding_mode),
                   (other,))


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit self to [min, max] in place; each bound is a number, a Tensor or None."""
    if min is None and max is None:
        raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
    bounds = {name: value for name, value in (("min", min), ("max", max)) if value is not None}
    for name, value in bounds.items():
        _check_operand("clamp_", name, value)
    _check_target("clamp_", self)
    _check_result("clamp_", self, bounds)
    return _modify(self, lambda old: clamp(old, min, max), tuple(bounds.values()),
                   keeps_self=True)


# ---- fill, zero, copy -----------------------------------------------------------------------
def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to `value` (a number or a 0-dim tensor), cast to self's dtype."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions (value shape {value.shape})")
    elif not isinstance(value, _NUMBER_TYPES):
        raise TypeError(f"fill_: argument 'value' must be a number or a 0-dim Tensor, "
                        f"not {type(value).__name__}")
    _check_target("fill_", self)
    everywhere = Tensor._from_op(np.broadcast_to(np.True_, self.shape))

    def write(array: np.ndarray) -> None:
        array[...] = value.data if isinstance(value, Tensor) else value

    return _modify(self, lambda old: masked_fill(old, everywhere, value), (value,),
                   direct=write)


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0, in place."""
    return fill_(self, 0)


class Copy(Function):
    """y = src broadcast to x's shape and cast to x's dtype; x's old values get no gradient."""

    def forward(self, x: np.ndarray, src: np.ndarray) -> np.ndarray:
        self.x_shape, self.src_shape, self.src_dtype = x.shape, src.shape, src.dtype
        return np.broadcast_to(src, x.shape).astype(x.dtype)

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_x = xp.zeros(self.x_shape, dtype=grad.dtype) if self.needs_input_grad[0] else None
        grad_src = None
        if self.needs_input_grad[1]:
            grad_src = xp.astype(xp.sum_to(grad, self.src_shape), self.src_dtype)
        return grad_x, grad_src


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy `src` (broadcast to self's shape, cast to self's dtype) into self."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, "
                        f"not {type(src).__name__}")
    _check_target("copy_", self)
    _check_result("copy_", self, {"src": src}, result_dtype=self.dtype)

    def write(array: np.ndarray) -> None:
        np.copyto(array, src.data, casting="unsafe")

    return _modify(self, lambda old: Copy.apply(old, src), (src,), direct=write)


# ---- x[key] = value -------------------------------------------------------------------------
class IndexPut(Function):
    """y = x with x[key] replaced by value (broadcast), PyTorch's indexing rules (as `Index`).

    x gets the gradient except where it was overwritten (an IndexPut of zeros); value gets
    the gradient of the positions it was written to (indexing), summed over its broadcast
    dims.
    """

    def forward(self, x: np.ndarray, value: np.ndarray, *index_arrays: np.ndarray,
                key: tuple) -> np.ndarray:
        self.selection, _ = _selection(x, index_arrays, key)
        self.index_arrays, self.key = index_arrays, key
        self.value_shape = value.shape
        out = x.copy()
        _assign(out, self.selection, value)
        return out

    def backward(self, xp: Any, grad: Any) -> tuple:
        grad_x = grad_value = None
        if self.needs_input_grad[0]:
            grad_x = xp.index_put_zeros(grad, self.index_arrays, self.key, self.selection)
        if self.needs_input_grad[1]:
            basic, advanced = self.selection
            picked = grad[basic] if advanced is None else grad[basic][advanced]
            grad_value = xp.sum_to(picked, self.value_shape)
        return (grad_x, grad_value) + (None,) * (len(self.needs_input_grad) - 2)


def _index_put_zeros(grad: np.ndarray, index_arrays: tuple, key: tuple,
                     selection: tuple) -> np.ndarray:
    """A copy of grad with grad[key] set to 0 (`selection` is `_selection`'s pair for it)."""
    out = grad.copy()
    _assign(out, selection, 0)
    return out


def _index_put_zeros_graph(grad: Tensor, index_arrays: tuple, key: tuple,
                           selection: Any = None) -> Tensor:
    """`_index_put_zeros` as a differentiable IndexPut of a 0-d zero."""
    zero = Tensor._from_op(np.zeros((), dtype=grad.dtype))
    indices = [Tensor._from_op(array) for array in index_arrays]
    return IndexPut.apply(grad, zero, *indices, key=key)


def _selection(x: np.ndarray, index_arrays: tuple, key: tuple) -> tuple:
    """(basic, advanced) keys that select x[key] by PyTorch's rules (integers before index
    arrays), as `Index` splits them, and the shape of x[key]."""
    probe = Index()
    selected = probe.forward(x, *index_arrays, key=key)
    return (probe.basic, probe.advanced), selected.shape


def _assign(array: np.ndarray, selection: tuple, value: Any) -> None:
    """array[key] = value through the (basic, advanced) pair from `_selection`."""
    basic, advanced = selection
    selected = array[basic]  # basic indexing: a view, so writing it writes `array`
    if advanced is None:
        selected[...] = value
    else:
        selected[advanced] = value


def _strip_leading_ones(value: Tensor, ndim: int) -> Tensor:
    """Drop leading size-1 dims beyond `ndim`, as PyTorch does for assigned values."""
    shape = value.shape
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return value if shape == value.shape else value.reshape(shape)


def setitem(self: Tensor, key: Any, value: Any) -> None:
    """`x[key] = value`: ints, slices, None, Ellipsis, masks and index tensors, as `x[key]`.

    `value` is a number or a Tensor broadcastable to x[key]'s shape; it is cast to x's dtype.
    """
    if not isinstance(value, (Tensor,) + _NUMBER_TYPES):
        raise TypeError(f"setitem: can't assign a {type(value).__name__} to a minigrad Tensor "
                        f"(the value must be a Tensor or a number)")
    items = key if isinstance(key, tuple) else (key,)
    try:
        items = tuple(_index_item(item) for item in items)
        _check_key(items, self.shape)
    except (IndexError, ValueError, TypeError) as error:
        raise type(error)(str(error).replace("getitem:", "setitem:", 1)) from None
    index_tensors = [Tensor._from_op(item) for item in items if isinstance(item, np.ndarray)]
    template = tuple(_ARRAY_SLOT if isinstance(item, np.ndarray) else item for item in items)
    arrays = tuple(tensor.data for tensor in index_tensors)
    selection, target_shape = _selection(self.data, arrays, template)
    if isinstance(value, Tensor):
        value = _strip_leading_ones(cast(value, self.dtype), len(target_shape))
    else:
        value = Tensor._from_op(np.asarray(value).astype(self.dtype))
    try:
        shape = np.broadcast_shapes(value.shape, target_shape)
    except ValueError:
        shape = None
    if shape != target_shape:
        raise RuntimeError(f"setitem: shape mismatch: value tensor of shape {list(value.shape)} "
                           f"cannot be broadcast to indexing result of shape "
                           f"{list(target_shape)} (tensor shape {self.shape})")
    _check_target("setitem", self)

    def write(array: np.ndarray) -> None:
        _assign(array, selection, value.data)

    _modify(self,
            lambda old: IndexPut.apply(old, value, *index_tensors, key=template), (value,),
            direct=write)


def _augmented(method: Callable) -> Callable:
    """`x += y` as `x.add_(y)`; Python's NotImplemented for operands no op accepts."""

    def operator(self: Tensor, other: Any) -> Any:
        if not isinstance(other, (Tensor, np.ndarray) + _NUMBER_TYPES):
            return NotImplemented
        return method(self, other)

    operator.__name__ = method.__name__
    operator.__doc__ = method.__doc__
    return operator


# the backward formulas' scatters and gathers: on arrays, and as differentiable ops
NUMPY_XP = {
    "zero_positions": _zero_positions, "take_positions": _take_positions,
    "scatter_positions": _scatter_positions, "index_put_zeros": _index_put_zeros,
}
GRAPH_XP = {
    "zero_positions": _zero_positions_graph, "take_positions": _take_positions_graph,
    "scatter_positions": _scatter_positions_graph, "index_put_zeros": _index_put_zeros_graph,
}

TENSOR_METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "clamp_": clamp_, "clip_": clamp_,
    "fill_": fill_, "zero_": zero_, "copy_": copy_, "__setitem__": setitem,
    "__iadd__": _augmented(add_), "__isub__": _augmented(sub_),
    "__imul__": _augmented(mul_), "__itruediv__": _augmented(div_),
}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
