"""The functions an op's backward formula may call as `xp.<name>`, in both namespaces.

A backward formula uses only operators (`+ - * / ** @`, unary `-`, comparisons, indexing) and
`xp.<name>(...)` with NumPy's signatures. For an ordinary backward `xp` holds the NumPy
functions (and fast kernels) below; with `create_graph=True` it holds the same names built
from minigrad's differentiable ops, so the gradient is itself a recorded graph.

Core names live here; an op family adds its own kernels (a transposed convolution, a scatter
by saved indices, ...) through its `NUMPY_XP` / `GRAPH_XP` tables, both naming the same
functions. A constant argument (a mask, indices, a saved derived array) may stay an ndarray
in either namespace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Tensor
from ._broadcast import unbroadcast

__all__ = ["GRAPH_XP", "NUMPY_XP"]


def _tensor(value: Any) -> Tensor:
    """A constant (array or number) as a Tensor; a Tensor as it is."""
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        return (int(axis),)
    return tuple(axis)


# ---- NumPy side: functions that NumPy lacks under the same name ---------------------------
def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e ** -x) without overflow: e ** -|x| never exceeds 1."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def _astype_array(x: np.ndarray, dtype: Any) -> np.ndarray:
    return x.astype(dtype, copy=False)


# The array methods cost a fraction of NumPy's module functions (np.reshape, np.sum, ...
# add argument dispatch: ~0.7 against ~0.1 us for a reshape), and backward calls them per op.
def _reshape_array(x: Any, shape: Any) -> Any:
    try:
        return x.reshape(shape)
    except AttributeError:  # a Python number
        return np.reshape(x, shape)


def _sum_array(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    try:
        return x.sum(axis=axis, keepdims=keepdims)
    except AttributeError:
        return np.sum(x, axis=axis, keepdims=keepdims)


def _mean_array(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    try:
        return x.mean(axis=axis, keepdims=keepdims)
    except AttributeError:
        return np.mean(x, axis=axis, keepdims=keepdims)


def _swapaxes_array(x: Any, axis1: int, axis2: int) -> Any:
    try:
        return x.swapaxes(axis1, axis2)
    except AttributeError:
        return np.swapaxes(x, axis1, axis2)


def _transpose_array(x: Any, axes: Any = None) -> Any:
    try:
        return x.transpose(axes)
    except AttributeError:
        return np.transpose(x, axes)


NUMPY_XP: dict[str, Any] = {
    # elementwise
    "abs": np.abs, "cos": np.cos, "exp": np.exp, "expm1": np.expm1, "log": np.log,
    "log1p": np.log1p, "maximum": np.maximum, "minimum": np.minimum, "sign": np.sign,
    "sin": np.sin, "sqrt": np.sqrt, "square": np.square, "tanh": np.tanh, "where": np.where,
    "sigmoid": _sigmoid_array, "astype": _astype_array,
    # reductions and shapes
    "sum": _sum_array, "mean": _mean_array, "reshape": _reshape_array,
    "broadcast_to": np.broadcast_to, "sum_to": unbroadcast, "transpose": _transpose_array,
    "swapaxes": _swapaxes_array,
    "expand_dims": np.expand_dims, "squeeze": np.squeeze, "concatenate": np.concatenate,
    "stack": np.stack, "matmul": np.matmul, "zeros_like": np.zeros_like, "zeros": np.zeros,
    "ones_like": np.ones_like,
}


# ---- graph side: minigrad's differentiable ops with NumPy's signatures --------------------
def _graph_functions() -> dict[str, Any]:
    from . import elementwise as ew
    from . import matmul as mm
    from . import movement as mv
    from . import reduce as rd
    from .cast import cast

    def where(condition: Any, a: Any, b: Any) -> Tensor:
        return ew.where(_tensor(condition), a, b)

    def maximum(a: Any, b: Any) -> Tensor:
        return ew.maximum(a, b)

    def minimum(a: Any, b: Any) -> Tensor:
        return ew.minimum(a, b)

    def sum_(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = _tensor(x)
        return rd.sum(x, dim=_axes(axis, x.ndim), keepdim=keepdims) if x.ndim else x

    def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = _tensor(x)
        return rd.mean(x, dim=_axes(axis, x.ndim), keepdim=keepdims) if x.ndim else x

    def reshape(x: Any, shape: Any) -> Tensor:
        return mv.reshape(_tensor(x), tuple(shape) if not isinstance(shape, int) else (shape,))

    def broadcast_to(x: Any, shape: Any) -> Tensor:
        x = _tensor(x)
        return x if x.shape == tuple(shape) else mv.expand(x, tuple(shape))

    def sum_to(x: Any, shape: Any) -> Tensor:
        """Sum a gradient down to `shape` (undo broadcasting), as recorded ops."""
        x = _tensor(x)
        shape = tuple(shape)
        if x.shape == shape:
            return x
        lead = x.ndim - len(shape)
        summed = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        if summed:
            x = rd.sum(x, dim=summed, keepdim=True)
        return mv.reshape(x, shape)

    def transpose(x: Any, axes: Any = None) -> Tensor:
        x = _tensor(x)
        axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
        return mv.permute(x, axes)

    def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
        return mv.transpose(_tensor(x), axis1, axis2)

    def expand_dims(x: Any, axis: Any) -> Tensor:
        x = _tensor(x)
        for position in sorted(_axes(axis, x.ndim)):
            x = mv.unsqueeze(x, position)
        return x

    def squeeze(x: Any, axis: Any = None) -> Tensor:
        return mv.squeeze(_tensor(x), axis)

    def concatenate(arrays: Any, axis: int = 0) -> Tensor:
        return mv.cat([_tensor(array) for array in arrays], axis)

    def stack(arrays: Any, axis: int = 0) -> Tensor:
        return mv.stack([_tensor(array) for array in arrays], axis)

    def matmul(a: Any, b: Any) -> Tensor:
        return mm.matmul(_tensor(a), _tensor(b))

    def astype(x: Any, dtype: Any) -> Tensor:
        return cast(_tensor(x), dtype)

    def zeros_like(x: Any, dtype: Any = None) -> Tensor:
        return Tensor._from_op(np.zeros(x.shape, dtype=x.dtype if dtype is None else dtype))

    def ones_like(x: Any, dtype: Any = None) -> Tensor:
        return Tensor._from_op(np.ones(x.shape, dtype=x.dtype if dtype is None else dtype))

    def zeros(shape: Any, dtype: Any = float) -> Tensor:
        return Tensor._from_op(np.zeros(shape, dtype=dtype))

    def unary(function: Any) -> Any:
        return lambda x: function(_tensor(x))

    return {
        "abs": unary(ew.abs), "cos": unary(ew.cos), "exp": unary(ew.exp),
        "expm1": unary(ew.expm1), "log": unary(ew.log), "log1p": unary(ew.log1p),
        "maximum": maximum, "minimum": minimum, "sign": unary(_sign), "sin": unary(ew.sin),
        "sqrt": unary(ew.sqrt), "square": unary(ew.square), "tanh": unary(ew.tanh),
        "where": where, "sigmoid": unary(ew.sigmoid), "astype": astype,
        "sum": sum_, "mean": mean, "reshape": reshape, "broadcast_to": broadcast_to,
        "sum_to": sum_to, "transpose": transpose, "swapaxes": swapaxes,
        "expand_dims": expand_dims, "squeeze": squeeze, "concatenate": concatenate,
        "stack": stack, "matmul": matmul, "zeros_like": zeros_like, "zeros": zeros,
        "ones_like": ones_like,
    }


def _sign(x: Tensor) -> Tensor:
    """sign(x) as a constant: its derivative is zero wherever it is defined."""
    return Tensor._from_op(np.sign(x.data))


GRAPH_XP: dict[str, Any] = {}  # filled by `build`, once every family is imported


def build(families: tuple) -> tuple[dict, dict]:
    """Both tables: the core names above plus each family's own."""
    numpy_table = dict(NUMPY_XP)
    graph_table = _graph_functions()
    for family in families:
        numpy_table.update(getattr(family, "NUMPY_XP", {}))
        graph_table.update(getattr(family, "GRAPH_XP", {}))
    GRAPH_XP.update(graph_table)
    return numpy_table, graph_table
