"""RNN, LSTM and GRU module calls exported as ONNX RNN / LSTM / GRU nodes, one per layer.

minigrad runs an LSTM direction as one fused op (`LSTMSequence`) whose output also holds
the cell state of every step, which ONNX's LSTM does not give, and RNN / GRU as per-step
ops; so these layers are written per module call instead of per op. `recurrent_calls`
notes, while the model runs, each call's arguments, outputs and the ops it ran; the
exporter writes the call at its first op and skips the rest.

Weights are reordered to ONNX's gate order: PyTorch's LSTM (i, f, g, o) becomes (i, o, f, c),
GRU (r, z, n) becomes (z, r, h) with linear_before_reset=1 (PyTorch's GRU); W (D, G*H, in),
R (D, G*H, H), B (D, 2*G*H) = [W biases, R biases]. batch_first runs between Transposes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Tensor
from .builder import GraphBuilder
from .trace import OpRecorder

__all__ = ["RecurrentCall", "emit_recurrent", "recurrent_calls"]

_RECURRENT = ("RNN", "LSTM", "GRU")
# ONNX gate order as indices into PyTorch's gate blocks
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


@dataclass
class RecurrentCall:
    """One call of an RNN / LSTM / GRU module: its arguments, its outputs flattened
    (output, h_n[, c_n]) and the ids of the ops it ran."""

    module: Any
    args: tuple
    outputs: tuple = ()
    op_ids: set = field(default_factory=set)
    emitted: bool = False


@contextmanager
def recurrent_calls(model: Any, recorder: OpRecorder) -> Iterator[dict[int, RecurrentCall]]:
    """{id(recorded op): its call} for the recurrent module calls run inside the block."""
    by_op: dict[int, RecurrentCall] = {}

    def watched(module: Any) -> Callable:
        forward = module.forward  # the bound method of the class

        def run(input: Any, hx: Any = None) -> Any:  # RNNBase.forward's signature
            start = len(recorder.ops)
            result = forward(input, hx)
            output, state = result
            call = RecurrentCall(module, (input, hx),
                                 (output, *(state if isinstance(state, tuple) else (state,))))
            for op in recorder.ops[start:]:
                call.op_ids.add(id(op))
                by_op[id(op)] = call
            return result
        return run

    modules = model.modules() if hasattr(model, "modules") else []
    patched = [module for module in modules if type(module).__name__ in _RECURRENT]
    for module in patched:  # an instance attribute shadows the class's forward
        object.__setattr__(module, "forward", watched(module))
    try:
        yield by_op
    finally:
        for module in patched:
            module.__dict__.pop("forward", None)


def _reordered(array: np.ndarray | None, mode: str, rows: int) -> np.ndarray:
    """A (G*H, ...) weight or (G*H,) bias with its gate blocks in ONNX's order (zeros for
    an absent bias)."""
    if array is None:
        return np.zeros(rows, dtype=np.float32)
    blocks = np.split(np.asarray(array), len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[k] for k in _GATE_ORDER[mode]], axis=0)


def emit_recurrent(b: GraphBuilder, call: RecurrentCall,
                   name_of: Callable[[Tensor | None], str | None]) -> dict[int, str]:
    """Write the call's nodes; returns {id(output tensor): ONNX name}."""
    module = call.module
    mode, layers = module.mode, module.num_layers
    directions = 2 if module.bidirectional else 1
    where = f"module {type(module).__name__}"
    if getattr(module, "proj_size", 0):
        raise NotImplementedError(f"onnx.export: no ONNX mapping for LSTM with proj_size "
                                  f"(from {where}): ONNX's LSTM has no projection")
    x = call.args[0]
    if x.ndim != 3:
        raise NotImplementedError(f"onnx.export: {type(module).__name__} on an unbatched "
                                  f"input of shape {tuple(x.shape)} (from {where})")
    if module.training and module.dropout > 0 and layers > 1:
        raise NotImplementedError(f"onnx.export: dropout between layers (from {where})")
    states = call.args[1]
    states = [] if states is None else list(states) if isinstance(states, tuple) else [states]
    state_names = [name_of(state) for state in states]
    sequence = name_of(x)
    if module.batch_first:
        sequence = b.node("Transpose", [sequence], perm=[1, 0, 2])
    op_type = "LSTM" if mode == "LSTM" else "GRU" if mode == "GRU" else "RNN"
    extra = {"linear_before_reset": 1} if mode == "GRU" else {}
    if op_type == "RNN":
        extra["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
    finals: list[list[str]] = [[], []]
    hidden = module.hidden_size
    gates = len(_GATE_ORDER[mode])
    for layer in range(layers):
        per_direction = [module._layer_weights(layer, d) for d in range(directions)]
        w = np.stack([_reordered(p["weight_ih"].data, mode, 0) for p in per_direction])
        r = np.stack([_reordered(p["weight_hh"].data, mode, 0) for p in per_direction])
        inputs = [sequence, b.constant(w, "rnn_W"), b.constant(r, "rnn_R")]
        if module.bias:
            bias = np.stack([np.concatenate([
                _reordered(p["bias_ih"].data, mode, gates * hidden),
                _reordered(p["bias_hh"].data, mode, gates * hidden)]) for p in per_direction])
            inputs.append(b.constant(bias, "rnn_B"))
        else:
            inputs.append(None)
        inputs.append(None)  # sequence_lens: every sequence has the full length
        if state_names:  # this layer's rows of h_0 (and c_0)
            span = [b.ints([layer * directions], "starts"),
                    b.ints([(layer + 1) * directions], "ends"), b.ints([0], "axes")]
            inputs.extend(b.node("Slice", [name, *span]) for name in state_names)
        count = 3 if op_type == "LSTM" else 2
        results = b.node_outputs(op_type, inputs, count, hidden_size=hidden,
                                 direction="bidirectional" if directions == 2 else "forward",
                                 **extra)
        # Y (L, D, N, H) -> (L, N, D * H), the next layer's input
        moved = b.node("Transpose", [results[0]], perm=[0, 2, 1, 3])
        sequence = b.node("Reshape", [moved, b.ints([0, 0, -1], "shape")])
        for kept, name in zip(finals, results[1:]):
            kept.append(name)
    if module.batch_first:
        sequence = b.node("Transpose", [sequence], perm=[1, 0, 2])
    names = [sequence] + [kept[0] if len(kept) == 1 else b.node("Concat", kept, axis=0)
                          for kept in finals if kept]
    return {id(tensor): name for tensor, name in zip(call.outputs, names)}
