"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, with PyTorch's API and keys.

Every layer is a loop over time steps of differentiable ops (linear, sigmoid, tanh, ...), so
gradients, and gradients of gradients, come from those ops. The input projection of a whole
sequence is one matmul before the loop; each step adds the hidden projection.
Gate orders are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from .. import creation
from ..engine import Tensor
from ..ops import recurrent
from ..ops.movement import cat, stack
from . import functional as F
from . import init
from ._utils import check_device
from .module import Module
from .parameter import Parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(where: str, input_size: Any, hidden_size: Any) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{where}: {name} should be of type int, got: "
                            f"{type(value).__name__}")
    if hidden_size <= 0:
        raise ValueError(f"{where}: hidden_size must be greater than zero, got {hidden_size}")


class RNNBase(Module):
    """The shared body of RNN, LSTM and GRU: parameters per layer and direction, the loop.

    Parameters of layer k are weight_ih_l{k} (gates * hidden, input), weight_hh_l{k}
    (gates * hidden, hidden or proj_size), bias_ih_l{k}, bias_hh_l{k} (gates * hidden) and,
    for an LSTM with proj_size > 0, weight_hr_l{k} (proj_size, hidden); the reverse direction
    of a bidirectional layer adds `_reverse`. All start as U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        check_device(device, where)
        _check_sizes(where, input_size, hidden_size)
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if not isinstance(num_layers, numbers.Integral) or isinstance(num_layers, bool):
            raise TypeError(f"num_layers should be of type int, got: "
                            f"{type(num_layers).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = int(num_layers)
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(creation.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch scripts (cuDNN's weight layout does not apply here)."""

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Parameters grouped per layer and direction, in PyTorch's order."""
        per_group = len(self._flat_weights_names) // (self.num_layers * self._directions)
        weights = self._flat_weights
        return [weights[i:i + per_group] for i in range(0, len(weights), per_group)]

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _layer_weights(self, layer: int, direction: int) -> dict[str, Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return {name: getattr(self, name + suffix, None) for name in names}

    def _hidden_out(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _check_input(self, input: Any) -> bool:
        """Check the input; returns True when it is batched (3-D)."""
        where = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{where}: Expected input to be 2D or 3D, got {input.ndim}D "
                             f"instead (shape {input.shape})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        params = self._flat_weights
        if params and input.dtype != params[0].dtype:
            raise RuntimeError(f"{where}: input must have the type {params[0].dtype}, got "
                               f"type {input.dtype}")
        return input.ndim == 3

    def _check_state(self, state: Any, expected: tuple[int, ...], name: str) -> None:
        if not isinstance(state, Tensor):
            raise TypeError(f"{type(self).__name__}: {name} must be a Tensor, got "
                            f"{type(state).__name__}")
        if tuple(state.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(state.shape)}")

    def _prepare(self, input: Tensor, hx: Any) -> tuple[Tensor, list | None, bool]:
        """Check everything, then return the (L, N, H_in) input and per-layer states."""
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        batch = input.shape[1]
        layers = self.num_layers * self._directions
        h_shape = (layers, batch, self._hidden_out())
        c_shape = (layers, batch, self.hidden_size)
        if hx is None:
            return input, None, batched
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two Tensors")
            states = list(hx)
            shapes = (h_shape, c_shape)
            names = ("h_0", "c_0")
        else:
            states = [hx]
            shapes = (h_shape,)
            names = ("hx",)
        for index, (state, shape, name) in enumerate(zip(states, shapes, names, strict=True)):
            if isinstance(state, Tensor) and not batched:
                if state.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, {name} should also be 2-D "
                                       f"but got {state.ndim}-D tensor")
                state = state.unsqueeze(1)
            self._check_state(state, shape, name)
            if state.dtype != input.dtype:
                raise RuntimeError(f"{type(self).__name__}: input and hidden tensors are not "
                                   f"the same dtype, found input tensor with {input.dtype} "
                                   f"and hidden tensor with {state.dtype}")
            states[index] = state
        return input, states, batched

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        """Shape: (L, N, H_in) (or (N, L, H_in) with batch_first, or (L, H_in)) ->
        output (L, N, D * H_out), h_n (D * num_layers, N, H_out) (and c_n for an LSTM)."""
        sequence, states, batched = self._prepare(input, hx)
        length, batch = sequence.shape[0], sequence.shape[1]
        if states is None:
            zeros_h = creation.zeros(self.num_layers * self._directions, batch,
                                     self._hidden_out(), dtype=sequence.dtype)
            states = [zeros_h]
            if self.mode == "LSTM":
                states.append(creation.zeros(self.num_layers * self._directions, batch,
                                             self.hidden_size, dtype=sequence.dtype))
        finals: list[list[Tensor]] = [[] for _ in states]
        layer_input = sequence
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                initial = [state[index] for state in states]
                output, last = self._run_direction(layer_input, initial, layer, direction,
                                                   length)
                outputs.append(output)
                for kept, value in zip(finals, last, strict=True):
                    kept.append(value)
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        final_states = [_stack_first(kept) for kept in finals]
        output = layer_input
        if not batched:
            output = output.squeeze(1)
            final_states = [state.squeeze(1) for state in final_states]
        elif self.batch_first:
            output = output.transpose(0, 1)
        if self.mode == "LSTM":
            return output, (final_states[0], final_states[1])
        return output, final_states[0]

    def _run_direction(self, sequence: Tensor, initial: list[Tensor], layer: int,
                       direction: int, length: int) -> tuple[Tensor, list[Tensor]]:
        """Run one direction of one layer over (L, N, H_in); returns (L, N, H_out), finals."""
        weights = self._layer_weights(layer, direction)
        projected = F.linear(sequence, weights["weight_ih"], weights["bias_ih"])  # (L, N, G)
        if self.mode == "LSTM":
            if weights["bias_hh"] is not None:
                projected = projected + weights["bias_hh"]
            output, h_last, c_last = recurrent.lstm_sequence(
                projected, initial[0], initial[1], weights["weight_hh"], weights["weight_hr"],
                reverse=direction == 1)
            return output, [h_last, c_last]
        steps = projected.unbind(0)
        order = range(length - 1, -1, -1) if direction == 1 else range(length)
        state = initial
        outputs: list[Tensor] = [None] * length  # type: ignore[list-item]
        for t in order:
            state = self._step(steps[t], state, weights)
            outputs[t] = state[0]
        return _stack_first(outputs), state

    def _step(self, projected: Tensor, state: list[Tensor],
              weights: dict[str, Tensor | None]) -> list[Tensor]:
        """One time step from the projected input (N, G) and the state list."""
        hidden = F.linear(state[0], weights["weight_hh"], weights["bias_hh"])
        if self.mode == "LSTM":
            h, c = recurrent.lstm_cell_update(projected + hidden, state[1])
            if weights["weight_hr"] is not None:
                h = F.linear(h, weights["weight_hr"])
            return [h, c]
        if self.mode == "GRU":
            return [recurrent.gru_cell_update(projected, hidden, state[0])]
        total = projected + hidden
        return [F.tanh(total) if self.mode == "RNN_TANH" else F.relu(total)]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


def _stack_first(tensors: list[Tensor]) -> Tensor:
    """Stack along a new first dim (one op, however many tensors)."""
    return tensors[0].unsqueeze(0) if len(tensors) == 1 else stack(tensors, dim=0)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Shape: (L, N, H_in) -> output (L, N, D * H), h_n (D * num_layers, N, H).
    """

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gate order (i, f, g, o):
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t) (then W_hr h_t when proj_size > 0).

    forward(input, (h_0, c_0)) -> output, (h_n, c_n).
    Shape: (L, N, H_in) -> output (L, N, D * H_out), h_n (D * num_layers, N, H_out),
    c_n (D * num_layers, N, H) with H_out = proj_size or hidden_size.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gate order (r, z, n):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    Shape: (L, N, H_in) -> output (L, N, D * H), h_n (D * num_layers, N, H).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """One time step: weight_ih (gates * hidden, input), weight_hh (gates * hidden, hidden),
    bias_ih, bias_hh, all U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        where = type(self).__name__
        check_device(device, where)
        _check_sizes(where, input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(gate_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(gate_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _check(self, input: Any, states: list[Any]) -> tuple[Tensor, list[Tensor], bool]:
        """Check input (N, H_in) or (H_in) and states; returns 2-D versions and batched."""
        where = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{where}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        checked = []
        for state in states:
            if state is None:
                state = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            else:
                if not isinstance(state, Tensor):
                    raise TypeError(f"{where}: hidden state must be a Tensor, got "
                                    f"{type(state).__name__}")
                if not batched:
                    state = state.unsqueeze(0)
                if tuple(state.shape) != (input.shape[0], self.hidden_size):
                    raise RuntimeError(f"{where}: hidden state has shape {state.shape}, "
                                       f"expected {(input.shape[0], self.hidden_size)}")
            checked.append(state)
        return input, checked, batched

    def _gates(self, input: Tensor, hx: Tensor) -> tuple[Tensor, Tensor]:
        return (F.linear(input, self.weight_ih, self.bias_ih),
                F.linear(hx, self.weight_hh, self.bias_hh))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Shape: (N, H_in), (N, H) -> (N, H); unbatched (H_in), (H) -> (H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._check(input, [hx])
        projected, hidden = self._gates(input, hx)
        total = projected + hidden
        h = F.tanh(total) if self.nonlinearity == "tanh" else F.relu(total)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step, gates (i, f, g, o); forward(input, (h, c)) -> (h', c').

    Shape: (N, H_in), ((N, H), (N, H)) -> ((N, H), (N, H)); unbatched drops N.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise RuntimeError("LSTMCell: hx must be a tuple (h, c) of two Tensors")
        input, (h, c), batched = self._check(input, [None, None] if hx is None else list(hx))
        projected, hidden = self._gates(input, h)
        h, c = recurrent.lstm_cell_update(projected + hidden, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, gates (r, z, n); h' = (1 - z) * n + z * h.

    Shape: (N, H_in), (N, H) -> (N, H); unbatched drops N.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._check(input, [hx])
        projected, hidden = self._gates(input, hx)
        h = recurrent.gru_cell_update(projected, hidden, hx)
        return h if batched else h.squeeze(0)
