"""Custom ops the PyTorch way: subclass `Function` with static `forward(ctx, ...)` and
`backward(ctx, *grads)`, call it with `.apply(...)`.

    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    y = Cube.apply(x)

`forward` receives Tensors (and any other arguments unchanged) and runs with grad recording
off; `backward` receives the output's gradient as a Tensor and returns one gradient (or None)
per `forward` argument. One output per Function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function as EngineFunction
from ..engine import Tensor, no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_TENSOR = object()  # marks a tensor position in the argument template


class FunctionCtx:
    """What `forward` leaves for `backward`: saved tensors, flags, any attributes."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward (inputs, outputs or None)."""
        for tensor in tensors:
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"save_for_backward can only save tensors, but argument "
                                f"{type(tensor).__name__} is not a Tensor")
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        return self._saved


class _UserOpNode(EngineFunction):
    """The engine node that runs a user's Function; one subclass per user class."""

    user_function: type

    def label(self) -> str:
        """For graph pictures: the user's class name and its non-tensor arguments."""
        constants = [repr(value) for value in self.options["template"] if value is not _TENSOR]
        keywords = [f"{key}={value!r}" for key, value in self.options["kwargs"].items()]
        return " ".join([self.user_function.__name__.lower(), *constants, *keywords])

    def forward(self, *arrays: np.ndarray, template: tuple, kwargs: dict) -> np.ndarray:
        inputs = iter(arrays)
        args = []
        needs = iter(self.needs_input_grad)
        needs_per_arg = []
        for value in template:
            if value is _TENSOR:
                args.append(Tensor._from_op(next(inputs)))
                needs_per_arg.append(next(needs))
            else:
                args.append(value)
                needs_per_arg.append(False)
        self.ctx = FunctionCtx(tuple(needs_per_arg))
        self.template = template
        with no_grad():
            output = self.user_function.forward(self.ctx, *args, **kwargs)
        if not isinstance(output, Tensor):
            raise TypeError(f"{self.name}.forward must return one Tensor, "
                            f"got {type(output).__name__}")
        self.input_dtypes = tuple(array.dtype for array in arrays)
        # the arrays behind the saved tensors: the engine gives backward the real input
        # tensors (and the output) in their place when it builds a graph of the gradient
        self.save(*(None if tensor is None else tensor.data for tensor in self.ctx.saved_tensors))
        return output.data

    def backward(self, xp: Any, grad: Any, *saved: Any) -> tuple:
        if xp.graph:  # create_graph: the user's backward runs on recorded tensors
            self.ctx._saved = tuple(value if value is None or isinstance(value, Tensor)
                                    else Tensor._from_op(value) for value in saved)
            grads = self.user_function.backward(self.ctx, grad)
        else:
            with no_grad():
                grads = self.user_function.backward(self.ctx, Tensor._from_op(grad))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.template):
            raise RuntimeError(f"function {self.name}Backward returned an incorrect number of "
                               f"gradients (expected {len(self.template)}, got {len(grads)})")
        result = [given for value, given in zip(self.template, grads) if value is _TENSOR]
        if xp.graph:
            return tuple(_graph_gradient(given, dtype)
                         for given, dtype in zip(result, self.input_dtypes))
        return tuple(
            None if given is None else np.asarray(getattr(given, "data", given), dtype=dtype)
            for given, dtype in zip(result, self.input_dtypes))


def _graph_gradient(given: Any, dtype: np.dtype) -> Any:
    """A user's gradient in a graph pass: a Tensor of the input's dtype (cast is recorded)."""
    if given is None:
        return None
    if not isinstance(given, Tensor):
        return Tensor._from_op(np.asarray(given, dtype=dtype))
    return given if given.dtype == dtype else given.to(dtype)


def once_differentiable(backward: Any) -> Any:
    """Mark a custom Function's `backward` as working on values only (PyTorch's decorator):
    differentiating its gradients again raises instead of giving a silent zero."""
    backward._once_differentiable = True
    return backward


class Function:
    """Base class for user-defined differentiable ops (PyTorch's torch.autograd.Function)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Tensor:  # pragma: no cover
        raise NotImplementedError("subclasses of autograd.Function implement forward")

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> Any:  # pragma: no cover
        raise NotImplementedError("subclasses of autograd.Function implement backward")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run `forward` and record the op so `backward` is called during backprop."""
        node = cls.__dict__.get("_node_class")
        if node is None:
            once = getattr(cls.backward, "_once_differentiable", False)
            node = type(cls.__name__, (_UserOpNode,),
                        {"user_function": cls, "once_differentiable": once})
            cls._node_class = node
        tensors = tuple(arg for arg in args if isinstance(arg, Tensor))
        template = tuple(_TENSOR if isinstance(arg, Tensor) else arg for arg in args)
        return node.apply(*tensors, template=template, kwargs=kwargs)
