"""F.embedding against PyTorch: values and weight gradients (float32 and float64) on
hypothesis-drawn index shapes, padding_idx (no gradient to that row), max_norm (in-place
renormalisation), gradcheck/gradgradcheck, and PyTorch's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


@settings(max_examples=12, deadline=None)
@given(shape=st.lists(st.integers(1, 3), max_size=3).map(tuple),
       dtype=st.sampled_from([np.float32, np.float64]),
       padding_idx=st.sampled_from([None, 0, 2, -1]), seed=st.integers(0, 2**16))
def test_embedding_matches_torch(shape, dtype, padding_idx, seed):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((5, 3)).astype(dtype)
    indices = rng.integers(0, 5, shape)
    ours = mg.tensor(weight, requires_grad=True)
    theirs = torch.tensor(weight, requires_grad=True)
    out_ours = F.embedding(mg.tensor(indices), ours, padding_idx=padding_idx)
    out_theirs = torch.nn.functional.embedding(torch.tensor(indices), theirs,
                                               padding_idx=padding_idx)
    assert out_ours.dtype == ours.dtype
    np.testing.assert_array_equal(out_ours.detach().numpy(), out_theirs.detach().numpy())
    upstream = rng.standard_normal(out_ours.shape).astype(dtype)
    (out_ours * mg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    assert ours.grad.dtype == ours.dtype
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_max_norm_renormalizes_in_place_like_torch():
    rng = np.random.default_rng(1)
    weight = 3 * rng.standard_normal((6, 4))
    indices = np.array([[0, 2], [2, 5]])
    ours, theirs = mg.tensor(weight.copy()), torch.tensor(weight.copy())
    out_ours = F.embedding(mg.tensor(indices), ours, max_norm=1.5, norm_type=1.0)
    out_theirs = torch.nn.functional.embedding(torch.tensor(indices), theirs, max_norm=1.5,
                                               norm_type=1.0)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.numpy()[1], weight[1])  # not looked up: untouched


def test_embedding_gradcheck_and_gradgradcheck():
    indices = mg.tensor(np.array([[0, 3, 3], [1, 0, 2]]))
    weight = mg.randn(4, 2, dtype=mg.float64)
    assert gradcheck(lambda w: F.embedding(indices, w), [weight])
    assert gradgradcheck(lambda w: F.embedding(indices, w) ** 2, [weight])
    # padding_idx is PyTorch's rule, not a derivative: that row's gradient is zero
    padded = mg.tensor(weight.numpy(), requires_grad=True)
    (F.embedding(indices, padded, padding_idx=3) ** 2).sum().backward()
    np.testing.assert_array_equal(padded.grad.numpy()[3], 0)
    assert np.all(padded.grad.numpy()[:3] != 0)


def test_embedding_errors_like_torch():
    weight = mg.randn(5, 3)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(mg.tensor([1.0]), weight)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(mg.tensor([7]), weight)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(mg.tensor([1]), weight, padding_idx=9)
    with pytest.raises(TypeError, match="indices"):
        F.embedding([1, 2], weight)
