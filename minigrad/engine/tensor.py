"""`Tensor`: an n-dimensional array that remembers the op that made it.

The engine's Tensor knows only data, gradient bookkeeping and conversion. Math methods and
operators (`+`, `@`, `sum`, `reshape`, ...) are attached by `minigrad.ops`, so this file stays
free of op-specific code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes, hooks
from .function import Function

__all__ = ["Tensor", "checked_data", "normalize_dim"]


class Tensor:
    """A NumPy array with autograd: `requires_grad`, `grad`, `grad_fn`, `backward()`."""

    __array_priority__ = 1000  # make `ndarray op Tensor` defer to Tensor's reflected operators

    def __init__(self, *args: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        if len(args) != 1 or _is_size(args[0]):
            # PyTorch's legacy constructor: Tensor(), Tensor(2, 3) (float32 of that size)
            self._init(_legacy_sizes(args, dtype), requires_grad=False)
            if requires_grad:
                self.requires_grad_(True)
            return
        self._init_from_data(args[0], dtype, requires_grad)

    @classmethod
    def _from_data(cls, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor holding a copy of `data` (`minigrad.tensor`: an int is a 0-d value here,
        never a size as in the legacy `Tensor(3)`)."""
        tensor = cls.__new__(cls)
        tensor._init_from_data(data, dtype, requires_grad)
        return tensor

    def _init_from_data(self, data: Any, dtype: Any, requires_grad: bool) -> None:
        if isinstance(data, Tensor):
            data = data.data
        elif isinstance(data, (np.ndarray, np.generic)):
            dtypes.check_supported(data.dtype)  # object arrays cast to any dtype: refuse first
        target = dtypes.infer_dtype(data) if dtype is None else dtypes.to_dtype(dtype)
        # always a C-contiguous copy (as torch.tensor): a tensor owns its data
        array = np.array(data, dtype=target, order="C")
        self._init(array, requires_grad=False)
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, array: np.ndarray, requires_grad: bool) -> None:
        self._data: np.ndarray = array
        self.requires_grad: bool = requires_grad
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._version: list[int] = [0]  # shared with views: one counter per storage
        self._hooks: list[Callable] = []
        self._retains_grad = False
        # a view's root tensor; views also get _view_chain, _view_grad_mode, _view_version
        self._base: Tensor | None = None

    @classmethod
    def _from_op(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an op's output array without copying it."""
        tensor = cls.__new__(cls)
        tensor._init(np.asarray(array), requires_grad)
        if hooks.op_recorder is not None:
            hooks.op_recorder.created(tensor)
        return tensor

    # ---- attributes -------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The NumPy array holding the values (minigrad's `.data` is the array itself)."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = checked_data(self, value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that records grad)."""
        return self.grad_fn is None

    @property
    def version(self) -> int:
        """How many times this tensor's data was changed in place (views share the count)."""
        return self._version[0]

    def _is_view(self) -> bool:
        """True when this tensor's data is a view of another tensor's (see `_base`)."""
        return self._base is not None

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.data.shape
        return self.data.shape[normalize_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self.shape[0]))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, as in PyTorch)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted "
                               f"to Scalar (item() needs exactly one element)")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    # ---- autograd ---------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A new tensor sharing this data, cut from the graph."""
        tensor = Tensor._from_op(self.data)
        tensor._version = self._version  # shares storage, so shares the version counter
        return tensor

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking on a leaf; only float tensors can require grad."""
        if requires_grad and not dtypes.is_floating(self.dtype):
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got dtype {self.dtype})")
        if not requires_grad and not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use detach() to get a tensor without grad")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves keep it anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        import weakref

        reference = weakref.ref(self)

        def store(grad: Tensor) -> None:
            tensor = reference()
            if tensor is not None:
                # a copy, as PyTorch's retain_grad makes: the gradient flowing past may be a
                # read-only broadcast (a sum's) or shared with another tensor's
                tensor.grad = grad.clone() if tensor.grad is None else Tensor._from_op(
                    tensor.grad.data + grad.data)

        self._retains_grad = True
        self.grad_fn.output_hooks.append(_RetainGrad(store))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hook_list = self._hooks if self.is_leaf else self.grad_fn.output_hooks
        hook_list.append(hook)
        return RemovableHandle(hook_list, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate gradients of this tensor into `.grad` of the leaves that require grad
        (or of `inputs` only). `create_graph=True` records the gradients as ops, so they can
        be differentiated again; `retain_graph` defaults to `create_graph`."""
        from .backward import run_backward

        if retain_graph is None:
            retain_graph = create_graph
        if create_graph:
            import warnings

            warnings.warn(
                "Using backward() with create_graph=True will create a reference cycle between "
                "the parameter and its gradient which can cause a memory leak. We recommend "
                "using autograd.grad when creating the graph to avoid this. If you have to use "
                "this function, make sure to reset the .grad fields of your parameters to None "
                "after use to break the cycle and avoid the leak.", UserWarning, stacklevel=2)
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
            if not inputs:
                raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
            for tensor in inputs:
                if not isinstance(tensor, Tensor):
                    raise TypeError(f"backward: inputs must be Tensors, got "
                                    f"{type(tensor).__name__}")
                if not tensor.requires_grad:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
        run_backward((self,), (gradient,), retain_graph, create_graph, inputs)

    def __getstate__(self) -> dict:
        """Copies and pickles own their data: a deep-copied view is not a view (as in
        PyTorch), so it keeps no link to a base whose memory it does not share."""
        state = dict(self.__dict__)
        state["_base"] = None
        for name in ("_view_chain", "_view_grad_mode", "_view_version"):
            state.pop(name, None)
        return state

    # ---- printing ---------------------------------------------------------------------
    def __repr__(self) -> str:
        data = self.data
        # PyTorch's look: whole numbers as "1.", anything else with four fixed decimals
        whole = data.dtype.kind != "f" or bool(np.all(~np.isfinite(data) | (data == np.round(data))))
        body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec" if whole else "fixed")
        extras = []
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=minigrad.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __hash__ = object.__hash__


class _RetainGrad:
    """Marker hook that stores a non-leaf gradient (kept apart so users' hooks run first)."""

    retains_grad = True  # moves with the tensor when an in-place op gives it a new grad_fn

    def __init__(self, store: Callable) -> None:
        self.store = store

    def __call__(self, grad: Tensor) -> None:
        self.store(grad)


class RemovableHandle:
    """Returned by `register_hook`; `.remove()` takes the hook out again."""

    def __init__(self, hook_list: list, hook: Callable) -> None:
        self._hook_list = hook_list
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hook_list:
            self._hook_list.remove(self._hook)


def _is_size(value: Any) -> bool:
    """A Python int (a NumPy integer scalar stays data: a reduction's result)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _legacy_sizes(args: tuple, dtype: Any) -> np.ndarray:
    """Zeros of the sizes in `Tensor(2, 3)` (PyTorch leaves them uninitialised)."""
    if not all(_is_size(arg) for arg in args):
        raise TypeError(f"Tensor(): expected data or sizes (ints), got "
                        f"{tuple(type(arg).__name__ for arg in args)}")
    if any(arg < 0 for arg in args):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(args)}")
    target = dtypes.float32 if dtype is None else dtypes.to_dtype(dtype)
    return np.zeros(tuple(int(arg) for arg in args) if args else (0,), dtype=target)


def checked_data(tensor: Tensor, value: Any) -> np.ndarray:
    """The array to store for `tensor.data = value`: a Tensor's array (shared, as in PyTorch)
    or an ndarray; TypeError for anything else or an unsupported dtype, and PyTorch's
    RuntimeError for a non-float array under a tensor that requires grad."""
    array = value._data if isinstance(value, Tensor) else value
    if isinstance(array, np.generic):
        array = np.asarray(array)  # a NumPy reduction's 0-d result
    if not isinstance(array, np.ndarray):
        raise TypeError(f"data: Variable data has to be a tensor (or a NumPy array), but got "
                        f"{type(value).__name__}")
    dtypes.check_supported(array.dtype, "data")
    if tensor.requires_grad and not dtypes.is_floating(array.dtype):
        raise RuntimeError(f"data: data set to a tensor that requires gradients must be "
                           f"floating point (got dtype {array.dtype})")
    return array


def normalize_dim(dim: int, ndim: int, where: str) -> int:
    """`dim` as an index in [0, ndim) (a 0-d tensor acts 1-d); PyTorch's TypeError for a
    non-int and IndexError out of range, naming `where` (the op) in the message."""
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{where}: dim must be an int, got {type(dim).__name__}")
    if not low <= dim <= high:
        raise IndexError(f"{where}: Dimension out of range (expected to be in range of "
                         f"[{low}, {high}], but got {dim})")
    return int(dim) % max(ndim, 1)

