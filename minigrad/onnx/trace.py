"""Record every op one forward pass runs, with its input tensors, options and module.

The engine's own graph keeps only the inputs that need a gradient (a BatchNorm buffer or a
constant is None in `next_edges`); an exporter needs them all. `record_ops()` installs an
observer in `engine.hooks.op_recorder`, which `Function.apply` calls for every op and
`Tensor._from_op` for every tensor an op or a no-graph helper (comparisons, argmax) makes,
while it is installed (each costs one `is None` test when it is not).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..engine import Function, Tensor, current_module, hooks

__all__ = ["OpRecorder", "RecordedOp", "record_ops"]


@dataclass
class RecordedOp:
    """One op as it ran: the Function (name, options), its inputs (None for an absent
    optional input), its output, and the Modules whose forward was running (outermost
    first)."""

    function: Function
    inputs: tuple[Tensor | None, ...]
    output: Tensor
    modules: tuple = ()
    # the version of each input when the op ran, to catch in-place changes afterwards
    input_versions: tuple[int | None, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def options(self) -> dict[str, Any]:
        return self.function.options

    def where(self) -> str:
        """The innermost module's class and the path of module classes, for errors."""
        if not self.modules:
            return "outside any Module"
        return " > ".join(type(module).__name__ for module in self.modules)


class OpRecorder:
    """Collects `RecordedOp`s in the order the ops ran. Keeps the tensors alive, so object
    ids stay unique while the recording is in use."""

    def __init__(self) -> None:
        self.ops: list[RecordedOp] = []
        # tensors made during the recording, by ops or by code outside them (a comparison,
        # argmax): id -> tensor, kept alive so ids stay unique
        self.made: dict[int, Tensor] = {}

    def created(self, tensor: Tensor) -> None:
        self.made[id(tensor)] = tensor

    def record(self, function: Function, inputs: tuple, output: Tensor) -> None:
        versions = tuple(None if tensor is None else tensor._version[0] for tensor in inputs)
        self.ops.append(RecordedOp(function, tuple(inputs), output, current_module(),
                                   versions))


@contextmanager
def record_ops() -> Iterator[OpRecorder]:
    """Record the ops run inside the block (one recorder at a time)."""
    if hooks.op_recorder is not None:
        raise RuntimeError("record_ops: another recording (an ONNX export) is already running")
    recorder = OpRecorder()
    hooks.op_recorder = recorder
    try:
        yield recorder
    finally:
        hooks.op_recorder = None
