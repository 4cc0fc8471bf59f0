"""`mg.summary(model, input_size)`: a torchinfo-style table of layers, shapes and parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .creation import randint, randn
from .engine import Tensor, no_grad
from .nn import Module

__all__ = ["LayerRow", "ModelSummary", "summary"]


@dataclass
class LayerRow:
    """One module in the summary: where it sits, what it outputs, what it holds."""

    name: str
    class_name: str
    depth: int
    output_shape: tuple | None = None
    num_params: int = 0          # parameters owned directly (not by children)
    trainable: int = 0
    grad_norm: float | None = None
    update_ratio: float | None = None


@dataclass
class ModelSummary:
    """The rows and totals; `str()` gives the table."""

    model_name: str
    input_size: tuple
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0
    param_bytes: int = 0

    def __str__(self) -> str:
        show_grads = any(row.grad_norm is not None for row in self.rows)
        widths = (40, 25, 15)
        header = f"{'Layer (type)':<{widths[0]}}{'Output Shape':<{widths[1]}}{'Param #':>{widths[2]}}"
        if show_grads:
            header += f"{'Grad norm':>12}{'Update/param':>14}"
        rule = "=" * len(header)
        lines = [rule, header, rule]
        for row in self.rows:
            indent = "" if row.depth == 0 else "  " * (row.depth - 1) + "├─"
            title = row.class_name if row.depth == 0 else f"{row.class_name}: {row.name}"
            shape = "--" if row.output_shape is None else str(list(row.output_shape))
            params = f"{row.num_params:,}" if row.num_params else "--"
            line = f"{(indent + title)[:widths[0] - 1]:<{widths[0]}}{shape:<{widths[1]}}{params:>{widths[2]}}"
            if show_grads:
                grad = "--" if row.grad_norm is None else f"{row.grad_norm:.3e}"
                ratio = "--" if row.update_ratio is None else f"{row.update_ratio:.3e}"
                line += f"{grad:>12}{ratio:>14}"
            lines.append(line)
        megabyte = 1024 ** 2
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            rule,
            f"Input size (MB): {self.input_bytes / megabyte:.2f}",
            f"Forward/backward pass size (MB): {2 * self.activation_bytes / megabyte:.2f}",
            f"Params size (MB): {self.param_bytes / megabyte:.2f}",
            f"Estimated Total Size (MB): "
            f"{(self.input_bytes + 2 * self.activation_bytes + self.param_bytes) / megabyte:.2f}",
            rule,
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _record_outputs(model: Module, rows: dict[int, LayerRow]) -> list:
    """Wrap each module's forward on the instance so it records its output shape."""
    wrapped = []
    for module in model.modules():
        row = rows[id(module)]
        original = module.forward

        def forward(*args: Any, __original: Any = original, __row: LayerRow = row,
                    **kwargs: Any) -> Any:
            output = __original(*args, **kwargs)
            first = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(first, Tensor):
                __row.output_shape = tuple(first.shape)
            return output

        object.__setattr__(module, "forward", forward)
        wrapped.append(module)
    return wrapped


def summary(model: Module, input_size: Sequence[int], *, grads: bool = False,
            lr: float = 0.01, dtype: Any = None) -> ModelSummary:
    """Run one forward on random input of `input_size` (batch included) and tabulate.

    grads=True also runs a cross-entropy backward on random labels (or `.sum()` for outputs that
    are not (N, C) logits) and adds each layer's gradient norm and the update/parameter ratio an
    SGD step with `lr` would make (lr * |grad| / |param|; healthy training is near 1e-3).
    """
    input_size = tuple(int(size) for size in input_size)
    names = {id(module): name for name, module in model.named_modules()}
    rows: dict[int, LayerRow] = {}
    for name, module in model.named_modules():
        depth = 0 if name == "" else name.count(".") + 1
        own = list(module.parameters(recurse=False))
        rows[id(module)] = LayerRow(
            name=name, class_name=type(module).__name__, depth=depth,
            num_params=sum(p.numel() for p in own),
            trainable=sum(p.numel() for p in own if p.requires_grad))
    wrapped = _record_outputs(model, rows)
    x = randn(*input_size, dtype=dtype)
    try:
        if grads:
            output = model(x)
        else:
            with no_grad():
                output = model(x)
    finally:
        for module in wrapped:
            del module.__dict__["forward"]
    if grads:
        _add_gradient_columns(model, output, rows, lr)
    result = ModelSummary(model_name=type(model).__name__, input_size=input_size,
                          rows=[rows[id(module)] for module in model.modules()
                                if id(module) in names])
    parameters = list(model.parameters())
    result.total_params = sum(p.numel() for p in parameters)
    result.trainable_params = sum(p.numel() for p in parameters if p.requires_grad)
    result.param_bytes = sum(p.data.nbytes for p in parameters)
    result.input_bytes = x.data.nbytes
    itemsize = x.data.itemsize
    leaves = {id(module) for module in model.modules() if not list(module.children())}
    result.activation_bytes = sum(
        int(np.prod(rows[key].output_shape)) * itemsize for key in leaves
        if rows[key].output_shape is not None)
    return result


def _add_gradient_columns(model: Module, output: Tensor, rows: dict[int, LayerRow],
                          lr: float) -> None:
    from .nn import functional

    model.zero_grad()
    if output.ndim == 2:
        labels = randint(0, output.shape[1], size=(output.shape[0],))
        loss = functional.cross_entropy(output, labels)
    else:
        loss = output.sum()
    loss.backward()
    for module in model.modules():
        own = [p for p in module.parameters(recurse=False) if p.grad is not None]
        if not own:
            continue
        grad_norm = float(np.sqrt(sum(float(np.sum(p.grad.data.astype(np.float64) ** 2))
                                      for p in own)))
        param_norm = float(np.sqrt(sum(float(np.sum(p.data.astype(np.float64) ** 2))
                                       for p in own)))
        row = rows[id(module)]
        row.grad_norm = grad_norm
        row.update_ratio = lr * grad_norm / param_norm if param_norm else float("inf")
