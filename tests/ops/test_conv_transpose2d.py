"""F.conv_transpose2d: forward and gradients against PyTorch (stride, padding, output_padding,
groups, dilation, unbatched), gradcheck, dtypes, and PyTorch's errors."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import gradcheck


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@st.composite
def transpose_args(draw):
    """(input shape, weight shape, kwargs) for a valid conv_transpose2d call."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    per_group_out = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(stride, dilation))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = []
    for s, p, d, k, e in zip(stride, padding, dilation, kernel, output_padding):
        smallest = 1  # the output must have at least one pixel
        while (smallest - 1) * s - 2 * p + d * (k - 1) + e + 1 < 1:
            smallest += 1
        size.append(smallest + draw(st.integers(0, 2)))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    kwargs = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "groups": groups, "dilation": dilation}
    return (*batch, in_channels, *size), (in_channels, per_group_out, *kernel), kwargs


@settings(deadline=None)
@given(args=transpose_args(), with_bias=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_matches_torch(torch, args, with_bias, dtype, seed):
    input_shape, weight_shape, kwargs = args
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(input_shape).astype(dtype),
              rng.standard_normal(weight_shape).astype(dtype)]
    if with_bias:
        arrays.append(rng.standard_normal(weight_shape[1] * kwargs["groups"]).astype(dtype))
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.from_numpy(a).requires_grad_() for a in arrays]
    out = F.conv_transpose2d(*ours, **kwargs)
    expected = torch.nn.functional.conv_transpose2d(*theirs, **kwargs)
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4,
                                                                            "atol": 1e-4}
    assert out.dtype == dtype and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tolerance)


@settings(max_examples=8, deadline=None)
@given(args=transpose_args(), seed=st.integers(0, 99))
def test_gradcheck(args, seed):
    input_shape, weight_shape, kwargs = args
    rng = np.random.default_rng(seed)
    inputs = [mg.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in (input_shape, weight_shape, (weight_shape[1] * kwargs["groups"],))]
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), inputs)


def test_is_the_input_gradient_of_conv2d():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)))
    out = F.conv2d(x, w, stride=2, padding=1)
    upstream = rng.standard_normal(out.shape)
    out.backward(mg.tensor(upstream))
    # 9 and 8 rows/columns both give 5x4 outputs at stride 2: output_padding picks 9x8
    back = F.conv_transpose2d(mg.tensor(upstream), w, stride=2, padding=1, output_padding=(0, 1))
    np.testing.assert_allclose(back.numpy(), x.grad.numpy(), rtol=1e-12)
    assert mg.conv_transpose2d is F.conv_transpose2d


def test_inputs_are_not_mutated():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in ((1, 2, 3, 3), (2, 3, 2, 2), (3,))]
    before = [a.copy() for a in arrays]
    out = F.conv_transpose2d(*(mg.tensor(a, requires_grad=True) for a in arrays), stride=2)
    out.sum().backward()
    for array, copy in zip(arrays, before):
        np.testing.assert_array_equal(array, copy)


def t(*shape, dtype=np.float32):
    return mg.zeros(shape, dtype=dtype)


@pytest.mark.parametrize("inputs, kwargs, error, message", [
    ((t(1, 5, 8, 8), t(4, 3, 3, 3)), {}, RuntimeError, "input has 5 channels, weight expects 4"),
    ((t(1, 4, 8, 8), t(4, 3, 3, 3)), {"stride": 2, "output_padding": 2}, RuntimeError,
     "output padding must be smaller than either stride or dilation"),
    ((t(1, 4, 8, 8), t(4, 3, 3, 3)), {"groups": 3}, RuntimeError, "groups=3"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3)), {"padding": 5}, RuntimeError, "is too small"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3), t(4)), {}, RuntimeError, "bias (4,)"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3)), {"padding": -1}, RuntimeError, "negative padding"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3)), {"padding": "same"}, TypeError, "padding"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3)), {"stride": 0}, RuntimeError, "stride"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3)), {"groups": 1.0}, TypeError, "groups"),
    ((t(4, 2), t(4, 3, 3, 3)), {}, RuntimeError, "input of shape (4, 2)"),
    ((t(1, 4, 2, 2), t(4, 3, 3)), {}, RuntimeError, "weight of shape (4, 3, 3)"),
    ((t(1, 4, 2, 2), t(4, 3, 3, 3, dtype=np.float64)), {}, RuntimeError, "dtype"),
    ((np.zeros((1, 4, 2, 2)), t(4, 3, 3, 3)), {}, TypeError, "input must be a Tensor"),
])
def test_errors(inputs, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)) as info:
        F.conv_transpose2d(*inputs, **kwargs)
    assert str(info.value).startswith("conv_transpose2d: ")
