"""`Function`: the base of every op. Forward on arrays, backward on arrays, nothing else.

An op subclasses Function and writes `forward(self, *arrays, **options) -> array` and
`backward(self, grad) -> one gradient per input`. `apply` unwraps tensors, runs forward and,
when a gradient is needed, links the output to this instance so `backward()` can find it.
Everything an op stores on `self` during forward is dropped after backward (unless
`retain_graph=True`), so the memory of a step is released as soon as it is used.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from . import context, grad_mode, hooks

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Function"]

# Attributes the engine owns; everything else on an instance is an op's saved state.
_ENGINE_ATTRIBUTES = frozenset({
    "next_edges", "needs_input_grad", "options", "modules", "output_hooks", "released",
    "saved_versions", "output_shape", "output_dtype", "created_at",
    "oldest_step",
})


class Function:
    """A recorded op. Subclasses implement `forward` and `backward` on NumPy arrays."""

    released: bool = False

    def forward(self, *arrays: Any, **options: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Any:  # pragma: no cover
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The op's name for reprs and pictures: the class name."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @classmethod
    def apply(cls, *inputs: Optional["Tensor"], **options: Any) -> "Tensor":
        """Run the op on tensors (or None for absent optional inputs); record it if needed."""
        from .tensor import Tensor

        function = cls()
        function.options = options
        record = grad_mode.is_grad_enabled() and any(
            tensor is not None and tensor.requires_grad for tensor in inputs)
        function.needs_input_grad = tuple(
            record and tensor is not None and tensor.requires_grad for tensor in inputs)
        arrays = [None if tensor is None else tensor.data for tensor in inputs]
        profiler = hooks.active_profiler
        if profiler is None:
            output = function.forward(*arrays, **options)
        else:
            output = profiler.time_forward(function, arrays, options)
        if hooks.anomaly_checker is not None:
            hooks.anomaly_checker.check_forward(function, output)
        result = Tensor._from_op(output, requires_grad=record)
        if record:
            function._link(inputs, result)
        return result

    def _link(self, inputs: tuple, output: "Tensor") -> None:
        """Remember where gradients go: the producing Function or the leaf for each input."""
        edges = []
        oldest = steps = hooks.optimizer_steps
        for tensor, needed in zip(inputs, self.needs_input_grad):
            if not needed:
                edges.append(None)
            elif tensor.grad_fn is not None:
                edges.append(tensor.grad_fn)
                if tensor.grad_fn.oldest_step < oldest:
                    oldest = tensor.grad_fn.oldest_step
            else:
                edges.append(tensor)
        self.next_edges = tuple(edges)
        # the oldest optimizer step this graph reaches back to (see optim/graph_leak.py)
        self.oldest_step = oldest
        if oldest != steps:
            hooks.graph_across_steps = weakref.ref(self)
            hooks.graphs_across_steps += 1
        self.saved_versions = tuple(
            None if tensor is None else (tensor._version, tensor._version[0]) for tensor in inputs)
        self.modules = context.current_module()
        self.output_hooks: list[Callable] = []
        self.output_shape = output.data.shape
        self.output_dtype = output.data.dtype
        output.grad_fn = self

    def _check_versions(self) -> None:
        """Refuse to backward through an input that was modified in place after forward."""
        for index, saved in enumerate(self.saved_versions):
            if saved is None:
                continue
            counter, version = saved
            if counter[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: input {index} of {self.name} is at version "
                    f"{counter[0]}; expected version {version} instead")

    def _release(self) -> None:
        """Drop everything the op saved in forward; keep only the graph's structure."""
        for attribute in list(vars(self)):
            if attribute not in _ENGINE_ATTRIBUTES:
                delattr(self, attribute)
        self.released = True
