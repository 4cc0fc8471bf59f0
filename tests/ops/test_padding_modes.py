"""F.pad in every mode with negative padding, and the padding layers, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import assert_matches_torch

FEW = settings(max_examples=15, deadline=None)
MODES = ("constant", "reflect", "replicate", "circular")


@st.composite
def pad_cases(draw):
    dims = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), 2) + tuple(draw(st.lists(st.integers(2, 5), min_size=dims,
                                                                max_size=dims)))
    pad = tuple(draw(st.lists(st.integers(-2, 2), min_size=2 * dims, max_size=2 * dims)))
    return shape, pad


def _torch_result(torch, x, pad, mode):
    try:
        return torch.nn.functional.pad(torch.tensor(x), pad, mode=mode)
    except RuntimeError:
        return None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ("float32", "float64"))
@FEW
@given(case=pad_cases())
def test_pad_with_negative_padding_matches_torch(mode, dtype, case):
    torch = pytest.importorskip("torch")
    shape, pad = case
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    expected = _torch_result(torch, x, pad, mode)
    if expected is None:
        with pytest.raises(RuntimeError):
            F.pad(mg.tensor(x), pad, mode=mode)
        return
    try:
        F.pad(mg.tensor(x), pad, mode=mode)
    except RuntimeError as error:
        # circular padding that would wrap over what negative padding cropped away:
        # PyTorch reads its own unfilled output there, minigrad refuses
        assert mode == "circular" and "wrapping around" in str(error)
        return
    if expected.numel() == 0:
        # torch's reflect / replicate backward of an empty result returns uninitialized
        # memory; the gradient is 0
        leaf = mg.tensor(x.astype(dtype), requires_grad=True)
        out = F.pad(leaf, pad, mode=mode)
        assert out.shape == tuple(expected.shape)
        out.sum().backward()
        np.testing.assert_array_equal(leaf.grad.numpy(), np.zeros(shape, dtype))
        return
    assert_matches_torch(lambda t: F.pad(t, pad, mode=mode),
                         lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x], dtype)


@pytest.mark.parametrize("mode", MODES)
def test_negative_pad_gradcheck(mode):
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 5, 4)))
    pad = (1, -1, -2, 1)

    def function(t):
        return F.pad(t, pad, mode=mode)

    assert gradcheck(function, [x])
    assert gradgradcheck(function, [x])


def test_empty_result_in_every_mode_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, 4, 4))
    for mode in ("reflect", "replicate", "circular"):
        expected = torch.nn.functional.pad(torch.tensor(x), (0, 0, -2, -2), mode=mode)
        assert F.pad(mg.tensor(x), (0, 0, -2, -2), mode=mode).shape == tuple(expected.shape)
    with pytest.raises(RuntimeError, match="too small"):
        F.pad(mg.tensor(x), (-2, -2, -2, -2), mode="reflect")


LAYERS = [
    ("ConstantPad1d", (2, 3.5), (2, 3, 5)), ("ConstantPad2d", ((1, -1, 2, 0), -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), (1, 2, 3, 3, 3)), ("ZeroPad1d", ((2, -1),), (2, 3, 5)),
    ("ZeroPad2d", ((1, 2, 3, 4),), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, -1, 2, 0),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)), ("ReplicationPad1d", ((3, -1),), (3, 5)),
    ("ReplicationPad2d", (2,), (2, 3, 4, 5)), ("ReplicationPad3d", ((1, 0, 2, -1, 0, 1),),
                                                (1, 2, 3, 3, 3)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, -1, 2, 0),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name, args, shape", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_padding_layers_match_torch(name, args, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    assert_matches_torch(ours, theirs, [x], "float32")


def test_padding_layer_rejects_wrong_length():
    with pytest.raises(TypeError, match="padding"):
        nn.ZeroPad2d((1, 2, 3))
