"""Hypothesis strategies for minigrad tensors and op arguments, for our tests and yours.

Values are drawn away from kinks and ties where a gradient is undefined: `tensors` keeps
elements apart by a minimum gap when `distinct=True` and away from zero with `avoid_zero`.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..engine import Tensor

__all__ = ["shapes", "arrays", "tensors", "broadcastable_shapes"]


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
           max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes small enough for a numerical gradient."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def arrays(draw: Any, shape: Any, dtype: Any = np.float64, low: float = -3.0,
           high: float = 3.0, distinct: bool = False, avoid_zero: float = 0.0) -> np.ndarray:
    """A float array of `shape` (a tuple or a strategy) with values in [low, high].

    distinct: elements pairwise at least 1e-2 apart (no ties for max, sort, pooling).
    avoid_zero: |x| >= avoid_zero (keeps log, division, abs and relu off their kinks).
    """
    if not isinstance(shape, tuple):
        shape = draw(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if distinct:
        grid = np.linspace(low, high, max(size * 4, 2))
        picks = draw(st.permutations(range(grid.size)))[:size]
        values = grid[list(picks)]
    else:
        values = np.array(draw(st.lists(st.floats(low, high, allow_nan=False, width=64),
                                        min_size=size, max_size=size)), dtype=np.float64)
    if avoid_zero:
        values = np.where(np.abs(values) < avoid_zero,
                          np.where(values < 0, -avoid_zero, avoid_zero), values)
    return values.reshape(shape).astype(dtype)


@st.composite
def tensors(draw: Any, shape: Any = None, dtype: Any = np.float64, elements: Optional[dict] = None,
            requires_grad: bool = False) -> Tensor:
    """A Tensor of `shape` (tuple or strategy; default any small shape) and `dtype`.

    elements: keyword arguments for `arrays` (low, high, distinct, avoid_zero).
    """
    if shape is None:
        shape = shapes()
    array = draw(arrays(shape, dtype=dtype, **(elements or {})))
    return Tensor(array, requires_grad=requires_grad)


@st.composite
def broadcastable_shapes(draw: Any, count: int = 2, min_dims: int = 0, max_dims: int = 4,
                         max_side: int = 4) -> tuple[tuple[int, ...], ...]:
    """`count` shapes that broadcast together, with size-1 axes and missing leading axes."""
    result = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, max_side=max_side))
    return tuple(result.input_shapes)
