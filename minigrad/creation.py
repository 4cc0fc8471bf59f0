"""Tensor factories with PyTorch's names: tensor, zeros, ones, full, arange, randn, ...

Floats default to float32; every random factory draws from the generator `manual_seed` sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Tensor, default_generator, dtypes

__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "tensor",
    "zeros",
    "zeros_like",
]


def _shape(size: tuple) -> tuple[int, ...]:
    """Accept `zeros(2, 3)`, `zeros((2, 3))` and `zeros([2, 3])` like PyTorch."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for length in size:
        if not isinstance(length, (int, np.integer)) or isinstance(length, bool):
            raise TypeError(f"size must be ints, got {size!r}")
        if length < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {length}: "
                               f"{list(size)}")
    return tuple(int(length) for length in size)


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.default_float if dtype is None else dtypes.to_dtype(dtype)


def _wrap(array: np.ndarray, requires_grad: bool) -> Tensor:
    tensor = Tensor._from_op(array)
    return tensor.requires_grad_(True) if requires_grad else tensor


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (Python floats -> float32, ints -> int64)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like `tensor`, but returns `data` itself when it already is a Tensor of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.to_dtype(dtype)):
        return data
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    dtypes.check_supported(array.dtype, "from_numpy")
    return Tensor._from_op(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _wrap(np.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _wrap(np.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _wrap(np.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value`; the dtype follows the value like PyTorch."""
    if dtype is None:
        dtype = dtypes.infer_dtype(fill_value)
    return _wrap(np.full(_shape((size,)), fill_value, dtype=dtypes.to_dtype(dtype)),
                 requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    return _wrap(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start to end (exclusive); int64 for int arguments, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
    return _wrap(np.arange(start, end, step).astype(dtypes.to_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _wrap(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples from the global generator (or `generator`)."""
    rng = generator or default_generator()
    dtype = _float_dtype(dtype)
    return _wrap(rng.standard_normal(_shape(size), dtype=np.float64).astype(dtype),
                 requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = generator or default_generator()
    dtype = _float_dtype(dtype)
    return _wrap(rng.random(_shape(size), dtype=np.float64).astype(dtype), requires_grad)


def randint(low: int, high: int | None = None, size: tuple = (), dtype: Any = None,
            generator: np.random.Generator | None = None) -> Tensor:
    """Integers in [low, high), int64 unless told."""
    if high is None:
        low, high = 0, low
    if not low < high:
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    rng = generator or default_generator()
    target = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return Tensor._from_op(rng.integers(low, high, size=_shape((size,))).astype(target))


def _like(other: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    return other.shape, other.dtype if dtype is None else dtypes.to_dtype(dtype)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(other, dtype)
    return _wrap(np.zeros(shape, dtype=dtype), requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(other, dtype)
    return _wrap(np.ones(shape, dtype=dtype), requires_grad)


def full_like(other: Tensor, fill_value: Any, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(other, dtype)
    return _wrap(np.full(shape, fill_value, dtype=dtype), requires_grad)


def empty_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(other, dtype)
    return _wrap(np.empty(shape, dtype=dtype), requires_grad)
