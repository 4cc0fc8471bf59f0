"""Select by a key and scatter into zeros by the same key: each is the other's derivative.

Every gradient of an op that picks elements (indexing, gather, max(dim)'s values, padding,
cat's pieces) is a scatter of the output gradient into zeros of the input's shape, and the
gradient of that scatter is the same selection again. Both are written here once, as the
backward namespace functions `xp.index_select` and `xp.index_scatter` (see
`ops/namespace.py`), on arrays for an ordinary backward and as the ops `IndexSelect` /
`IndexScatter` when a gradient's graph is built.

A selection key has two parts, applied one after the other as `x[basic][advanced]`:
`basic` (ints, slices, None, Ellipsis: a view) and `advanced` (a tuple holding integer or
bool index arrays, slices and Ellipsis), either may be None. Repeated integer indices
accumulate in the scatter (`accumulate=True`); a bool mask or unique indices assign.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor

__all__ = ["GRAPH_XP", "NUMPY_XP", "IndexScatter", "IndexSelect", "along_axis_key"]


def select_array(x: np.ndarray, basic: tuple | None, advanced: tuple | None) -> np.ndarray:
    """x[basic][advanced] (a view when `advanced` is None)."""
    selected = x if basic is None else x[basic]
    return selected if advanced is None else selected[advanced]


def scatter_array(grad: np.ndarray, shape: tuple[int, ...], basic: tuple | None,
                  advanced: tuple | None, accumulate: bool = True) -> np.ndarray:
    """Zeros of `shape` (grad's dtype) with `grad` written at [basic][advanced]; repeated
    integer indices add up when `accumulate`."""
    result = np.zeros(shape, dtype=grad.dtype)
    selected = result if basic is None else result[basic]  # a view: writes reach `result`
    if advanced is None:
        selected[...] = grad
    elif accumulate:
        np.add.at(selected, advanced, grad)
    else:
        selected[advanced] = grad
    return result


def along_axis_key(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The advanced key that picks x[i0, ..., index[i], ..., in] for every position i of
    `index` (as np.take_along_axis does): open ranges on the other axes."""
    key = []
    for other_axis, size in enumerate(index.shape):
        if other_axis == axis:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[other_axis] = size
            key.append(np.arange(size).reshape(shape))
    return tuple(key)


def _has_integer_array(advanced: tuple | None) -> bool:
    return advanced is not None and any(
        isinstance(item, np.ndarray) and item.dtype.kind != "b" for item in advanced)


class IndexSelect(Function):
    """y = x[basic][advanced]; the gradient scatters back into zeros of x's shape."""

    def forward(self, x: np.ndarray, basic: tuple | None, advanced: tuple | None) -> np.ndarray:
        self.input_shape = x.shape
        return select_array(x, basic, advanced)

    def backward(self, xp: Any, grad: Any) -> Any:
        options = self.options
        return xp.index_scatter(grad, self.input_shape, options["basic"], options["advanced"],
                                _has_integer_array(options["advanced"]))


class IndexScatter(Function):
    """y = zeros(shape) with y[basic][advanced] = x (or += for repeated indices); the
    gradient is the selection y[basic][advanced] of the output gradient."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...], basic: tuple | None,
                advanced: tuple | None, accumulate: bool) -> np.ndarray:
        return scatter_array(x, shape, basic, advanced, accumulate)

    def backward(self, xp: Any, grad: Any) -> Any:
        return xp.index_select(grad, self.options["basic"], self.options["advanced"])


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _select_graph(x: Any, basic: tuple | None, advanced: tuple | None) -> Tensor:
    return IndexSelect.apply(_as_tensor(x), basic=basic, advanced=advanced)


def _scatter_graph(grad: Any, shape: tuple[int, ...], basic: tuple | None,
                   advanced: tuple | None, accumulate: bool = True) -> Tensor:
    return IndexScatter.apply(_as_tensor(grad), shape=tuple(shape), basic=basic,
                              advanced=advanced, accumulate=accumulate)


NUMPY_XP: dict[str, Any] = {"index_select": select_array, "index_scatter": scatter_array}
GRAPH_XP: dict[str, Any] = {"index_select": _select_graph, "index_scatter": _scatter_graph}
