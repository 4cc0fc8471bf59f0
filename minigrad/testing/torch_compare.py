"""Run the same call in minigrad and PyTorch and compare them (PyTorch is imported only
when a helper is called; tests importorskip it first).

`compare_with_torch`: values, dtypes, shapes and input gradients of one call.
`assert_matches_torch`: value, first gradients of every input and the second derivative (a
Hessian-vector product through create_graph=True).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import autograd

from ..engine import Tensor

__all__ = ["assert_matches_torch", "compare_with_torch"]

def _outputs(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _outputs(part)]
    return [value]


def _tolerance(dtype: np.dtype) -> tuple[float, float]:
    return (1e-4, 1e-5) if dtype == np.float32 else (1e-7, 1e-9)


def compare_with_torch(ours: Callable[..., Any], theirs: Callable[..., Any],
                       arrays: Sequence[np.ndarray], *, grad: bool = True, seed: int = 0,
                       rtol: float | None = None, atol: float | None = None,
                       check_dtype: bool = True) -> list[Tensor]:
    """Call `ours(*tensors)` and `theirs(*torch_tensors)` on the same arrays (float arrays
    require grad when `grad`), assert equal outputs, then backpropagate the same random
    weighting of every float output in both and assert equal input gradients.

    Returns minigrad's outputs, flattened."""
    import torch

    float_inputs = [np.asarray(array).dtype.kind == "f" for array in arrays]
    ours_in = [Tensor._from_op(np.array(array)) for array in arrays]
    theirs_in = [torch.from_numpy(np.array(array)) for array in arrays]
    for needs, mine, other in zip(float_inputs, ours_in, theirs_in):
        if needs and grad:
            mine.requires_grad_(True)
            other.requires_grad_(True)
    got = _outputs(ours(*ours_in))
    want = _outputs(theirs(*theirs_in))
    if len(got) != len(want):
        raise AssertionError(f"{len(got)} outputs, PyTorch gives {len(want)}")
    rng = np.random.default_rng(seed)
    weights = []
    for position, (mine, other) in enumerate(zip(got, want)):
        if not isinstance(other, torch.Tensor):
            if mine != other:
                raise AssertionError(f"output {position}: {mine!r}, PyTorch {other!r}")
            weights.append(None)
            continue
        expected = other.detach().numpy()
        actual = mine.detach().numpy() if isinstance(mine, Tensor) else np.asarray(mine)
        if actual.shape != expected.shape:
            raise AssertionError(f"output {position}: shape {actual.shape}, PyTorch "
                                 f"{expected.shape}")
        if check_dtype and actual.dtype != expected.dtype:
            raise AssertionError(f"output {position}: dtype {actual.dtype}, PyTorch "
                                 f"{expected.dtype}")
        default_rtol, default_atol = _tolerance(expected.dtype)
        np.testing.assert_allclose(actual, expected, rtol=rtol or default_rtol,
                                   atol=atol or default_atol, equal_nan=True,
                                   err_msg=f"output {position}")
        differentiable = grad and other.requires_grad and expected.dtype.kind == "f"
        weights.append(rng.standard_normal(expected.shape).astype(expected.dtype)
                       if differentiable else None)
    if not grad or not any(weight is not None for weight in weights):
        return got
    ours_loss = sum((mine * Tensor._from_op(weight)).sum()
                    for mine, weight in zip(got, weights) if weight is not None)
    theirs_loss = sum((other * torch.from_numpy(weight)).sum()
                      for other, weight in zip(want, weights) if weight is not None)
    leaves = [(mine, other) for mine, other in zip(ours_in, theirs_in) if other.requires_grad]
    if ours_loss.requires_grad:
        ours_loss.backward()
    if theirs_loss.requires_grad:
        theirs_loss.backward()
    for position, (mine, other) in enumerate(leaves):
        expected = np.zeros(other.shape, dtype=other.dtype.__str__().removeprefix("torch.")) \
            if other.grad is None else other.grad.numpy()
        actual = np.zeros_like(expected) if mine.grad is None else mine.grad.numpy()
        if actual.dtype != expected.dtype:
            raise AssertionError(f"gradient {position}: dtype {actual.dtype}, PyTorch "
                                 f"{expected.dtype}")
        default_rtol, default_atol = _tolerance(expected.dtype)
        np.testing.assert_allclose(actual, expected, rtol=rtol or default_rtol,
                                   atol=atol or default_atol, err_msg=f"gradient {position}")
    return got


TOLERANCES = {"float32": {"rtol": 2e-4, "atol": 2e-5}, "float64": {"rtol": 1e-7, "atol": 1e-9}}


def _run(framework, function, arrays, weights, directions, dtype, second_order):
    if framework == "torch":
        import torch

        leaves = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
                  for a in arrays]
        output = function(*leaves)
        total = (output * torch.tensor(weights, dtype=output.dtype)).sum()
        firsts = torch.autograd.grad(total, leaves, create_graph=second_order,
                                     allow_unused=True)
        firsts = [torch.zeros_like(leaf) if g is None else g for g, leaf in zip(firsts, leaves)]
        seconds = []
        if second_order:
            inner = sum((g * torch.tensor(v, dtype=g.dtype)).sum()
                        for g, v in zip(firsts, directions))
            if inner.requires_grad:
                seconds = torch.autograd.grad(inner, leaves, allow_unused=True)
            else:  # a linear op: its gradient is constant
                seconds = [None] * len(leaves)
            seconds = [np.zeros(a.shape) if s is None else s.detach().numpy()
                       for s, a in zip(seconds, arrays)]
        return (output.detach().numpy(), [g.detach().numpy() for g in firsts], seconds,
                str(output.dtype).replace("torch.", ""))
    leaves = [mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
    output = function(*leaves)
    total = (output * mg.tensor(weights.astype(dtype))).sum()
    firsts = autograd.grad(total, leaves, create_graph=second_order, allow_unused=True)
    firsts = [mg.zeros(*leaf.shape, dtype=dtype) if g is None else g
              for g, leaf in zip(firsts, leaves)]
    for g in firsts:
        assert g.dtype == np.dtype(dtype), f"gradient dtype {g.dtype}, expected {dtype}"
    seconds = []
    if second_order:
        inner = None
        for g, v in zip(firsts, directions):
            term = (g * mg.tensor(v.astype(dtype))).sum()
            inner = term if inner is None else inner + term
        if inner.requires_grad:
            seconds = autograd.grad(inner, leaves, allow_unused=True)
            seconds = [np.zeros(a.shape) if s is None else s.detach().numpy()
                       for s, a in zip(seconds, arrays)]
        else:
            seconds = [np.zeros(np.shape(a)) for a in arrays]
    return (output.detach().numpy(), [g.detach().numpy() for g in firsts], seconds,
            str(output.dtype))


def assert_matches_torch(function, torch_function, arrays, dtype="float64",
                         second_order=True, seed=0, tolerances=None):
    """function(*tensors) against torch_function(*torch tensors): value, gradients and
    Hessian-vector products for every input, in `dtype`."""
    import pytest

    pytest.importorskip("torch")
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    rng = np.random.default_rng(seed)
    import torch

    out_shape = torch_function(*[torch.tensor(a) for a in arrays]).shape
    weights = rng.standard_normal(tuple(out_shape))
    directions = [rng.standard_normal(a.shape) for a in arrays]
    ours = _run("minigrad", function, arrays, weights, directions, dtype, second_order)
    theirs = _run("torch", torch_function, arrays, weights, directions, dtype, second_order)
    tol = tolerances or TOLERANCES[dtype]
    assert ours[3] == theirs[3] == dtype
    np.testing.assert_allclose(ours[0], theirs[0], **tol, err_msg="forward")
    for index, (a, b) in enumerate(zip(ours[1], theirs[1])):
        np.testing.assert_allclose(a, b, **tol, err_msg=f"gradient of input {index}")
    for index, (a, b) in enumerate(zip(ours[2], theirs[2])):
        np.testing.assert_allclose(a, b, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10,
                                   err_msg=f"second derivative of input {index}")


def _call_named(library: Any, name: str, arguments: list, leading: tuple, kwargs: dict) -> Any:
    return getattr(library, name)(*leading, *arguments, **kwargs)


def named_op_matches_torch(name: str, inputs: Sequence[np.ndarray], rtol: float = 1e-5,
                           atol: float = 1e-6, leading: tuple = (), **kwargs: Any) -> None:
    """`minigrad.<name>` against `torch.<name>` on the same arrays: shape, dtype, values and
    the float inputs' gradients of a weighted sum. `leading` are plain arguments passed before
    the tensors (polygamma's order n)."""
    import pytest

    torch = pytest.importorskip("torch")
    ours = [mg.tensor(array, requires_grad=array.dtype.kind == "f") for array in inputs]
    theirs = [torch.tensor(array, requires_grad=array.dtype.kind == "f") for array in inputs]
    out = _call_named(mg, name, ours, leading, kwargs)
    expected = _call_named(torch, name, theirs, leading, kwargs)
    assert out.shape == tuple(expected.shape)
    assert str(expected.dtype) == f"torch.{out.dtype}"
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    if not out.requires_grad:
        return
    weights = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs):
        if mine.requires_grad:
            assert mine.grad.dtype == mine.dtype
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(force=True),
                                       rtol=rtol, atol=atol)


def named_op_second_derivative_matches_torch(name: str, inputs: Sequence[np.ndarray],
                                             leading: tuple = (), **kwargs: Any) -> None:
    """grad of (grad of `minigrad.<name>` . v) . w with create_graph, against PyTorch's, in
    float64, for every input."""
    import pytest

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ours = [mg.tensor(array, requires_grad=True) for array in inputs]
    theirs = [torch.tensor(array, requires_grad=True) for array in inputs]
    out = _call_named(mg, name, ours, leading, kwargs)
    expected = _call_named(torch, name, theirs, leading, kwargs)
    v = rng.standard_normal(out.shape)
    ws = [rng.standard_normal(array.shape) for array in inputs]
    firsts = autograd.grad(out, ours, grad_outputs=mg.tensor(v), create_graph=True)
    seconds = autograd.grad(firsts, ours, grad_outputs=[mg.tensor(w) for w in ws],
                            allow_unused=True, materialize_grads=True)
    t_firsts = torch.autograd.grad(expected, theirs, grad_outputs=torch.tensor(v),
                                   create_graph=True)
    t_seconds = torch.autograd.grad(t_firsts, theirs,
                                    grad_outputs=[torch.tensor(w) for w in ws],
                                    allow_unused=True, materialize_grads=True)
    for mine, reference in zip(seconds, t_seconds):
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-7,
                                   atol=1e-9)
