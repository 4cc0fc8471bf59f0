"""Recurrent ops: a whole LSTM layer direction (`LSTMSequence`), one LSTM step's gate
arithmetic (`LSTMCellUpdate`, for LSTMCell) and the GRU update (a composite of existing ops).

`LSTMSequence` runs the time loop inside one op: forward keeps the gate activations as a
first-order cache, and backward is one formula in `xp` (backpropagation through time) that
sums each weight's gradient over all steps in a single GEMM instead of one per step. A graph
pass (create_graph=True) recomputes the activations from the saved inputs as differentiable
ops, so the layer stays twice differentiable. `LSTMCellUpdate` does the same for one step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor

__all__ = ["gru_cell_update", "lstm_cell_update", "lstm_sequence"]


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


# ---- a whole LSTM layer direction ------------------------------------------------------------
def _steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _lstm_sequence_formula(xp: Any, projected: Any, h0: Any, c0: Any, weight_hh: Any,
                           weight_hr: Any, reverse: bool) -> tuple:
    """The forward loop in `xp`: (activations (L, N, 4H), c (L, N, H), tanh(c) (L, N, H),
    h (L, N, H_out), o * tanh(c) (L, N, H)), each stacked over time in input order."""
    length = projected.shape[0]
    per_step: list[list[Any]] = [[None] * length for _ in range(5)]
    h, c = h0, c0
    for t in _steps(length, reverse):
        gates = projected[t] + xp.matmul(h, xp.transpose(weight_hh))
        i, f, g, o = _gate_activations(xp, gates)
        c = f * c + i * g
        tanh_c = xp.tanh(c)
        m = o * tanh_c
        h = m if weight_hr is None else xp.matmul(m, xp.transpose(weight_hr))
        for kept, value in zip(per_step, (xp.concatenate([i, f, g, o], axis=1), c, tanh_c, h,
                                          m), strict=True):
            kept[t] = value
    return tuple(xp.stack(kept, axis=0) for kept in per_step)


class LSTMSequence(Function):
    """One direction of an LSTM layer over a whole sequence.

    Inputs: projected (L, N, 4H) = x W_ih^T + b_ih + b_hh for every step, h0 (N, H_out),
    c0 (N, H), weight_hh (4H, H_out), weight_hr (H_out, H) or None; option reverse.
    Output: (L, N, H_out + H), the hidden state then the cell state after each step, in input
    order (a reverse direction runs from the last step to the first).
    """

    def forward(self, projected: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                weight_hh: np.ndarray, weight_hr: np.ndarray | None,
                reverse: bool) -> np.ndarray:
        self.save(projected, h0, c0, weight_hh, weight_hr)
        length, batch, _ = projected.shape
        size, out_size = c0.shape[1], h0.shape[1]
        dtype = np.result_type(projected, h0, c0, weight_hh)
        output = np.empty((length, batch, out_size + size), dtype=dtype)
        activations = np.empty((length, batch, 4 * size), dtype=dtype)
        tanh_cs = np.empty((length, batch, size), dtype=dtype)
        ms = tanh_cs if weight_hr is None else np.empty((length, batch, size), dtype=dtype)
        # a C-ordered copy of weight_hh^T: OpenBLAS multiplies a few rows by it 1.6x faster
        # than by the transposed view (measured for (20, 256) @ (256, 1024))
        hidden_t = np.ascontiguousarray(weight_hh.T)
        h, c_prev = h0, c0
        for t in _steps(length, reverse):
            gates = projected[t] + h @ hidden_t  # (N, 4H)
            active = activations[t]
            _sigmoid_into(gates[:, :2 * size], active[:, :2 * size])
            np.tanh(gates[:, 2 * size:3 * size], out=active[:, 2 * size:3 * size])
            _sigmoid_into(gates[:, 3 * size:], active[:, 3 * size:])
            i, f, g, o = (active[:, k * size:(k + 1) * size] for k in range(4))
            c = output[t, :, out_size:]
            np.multiply(f, c_prev, out=c)
            c += i * g
            tanh_c = np.tanh(c, out=tanh_cs[t])
            if weight_hr is None:
                h = np.multiply(o, tanh_c, out=output[t, :, :out_size])
            else:
                m = np.multiply(o, tanh_c, out=ms[t])
                h = np.matmul(m, weight_hr.T, out=output[t, :, :out_size])
            c_prev = c
        hs, cs = output[:, :, :out_size], output[:, :, out_size:]
        self.cache = (activations, cs, tanh_cs, hs, ms)
        return output

    def backward(self, xp: Any, grad: Any, projected: Any, h0: Any, c0: Any, weight_hh: Any,
                 weight_hr: Any) -> tuple:
        reverse = self.options["reverse"]
        length = projected.shape[0]
        size, out_size = c0.shape[1], h0.shape[1]
        activations, cs, tanh_cs, hs, ms = xp.recompute(
            self.cache, _lstm_sequence_formula, projected, h0, c0, weight_hh, weight_hr,
            reverse)
        first = length - 1 if reverse else 0
        grad_gates: list[Any] = [None] * length
        grad_hs: list[Any] = [None] * length
        grad_h = grad_c = None
        for t in _steps(length, not reverse):  # backward visits the steps in reverse order
            total_h = grad[t, :, :out_size] if grad_h is None else grad[t, :, :out_size] + grad_h
            grad_hs[t] = total_h
            grad_m = total_h if weight_hr is None else xp.matmul(total_h, weight_hr)
            active, tanh_c = activations[t], tanh_cs[t]
            i, f, g, o = (active[:, k * size:(k + 1) * size] for k in range(4))
            c_prev = c0 if t == first else cs[t + 1 if reverse else t - 1]
            total_c = grad[t, :, out_size:] + grad_m * o * (1 - tanh_c * tanh_c)
            if grad_c is not None:
                total_c = total_c + grad_c
            gate_grad = xp.concatenate([total_c * g * i * (1 - i), total_c * c_prev * f * (1 - f),
                                        total_c * i * (1 - g * g),
                                        grad_m * tanh_c * o * (1 - o)], axis=1)
            grad_gates[t] = gate_grad
            grad_c = total_c * f
            grad_h = xp.matmul(gate_grad, weight_hh)  # (N, H_out), into the previous step
        grad_projected = xp.stack(grad_gates, axis=0)  # (L, N, 4H)
        grad_weight_hh = grad_weight_hr = None
        rows = length * projected.shape[1]
        if self.needs_input_grad[3]:
            # every step's h_prev (L, N, H_out): h0 then h_0..h_{L-2}, or shifted the other way
            h0_row = xp.expand_dims(h0, 0)
            previous = (xp.concatenate([hs[1:], h0_row], axis=0) if reverse
                        else xp.concatenate([h0_row, hs[:-1]], axis=0))
            grad_weight_hh = xp.matmul(xp.transpose(xp.reshape(grad_projected, (rows, 4 * size))),
                                       xp.reshape(previous, (rows, out_size)))
        if weight_hr is not None and self.needs_input_grad[4]:
            grad_hs_rows = xp.reshape(xp.stack(grad_hs, axis=0), (rows, out_size))
            grad_weight_hr = xp.matmul(xp.transpose(grad_hs_rows), xp.reshape(ms, (rows, size)))
        return grad_projected, grad_h, grad_c, grad_weight_hh, grad_weight_hr


def _sigmoid_into(x: np.ndarray, out: np.ndarray) -> None:
    """out = sigmoid(x) = 0.5 tanh(x / 2) + 0.5, with no overflow and no temporaries."""
    half = x.dtype.type(0.5)
    np.multiply(x, half, out=out)
    np.tanh(out, out=out)
    out *= half
    out += half


def lstm_sequence(projected: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor,
                  weight_hr: Tensor | None = None,
                  reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Run one LSTM direction over (L, N, 4H) input projections (biases included).

    Returns output (L, N, H_out) and the final h (N, H_out) and c (N, H).
    """
    length = projected.shape[0]
    out_size = h0.shape[1]
    joined = LSTMSequence.apply(projected, h0, c0, weight_hh, weight_hr, reverse=reverse)
    last = 0 if reverse else length - 1
    output = joined[:, :, :out_size]
    return output, output[last], joined[last, :, out_size:]


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
