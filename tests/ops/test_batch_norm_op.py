"""The fused batch-norm op (ops/batch_norm.py) against PyTorch's F.batch_norm(training=True):
output, the three gradients and second derivatives, float32 and float64, with and without
weight and bias; gradcheck and gradgradcheck in float64; float32 stays float32."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import autograd
from minigrad.ops.batch_norm import batch_norm_train
from minigrad.testing import gradcheck, gradgradcheck

FEW = settings(max_examples=6, deadline=None)
SHAPES = st.sampled_from([(4, 3), (3, 2, 5), (2, 3, 4, 4), (5, 1, 2, 3), (2, 4, 1, 1)])


def _inputs(shape, dtype, seed, affine=True):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    if not affine:
        return x, None, None
    channels = shape[1]
    return (x, rng.uniform(0.5, 1.5, channels).astype(dtype),
            rng.standard_normal(channels).astype(dtype))


def _ours(x, weight, bias, eps=1e-5):
    leaves = [None if a is None else mg.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    statistics = []
    out = batch_norm_train(*leaves, eps, statistics)
    return leaves, out, statistics


def _theirs(torch, x, weight, bias, eps=1e-5):
    leaves = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    out = torch.nn.functional.batch_norm(leaves[0], None, None, leaves[1], leaves[2],
                                         training=True, eps=eps)
    return leaves, out


@FEW
@given(shape=SHAPES, dtype=st.sampled_from([np.float32, np.float64]), affine=st.booleans(),
       seed=st.integers(0, 100))
def test_forward_and_gradients_match_torch(shape, dtype, affine, seed):
    torch = pytest.importorskip("torch")
    x, weight, bias = _inputs(shape, dtype, seed, affine)
    g = np.random.default_rng(seed + 1).standard_normal(shape).astype(dtype)
    ours, out, statistics = _ours(x, weight, bias)
    theirs, expected = _theirs(torch, x, weight, bias)
    tol = ({"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32
           else {"rtol": 1e-10, "atol": 1e-12})
    assert out.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tol)
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(statistics[0], x.mean(axis=axes), **tol)
    np.testing.assert_allclose(statistics[1], x.var(axis=axes), **tol)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    for mine, theirs_leaf in zip(ours, theirs):
        if mine is None:
            continue
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), theirs_leaf.grad.numpy(), **tol)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(5, 2), (2, 3, 2, 2)])
def test_second_derivatives_match_torch(shape, affine):
    torch = pytest.importorskip("torch")
    x, weight, bias = _inputs(shape, np.float64, 3, affine)
    rng = np.random.default_rng(4)
    g = rng.standard_normal(shape)
    vectors = [None if a is None else rng.standard_normal(a.shape) for a in (x, weight, bias)]

    def second(lib_grad, leaves, out, tensor):
        grad_out = tensor(g, requires_grad=True)
        params = [leaf for leaf in leaves if leaf is not None]
        firsts = lib_grad([out], params, grad_outputs=[grad_out], create_graph=True)
        dot = sum((first * tensor(v)).sum() for first, v in
                  zip(firsts, [v for v in vectors if v is not None]))
        return lib_grad([dot], params + [grad_out], allow_unused=True)

    ours_leaves, ours_out, _ = _ours(x, weight, bias)
    theirs_leaves, theirs_out = _theirs(torch, x, weight, bias)
    ours = second(autograd.grad, ours_leaves, ours_out, mg.tensor)
    theirs = second(torch.autograd.grad, theirs_leaves, theirs_out, torch.tensor)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None or np.allclose(a.numpy(), 0)
            continue
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-8,
                                   atol=1e-10)


@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_and_gradgradcheck(affine):
    x, weight, bias = _inputs((3, 2, 2, 2), np.float64, 5, affine)
    inputs = [mg.tensor(a) for a in (x, weight, bias) if a is not None]

    def fn(*tensors):
        if affine:
            return batch_norm_train(tensors[0], tensors[1], tensors[2], 1e-5)
        return batch_norm_train(tensors[0], None, None, 1e-5)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_input_is_not_mutated_and_first_order_cache_is_released():
    x, weight, bias = _inputs((4, 3, 2, 2), np.float32, 6)
    kept = x.copy()
    (leaf, *_), out, _ = _ours(x, weight, bias)
    function = out.grad_fn
    out.sum().backward()
    np.testing.assert_array_equal(x, kept)
    assert not hasattr(function, "statistics") and not hasattr(function, "saved")
    assert leaf.grad.dtype == np.float32
