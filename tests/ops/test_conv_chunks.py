"""Convolutions done a few images at a time (ops/conv.py CHUNK_BYTES) give the whole-batch
results: output, input, weight and bias gradients, for strides, groups, dilation and bias."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops import conv

CASES = [
    {"stride": 1, "padding": 1, "dilation": 1, "groups": 1, "bias": True},
    {"stride": 1, "padding": 1, "dilation": 1, "groups": 1, "bias": False},
    {"stride": 2, "padding": 1, "dilation": 1, "groups": 2, "bias": True},
    {"stride": 1, "padding": 2, "dilation": 2, "groups": 1, "bias": False},
    {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True},
]


def _run(case, batch, dtype):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((batch, 4, 9, 8)).astype(dtype), requires_grad=True)
    w = mg.tensor(rng.standard_normal((6, 4 // case["groups"], 3, 3)).astype(dtype),
                  requires_grad=True)
    b = mg.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True) \
        if case["bias"] else None
    out = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"],
                   dilation=case["dilation"], groups=case["groups"])
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(mg.tensor(g))
    grads = [x.grad.numpy(), w.grad.numpy()] + ([b.grad.numpy()] if b is not None else [])
    return [out.detach().numpy()] + grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_chunked_equals_whole_batch(monkeypatch, case, dtype):
    whole = _run(case, 5, dtype)
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)  # one image per chunk
    monkeypatch.setattr(conv, "CHUNK_MIN_PLANE", 0)
    chunked = _run(case, 5, dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(chunked, whole):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    monkeypatch.setattr(conv, "CHUNK_BYTES", 3000)  # chunks of several images, a short tail
    for a, b in zip(_run(case, 5, dtype), whole):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes, stride, padding", [
    (((3, 64, 4, 4), (128, 64, 3, 3)), 1, 1),     # ResNet's 4x4 stage, batch folded
    (((2, 64, 16, 16), (128, 64, 3, 3)), 2, 1),   # stride 2 down to 8x8
    (((2, 64, 8, 8), (128, 64, 1, 1)), 2, 0),     # the 1x1 shortcut projection
])
def test_batch_folded_small_planes_match_torch(shapes, stride, padding, dtype):
    torch = pytest.importorskip("torch")
    assert conv.folds_batch(1, 16, 128, 64)
    rng = np.random.default_rng(1)
    x, w = (rng.standard_normal(shape).astype(dtype) for shape in shapes)
    b = rng.standard_normal(shapes[1][0]).astype(dtype)
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    out = F.conv2d(*ours, stride=stride, padding=padding)
    expected = torch.nn.functional.conv2d(*theirs, stride=stride, padding=padding)
    g = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(g), retain_graph=True)
    expected.backward(torch.from_numpy(g))
    tol = {"rtol": 1e-4, "atol": 1e-3} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-9}
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tol)
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tol)
    first = [mine.grad.numpy().copy() for mine in ours]
    out.backward(mg.tensor(g))  # the second backward rebuilds the folded columns
    for mine, once in zip(ours, first):
        np.testing.assert_allclose(mine.grad.numpy(), 2 * once, rtol=1e-5, atol=1e-5)
