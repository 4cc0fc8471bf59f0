"""The gate arithmetic of one recurrent step (LSTM and GRU), shared by layers and cells.

An LSTM step's gate arithmetic is one op, `LSTMCellUpdate` (thirteen small ops otherwise):
forward computes the activations once and keeps them as a first-order cache; backward is one
formula in `xp`, so a graph pass (create_graph=True) recomputes them as differentiable ops
and the step stays twice differentiable. The GRU update is a composite of existing ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor

__all__ = ["gru_cell_update", "lstm_cell_update"]


def _gate_activations(xp: Any, gates: Any) -> tuple[Any, Any, Any, Any]:
    """sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) from the (N, 4H) pre-activations."""
    size = gates.shape[1] // 4
    return (xp.sigmoid(gates[:, :size]), xp.sigmoid(gates[:, size:2 * size]),
            xp.tanh(gates[:, 2 * size:3 * size]), xp.sigmoid(gates[:, 3 * size:]))


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) as 0.5 tanh(x / 2) + 0.5: no overflow, and one pass of tanh."""
    half = x * x.dtype.type(0.5)
    np.tanh(half, out=half)
    half *= x.dtype.type(0.5)
    half += x.dtype.type(0.5)
    return half


class LSTMCellUpdate(Function):
    """(gates (N, 4H) in order i, f, g, o; c (N, H)) -> [h', c'] as one (N, 2H) array, with
    c' = sigmoid(f) c + sigmoid(i) tanh(g) and h' = sigmoid(o) tanh(c')."""

    def forward(self, gates: np.ndarray, c: np.ndarray) -> np.ndarray:
        self.save(gates, c)
        size = c.shape[1]
        activated = np.empty_like(gates)  # (N, 4H): the activations, kept for backward
        ifo = np.concatenate([gates[:, :2 * size], gates[:, 3 * size:]], axis=1)
        sig = _sigmoid_array(ifo)
        activated[:, :2 * size] = sig[:, :2 * size]
        activated[:, 3 * size:] = sig[:, 2 * size:]
        np.tanh(gates[:, 2 * size:3 * size], out=activated[:, 2 * size:3 * size])
        i, f, g, o = np.split(activated, 4, axis=1)
        output = np.empty((c.shape[0], 2 * size), dtype=np.result_type(gates, c))
        c_next = output[:, size:]
        np.multiply(f, c, out=c_next)
        c_next += i * g
        tanh_c = np.tanh(c_next)
        np.multiply(o, tanh_c, out=output[:, :size])
        self.activated, self.tanh_c = activated, tanh_c
        return output

    def backward(self, xp: Any, grad: Any, gates: Any, c: Any) -> tuple:
        size = c.shape[1]
        activated = xp.recompute(self.activated, _activations_joined, gates)
        i = activated[:, :size]
        f = activated[:, size:2 * size]
        g = activated[:, 2 * size:3 * size]
        o = activated[:, 3 * size:]
        tanh_c = xp.recompute(self.tanh_c, _tanh_of_next_cell, gates, c)
        grad_h = grad[:, :size]
        grad_c_next = grad[:, size:] + grad_h * o * (1 - tanh_c * tanh_c)
        grad_gates = xp.concatenate([grad_c_next * g * i * (1 - i),
                                     grad_c_next * c * f * (1 - f),
                                     grad_c_next * i * (1 - g * g),
                                     grad_h * tanh_c * o * (1 - o)], axis=1)
        grad_c = grad_c_next * f if self.needs_input_grad[1] else None
        return grad_gates, grad_c


def _activations_joined(xp: Any, gates: Any) -> Any:
    return xp.concatenate(list(_gate_activations(xp, gates)), axis=1)


def _tanh_of_next_cell(xp: Any, gates: Any, c: Any) -> Any:
    i, f, g, _ = _gate_activations(xp, gates)
    return xp.tanh(f * c + i * g)


def lstm_cell_update(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """From the summed gate pre-activations (N, 4H) in order (i, f, g, o) and c (N, H):
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g), h' = sigmoid(o) * tanh(c'). Returns (h', c')."""
    if gates.ndim != 2 or c.ndim != 2 or gates.shape != (c.shape[0], 4 * c.shape[1]):
        raise RuntimeError(f"lstm_cell_update: gates must be (N, 4H) for c (N, H), got gates "
                           f"{gates.shape} and c {c.shape}")
    joined = LSTMCellUpdate.apply(gates, c)
    h_next, c_next = joined.chunk(2, 1)
    return h_next, c_next


def gru_cell_update(projected: Tensor, hidden: Tensor, h: Tensor) -> Tensor:
    """From the input projection and hidden projection (N, 3H), gates (r, z, n), and h (N, H):
    n = tanh(x_n + r * h_n), h' = (1 - z) * n + z * h = n + z * (h - n)."""
    x_r, x_z, x_n = projected.chunk(3, 1)
    h_r, h_z, h_n = hidden.chunk(3, 1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return n + z * (h - n)


TENSOR_METHODS: dict = {}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
