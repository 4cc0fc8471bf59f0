"""Run one call in minigrad and in PyTorch on the same arrays and compare everything:
the output, the gradients of every differentiable input, and (optionally) the second
derivatives d/d(inputs, w) of sum(grad(call, inputs, w) * v).

A call is `call(lib, *tensors)` where `lib` has `F`, `nn` and `tensor(array)`, so one lambda
serves both frameworks: `lambda lib, x: lib.F.softplus(x, beta=2)`.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, nn


class Framework:
    """minigrad or torch behind one face: F, nn, grad, and tensors from NumPy arrays."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch

            self.torch = torch
            self.F, self.nn, self.grad = torch.nn.functional, torch.nn, torch.autograd.grad
            self.tensor = lambda array, grad=False: torch.tensor(np.asarray(array),
                                                                 requires_grad=grad)
        else:
            self.torch = mg
            self.F, self.nn, self.grad = F, nn, autograd.grad
            self.tensor = lambda array, grad=False: mg.tensor(np.asarray(array),
                                                              requires_grad=grad)


def _numpy(value):
    if value is None:
        return None
    if getattr(value, "_is_zerotensor", lambda: False)():  # PyTorch's symbolic zeros
        return np.zeros(tuple(value.shape), dtype=str(value.dtype).replace("torch.", ""))
    return value.detach().numpy()


def run(lib, call, arrays, differentiable=None, second=True, seed=0):
    """(output, first gradients, second derivatives or None) as NumPy arrays."""
    rng = np.random.default_rng(seed)
    differentiable = differentiable or [True] * len(arrays)
    inputs = [lib.tensor(array, grad=flag) for array, flag in zip(arrays, differentiable)]
    output = call(lib, *inputs)
    dtype = output.detach().numpy().dtype
    weight = lib.tensor(np.asarray(rng.standard_normal(tuple(output.shape)), dtype=dtype),
                        grad=second)
    wrt = [tensor for tensor in inputs if tensor.requires_grad]
    grads = lib.grad([output], wrt, grad_outputs=[weight], create_graph=second,
                     allow_unused=True)
    firsts = [_numpy(g) for g in grads]
    if not second:
        return _numpy(output), firsts, None
    vectors = [lib.tensor(np.asarray(rng.standard_normal(tuple(t.shape)), dtype=t.detach()
                                     .numpy().dtype)) for t in wrt]
    dot = sum((g * v).sum() for g, v in zip(grads, vectors) if g is not None)
    if not getattr(dot, "requires_grad", False):
        return _numpy(output), firsts, [None] * (len(wrt) + 1)
    seconds = lib.grad([dot], wrt + [weight], allow_unused=True)
    return _numpy(output), firsts, [_numpy(g) for g in seconds]


def assert_matches_torch(call, arrays, differentiable=None, second=True, tolerance=None):
    """minigrad's output, gradients and second derivatives equal PyTorch's."""
    pytest.importorskip("torch")
    dtype = next(np.asarray(a).dtype for a in arrays if np.asarray(a).dtype.kind == "f")
    if tolerance is None:
        tolerance = 1e-9 if dtype == np.float64 else 2e-5
    ours = run(Framework("minigrad"), call, arrays, differentiable, second)
    theirs = run(Framework("torch"), call, arrays, differentiable, second)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tolerance, atol=tolerance,
                               err_msg="forward")
    assert ours[0].dtype == theirs[0].dtype, (ours[0].dtype, theirs[0].dtype)
    for kind, mine, reference in (("gradient", ours[1], theirs[1]),
                                  ("second derivative", ours[2], theirs[2])):
        if reference is None:
            continue
        for index, (a, b) in enumerate(zip(mine, reference)):
            if b is None or a is None:
                assert (a is None or not a.any()) and (b is None or not b.any()), (kind, index)
                continue
            assert a.dtype == b.dtype, (kind, index, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, rtol=tolerance * 10, atol=tolerance * 10,
                                       err_msg=f"{kind} {index}")


def push_off(values: np.ndarray, kinks, gap: float = 0.05) -> np.ndarray:
    """Move values within `gap` of a kink to kink +- gap (finite differences stay on one side)."""
    values = np.array(values, dtype=np.float64)
    for kink in kinks:
        near = np.abs(values - kink) < gap
        values = np.where(near, np.where(values < kink, kink - gap, kink + gap), values)
    return values
