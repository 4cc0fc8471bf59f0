"""Tensor factories with PyTorch's names: tensor, zeros, ones, full, arange, randn, ...

Floats default to float32; every random factory draws from the generator `manual_seed` sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Tensor, default_generator, dtypes
from .engine.device import check_device

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
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "tensor",
    "zeros",
    "zeros_like",
]


def _shape(size: tuple, keyword: Any = None) -> tuple[int, ...]:
    """Accept `zeros(2, 3)`, `zeros((2, 3))`, `zeros([2, 3])` and `zeros(size=(2, 3))` like
    PyTorch (the keyword form comes in as `keyword`)."""
    if keyword is not None:
        if size:
            raise TypeError("size given both positionally and as the keyword 'size'")
        size = (keyword,)
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


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (Python floats -> float32, ints -> int64)."""
    check_device(device, "tensor")
    return Tensor._from_data(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like `tensor`, but returns `data` itself when it already is a Tensor of that dtype."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.to_dtype(dtype)):
        return data
    return Tensor._from_data(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    dtypes.check_supported(array.dtype, "from_numpy")
    return Tensor._from_op(array)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    check_device(device, "zeros")
    shape = _shape(sizes, size)
    return _wrap(np.zeros(shape, dtype=_float_dtype(dtype)), requires_grad)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    check_device(device, "ones")
    shape = _shape(sizes, size)
    return _wrap(np.ones(shape, dtype=_float_dtype(dtype)), requires_grad)


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    check_device(device, "empty")
    shape = _shape(sizes, size)
    return _wrap(np.empty(shape, dtype=_float_dtype(dtype)), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of `size` filled with `fill_value`; the dtype follows the value like PyTorch."""
    check_device(device, "full")
    if dtype is None:
        dtype = dtypes.infer_dtype(fill_value)
    return _wrap(np.full(_shape((size,)), fill_value, dtype=dtypes.to_dtype(dtype)),
                 requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    check_device(device, "eye")
    return _wrap(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start to end (exclusive); int64 for int arguments, else float32."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
    return _wrap(np.arange(start, end, step).astype(dtypes.to_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_device(device, "linspace")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    return _wrap(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def _normal(shape: tuple[int, ...], dtype: np.dtype, requires_grad: bool,
            generator: np.random.Generator | None) -> Tensor:
    rng = generator or default_generator()
    return _wrap(rng.standard_normal(shape, dtype=np.float64).astype(dtype), requires_grad)


def _uniform(shape: tuple[int, ...], dtype: np.dtype, requires_grad: bool,
             generator: np.random.Generator | None) -> Tensor:
    rng = generator or default_generator()
    return _wrap(rng.random(shape, dtype=np.float64).astype(dtype), requires_grad)


def _integers(low: Any, high: Any, shape: tuple[int, ...], dtype: np.dtype, where: str,
              generator: np.random.Generator | None) -> Tensor:
    if not low < high:
        raise RuntimeError(f"{where}: random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    rng = generator or default_generator()
    return Tensor._from_op(rng.integers(low, high, size=shape).astype(dtype))


def _random_float_dtype(where: str, dtype: np.dtype) -> np.dtype:
    if not dtypes.is_floating(dtype):
        raise RuntimeError(f"{where}: \"normal_kernel_cpu\" not implemented for dtype {dtype} "
                           f"(random normal and uniform values need a float dtype)")
    return dtype


def randn(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples from the global generator (or `generator`)."""
    check_device(device, "randn")
    dtype = _random_float_dtype("randn", _float_dtype(dtype))
    return _normal(_shape(sizes, size), dtype, requires_grad, generator)


def rand(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, generator: np.random.Generator | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    check_device(device, "rand")
    dtype = _random_float_dtype("rand", _float_dtype(dtype))
    return _uniform(_shape(sizes, size), dtype, requires_grad, generator)


def randint(low: int, high: int | None = None, size: tuple = (), dtype: Any = None,
            device: Any = None, generator: np.random.Generator | None = None) -> Tensor:
    """Integers in [low, high), int64 unless told."""
    check_device(device, "randint")
    if high is None:
        low, high = 0, low
    target = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _integers(low, high, _shape((size,)), target, "randint", generator)


def _like(where: str, other: Tensor, dtype: Any, device: Any) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(other, Tensor):
        raise TypeError(f"{where}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    check_device(device, where)
    return other.shape, other.dtype if dtype is None else dtypes.to_dtype(dtype)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("zeros_like", input, dtype, device)
    return _wrap(np.zeros(shape, dtype=dtype), requires_grad)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("ones_like", input, dtype, device)
    return _wrap(np.ones(shape, dtype=dtype), requires_grad)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("full_like", input, dtype, device)
    return _wrap(np.full(shape, fill_value, dtype=dtype), requires_grad)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dtype = _like("empty_like", input, dtype, device)
    return _wrap(np.empty(shape, dtype=dtype), requires_grad)


def randn_like(input: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False,
               generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples with input's shape and (unless told) dtype."""
    shape, dtype = _like("randn_like", input, dtype, device)
    return _normal(shape, _random_float_dtype("randn_like", dtype), requires_grad, generator)


def rand_like(input: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False,
              generator: np.random.Generator | None = None) -> Tensor:
    """Uniform samples in [0, 1) with input's shape and (unless told) dtype."""
    shape, dtype = _like("rand_like", input, dtype, device)
    return _uniform(shape, _random_float_dtype("rand_like", dtype), requires_grad, generator)


def randint_like(input: Tensor, low: int, high: int | None = None, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False,
                 generator: np.random.Generator | None = None) -> Tensor:
    """Integers in [low, high) (or [0, low)) with input's shape and (unless told) dtype."""
    shape, dtype = _like("randint_like", input, dtype, device)
    if high is None:
        low, high = 0, low
    return _wrap(_integers(low, high, shape, dtype, "randint_like", generator).data,
                 requires_grad)
