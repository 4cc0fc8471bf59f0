"""Bad input across the API: PyTorch's exception type, a message naming the function, the
argument and the offending shapes or values, and (where there is state) nothing changed.

One table, `CASES`. Each case builds what it needs (`setup`, given a temporary directory),
makes one mistake (`call`), and may snapshot state before and after (`state`), which must
match. `torch`, when given, makes the same mistake in PyTorch: a second test checks that
PyTorch raises the same exception type (where a case deliberately differs, `torch_error`
names PyTorch's type and the case says why).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import data, models, nn, optim
from minigrad.checkpoint import load_checkpoint, save_checkpoint


@dataclass
class Case:
    id: str
    call: Callable[[dict], Any]
    error: type
    match: str
    torch: Callable[[Any], Any] | None = None
    setup: Callable[[Path], dict] | None = None
    state: Callable[[dict], Any] | None = None
    torch_error: type | None = None  # PyTorch's type when it differs on purpose


def shapes(*parts: tuple) -> str:
    """Regex for "(2, 3), (2, 2)": the shapes as Python prints them, in order."""
    return r",? ".join(re.escape(str(part)) for part in parts)


# ---- environments ------------------------------------------------------------------------
def _model_env(tmp: Path) -> dict:
    mg.manual_seed(0)
    model = models.LeNet5(input_size=8)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    nn.functional.cross_entropy(model(mg.randn(2, 1, 8, 8)), mg.tensor([0, 1])).backward()
    optimizer.step()
    scheduler.step()
    good = tmp / "good.safetensors"
    save_checkpoint(good, model, optimizer, scheduler, epoch=1)
    return {"model": model, "optimizer": optimizer, "scheduler": scheduler, "tmp": tmp,
            "good": good}


def _model_state(env: dict) -> dict:
    """Everything a failed load must leave alone: weights, versions, optimizer, schedule, RNG."""
    model = env["model"]
    snapshot = {"weights": {key: value.numpy().copy()
                            for key, value in model.state_dict().items()},
                "versions": [param.version for param in model.parameters()],
                "rng": mg.get_rng_state()}
    if "optimizer" in env:
        optimizer = env["optimizer"]
        snapshot["optimizer"] = {
            index: {name: np.array(getattr(value, "data", value)) for name, value in
                    values.items()}
            for index, values in optimizer.state_dict()["state"].items()}
        snapshot["lr"] = [group["lr"] for group in optimizer.param_groups]
    if "scheduler" in env:
        snapshot["scheduler"] = dict(env["scheduler"].state_dict())
    return snapshot


def _model_values(env: dict) -> dict:
    """As `_model_state`, without version counters: when a later part of a checkpoint fails,
    the model was loaded and then restored, so its values are back but versions moved on."""
    snapshot = _model_state(env)
    del snapshot["versions"]
    return snapshot


def _linear_env(tmp: Path) -> dict:
    mg.manual_seed(0)
    return {"model": nn.Linear(3, 2)}


def _tensor_env(tmp: Path) -> dict:
    return {"x": mg.tensor([1.0, 2.0, 3.0]),
            "leaf": mg.tensor([1.0, 2.0, 3.0], requires_grad=True)}


def _tensor_state(env: dict) -> dict:
    return {name: (tensor.detach().numpy().copy(), tensor.version)
            for name, tensor in env.items()}


def _twice_env(tmp: Path) -> dict:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return {"x": x, "y": y}


def _damaged(tmp: Path, name: str, content: Callable[[bytes], bytes]) -> Path:
    """A copy of the good checkpoint, damaged by `content`."""
    path = tmp / name
    path.write_bytes(content((tmp / "good.safetensors").read_bytes()))
    return path


def _checkpoint_with(env: dict, name: str, change: Callable[[dict], None]) -> Path:
    """The good checkpoint's content with one entry changed, saved as `name`."""
    state = mg.load(env["good"])
    change(state)
    path = env["tmp"] / name
    mg.save(state, path)
    return path


def _set(state: dict, keys: tuple, value: Any) -> None:
    """state[keys[0]][keys[1]]... = value."""
    for key in keys[:-1]:
        state = state[key]
    state[keys[-1]] = value


def _fashion_env(tmp: Path) -> dict:
    root = tmp / "fashion"
    root.mkdir()
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    data.write_idx(root / "train-images-idx3-ubyte.gz", images)
    data.write_idx(root / "train-labels-idx1-ubyte.gz", np.arange(4, dtype=np.uint8))
    return {"root": root}


def _truncate(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


A, B = np.ones((2, 3), dtype=np.float32), np.ones((2, 2), dtype=np.float32)
X = np.ones((1, 3, 8, 8), dtype=np.float32)
LOGITS = np.zeros((4, 3), dtype=np.float32)
BROADCAST = shapes((2, 3), (2, 2)) + " cannot be broadcast together"


def _binary(name: str, ours: Callable, theirs: Callable, label: str = "") -> Case:
    return Case(f"{label or name} shapes", lambda env: ours(mg.tensor(A), mg.tensor(B)),
                RuntimeError, f"{name}: shapes {BROADCAST}",
                lambda torch: theirs(torch, torch.tensor(A), torch.tensor(B)))


CASES = [
    # ---- every binary op: mismatched shapes ----------------------------------------------
    _binary("add", mg.add, lambda t, a, b: t.add(a, b)),
    _binary("sub", mg.sub, lambda t, a, b: t.sub(a, b)),
    _binary("mul", mg.mul, lambda t, a, b: t.mul(a, b)),
    _binary("div", mg.div, lambda t, a, b: t.div(a, b)),
    _binary("pow", mg.pow, lambda t, a, b: t.pow(a, b)),
    _binary("maximum", mg.maximum, lambda t, a, b: t.maximum(a, b)),
    _binary("minimum", mg.minimum, lambda t, a, b: t.minimum(a, b)),
    _binary("eq", mg.eq, lambda t, a, b: t.eq(a, b)),
    _binary("ne", mg.ne, lambda t, a, b: t.ne(a, b)),
    _binary("lt", mg.lt, lambda t, a, b: t.lt(a, b)),
    _binary("le", mg.le, lambda t, a, b: t.le(a, b)),
    _binary("gt", mg.gt, lambda t, a, b: t.gt(a, b)),
    _binary("ge", mg.ge, lambda t, a, b: t.ge(a, b)),
    _binary("add", lambda a, b: a + b, lambda t, a, b: a + b, "+ operator"),
    Case("floor_divide shapes", lambda env: mg.floor_divide(mg.tensor(A), mg.tensor(B)),
         RuntimeError, BROADCAST,
         lambda torch: torch.floor_divide(torch.tensor(A), torch.tensor(B))),
    Case("where shapes", lambda env: mg.where(mg.tensor(A) > 0, mg.tensor(A), mg.tensor(B)),
         RuntimeError, "where: shapes " + shapes((2, 3), (2, 3), (2, 2)),
         lambda torch: torch.where(torch.tensor(A) > 0, torch.tensor(A), torch.tensor(B))),
    Case("masked_fill mask shape",
         lambda env: mg.tensor(A).masked_fill(mg.tensor(B) > 0, 1.0), RuntimeError,
         f"masked_fill: shapes {BROADCAST}",
         lambda torch: torch.tensor(A).masked_fill(torch.tensor(B) > 0, 1.0)),
    Case("clamp tensor bound shape", lambda env: mg.tensor(A).clamp(mg.tensor(B)),
         RuntimeError, f"clamp: shapes {BROADCAST}",
         lambda torch: torch.tensor(A).clamp(torch.tensor(B))),
    Case("mse_loss shapes", lambda env: F.mse_loss(mg.tensor(LOGITS), mg.ones(4)),
         RuntimeError, "mse_loss: shapes " + shapes((4, 3), (4,)),
         lambda torch: torch.nn.functional.mse_loss(torch.tensor(LOGITS), torch.ones(4))),
    Case("add a string", lambda env: mg.add(mg.ones(2), "a"), TypeError,
         "add: argument 'other' must be a Tensor or a number, not str",
         lambda torch: torch.add(torch.ones(2), "a")),
    # ---- matmul ----------------------------------------------------------------------------
    Case("matmul shapes", lambda env: mg.matmul(mg.tensor(A), mg.tensor(A)), RuntimeError,
         r"matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)",
         lambda torch: torch.matmul(torch.tensor(A), torch.tensor(A))),
    Case("matmul 0-d", lambda env: mg.matmul(mg.tensor(1.0), mg.tensor(A)), RuntimeError,
         r"matmul: both arguments to matmul need to be at least 1D.*shapes \(\) and \(2, 3\)",
         lambda torch: torch.matmul(torch.tensor(1.0), torch.tensor(A))),
    Case("mm of a vector", lambda env: mg.mm(mg.ones(3), mg.tensor(A)), RuntimeError,
         r"mm: self must be a matrix \(got shape \(3,\)\)",
         lambda torch: torch.mm(torch.ones(3), torch.tensor(A))),
    Case("bmm batch sizes", lambda env: mg.bmm(mg.ones(2, 2, 3), mg.ones(3, 3, 2)),
         RuntimeError, r"bmm: .*batch2 .*\[2, 3\] but got: \[3, 3\].*" + shapes((2, 2, 3)),
         lambda torch: torch.bmm(torch.ones(2, 2, 3), torch.ones(3, 3, 2))),
    Case("linear weight", lambda env: F.linear(mg.tensor(A), mg.ones(4, 2)), RuntimeError,
         r"linear: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x4\) \(input "
         r"\(2, 3\), weight \(4, 2\)\)",
         lambda torch: torch.nn.functional.linear(torch.tensor(A), torch.ones(4, 2))),
    Case("Linear layer features", lambda env: env["model"](mg.ones(2, 4)), RuntimeError,
         r"Linear: linear: mat1 and mat2 shapes cannot be multiplied \(2x4 and 3x2\)",
         lambda torch: torch.nn.Linear(3, 2)(torch.ones(2, 4)), setup=_linear_env),
    # ---- conv2d ----------------------------------------------------------------------------
    Case("conv2d channels", lambda env: F.conv2d(mg.tensor(X), mg.ones(6, 1, 3, 3)),
         RuntimeError, r"conv2d: input has 3 channels, weight expects 1 \(input \(1, 3, 8, 8\), "
                       r"weight \(6, 1, 3, 3\)\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(6, 1, 3, 3))),
    Case("conv2d groups do not divide out_channels",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(4, 1, 3, 3), groups=3), RuntimeError,
         r"conv2d: weight's out_channels 4 must be a positive multiple of groups=3 "
         r"\(weight \(4, 1, 3, 3\)\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(4, 1, 3, 3),
                                                  groups=3)),
    Case("conv2d groups against input channels",
         lambda env: F.conv2d(mg.ones(1, 4, 8, 8), mg.ones(4, 1, 3, 3), groups=2),
         RuntimeError, r"conv2d: input has 4 channels, weight expects 2 .*groups=2",
         lambda torch: torch.nn.functional.conv2d(torch.ones(1, 4, 8, 8),
                                                  torch.ones(4, 1, 3, 3), groups=2)),
    Case("conv2d kernel larger than input",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 9, 9)), RuntimeError,
         r"conv2d: kernel size \(9, 9\) .*larger than the padded input size \(8, 8\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 9, 9))),
    Case("conv2d kernel larger than padded input",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 11, 11), padding=1), RuntimeError,
         r"conv2d: kernel size \(11, 11\) .*larger than the padded input size \(10, 10\) "
         r"\(input \(1, 3, 8, 8\), padding \(1, 1, 1, 1\)\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 11, 11),
                                                  padding=1)),
    Case("conv2d stride 0", lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3, 3), stride=0),
         RuntimeError, r"conv2d: stride must be positive, got stride=\(0, 0\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 3, 3),
                                                  stride=0)),
    Case("conv2d negative padding",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3, 3), padding=-1), RuntimeError,
         "conv2d: padding must be non-negative, got padding=-1",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 3, 3),
                                                  padding=-1)),
    Case("conv2d 3-D weight", lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3)),
         RuntimeError, r"conv2d: expected a 4-D weight .*got weight of shape \(2, 3, 3\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 3))),
    Case("conv2d 2-D input", lambda env: F.conv2d(mg.ones(8, 8), mg.ones(2, 3, 3, 3)),
         RuntimeError, r"conv2d: expected a 3-D .* or 4-D .* input, got input of shape \(8, 8\)",
         lambda torch: torch.nn.functional.conv2d(torch.ones(8, 8), torch.ones(2, 3, 3, 3))),
    Case("conv2d bias shape",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3, 3), mg.ones(3)), RuntimeError,
         r"conv2d: bias must have shape \(2,\).*got bias \(3,\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 3, 3),
                                                  torch.ones(3))),
    Case("conv2d dtypes", lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3, 3,
                                                                    dtype=mg.float64)),
         RuntimeError, "conv2d: input dtype float32 and weight dtype float64",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X),
                                                  torch.ones(2, 3, 3, 3, dtype=torch.float64))),
    Case("conv2d same padding with stride",
         lambda env: F.conv2d(mg.tensor(X), mg.ones(2, 3, 3, 3), stride=2, padding="same"),
         RuntimeError, r"conv2d: padding='same' is not supported for strided .*stride=\(2, 2\)",
         lambda torch: torch.nn.functional.conv2d(torch.tensor(X), torch.ones(2, 3, 3, 3),
                                                  stride=2, padding="same")),
    Case("Conv2d layer groups", lambda env: nn.Conv2d(3, 4, 3, groups=2), ValueError,
         r"Conv2d: in_channels must be divisible by groups \(in_channels=3, groups=2\)",
         lambda torch: torch.nn.Conv2d(3, 4, 3, groups=2)),
    # ---- pooling ---------------------------------------------------------------------------
    Case("max_pool2d kernel 0", lambda env: F.max_pool2d(mg.tensor(X), 0), RuntimeError,
         r"max_pool2d: kernel_size must be positive, got kernel_size=\(0, 0\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 0)),
    Case("max_pool2d negative kernel", lambda env: F.max_pool2d(mg.tensor(X), -1),
         RuntimeError, r"max_pool2d: kernel_size must be positive, got kernel_size=\(-1, -1\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), -1)),
    Case("max_pool2d stride 0", lambda env: F.max_pool2d(mg.tensor(X), 2, 0), RuntimeError,
         r"max_pool2d: stride must be positive, got stride=\(0, 0\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 2, 0)),
    Case("max_pool2d negative stride", lambda env: F.max_pool2d(mg.tensor(X), 2, -1),
         RuntimeError, r"max_pool2d: stride must be positive, got stride=\(-1, -1\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 2, -1)),
    Case("max_pool2d padding over half the kernel",
         lambda env: F.max_pool2d(mg.tensor(X), 2, 2, 2), RuntimeError,
         r"max_pool2d: pad should be at most half of effective kernel size, but got "
         r"padding=\(2, 2\), kernel_size=\(2, 2\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 2, 2, 2)),
    Case("max_pool2d negative padding", lambda env: F.max_pool2d(mg.tensor(X), 2, 2, -1),
         RuntimeError, r"max_pool2d: padding must be non-negative, got padding=\(-1, -1\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 2, 2, -1)),
    Case("max_pool2d kernel larger than input", lambda env: F.max_pool2d(mg.tensor(X), 9),
         RuntimeError, r"max_pool2d: Given input size \(3, 8, 8\), calculated output size "
                       r"\(3, 0, 0\) is too small",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 9)),
    Case("max_pool2d dilation 0", lambda env: F.max_pool2d(mg.tensor(X), 2, dilation=0),
         RuntimeError, r"max_pool2d: dilation must be positive, got dilation=\(0, 0\)",
         lambda torch: torch.nn.functional.max_pool2d(torch.tensor(X), 2, dilation=0)),
    Case("avg_pool2d kernel 0", lambda env: F.avg_pool2d(mg.tensor(X), 0), RuntimeError,
         r"avg_pool2d: kernel_size must be positive, got kernel_size=\(0, 0\)",
         lambda torch: torch.nn.functional.avg_pool2d(torch.tensor(X), 0)),
    Case("avg_pool2d negative stride", lambda env: F.avg_pool2d(mg.tensor(X), 2, -2),
         RuntimeError, r"avg_pool2d: stride must be positive, got stride=\(-2, -2\)",
         lambda torch: torch.nn.functional.avg_pool2d(torch.tensor(X), 2, -2)),
    Case("avg_pool2d padding over half the kernel",
         lambda env: F.avg_pool2d(mg.tensor(X), 3, 1, 2), RuntimeError,
         r"avg_pool2d: pad should be at most half .*padding=\(2, 2\), kernel_size=\(3, 3\)",
         lambda torch: torch.nn.functional.avg_pool2d(torch.tensor(X), 3, 1, 2)),
    Case("avg_pool2d 2-D input", lambda env: F.avg_pool2d(mg.ones(8, 8), 2), RuntimeError,
         r"avg_pool2d: expected a 3-D .* or 4-D .* input, got input of shape \(8, 8\)",
         # PyTorch's "Dimension out of range" IndexError here is an accident of its
         # implementation; max_pool2d raises RuntimeError for the same mistake
         lambda torch: torch.nn.functional.avg_pool2d(torch.ones(8, 8), 2),
         torch_error=IndexError),
    Case("MaxPool2d layer padding", lambda env: nn.MaxPool2d(2, padding=3)(mg.ones(1, 1, 4, 4)),
         RuntimeError, r"MaxPool2d: max_pool2d: pad should be at most half .*padding=\(3, 3\)",
         lambda torch: torch.nn.MaxPool2d(2, padding=3)(torch.ones(1, 1, 4, 4))),
    Case("adaptive_avg_pool2d negative size",
         lambda env: F.adaptive_avg_pool2d(mg.tensor(X), -1), RuntimeError,
         r"adaptive_avg_pool2d: output_size must be non-negative, got \(-1, -1\)",
         lambda torch: torch.nn.functional.adaptive_avg_pool2d(torch.tensor(X), -1)),
    # ---- cross_entropy targets -------------------------------------------------------------
    Case("cross_entropy target above the classes",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([0, 1, 2, 3])), IndexError,
         r"cross_entropy: Target 3 is out of bounds\. \(targets must lie in \[0, 3\) for 3 "
         r"classes",
         lambda torch: torch.nn.functional.cross_entropy(torch.tensor(LOGITS),
                                                         torch.tensor([0, 1, 2, 3]))),
    Case("cross_entropy negative target",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([0, 1, 2, -2])), IndexError,
         r"cross_entropy: Target -2 is out of bounds.*ignore_index=-100",
         lambda torch: torch.nn.functional.cross_entropy(torch.tensor(LOGITS),
                                                         torch.tensor([0, 1, 2, -2]))),
    Case("cross_entropy float target",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([0.0, 1.0, 2.0, 1.0])),
         RuntimeError, r"cross_entropy: expected target dtype to be Long or Byte .*but got "
                       r"float32 \(target \(4,\), input \(4, 3\)\)",
         lambda torch: torch.nn.functional.cross_entropy(torch.tensor(LOGITS),
                                                         torch.tensor([0.0, 1.0, 2.0, 1.0]))),
    Case("cross_entropy int32 target",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([0, 1, 2, 1],
                                                                  dtype=mg.int32)),
         RuntimeError, "cross_entropy: expected target dtype to be Long or Byte .*but got int32",
         lambda torch: torch.nn.functional.cross_entropy(
             torch.tensor(LOGITS), torch.tensor([0, 1, 2, 1], dtype=torch.int32))),
    Case("cross_entropy target rank",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([[0], [1], [2], [1]])),
         RuntimeError, r"cross_entropy: 0D or 1D target tensor expected, multi-target not "
                       r"supported \(input \(4, 3\), target \(4, 1\)\)",
         lambda torch: torch.nn.functional.cross_entropy(torch.tensor(LOGITS),
                                                         torch.tensor([[0], [1], [2], [1]]))),
    Case("cross_entropy batch sizes",
         lambda env: F.cross_entropy(mg.tensor(LOGITS), mg.tensor([0, 1, 2])), ValueError,
         r"cross_entropy: Expected input batch_size \(4\) to match target batch_size \(3\)",
         lambda torch: torch.nn.functional.cross_entropy(torch.tensor(LOGITS),
                                                         torch.tensor([0, 1, 2]))),
    Case("cross_entropy spatial target size",
         lambda env: F.cross_entropy(mg.zeros(4, 3, 2), mg.tensor([0, 1, 2, 1])), RuntimeError,
         r"cross_entropy: Expected target size \[4, 2\], got \[4\]",
         lambda torch: torch.nn.functional.cross_entropy(torch.zeros(4, 3, 2),
                                                         torch.tensor([0, 1, 2, 1]))),
    Case("nll_loss target out of range",
         lambda env: F.nll_loss(mg.tensor(LOGITS), mg.tensor([0, 1, 2, 3])), IndexError,
         "nll_loss: Target 3 is out of bounds",
         lambda torch: torch.nn.functional.nll_loss(torch.tensor(LOGITS),
                                                    torch.tensor([0, 1, 2, 3]))),
    # ---- autograd --------------------------------------------------------------------------
    Case("backward on a non-scalar", lambda env: (mg.ones(3, requires_grad=True) * 2).backward(),
         RuntimeError, r"grad can be implicitly created only for scalar outputs \(output has "
                       r"shape \(3,\)\)",
         lambda torch: (torch.ones(3, requires_grad=True) * 2).backward()),
    Case("requires grad on an integer tensor",
         lambda env: mg.tensor([1, 2], requires_grad=True), RuntimeError,
         r"only Tensors of floating point dtype can require gradients \(got dtype int64\)",
         lambda torch: torch.tensor([1, 2], requires_grad=True)),
    Case("requires_grad_ on an integer tensor", lambda env: mg.tensor([1, 2]).requires_grad_(),
         RuntimeError, r"floating point dtype can require gradients \(got dtype int64\)",
         lambda torch: torch.tensor([1, 2]).requires_grad_()),
    Case("second backward without retain_graph", lambda env: env["y"].backward(), RuntimeError,
         "Trying to backward through the graph a second time.*retain_graph=True",
         lambda torch: (lambda y: (y.backward(), y.backward()))(
             (torch.ones(3, requires_grad=True) ** 2).sum()),
         setup=_twice_env, state=lambda env: env["x"].grad.numpy().copy()),
    Case("backward of a tensor without grad", lambda env: mg.ones(3).sum().backward(),
         RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn",
         lambda torch: torch.ones(3).sum().backward()),
    Case("backward with a gradient of another shape",
         lambda env: (mg.ones(3, requires_grad=True) * 2).backward(mg.ones(2)), RuntimeError,
         r"Mismatch in shape: grad_output\[0\] has a shape of \(2,\) and output\[0\] has a "
         r"shape of \(3,\)",
         lambda torch: (torch.ones(3, requires_grad=True) * 2).backward(torch.ones(2))),
    Case("in-place on a leaf that requires grad", lambda env: env["leaf"].add_(1), RuntimeError,
         r"a leaf Variable that requires grad is being used in an in-place operation.*add_ on "
         r"a tensor of shape \(3,\)",
         lambda torch: torch.ones(3, requires_grad=True).add_(1),
         setup=_tensor_env, state=_tensor_state),
    Case("in-place broadcast to a bigger shape", lambda env: env["x"].add_(mg.ones(2, 3)),
         RuntimeError, r"add_: output with shape \[3\] doesn't match the broadcast shape \[2, 3\]",
         lambda torch: torch.ones(3).add_(torch.ones(2, 3)),
         setup=_tensor_env, state=_tensor_state),
    Case("in-place float into an integer tensor",
         lambda env: mg.tensor([1, 2]).mul_(1.5), RuntimeError,
         "mul_: result type float32 can't be cast to the desired output type int64",
         lambda torch: torch.tensor([1, 2]).mul_(1.5)),
    Case("setitem value shape", lambda env: env["x"].__setitem__(slice(0, 2), mg.ones(3)),
         RuntimeError, r"setitem: shape mismatch: value tensor of shape \[3\] cannot be "
                       r"broadcast to indexing result of shape \[2\]",
         lambda torch: torch.ones(3).__setitem__(slice(0, 2), torch.ones(3)),
         setup=_tensor_env, state=_tensor_state),
    # ---- shapes and indices ----------------------------------------------------------------
    Case("reshape to a wrong size", lambda env: mg.tensor(A).reshape(4, 2), RuntimeError,
         r"reshape: shape '\[4, 2\]' is invalid for input of size 6",
         lambda torch: torch.tensor(A).reshape(4, 2)),
    Case("view across strides", lambda env: mg.tensor(A).t().view(6), RuntimeError,
         r"view: view size is not compatible with input tensor's size and stride.*"
         r"shape \(3, 2\) to \(6,\)",
         lambda torch: torch.tensor(A).t().view(6)),
    Case("index out of range", lambda env: mg.tensor(A)[5], IndexError,
         r"getitem: index 5 is out of bounds for dimension 0 with size 2 \(shape \(2, 3\)\)",
         lambda torch: torch.tensor(A)[5]),
    Case("sum over a missing dim", lambda env: mg.tensor(A).sum(2), IndexError,
         r"sum: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)",
         lambda torch: torch.tensor(A).sum(2)),
    Case("cat of mismatched shapes", lambda env: mg.cat([mg.tensor(A), mg.tensor(B)], 0),
         RuntimeError, r"cat\(\): Sizes of tensors must match except in dimension 0.*"
                       r"Expected size 3 but got size 2",
         lambda torch: torch.cat([torch.tensor(A), torch.tensor(B)], 0)),
    # ---- load_state_dict: model unchanged --------------------------------------------------
    Case("load_state_dict missing key",
         lambda env: env["model"].load_state_dict({"weight": mg.zeros(2, 3)}), RuntimeError,
         r'Error\(s\) in loading state_dict for Linear:\n\tMissing key\(s\) in state_dict: '
         r'"bias"',
         lambda torch: torch.nn.Linear(3, 2).load_state_dict({"weight": torch.zeros(2, 3)}),
         setup=_linear_env, state=_model_state),
    Case("load_state_dict unexpected key",
         lambda env: env["model"].load_state_dict({"weight": mg.zeros(2, 3), "bias": mg.zeros(2),
                                                   "scale": mg.ones(1)}),
         RuntimeError, r'Unexpected key\(s\) in state_dict: "scale"',
         lambda torch: torch.nn.Linear(3, 2).load_state_dict(
             {"weight": torch.zeros(2, 3), "bias": torch.zeros(2), "scale": torch.ones(1)}),
         setup=_linear_env, state=_model_state),
    Case("load_state_dict misshaped key",
         lambda env: env["model"].load_state_dict({"weight": mg.zeros(3, 2),
                                                   "bias": mg.zeros(2)}),
         RuntimeError, r"size mismatch for weight: copying a param with shape \(3, 2\) from "
                       r"checkpoint, the shape in current model is \(2, 3\)",
         lambda torch: torch.nn.Linear(3, 2).load_state_dict(
             {"weight": torch.zeros(3, 2), "bias": torch.zeros(2)}),
         setup=_linear_env, state=_model_state),
    Case("load_state_dict of a list", lambda env: env["model"].load_state_dict([1]), TypeError,
         "Expected state_dict to be dict-like, got <class 'list'>",
         lambda torch: torch.nn.Linear(3, 2).load_state_dict([1]),
         setup=_linear_env, state=_model_state),
    # ---- optimizers ------------------------------------------------------------------------
    Case("optimizer given a non-parameter", lambda env: optim.SGD([mg.ones(2), 1.0], lr=0.1),
         TypeError, "optimizer can only optimize Tensors, but one of the params is float",
         lambda torch: torch.optim.SGD([torch.ones(2), 1.0], lr=0.1)),
    Case("optimizer given an empty list", lambda env: optim.Adam([]), ValueError,
         "optimizer got an empty parameter list", lambda torch: torch.optim.Adam([])),
    Case("optimizer given a tensor", lambda env: optim.SGD(mg.ones(2), lr=0.1), TypeError,
         "params argument given to the optimizer should be an iterable of Tensors or dicts, "
         "but got minigrad.Tensor", lambda torch: torch.optim.SGD(torch.ones(2), lr=0.1)),
    Case("optimizer given a non-leaf",
         lambda env: optim.SGD([mg.ones(2, requires_grad=True) * 2], lr=0.1), ValueError,
         "can't optimize a non-leaf Tensor",
         lambda torch: torch.optim.SGD([torch.ones(2, requires_grad=True) * 2], lr=0.1)),
    Case("optimizer negative lr", lambda env: optim.SGD([mg.ones(2)], lr=-1), ValueError,
         "Invalid learning rate: -1", lambda torch: torch.optim.SGD([torch.ones(2)], lr=-1)),
    Case("Adam beta of 1", lambda env: optim.Adam([mg.ones(2)], betas=(1.0, 0.9)), ValueError,
         "Invalid beta parameter at index 0: 1.0",
         lambda torch: torch.optim.Adam([torch.ones(2)], betas=(1.0, 0.9))),
    Case("optimizer step with a misshaped grad",
         lambda env: (setattr(env["model"].weight, "grad", mg.ones(3)),
                      optim.SGD(env["model"].parameters(), lr=0.1).step()),
         RuntimeError, r"SGD.step: grad of parameter 0 has shape \(3,\), the parameter has "
                       r"shape \(2, 3\)",
         setup=_linear_env, state=_model_state),
    Case("optimizer state of another model",
         lambda env: env["optimizer"].load_state_dict(
             optim.SGD([nn.Parameter(mg.ones(2))], lr=0.1).state_dict()),
         ValueError, "loaded state dict contains a parameter group that doesn't match the size "
                     "of optimizer's group",
         lambda torch: torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1)
         .load_state_dict(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))],
                                          lr=0.1).state_dict()),
         setup=_model_env, state=_model_state),
    # ---- data ------------------------------------------------------------------------------
    Case("DataLoader batch_size 0",
         lambda env: data.DataLoader(data.TensorDataset(mg.ones(4)), batch_size=0), ValueError,
         "batch_size should be a positive integer value, but got batch_size=0",
         lambda torch: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
             torch.ones(4)), batch_size=0)),
    Case("DataLoader batch_size 2.5",
         lambda env: data.DataLoader(data.TensorDataset(mg.ones(4)), batch_size=2.5), ValueError,
         "batch_size should be a positive integer value, but got batch_size=2.5",
         lambda torch: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
             torch.ones(4)), batch_size=2.5)),
    Case("TensorDataset of different lengths",
         lambda env: data.TensorDataset(mg.ones(4), mg.ones(3)), ValueError,
         r"TensorDataset: size mismatch between tensors: first dimensions are 4, 3",
         # PyTorch checks this with `assert` (gone under python -O); ours is a ValueError
         lambda torch: torch.utils.data.TensorDataset(torch.ones(4), torch.ones(3)),
         torch_error=AssertionError),
    Case("data set files missing", lambda env: data.FashionMNIST(root=env["tmp"]),
         FileNotFoundError, r"FashionMNIST: missing train-images-idx3-ubyte\.gz, "
                            r"train-labels-idx1-ubyte\.gz in .*pass root=",
         setup=lambda tmp: {"tmp": tmp}),
    Case("data set file truncated",
         lambda env: data.FashionMNIST(root=_truncate(
             env["root"] / "train-images-idx3-ubyte.gz", 40).parent),
         ValueError, r"train-images-idx3-ubyte\.gz is not a valid IDX file",
         setup=_fashion_env),
    Case("IDX data cut short",
         lambda env: data.read_idx(_truncate(env["root"] / "raw.idx", 20)), ValueError,
         r"raw\.idx is not a valid IDX file: truncated: shape \(4, 28, 28\) of uint8 needs "
         r"3136 bytes of data, found 4",
         setup=lambda tmp: (data.write_idx(tmp / "raw.idx", np.zeros((4, 28, 28), np.uint8)),
                            {"root": tmp})[1]),
    Case("IDX file that is something else",
         lambda env: data.read_idx((env["root"] / "notes.idx", (env["root"] / "notes.idx")
                                    .write_text("hello"))[0]),
         ValueError, r"notes\.idx is not a valid IDX file: bad magic number 0x68656c6c",
         setup=lambda tmp: {"root": tmp}),
    # ---- checkpoints: error, and the model, optimizer, scheduler and RNG as they were ------
    Case("checkpoint truncated",
         lambda env: load_checkpoint(_damaged(env["tmp"], "cut.safetensors",
                                              lambda raw: raw[:len(raw) // 2]),
                                     env["model"], env["optimizer"], env["scheduler"]),
         ValueError, r"cut\.safetensors is not a valid safetensors checkpoint: truncated",
         setup=_model_env, state=_model_state),
    Case("checkpoint that is not safetensors",
         lambda env: load_checkpoint(_damaged(env["tmp"], "notes.safetensors",
                                              lambda raw: b"# just some notes\n" * 4),
                                     env["model"], env["optimizer"]),
         ValueError, r"notes\.safetensors is not a valid safetensors checkpoint: header size",
         setup=_model_env, state=_model_state),
    Case("save_checkpoint with path and model swapped",
         lambda env: save_checkpoint(env["model"], env["tmp"] / "swapped.safetensors"),
         TypeError, r"save_checkpoint: path must be a str or os\.PathLike, got LeNet5 \(path "
                    r"and model swapped\?\); the order is save_checkpoint\(path, model",
         setup=_model_env, state=_model_state),
    Case("load_checkpoint with path and model swapped",
         lambda env: load_checkpoint(env["model"], env["tmp"] / "good.safetensors"),
         TypeError, r"load_checkpoint: path must be a str or os\.PathLike, got LeNet5",
         setup=_model_env, state=_model_state),
    Case("load_checkpoint with the optimizer where the model goes",
         lambda env: load_checkpoint(env["tmp"] / "good.safetensors", env["optimizer"]),
         TypeError, r"load_checkpoint: model must be a minigrad\.nn\.Module, got SGD",
         setup=_model_env, state=_model_state),
    Case("save_checkpoint with a float epoch",
         lambda env: save_checkpoint(env["tmp"] / "e.safetensors", env["model"], epoch=1.5),
         TypeError, r"save_checkpoint: epoch must be an int, got float",
         setup=_model_env, state=_model_state),
    Case("checkpoint missing", lambda env: load_checkpoint(env["tmp"] / "none.safetensors",
                                                           env["model"]),
         FileNotFoundError, r"none\.safetensors", setup=_model_env, state=_model_state),
    Case("checkpoint that is a bare state dict",
         lambda env: load_checkpoint((env["tmp"] / "weights.safetensors",
                                      mg.save(env["model"].state_dict(),
                                              env["tmp"] / "weights.safetensors"))[0],
                                     env["model"]),
         ValueError, r"weights\.safetensors is not a training checkpoint: it has no 'model' "
                     r"state dict \(top-level keys \['conv1\.bias'",
         setup=_model_env, state=_model_state),
    Case("checkpoint holding a misshaped weight",
         lambda env: load_checkpoint(_checkpoint_with(
             env, "shape.safetensors", lambda s: _set(s, ("model", "fc3.weight"), mg.zeros(10, 3))),
             env["model"], env["optimizer"], env["scheduler"]),
         RuntimeError, r"size mismatch for fc3\.weight: copying a param with shape \(10, 3\)",
         setup=_model_env, state=_model_state),
    Case("checkpoint holding integer weights",
         lambda env: load_checkpoint(_checkpoint_with(
             env, "ints.safetensors",
             lambda s: _set(s, ("model", "fc3.weight"), mg.zeros(10, 84, dtype=mg.int64))),
             env["model"], env["optimizer"], env["scheduler"]),
         TypeError, r"ints\.safetensors: 'model\.fc3\.weight' has dtype int64, but the model's "
                    r"fc3\.weight is float32 \(shape \(10, 84\)\)",
         setup=_model_env, state=_model_state),
    Case("checkpoint holding misshaped optimizer state",
         lambda env: load_checkpoint(_checkpoint_with(
             env, "momentum.safetensors",
             lambda s: _set(s, ("optimizer", "state", 0, "momentum_buffer"), mg.zeros(2))),
             env["model"], env["optimizer"], env["scheduler"]),
         ValueError, r"load_state_dict: state 'momentum_buffer' of parameter 0 has shape "
                     r"\(2,\), the parameter has shape \(6, 1, 5, 5\)",
         setup=_model_env, state=_model_values),
    Case("checkpoint holding a bad RNG state",
         lambda env: load_checkpoint(_checkpoint_with(
             env, "rng.safetensors", lambda s: _set(s, ("rng_state", "bit_generator"), "MT19937")),
             env["model"], env["optimizer"], env["scheduler"]),
         ValueError, "state must be for a PCG64 RNG",
         setup=_model_env, state=_model_values),
    Case("save of something that is not a dict",
         lambda env: mg.save([env["model"].state_dict()], env["good"]), TypeError,
         "save: expected a dict .*got list",
         setup=_model_env, state=lambda env: env["good"].read_bytes()),
]


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def test_the_table_is_big_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len(set(_ids(CASES))) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_bad_input_raises_a_clear_error_and_changes_nothing(case, tmp_path):
    env = case.setup(tmp_path) if case.setup else {}
    before = case.state(env) if case.state else None
    with pytest.raises(case.error, match=case.match):
        case.call(env)
    if case.state:
        _assert_same(case.state(env), before)


WITH_TORCH = [case for case in CASES if case.torch is not None]


@pytest.mark.filterwarnings("ignore:Using a target size")  # torch's mse_loss warns first
@pytest.mark.parametrize("case", WITH_TORCH, ids=_ids(WITH_TORCH))
def test_pytorch_raises_the_same_type_for_the_same_mistake(case):
    torch = pytest.importorskip("torch")
    expected = case.torch_error or case.error
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is checked below
        case.torch(torch)
    assert type(caught.value) is expected or (
        expected is not case.error and isinstance(caught.value, expected)), (
        f"torch raised {type(caught.value).__name__}: {caught.value}")


def _assert_same(after: Any, before: Any) -> None:
    if isinstance(before, dict):
        assert after.keys() == before.keys()
        for key in before:
            _assert_same(after[key], before[key])
    elif isinstance(before, (list, tuple)):
        assert len(after) == len(before)
        for one, other in zip(after, before):
            _assert_same(one, other)
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(after, before)
    else:
        assert after == before
