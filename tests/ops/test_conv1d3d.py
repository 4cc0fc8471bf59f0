"""F.conv1d, F.conv_transpose1d, F.conv3d, F.conv_transpose3d: forward and gradients against
PyTorch on hypothesis-drawn configurations (stride, padding incl. "same"/"valid", dilation,
groups, output_padding, unbatched), float32 and float64; gradcheck and gradgradcheck of the
3-D family (conv3d, conv_transpose3d and the weight correlation); second derivatives against
torch.autograd.grad(create_graph=True); dtypes, no input mutation and PyTorch's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.testing import gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

FEW = settings(max_examples=5, deadline=None)
SOME = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@st.composite
def conv_args(draw, dims: int):
    """(input shape, weight shape, bias size, kwargs) for a valid conv{dims}d call."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding_kind = draw(st.sampled_from(["int", "same", "valid"]))
    if padding_kind == "same":
        stride, padding = 1, "same"
    else:
        stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
        padding = (tuple(draw(st.integers(0, 2)) for _ in range(dims)) if padding_kind == "int"
                   else "valid")
    pads = padding if isinstance(padding, tuple) else (0,) * dims
    size = tuple(max(d * (k - 1) + 1 - 2 * p, 1) + draw(st.integers(0, 3))
                 for d, k, p in zip(dilation, kernel, pads))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    if dims == 1:
        stride, dilation = (stride if isinstance(stride, int) else stride[0]), dilation[0]
        padding = padding if isinstance(padding, str) else padding[0]
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return ((*batch, in_channels, *size), (out_channels, in_channels // groups, *kernel),
            out_channels, kwargs)


@st.composite
def transpose_args(draw, dims: int):
    """(input shape, weight shape, bias size, kwargs) for a valid conv_transpose{dims}d."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    per_group_out = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    size = []
    for s, p, d, k, e in zip(stride, padding, dilation, kernel, output_padding):
        smallest = 1
        while (smallest - 1) * s - 2 * p + d * (k - 1) + e + 1 < 1:
            smallest += 1
        size.append(smallest + draw(st.integers(0, 2)))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    kwargs = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "groups": groups, "dilation": dilation}
    if dims == 1:
        kwargs = {name: value[0] if isinstance(value, tuple) else value
                  for name, value in kwargs.items()}
    return ((*batch, in_channels, *size), (in_channels, per_group_out, *kernel),
            per_group_out * groups, kwargs)


def compare_with_torch(torch, name, args, with_bias, dtype, seed):
    input_shape, weight_shape, bias_size, kwargs = args
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(input_shape).astype(dtype),
              rng.standard_normal(weight_shape).astype(dtype)]
    if with_bias:
        arrays.append(rng.standard_normal(bias_size).astype(dtype))
    copies = [array.copy() for array in arrays]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    out = getattr(F, name)(*ours, **kwargs)
    expected = getattr(torch.nn.functional, name)(*theirs, **kwargs)
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = ({"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64
                 else {"rtol": 1e-4, "atol": 1e-4})
    assert out.dtype == dtype and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tolerance)
    for array, copy in zip(arrays, copies):
        np.testing.assert_array_equal(array, copy)  # inputs untouched


DTYPES = st.sampled_from([np.float32, np.float64])


@SOME
@given(args=conv_args(1), with_bias=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_conv1d_matches_torch(torch, args, with_bias, dtype, seed):
    compare_with_torch(torch, "conv1d", args, with_bias, dtype, seed)


@SOME
@given(args=conv_args(3), with_bias=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_conv3d_matches_torch(torch, args, with_bias, dtype, seed):
    compare_with_torch(torch, "conv3d", args, with_bias, dtype, seed)


@SOME
@given(args=transpose_args(1), with_bias=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_conv_transpose1d_matches_torch(torch, args, with_bias, dtype, seed):
    compare_with_torch(torch, "conv_transpose1d", args, with_bias, dtype, seed)


@SOME
@given(args=transpose_args(3), with_bias=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_conv_transpose3d_matches_torch(torch, args, with_bias, dtype, seed):
    compare_with_torch(torch, "conv_transpose3d", args, with_bias, dtype, seed)


def tensors(rng, *shapes):
    return [mg.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]


@FEW
@given(args=conv_args(3), seed=st.integers(0, 9))
def test_conv3d_gradcheck_and_gradgradcheck(args, seed):
    input_shape, weight_shape, bias_size, kwargs = args
    inputs = tensors(np.random.default_rng(seed), input_shape, weight_shape, (bias_size,))
    assert gradcheck(lambda *xs: F.conv3d(*xs, **kwargs), inputs)
    assert gradgradcheck(lambda *xs: F.conv3d(*xs, **kwargs), inputs)


@FEW
@given(args=transpose_args(3), seed=st.integers(0, 9))
def test_conv_transpose3d_gradcheck_and_gradgradcheck(args, seed):
    input_shape, weight_shape, bias_size, kwargs = args
    inputs = tensors(np.random.default_rng(seed), input_shape, weight_shape, (bias_size,))
    assert gradcheck(lambda *xs: F.conv_transpose3d(*xs, **kwargs), inputs)
    assert gradgradcheck(lambda *xs: F.conv_transpose3d(*xs, **kwargs), inputs)


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("conv1d", [(2, 4, 7), (6, 2, 3), (6,)], {"stride": 2, "padding": 1, "groups": 2}),
    ("conv_transpose1d", [(2, 4, 5), (4, 3, 3), (3,)], {"stride": 2, "output_padding": 1}),
])
def test_conv1d_gradcheck_and_gradgradcheck(name, shapes, kwargs):
    inputs = tensors(np.random.default_rng(0), *shapes)
    assert gradcheck(lambda *xs: getattr(F, name)(*xs, **kwargs), inputs)
    assert gradgradcheck(lambda *xs: getattr(F, name)(*xs, **kwargs), inputs)


def test_conv3d_weight_correlation_is_twice_differentiable():
    """The weight-gradient op itself (what a second backward of conv3d records) passes
    gradgradcheck in both its inputs: the family is closed."""
    from minigrad.ops.conv3d import Conv3dWeight

    rng = np.random.default_rng(3)
    x, y = tensors(rng, (2, 2, 4, 5, 4), (2, 3, 3, 4, 2))
    options = {"kernel_size": (2, 2, 3), "stride": (2, 1, 1), "padding": (1, 1, 0, 0, 0, 0),
               "dilation": (1, 1, 1), "groups": 1}
    assert gradcheck(lambda x, y: Conv3dWeight.apply(x, y, **options), [x, y])
    assert gradgradcheck(lambda x, y: Conv3dWeight.apply(x, y, **options), [x, y])


def penalty_gradients(framework, f, arrays):
    """d/d(all) of ||d(f . v)/dx||^2 (WGAN-GP style), float64."""
    if framework == "torch":
        import torch

        inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = f(*inputs)
        v = torch.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
        g, = torch.autograd.grad((out * v).sum(), inputs[0], create_graph=True)
        return [r.numpy() for r in torch.autograd.grad((g * g).sum(), inputs)]
    inputs = [mg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*inputs)
    v = mg.tensor(np.random.default_rng(7).standard_normal(out.shape))
    g, = autograd.grad((out * v).sum(), inputs[0], create_graph=True)
    return [r.numpy() for r in autograd.grad((g * g).sum(), inputs)]


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("conv3d", [(2, 4, 5, 6, 5), (6, 2, 2, 3, 2), (6,)],
     {"stride": (2, 1, 1), "padding": 1, "dilation": (1, 2, 1), "groups": 2}),
    ("conv3d", [(2, 3, 4, 5, 4), (2, 3, 3, 3, 3), (2,)], {"padding": "same"}),
    ("conv_transpose3d", [(2, 4, 3, 4, 3), (4, 3, 2, 3, 2), (3,)],
     {"stride": 2, "padding": (1, 0, 1), "output_padding": (1, 0, 0)}),
    ("conv1d", [(2, 4, 9), (6, 2, 3), (6,)], {"stride": 2, "dilation": 2, "groups": 2}),
    ("conv_transpose1d", [(2, 4, 6), (4, 3, 3), (3,)], {"stride": 2, "padding": 1}),
])
def test_second_derivatives_match_torch(torch, name, shapes, kwargs):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    mine = penalty_gradients("mg", lambda *xs: getattr(F, name)(*xs, **kwargs).tanh(), arrays)
    reference = penalty_gradients(
        "torch", lambda *xs: getattr(torch.nn.functional, name)(*xs, **kwargs).tanh(), arrays)
    for ours, theirs in zip(mine, reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def test_float32_stays_float32():
    x = mg.randn(1, 2, 4, 5, 6, requires_grad=True)
    w = mg.randn(3, 2, 2, 2, 2, requires_grad=True)
    out = F.conv3d(x, w)
    back = F.conv_transpose3d(out, w)
    back.sum().backward()
    assert out.dtype == back.dtype == x.grad.dtype == w.grad.dtype == mg.float32
    seq = F.conv1d(mg.randn(1, 2, 8), mg.randn(3, 2, 3))
    assert seq.dtype == mg.float32 and seq.shape == (1, 3, 6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.conv3d(mg.randn(1, 3, 4, 4, 4), mg.randn(2, 2, 2, 2, 2)), RuntimeError,
     "3 channels, weight expects 2"),
    (lambda: F.conv3d(mg.randn(3, 4, 4), mg.randn(2, 3, 2, 2, 2)), RuntimeError,
     "4-D .* or 5-D"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2), stride=0),
     RuntimeError, "stride must be positive"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2), padding="full"),
     RuntimeError, "invalid padding string"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2), stride=2,
                      padding="same"), RuntimeError, "strided"),
    (lambda: F.conv3d(mg.randn(1, 2, 1, 4, 4), mg.randn(2, 2, 2, 2, 2)), RuntimeError,
     "larger"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2), stride=1.5),
     TypeError, "stride"),
    (lambda: F.conv3d(mg.randn(1, 2, 4, 4, 4), mg.randn(2, 2, 2, 2, 2, dtype=mg.float64)),
     RuntimeError, "dtype"),
    (lambda: F.conv_transpose3d(mg.randn(1, 2, 3, 3, 3), mg.randn(2, 1, 2, 2, 2), stride=2,
                                output_padding=2), RuntimeError, "output padding must be"),
    (lambda: F.conv_transpose3d(mg.randn(1, 3, 3, 3, 3), mg.randn(2, 1, 2, 2, 2)),
     RuntimeError, "3 channels, weight expects 2"),
    (lambda: F.conv1d(mg.randn(1, 2, 8), mg.randn(3, 2, 3), padding=(1, 1)), RuntimeError,
     "padding"),
    (lambda: F.conv1d(mg.randn(1, 2, 3, 8), mg.randn(3, 2, 3)), RuntimeError, "2-D .* 3-D"),
    (lambda: F.conv1d(mg.randn(1, 2, 8), mg.randn(3, 4, 3)), RuntimeError, "channels"),
    (lambda: F.conv_transpose1d(mg.randn(1, 2, 8), mg.randn(2, 3)), RuntimeError, "3-D weight"),
])
def test_bad_arguments_raise_torchs_error_type(torch, call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda F, t: F.conv3d(t(1, 3, 4, 4, 4), t(2, 2, 2, 2, 2)),
    lambda F, t: F.conv3d(t(1, 2, 1, 4, 4), t(2, 2, 2, 2, 2)),
    lambda F, t: F.conv3d(t(1, 2, 4, 4, 4), t(2, 2, 2, 2, 2), stride=2, padding="same"),
    lambda F, t: F.conv_transpose3d(t(1, 2, 3, 3, 3), t(2, 1, 2, 2, 2), stride=2,
                                    output_padding=2),
    lambda F, t: F.conv1d(t(1, 2, 8), t(3, 4, 3)),
])
def test_torch_raises_the_same_type(torch, call):
    """The error types above are PyTorch's for the same calls."""
    with pytest.raises(RuntimeError):
        call(torch.nn.functional, lambda *shape: torch.randn(*shape))
    with pytest.raises(RuntimeError):
        call(F, lambda *shape: mg.randn(*shape))
