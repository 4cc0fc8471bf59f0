"""Gradients of gradients through conv and pooling: gradgradcheck in float64 for every op of
the family, second (and third) derivatives against torch.autograd.grad(create_graph=True),
with stride, padding, dilation, groups and output_padding variants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import conv2d_args, pool2d_args

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

FEW = settings(max_examples=6, deadline=None)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def fast_kernels_afterwards():
    yield
    mg.set_kernels("fast")


def tensors(rng, *shapes):
    return [mg.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]


# ---- gradgradcheck, float64 -------------------------------------------------------------
@FEW
@given(args=conv2d_args(max_batch=1, max_extra=1), with_bias=st.booleans(), seed=st.integers(0, 9))
def test_conv2d_gradgradcheck(args, with_bias, seed):
    rng = np.random.default_rng(seed)
    inputs = tensors(rng, args.input_shape, args.weight_shape)
    if with_bias:
        inputs += tensors(rng, args.bias_shape)
    assert gradgradcheck(lambda *xs: F.conv2d(*xs, **args), inputs)


CONV_TRANSPOSE_CASES = [
    ((1, 2, 3, 3), (2, 2, 2, 2), {}),
    ((1, 2, 3, 2), (2, 1, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 2, 3), (4, 1, 2, 2), {"groups": 2, "dilation": (2, 1)}),
    ((3, 2, 3), (3, 2, 2, 3), {"stride": (1, 2), "padding": (0, 1)}),  # unbatched
]


@pytest.mark.parametrize("input_shape, weight_shape, kwargs", CONV_TRANSPOSE_CASES)
def test_conv_transpose2d_gradgradcheck(input_shape, weight_shape, kwargs):
    rng = np.random.default_rng(1)
    out_channels = weight_shape[1] * kwargs.get("groups", 1)
    inputs = tensors(rng, input_shape, weight_shape, (out_channels,))
    assert gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), inputs)


@FEW
@given(args=pool2d_args("max", max_batch=1, max_extra=2), seed=st.integers(0, 9))
def test_max_pool2d_gradgradcheck(args, seed):
    x = mg.tensor(np.random.default_rng(seed).permutation(int(np.prod(args.input_shape)))
                  .reshape(args.input_shape) / 7.0, requires_grad=True)  # no ties
    assert gradgradcheck(lambda x: F.max_pool2d(x, **args), [x])


@FEW
@given(args=pool2d_args("avg", max_batch=1, max_extra=2), seed=st.integers(0, 9))
def test_avg_pool2d_gradgradcheck(args, seed):
    x, = tensors(np.random.default_rng(seed), args.input_shape)
    assert gradgradcheck(lambda x: F.avg_pool2d(x, **args), [x])


@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
@pytest.mark.parametrize("shape, size", [((1, 2, 5, 4), (3, 2)), ((2, 5, 7), 3),
                                         ((1, 1, 4, 4), 1)])
def test_adaptive_pool2d_gradgradcheck(name, shape, size):
    x = mg.tensor(np.random.default_rng(2).permutation(int(np.prod(shape))).reshape(shape)
                  / 5.0, requires_grad=True)
    assert gradgradcheck(lambda x: getattr(F, name)(x, size), [x])


def test_pooled_conv_gradgradcheck():
    """conv -> tanh -> max-pool -> strided conv: x's and w's second derivatives together."""
    rng = np.random.default_rng(3)
    x, w1, w2 = tensors(rng, (1, 2, 6, 6), (3, 2, 3, 3), (2, 3, 2, 2))

    def net(x, w1, w2):
        hidden = F.max_pool2d(F.conv2d(x, w1, padding=1).tanh(), 2, stride=1)
        return F.conv2d(hidden, w2, stride=2, dilation=(1, 2), padding=(0, 1))

    assert gradgradcheck(net, [x, w1, w2])


# ---- second derivatives against PyTorch ---------------------------------------------------
def penalty_gradients(framework, f, arrays, dtype):
    """WGAN-GP style: d/d(all) of ||d(f . v)/dx||^2, with f's inputs made from `arrays`."""
    if framework == "torch":
        import torch

        inputs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = f(*inputs)
        v = torch.tensor(np.random.default_rng(7).standard_normal(out.shape).astype(dtype))
        g, = torch.autograd.grad((out * v).sum(), inputs[0], create_graph=True)
        return [r.numpy() for r in torch.autograd.grad((g * g).sum(), inputs)]
    inputs = [mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = f(*inputs)
    v = mg.tensor(np.random.default_rng(7).standard_normal(out.shape).astype(dtype))
    g, = autograd.grad((out * v).sum(), inputs[0], create_graph=True)
    return [r.numpy() for r in autograd.grad((g * g).sum(), inputs)]


CONV_VARIANTS = [
    {},
    {"stride": 2, "padding": 1},
    {"padding": "same", "dilation": 2},
    {"groups": 2, "padding": (1, 0)},
    {"stride": (2, 1), "padding": (0, 2), "dilation": (1, 2), "groups": 2},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CONV_VARIANTS)
def test_conv_gradient_penalty_matches_torch(torch, kwargs, dtype):
    rng = np.random.default_rng(4)
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal((2, 4, 7, 8)), rng.standard_normal((6, 4 // groups, 3, 3)),
              rng.standard_normal(6)]

    def ours(x, w, b):
        return F.conv2d(x, w, b, **kwargs).tanh()

    def theirs(x, w, b):
        return torch.nn.functional.conv2d(x, w, b, **kwargs).tanh()

    tolerance = {"rtol": 1e-9, "atol": 1e-9} if dtype == np.float64 else {"rtol": 2e-4,
                                                                          "atol": 2e-4}
    for mine, reference in zip(penalty_gradients("mg", ours, arrays, dtype),
                               penalty_gradients("torch", theirs, arrays, dtype)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, reference, **tolerance)


def test_even_kernel_same_padding_penalty_matches_torch(torch):
    """padding="same" with an even kernel pads one more row and column at the bottom/right:
    the transposed convolution of the gradient must crop the same way."""
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 2, 4))]
    mine = penalty_gradients("mg", lambda x, w: F.conv2d(x, w, padding="same").tanh(), arrays,
                             np.float64)
    reference = penalty_gradients(
        "torch", lambda x, w: torch.nn.functional.conv2d(x, w, padding="same").tanh(), arrays,
        np.float64)
    for ours, theirs in zip(mine, reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


TRANSPOSE_VARIANTS = [
    {},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"dilation": 2, "padding": 1},
    {"groups": 2, "stride": (1, 2)},
]


@pytest.mark.parametrize("kwargs", TRANSPOSE_VARIANTS)
def test_conv_transpose_gradient_penalty_matches_torch(torch, kwargs):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 3, 3, 3)),
              rng.standard_normal(3 * kwargs.get("groups", 1))]
    mine = penalty_gradients("mg", lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs).tanh(),
                             arrays, np.float64)
    reference = penalty_gradients(
        "torch", lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kwargs).tanh(),
        arrays, np.float64)
    for ours, theirs in zip(mine, reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


POOLS = [
    ("max_pool2d", {"kernel_size": 2}),
    ("max_pool2d", {"kernel_size": 3, "stride": 1, "padding": 1}),
    ("max_pool2d", {"kernel_size": 2, "stride": 1, "dilation": 2, "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 2}),
    ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False,
                    "ceil_mode": True}),
    ("avg_pool2d", {"kernel_size": 2, "stride": 1, "divisor_override": 3}),
    ("adaptive_avg_pool2d", {"output_size": (3, 2)}),
    ("adaptive_avg_pool2d", {"output_size": 1}),
    ("adaptive_max_pool2d", {"output_size": (3, 4)}),
]


@pytest.mark.parametrize("name, kwargs", POOLS)
def test_pool_gradient_penalty_matches_torch(torch, name, kwargs):
    """A pool between two convs: the penalty's gradient reaches both weights through it."""
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 3, 3)),
              rng.standard_normal((2, 3, 1, 1))]

    def ours(x, w1, w2):
        return F.conv2d(getattr(F, name)(F.conv2d(x, w1, padding=1).tanh(), **kwargs), w2).tanh()

    def theirs(x, w1, w2):
        functional = torch.nn.functional
        pooled = getattr(functional, name)(functional.conv2d(x, w1, padding=1).tanh(), **kwargs)
        return functional.conv2d(pooled, w2).tanh()

    for mine, reference in zip(penalty_gradients("mg", ours, arrays, np.float64),
                               penalty_gradients("torch", theirs, arrays, np.float64)):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("pool", [
    lambda F, h: F.max_pool2d(h, 3, stride=2, padding=1),
    lambda F, h: F.avg_pool2d(h, 2, stride=1),
    lambda F, h: F.adaptive_max_pool2d(h, 3),
])
def test_third_derivative_matches_torch(torch, pool):
    """The family is closed: a third derivative runs through conv ops and pool pairs only."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))]
    v = rng.standard_normal((2, 2, 6, 6))

    def third(framework, functional, grad, tensor):
        x, w = (tensor(a, requires_grad=True) for a in arrays)
        out = pool(functional, functional.conv2d(x, w, padding=1, dilation=(1, 2)).tanh())
        g, = grad(out.sum(), x, create_graph=True)           # (N, C, H, W), depends on w
        h, = grad((g * tensor(v)).sum(), w, create_graph=True)
        return grad((h * h).sum(), x)[0]

    mine = third("mg", F, autograd.grad, mg.tensor)
    reference = third("torch", torch.nn.functional, torch.autograd.grad, torch.tensor)
    np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-9, atol=1e-10)


def test_unbatched_second_derivative_matches_batch_of_one():
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))

    def penalty_grad(batched):
        xt = mg.tensor(x[None] if batched else x, requires_grad=True)
        wt = mg.tensor(w, requires_grad=True)
        out = F.max_pool2d(F.conv2d(xt, wt, padding=1).tanh(), 2)
        g, = autograd.grad(out.sum(), xt, create_graph=True)
        return autograd.grad((g * g).sum(), wt)[0].numpy()

    np.testing.assert_allclose(penalty_grad(False), penalty_grad(True), rtol=1e-12)


# ---- first order untouched, caches and the reference kernels ------------------------------
def test_create_graph_keeps_no_column_cache():
    """The conv columns are a first-order cache: a retained higher-order graph drops them."""
    rng = np.random.default_rng(10)
    x, w = tensors(rng, (2, 3, 6, 6), (4, 3, 3, 3))
    out = F.conv2d(x, w, padding=1)
    node = out.grad_fn
    assert node.columns is not None
    autograd.grad(out.tanh().sum(), x, create_graph=True)
    assert node.columns is None and not node.released
    # the retained graph still gives the same first-order gradient again
    again, = autograd.grad(out.tanh().sum(), w)
    expected, = autograd.grad(F.conv2d(x, w, padding=1).tanh().sum(), w)
    np.testing.assert_allclose(again.numpy(), expected.numpy(), rtol=1e-12)


def test_float32_second_derivatives_stay_float32():
    rng = np.random.default_rng(11)
    x = mg.tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 2, 3, 3)).astype(np.float32), requires_grad=True)
    b = mg.tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
    out = F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, b, padding=1).tanh(), 2), 1)
    out = F.adaptive_avg_pool2d(F.conv_transpose2d(out, w, b, stride=2), 2)
    g, = autograd.grad(F.adaptive_max_pool2d(out, 1).sum(), x, create_graph=True)
    assert g.dtype == np.float32
    for grad in autograd.grad((g * g).sum(), [x, w, b]):
        assert grad.dtype == np.float32


def test_reference_kernels_are_once_differentiable():
    rng = np.random.default_rng(12)
    mg.set_kernels("reference")
    x, w = tensors(rng, (1, 2, 5, 5), (3, 2, 3, 3))
    out = F.max_pool2d(F.conv2d(x, w).tanh(), 2)
    g, = autograd.grad(out.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        (g * g).sum().backward()
    mg.set_kernels("fast")
    expected, = autograd.grad(F.max_pool2d(F.conv2d(x, w).tanh(), 2).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), expected.numpy(), rtol=1e-12)


def test_first_order_backward_releases_what_forward_kept():
    rng = np.random.default_rng(14)
    x, w, b = tensors(rng, (2, 3, 6, 6), (4, 3, 3, 3), (4,))
    conv = F.conv2d(x, w, b, padding=1)
    pooled = F.max_pool2d(conv, 2)
    nodes = [conv.grad_fn, pooled.grad_fn]
    pooled.sum().backward()
    for node in nodes:
        assert node.released
        assert not {"saved", "columns", "arg"} & set(vars(node))
