"""Compare a minigrad function of several tensors with PyTorch's: value, first gradients of
every input, and the second derivative (a Hessian-vector product through create_graph=True).

Used by tests (normalization, resample, padding); torch is imported only when called.
"""

import numpy as np

import minigrad as mg
from minigrad import autograd

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
