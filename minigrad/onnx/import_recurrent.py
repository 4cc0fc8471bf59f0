"""Import handlers for ONNX LSTM, GRU and RNN nodes (layout 0, default activations, no clip,
no peepholes, no sequence_lens): each direction runs as minigrad's recurrent ops, with the
weights sliced and concatenated back into PyTorch's gate order as ops, so imported weights
stay trainable Parameters.

ONNX gate orders: LSTM (i, o, f, c) -> PyTorch (i, f, g, o); GRU (z, r, h) -> (r, z, n),
linear_before_reset=1 (PyTorch's GRU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import minigrad as mg

from ..engine import Tensor
from ..nn import functional as F
from ..ops import recurrent
from ..ops.movement import cat, stack

__all__ = ["gru", "lstm", "recurrent_limits", "rnn"]

# PyTorch's gate blocks as indices into ONNX's
_TO_TORCH = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
_DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                        "RNN": ["Tanh"]}


def recurrent_limits(op_type: str) -> Callable[[dict], str | None]:
    """What load_model cannot run of an `op_type` node, from its attributes (None: all)."""
    def limits(attrs: dict) -> str | None:
        problems = []
        if attrs.get("layout", 0):
            problems.append("layout=1")
        if "clip" in attrs:
            problems.append("clip")
        if attrs.get("input_forget", 0):
            problems.append("input_forget=1")
        activations = attrs.get("activations")
        directions = 2 if attrs.get("direction") == "bidirectional" else 1
        allowed = [_DEFAULT_ACTIVATIONS[op_type] * directions]
        if op_type == "RNN":
            allowed.append(["Relu"] * directions)
        if activations and list(activations) not in allowed:
            problems.append(f"activations={list(activations)}")
        if op_type == "GRU" and not attrs.get("linear_before_reset", 0):
            problems.append("linear_before_reset=0")
        return f"{op_type} {', '.join(problems)}" if problems else None
    return limits


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else mg.tensor(value)


def _torch_order(x: Tensor, op_type: str) -> Tensor:
    """Gate blocks along dim 0 from ONNX's order into PyTorch's."""
    blocks = x.chunk(len(_TO_TORCH[op_type]), 0)
    return cat([blocks[k] for k in _TO_TORCH[op_type]], 0)


def _directions(attrs: dict, ins: list, op_type: str) -> tuple:
    x, w, r = (_tensor(value) for value in ins[:3])
    bias = ins[3] if len(ins) > 3 else None
    if len(ins) > 4 and ins[4] is not None:
        raise NotImplementedError(f"load_model: {op_type} with sequence_lens")
    if op_type == "LSTM" and len(ins) > 7 and ins[7] is not None:
        raise NotImplementedError("load_model: LSTM with peepholes (P)")
    direction = attrs.get("direction", "forward")
    count = w.shape[0]
    batch, hidden = x.shape[1], r.shape[2]
    states = [None if len(ins) <= k or ins[k] is None else _tensor(ins[k])
              for k in ((5, 6) if op_type == "LSTM" else (5,))]
    runs = []
    for d in range(count):
        w_d, r_d = _torch_order(w[d], op_type), _torch_order(r[d], op_type)
        if bias is None:
            w_b = r_b = None
        else:
            b_d = _tensor(bias)[d]
            size = b_d.shape[0] // 2
            w_b, r_b = _torch_order(b_d[:size], op_type), _torch_order(b_d[size:], op_type)
        initial = [mg.zeros(batch, hidden, dtype=x.dtype) if s is None else s[d]
                   for s in states]
        reverse = direction == "reverse" or d == 1
        runs.append((w_d, r_d, w_b, r_b, initial, reverse))
    return x, runs


def lstm(module: Any, attrs: dict, ins: list) -> tuple:
    """Y (L, D, N, H), Y_h (D, N, H), Y_c (D, N, H)."""
    x, runs = _directions(attrs, ins, "LSTM")
    outputs, hs, cs = [], [], []
    for w, r, w_b, r_b, (h0, c0), reverse in runs:
        projected = F.linear(x, w, None if w_b is None else w_b + r_b)
        output, h, c = recurrent.lstm_sequence(projected, h0, c0, r, None, reverse=reverse)
        outputs.append(output)
        hs.append(h)
        cs.append(c)
    return stack(outputs, 1), stack(hs, 0), stack(cs, 0)


def gru(module: Any, attrs: dict, ins: list) -> tuple:
    """Y (L, D, N, H), Y_h (D, N, H); h' = (1 - z) n + z h, n = tanh(x_n + r (R_n h + b))."""
    x, runs = _directions(attrs, ins, "GRU")
    outputs, hs = [], []
    length = x.shape[0]
    for w, r, w_b, r_b, (h,), reverse in runs:
        steps = F.linear(x, w, w_b).unbind(0)
        order = range(length - 1, -1, -1) if reverse else range(length)
        per_step: list = [None] * length
        for t in order:
            h = recurrent.gru_cell_update(steps[t], F.linear(h, r, r_b), h)
            per_step[t] = h
        outputs.append(stack(per_step, 0))
        hs.append(h)
    return stack(outputs, 1), stack(hs, 0)


def rnn(module: Any, attrs: dict, ins: list) -> tuple:
    """Y (L, D, N, H), Y_h (D, N, H); h' = tanh (or relu) of W x + R h + biases."""
    x, runs = _directions(attrs, ins, "RNN")
    activation = F.relu if "Relu" in attrs.get("activations", ()) else F.tanh
    outputs, hs = [], []
    length = x.shape[0]
    for w, r, w_b, r_b, (h,), reverse in runs:
        steps = F.linear(x, w, w_b).unbind(0)
        order = range(length - 1, -1, -1) if reverse else range(length)
        per_step: list = [None] * length
        for t in order:
            h = activation(steps[t] + F.linear(h, r, r_b))
            per_step[t] = h
        outputs.append(stack(per_step, 0))
        hs.append(h)
    return stack(outputs, 1), stack(hs, 0)
