"""`Parameter`: a leaf Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..engine import Tensor, dtypes
from ..engine.tensor import checked_data

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that `Module.__setattr__` registers as a parameter; requires grad by default.

    Built from a Tensor it shares that tensor's data and version counter, as in PyTorch;
    built from anything else (array, list) it holds a copy. It is always a leaf.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty((0,), dtype=dtypes.default_float)
            version = [0]
        elif isinstance(data, Tensor):
            array = data.data
            version = data._version
        else:
            array = Tensor(data).data
            version = [0]
        self._init(array, requires_grad=False)
        self._version = version
        if requires_grad:
            self.requires_grad_(True)

    @property
    def data(self) -> np.ndarray:
        """The NumPy array holding the values."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        """`p.data = tensor_or_array`: shares a Tensor's array, as in PyTorch, and stays a
        Parameter. Unlike PyTorch, a new shape is refused: the module's forward, its
        optimizer's state and its state_dict all rely on a parameter keeping its shape."""
        array = checked_data(self, value)
        if array.shape != self._data.shape:
            raise RuntimeError(f"data: cannot set the data of a Parameter of shape "
                               f"{self._data.shape} to a tensor of shape {array.shape}; a "
                               f"Parameter keeps its shape (assign a new nn.Parameter to the "
                               f"module attribute instead)")
        self._data = array

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        """A Parameter with a copy of the data (and of the gradient, if any)."""
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._from_op(self.data.copy()), requires_grad=self.requires_grad)
        memo[id(self)] = result
        if self.grad is not None:
            result.grad = copy.deepcopy(self.grad, memo)
        return result

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return (_rebuild_parameter, (self.data, self.requires_grad, self.grad))

    __hash__ = Tensor.__hash__


def _rebuild_parameter(data: np.ndarray, requires_grad: bool, grad: Any) -> Parameter:
    """Unpickle a Parameter (the graph and hooks are not saved, as in PyTorch)."""
    parameter = Parameter(Tensor._from_op(data), requires_grad=requires_grad)
    parameter.grad = grad
    return parameter
