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
