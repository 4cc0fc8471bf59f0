"""`Function`: the base of every op. Forward on arrays; one backward formula for both orders.

An op subclasses Function and writes

    forward(self, *arrays, **options) -> array       # calls self.save(...) for backward
    backward(self, xp, grad, *saved) -> one gradient (or None) per input

`backward` is written once against the namespace `xp` and the arrays forward saved: with plain
NumPy arrays and fast kernels for an ordinary backward, and with minigrad's own differentiable
ops on Tensors when `create_graph=True`, where `saved` holds the very input tensors (and the
output, re-wrapped with this node as its grad_fn) so the second pass reaches them. See
CONTRIBUTING.md for the op shape. `apply` unwraps tensors, runs forward and, when a gradient is
needed, links the output to this instance so `backward()` can find it. Everything an op stores
on `self` during forward is dropped after backward (unless the graph is retained), so the
memory of a step is released as soon as it is used.

In-place safety, without knowing any op by name:
  - an output whose array is a view of an input's array shares that input's version counter
    and remembers how it was made (`_base`, `_view_chain`), as PyTorch's views do;
  - `_link` notes the version of every input and of the output; before backward,
    `_check_versions` looks for a changed one among what forward kept on `self` (arrays,
    tensors, tuples or lists of them, a ctx's `saved_tensors`), so changing a saved tensor
    in place raises instead of giving a wrong gradient, and changing one an op did not keep
    is fine, as in PyTorch.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import context, grad_mode, hooks

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Function"]

# Attributes the engine owns; everything else on an instance is an op's saved state.
_ENGINE_ATTRIBUTES = frozenset({
    "next_edges", "needs_input_grad", "options", "modules", "output_hooks", "released",
    "saved_versions", "output_version", "output_shape", "output_dtype", "created_at",
    "oldest_step", "constant_inputs",
})

_OUTPUT = object()  # marks a saved array that is the op's own output


class Function:
    """A recorded op: `forward` on NumPy arrays, `backward` written against a namespace `xp`."""

    released: bool = False
    # True for an op whose backward works on raw arrays only (PyTorch's @once_differentiable):
    # a create_graph backward through it gives gradients that raise when differentiated
    once_differentiable: bool = False

    def forward(self, *arrays: Any, **options: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, xp: Any, grad: Any, *saved: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def save(self, *arrays: Any) -> None:
        """Keep arrays for backward, which receives them after `grad` (`*saved`).

        Save the forward's own input arrays and its output as they are (not copies or
        casts): when a graph of the gradient is built they are swapped for the input tensors
        and the output, so the second derivative flows through them. Anything else saved (a
        mask, argmax indices, a derived value) is a constant of the second pass.
        """
        self.saved = arrays

    def saved_values(self, graph: bool) -> tuple:
        """What `backward` receives after `grad`: the saved arrays, or for a graph their
        tensors (inputs as they are, the output re-wrapped on this node, others as given)."""
        saved = self.__dict__.get("saved", ())
        if not graph or not saved:
            return saved
        from .tensor import Tensor

        lifted = []
        for array, source in zip(saved, self.saved_sources):
            if source is None:
                lifted.append(array)
            elif source is _OUTPUT:
                output = Tensor._from_op(array, requires_grad=True)
                output.grad_fn = self
                output._version = self.output_version[0]
                lifted.append(output)
            else:
                lifted.append(source)
        return tuple(lifted)

    def backward_on_arrays(self, grad: np.ndarray) -> Any:
        """This node's backward formula on NumPy arrays, as an ordinary backward runs it (for
        tools and tests that inspect one node; the walk itself calls `backward`)."""
        from . import namespace

        return self.backward(namespace.arrays, grad, *self.saved_values(False))

    @property
    def name(self) -> str:
        """The op's name for reprs and pictures: the class name."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @classmethod
    def apply(cls, *inputs: Tensor | None, **options: Any) -> Tensor:
        """Run the op on tensors (or None for absent optional inputs); record it if needed."""
        from .tensor import Tensor

        grad_enabled = grad_mode.is_grad_enabled()
        if grad_enabled:
            for tensor in inputs:
                if tensor is not None and tensor._base is not None:
                    refresh_view(tensor)
        function = cls()
        function.options = options
        # one pass over the inputs (the hot path of every op): arrays and gradient flags
        arrays = []
        wants = []
        for tensor in inputs:
            if tensor is None:
                arrays.append(None)
                wants.append(False)
            else:
                arrays.append(tensor._data)
                wants.append(tensor.requires_grad)
        record = grad_enabled and True in wants
        function.needs_input_grad = tuple(wants) if record else (False,) * len(wants)
        profiler = hooks.active_profiler
        if profiler is None:
            output = function.forward(*arrays, **options)
        else:
            output = profiler.time_forward(function, arrays, options)
        if type(output) is not np.ndarray:
            output = _as_output_array(function, output)
        if hooks.anomaly_checker is not None:
            hooks.anomaly_checker.check_forward(function, output)
        result = Tensor._from_op(output, requires_grad=record)
        if hooks.op_recorder is not None:
            hooks.op_recorder.record(function, inputs, result)
        _mark_view(result, inputs, cls, options, grad_enabled)
        if record:
            function._link(inputs, result)
        return result

    def _link(self, inputs: tuple, output: Tensor) -> None:
        """Remember where gradients go: the producing Function or the leaf for each input."""
        edges = []
        versions = []
        constants = []
        oldest = steps = hooks.optimizer_steps
        # one pass over the inputs: edges, versions and what pictures show of constants
        for tensor, needed in zip(inputs, self.needs_input_grad):
            if tensor is None:
                edges.append(None)
                versions.append(None)
                constants.append(None)
                continue
            data = tensor._data
            base = data.base
            versions.append((tensor._version, tensor._version[0],
                             id(data if base is None else _root(base))))
            if not needed:
                edges.append(None)
                # (shape, dtype, value of a 0-d one) of an input that needs no gradient, for
                # pictures: a constant's array is not kept, but its name, shape or value is
                # drawn
                constants.append((data.shape, data.dtype,
                                  data.item() if data.ndim == 0 else None))
                continue
            constants.append(None)
            producer = tensor.grad_fn
            if producer is not None:
                edges.append(producer)
                oldest = min(oldest, producer.oldest_step)
            else:
                edges.append(tensor)
        self.next_edges = tuple(edges)
        # the oldest optimizer step this graph reaches back to (see optim/graph_leak.py)
        self.oldest_step = oldest
        if oldest != steps:
            hooks.graph_across_steps = weakref.ref(self)
            hooks.graphs_across_steps += 1
        # (version counter, version, id of the object owning the memory) per input and for
        # the output: enough to tell later, without keeping arrays alive, what forward kept
        self.saved_versions = tuple(versions)
        out = output._data
        self.output_version = (output._version, output._version[0],
                               id(out if out.base is None else _root(out.base)))
        saved = self.__dict__.get("saved")
        if saved:
            self.saved_sources = _saved_sources(saved, inputs, out)
        self.constant_inputs = tuple(constants)
        self.modules = context.current_module()
        self.output_hooks: list[Callable] = []
        self.output_shape = out.shape
        self.output_dtype = out.dtype
        output.grad_fn = self

    def _check_versions(self) -> None:
        """Refuse to backward through a saved tensor that was modified in place after forward.

        `_link` noted the version of every input and of the output. Only when one changed
        does this look at what forward kept on `self`: if that includes the tensor's data
        (or a view of it), backward would read modified values, so it raises PyTorch's
        error. An op that kept nothing of it (`a + b` keeps only shapes) is unaffected.
        """
        records = getattr(self, "saved_versions", ()) + (getattr(self, "output_version", None),)
        for index, record in enumerate(records):
            if record is None or record[0][0] == record[1]:
                continue
            counter, version, root_id = record
            kept = self._kept(root_id)
            if kept is None:
                continue
            if index == len(records) - 1:
                producer, label = self.name, "output 0"
            else:
                edge = self.next_edges[index]
                producer = edge.name if isinstance(edge, Function) else None
                label = f"input {index}"
            origin = "" if producer is None else f", which is output 0 of {producer}Backward,"
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{kept.dtype} {kept.shape}]{origin} is at version "
                f"{counter[0]}; expected version {version} instead. It was saved for backward "
                f"by {self.name}Backward (its {label}). Hint: the in-place change came after "
                f"the forward pass; use an out-of-place op, or .clone() the tensor before "
                f"changing it.")

    def _kept(self, root_id: int) -> np.ndarray | None:
        """The array forward kept on `self` in the memory of the object with id `root_id`
        (the tensor's own array or a view of it), or None.

        Comparing ids is sound: the input's memory and everything forward kept were alive
        together during forward, and what forward kept stays alive until `_release`.
        """
        for name, value in vars(self).items():
            if name in _ENGINE_ATTRIBUTES or type(value) in _PLAIN_TYPES:
                continue
            for array in _arrays_in(value):
                if id(_root(array)) == root_id:
                    return array
        return None

    def _release(self) -> None:
        """Drop everything the op saved in forward; keep only the graph's structure."""
        for attribute in list(vars(self)):
            if attribute not in _ENGINE_ATTRIBUTES:
                delattr(self, attribute)
        self.released = True


def _as_output_array(function: Function, output: Any) -> np.ndarray:
    """A forward's result as an array: a ufunc on 0-d arrays returns a NumPy scalar. If
    forward saved that scalar as its output, save the array instead, so a graph pass still
    knows it is the output (and differentiates through it) rather than a constant."""
    array = np.asarray(output)
    saved = function.__dict__.get("saved")
    if saved:
        function.saved = tuple(array if item is output else item for item in saved)
    return array


def _saved_sources(saved: tuple, inputs: tuple, output: np.ndarray) -> tuple:
    """For each saved array: the input tensor it is, `_OUTPUT`, or None (a constant)."""
    sources = []
    for array in saved:
        source = None
        if array is output:
            source = _OUTPUT
        else:
            for tensor in inputs:
                if tensor is not None and tensor.data is array:
                    source = tensor
                    break
        sources.append(source)
    return tuple(sources)


# exact types that never hold an array (a set: `type(x) in` is faster than isinstance)
_PLAIN_TYPES = frozenset({int, float, str, bool, type(None), slice, dict, type(Ellipsis),
                          np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                          np.int64, np.uint8, np.bool_}
                         | {type(np.dtype(name)) for name in ("float16", "float32", "float64",
                                                              "int8", "int16", "int32",
                                                              "int64", "uint8", "bool")})


def _root(array: Any) -> Any:
    """The object that owns `array`'s memory (follows `.base` to the end)."""
    while True:
        base = getattr(array, "base", None)
        if base is None:
            return array
        array = base


def _arrays_in(value: Any) -> list:
    """The arrays an op keeps in one attribute: an array, a tensor, a tuple or list of them,
    or a ctx holding `saved_tensors` (custom autograd Functions)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (tuple, list)):
        items = value
    elif hasattr(value, "_version"):
        items = (value,)
    elif hasattr(value, "saved_tensors") and not isinstance(value, type):
        items = value.saved_tensors
    else:
        return []
    arrays = []
    for item in items:
        kind = type(item)
        if kind in _PLAIN_TYPES:
            continue
        if isinstance(item, np.ndarray):
            arrays.append(item)
        elif hasattr(item, "_version") and isinstance(getattr(item, "data", None), np.ndarray):
            arrays.append(item.data)
    return arrays


# ---- views -------------------------------------------------------------------------------
def _viewed_input(output: np.ndarray, inputs: tuple) -> int | None:
    """The position of the input whose memory `output` is a view of, if any."""
    if output.base is None:
        for tensor in inputs:
            if tensor is not None and tensor.data is output:
                break
        else:
            return None  # owns its memory: the common case costs one attribute test
    root = _root(output)
    for index, tensor in enumerate(inputs):
        if tensor is not None and _root(tensor.data) is root and np.may_share_memory(
                output, tensor.data):
            return index
    return None


def _mark_view(result: Tensor, inputs: tuple, cls: type, options: dict,
               grad_enabled: bool) -> None:
    """Make `result` a view of the input it aliases: share its version counter, remember
    its base and the ops that lead from the base to it (to replay them later)."""
    index = _viewed_input(result.data, inputs)
    if index is None:
        return
    source = inputs[index]
    others = tuple(None if position == index else tensor
                   for position, tensor in enumerate(inputs))
    step = (cls, others, index, options)
    result._version = source._version
    if source._base is None:
        result._base = source
        result._view_chain = (step,)
        result._view_grad_mode = grad_enabled
    else:
        result._base = source._base
        result._view_chain = source._view_chain + (step,)
        result._view_grad_mode = grad_enabled and source._view_grad_mode
    result._view_version = source._version[0]


def replay_view(base: Tensor, chain: tuple) -> Tensor:
    """Run a view's chain of ops again on `base` (recorded if grad mode is on)."""
    current = base
    for cls, others, index, options in chain:
        arguments = list(others)
        arguments[index] = current
        current = cls.apply(*arguments, **options)
    return current


def view_positions(view: Tensor) -> np.ndarray:
    """For each element of `view`, its flat (C-order) position in `view._base`.

    Found by running the view's ops forward on the base's positions, so it works for every
    op that makes views, whatever its strides.
    """
    base = view._base
    positions = np.arange(base.data.size, dtype=np.int64).reshape(base.data.shape)
    for cls, others, index, options in view._view_chain:
        function = cls()
        function.options = options
        function.needs_input_grad = (False,) * len(others)
        arrays = [positions if position == index else None if tensor is None else tensor.data
                  for position, tensor in enumerate(others)]
        positions = np.asarray(function.forward(*arrays, **options))
    return positions


def refresh_view(view: Tensor) -> None:
    """Give a view whose base changed in place since it was made an up-to-date `grad_fn`.

    Like PyTorch, the view's history is rebuilt from its base's current history by
    replaying the view ops, so an in-place op recorded on the base (or on another view of
    it) is part of every view's gradient. Views made under no_grad are left alone.
    """
    if not view._view_grad_mode or view._version[0] == view._view_version:
        return
    fresh = replay_view(view._base, view._view_chain)
    old_function = view.grad_fn
    view.grad_fn = fresh.grad_fn
    view.requires_grad = fresh.requires_grad
    view._view_version = view._version[0]
    if old_function is not None and view.grad_fn is not None and view._retains_grad:
        move_retain_grad(old_function, view.grad_fn)


def move_retain_grad(old: Function, new: Function) -> None:
    """Move a tensor's `retain_grad` marker to its new grad_fn (it follows the tensor)."""
    markers = [hook for hook in old.output_hooks if getattr(hook, "retains_grad", False)]
    for hook in markers:
        old.output_hooks.remove(hook)
        new.output_hooks.append(hook)
