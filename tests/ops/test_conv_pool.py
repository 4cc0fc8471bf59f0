"""Conv and pooling ops: a known value, gradients (gradcheck), PyTorch agreement, dtypes, errors."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, conv2d_args, pool2d_args

# torch warns that an even kernel with padding="same" pads a copy; we test exactly that case
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

TOLERANCE = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def adaptive_sizes(height: int, width: int) -> st.SearchStrategy:
    """output_size for adaptive pooling: an int or a pair, None keeping an input size."""
    side = st.integers(1, max(height, width) + 1)
    return st.one_of(side, st.tuples(st.one_of(st.none(), st.integers(1, height + 1)),
                                     st.one_of(st.none(), st.integers(1, width + 1))))


IMAGES = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 6), st.integers(1, 6))


# ---- known value: the seed notebook's verify_cnn_forward, in NCHW ---------------------------
def seed_notebook_case():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    weight = np.zeros((2, 1, 3, 3), dtype=np.float32)
    weight[0, 0, 1, 1], weight[0, 0, 2, 1] = 1, -1  # centre, below centre
    weight[1, 0, 1, 1], weight[1, 0, 1, 2] = -1, 1  # centre, right of centre
    delta_nhwc = np.array([[[[-4, 1], [-4, -7]], [[10, 1], [11, -11]]]], dtype=np.float32)
    return x, weight, delta_nhwc.transpose(0, 3, 1, 2)


def test_conv2d_seed_notebook_forward_and_backward():
    x, weight, delta = seed_notebook_case()
    np.testing.assert_array_equal(delta[0, 0], [[-4, -4], [10, 11]])
    np.testing.assert_array_equal(delta[0, 1], [[1, -7], [1, -11]])
    image = mg.tensor(x, requires_grad=True)
    out = F.conv2d(image, mg.tensor(weight))
    np.testing.assert_array_equal(out.data[0, 0], np.full((2, 2), -4))
    np.testing.assert_array_equal(out.data[0, 1], np.full((2, 2), 1))
    out.backward(mg.tensor(delta))
    expected = [[0, 0, 0, 0], [0, -5, 4, -7], [0, 13, 27, -11], [0, -10, -11, 0]]
    np.testing.assert_array_equal(image.grad.data[0, 0], expected)
    assert image.grad.dtype == np.float32


def test_conv2d_is_also_toplevel():
    x, weight, _ = seed_notebook_case()
    np.testing.assert_array_equal(mg.conv2d(mg.tensor(x), mg.tensor(weight)).data,
                                  F.conv2d(mg.tensor(x), mg.tensor(weight)).data)


def test_pooling_known_values():
    x = mg.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).data[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(x, 1).data[0, 0], [[7.5]])
    # 3x3 windows, stride 2, padding 1: padding is -inf for max, counted zeros for avg
    _, indices = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(indices.data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_allclose(F.avg_pool2d(x, 3, stride=2, padding=1).data[0, 0],
                               [[10 / 9, 24 / 9], [51 / 9, 90 / 9]], rtol=1e-6)


# ---- gradients: gradcheck in float64 ------------------------------------------------------
@given(args=conv2d_args(), with_bias=st.booleans(), data=st.data())
def test_conv2d_gradient(args, with_bias, data):
    x = mg.tensor(data.draw(arrays(args.input_shape)))
    weight = mg.tensor(data.draw(arrays(args.weight_shape)))
    bias = mg.tensor(data.draw(arrays(args.bias_shape))) if with_bias else None
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **args), [x, weight, bias])


@given(args=pool2d_args("max"), data=st.data())
def test_max_pool2d_gradient(args, data):
    x = mg.tensor(data.draw(arrays(args.input_shape, distinct=True)))
    assert gradcheck(lambda x: F.max_pool2d(x, **args), [x])


@given(args=pool2d_args("avg"), data=st.data())
def test_avg_pool2d_gradient(args, data):
    x = mg.tensor(data.draw(arrays(args.input_shape)))
    assert gradcheck(lambda x: F.avg_pool2d(x, **args), [x])


@given(shape=IMAGES, data=st.data())
def test_adaptive_avg_pool2d_gradient(shape, data):
    size = data.draw(adaptive_sizes(*shape[2:]))
    x = mg.tensor(data.draw(arrays(shape)))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, size), [x])


@given(shape=IMAGES, data=st.data())
def test_adaptive_max_pool2d_gradient(shape, data):
    size = data.draw(adaptive_sizes(*shape[2:]))
    x = mg.tensor(data.draw(arrays(shape, distinct=True)))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, size), [x])


# ---- PyTorch agreement: forward and backward, float32 and float64 ---------------------------
def assert_matches(ours, theirs, dtype):
    """Same shape, dtype and values (within the dtype's tolerance) as a torch tensor."""
    expected = theirs.detach().numpy()
    assert ours.dtype == expected.dtype == np.dtype(dtype)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, **TOLERANCE[dtype])


def run_both(torch, ours_fn, theirs_fn, inputs, grad_seed=0):
    """Forward and backward (with the same random output gradient) in minigrad and torch.

    inputs: arrays, or None for an absent optional input. Returns (ours, theirs) pairs of
    (output array, [gradient arrays]).
    """
    ours_in = [None if a is None else mg.tensor(a, requires_grad=a.dtype.kind == "f")
               for a in inputs]
    theirs_in = [None if a is None else torch.tensor(a, requires_grad=a.dtype.kind == "f")
                 for a in inputs]
    ours_out, theirs_out = ours_fn(*ours_in), theirs_fn(*theirs_in)
    if not isinstance(ours_out, tuple):
        ours_out, theirs_out = (ours_out,), (theirs_out,)
    grad = np.random.default_rng(grad_seed).standard_normal(ours_out[0].shape)
    grad = grad.astype(ours_out[0].dtype)
    ours_out[0].backward(mg.tensor(grad))
    theirs_out[0].backward(torch.tensor(grad))
    ours_grads = [None if t is None else t.grad.data for t in ours_in]
    theirs_grads = [None if t is None else t.grad for t in theirs_in]
    return (ours_out, ours_grads), (theirs_out, theirs_grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(args=conv2d_args(max_groups=3, max_kernel=4, max_dilation=3, max_extra=4),
       with_bias=st.booleans(), data=st.data())
def test_conv2d_matches_torch(torch, dtype, args, with_bias, data):
    x = data.draw(arrays(args.input_shape, dtype=dtype))
    weight = data.draw(arrays(args.weight_shape, dtype=dtype))
    bias = data.draw(arrays(args.bias_shape, dtype=dtype)) if with_bias else None
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x, w, b: F.conv2d(x, w, b, **args),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **args), [x, weight, bias])
    assert_matches(outs[0].data, expected_outs[0], dtype)
    for ours, theirs in zip(grads, expected_grads):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert_matches(ours, theirs, dtype)


@pytest.mark.parametrize("input_shape, weight_shape, kwargs", [
    # the columns are a read-only view of the padded input: no scratch to reuse
    ((1, 1, 1), (1, 1, 1, 2), {"padding": "same"}),
    # "same" padding wider than the input: every shifted column lands in the padding
    ((1, 1, 2), (1, 1, 2, 4), {"padding": "same", "dilation": 2}),
    ((1, 2, 3, 3), (2, 1, 3, 3), {"padding": 2, "dilation": (1, 3), "groups": 2}),
    ((2, 3, 5, 4), (3, 3, 1, 1), {"stride": 2}),
])
def test_conv2d_edge_cases_match_torch(torch, input_shape, weight_shape, kwargs):
    rng = np.random.default_rng(12)
    arrays_in = [rng.standard_normal(input_shape), rng.standard_normal(weight_shape),
                 rng.standard_normal(weight_shape[:1])]
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x, w, b: F.conv2d(x, w, b, **kwargs),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kwargs), arrays_in)
    assert_matches(outs[0].data, expected_outs[0], np.float64)
    for ours, theirs in zip(grads, expected_grads):
        assert_matches(ours, theirs, np.float64)


@pytest.mark.parametrize("needs", [(False, True, False), (False, False, True),
                                   (True, False, False), (False, True, True)],
                         ids=["weight", "bias", "input", "weight+bias"])
def test_conv2d_partial_gradients_match_torch(torch, needs):
    """Only some inputs require grad: the others get none, the rest still match."""
    rng = np.random.default_rng(1)
    arrays_in = [rng.standard_normal(shape).astype(np.float32)
                 for shape in [(3, 4, 9, 8), (6, 2, 3, 3), (6,)]]
    ours_in = [mg.tensor(a, requires_grad=n) for a, n in zip(arrays_in, needs)]
    theirs_in = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays_in, needs)]
    ours = F.conv2d(*ours_in, stride=2, padding=1, groups=2)
    theirs = torch.nn.functional.conv2d(*theirs_in, stride=2, padding=1, groups=2)
    grad = rng.standard_normal(ours.shape).astype(np.float32)
    ours.backward(mg.tensor(grad))
    theirs.backward(torch.tensor(grad))
    for mine, reference, needed in zip(ours_in, theirs_in, needs):
        assert (mine.grad is None) == (not needed)
        if needed:
            assert_matches(mine.grad.data, reference.grad, np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(args=pool2d_args("max", max_kernel=4, max_extra=5), data=st.data())
def test_max_pool2d_matches_torch(torch, dtype, args, data):
    x = data.draw(arrays(args.input_shape, dtype=dtype, distinct=True))
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.max_pool2d(x, **args, return_indices=True),
        lambda x: torch.nn.functional.max_pool2d(x, **args, return_indices=True), [x])
    assert_matches(outs[0].data, expected_outs[0], dtype)
    np.testing.assert_array_equal(outs[1].data, expected_outs[1].numpy())
    assert outs[1].dtype == np.int64
    assert_matches(grads[0], expected_grads[0], dtype)


@given(args=pool2d_args("max", max_kernel=4, max_extra=5), data=st.data())
def test_max_pool2d_ties_match_torch(torch, args, data):
    """Few distinct values, so most windows tie: the first max in row-major order wins."""
    x = data.draw(arrays(args.input_shape, low=-2, high=2)).round().astype(np.float32)
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.max_pool2d(x, **args, return_indices=True),
        lambda x: torch.nn.functional.max_pool2d(x, **args, return_indices=True), [x])
    np.testing.assert_array_equal(outs[1].data, expected_outs[1].numpy())
    assert_matches(grads[0], expected_grads[0], np.float32)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2},
                                    {"kernel_size": 3, "stride": 1, "padding": 1}])
def test_max_pool2d_nan_and_infinity_match_torch(torch, kwargs):
    """A NaN always wins its window (the last NaN, as PyTorch's CPU scan); -inf is a value."""
    nan, inf = np.nan, np.inf
    x = np.array([[[[1, nan, 3, -inf], [nan, 2, -inf, -inf], [0, 0, 5, 5], [0, -1, 5, 5]]]],
                 dtype=np.float32)
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.max_pool2d(x, **kwargs, return_indices=True),
        lambda x: torch.nn.functional.max_pool2d(x, **kwargs, return_indices=True), [x])
    np.testing.assert_array_equal(outs[0].data, expected_outs[0].detach().numpy())
    np.testing.assert_array_equal(outs[1].data, expected_outs[1].numpy())
    assert_matches(grads[0], expected_grads[0], np.float32)


def test_max_pool2d_all_minus_infinity_points_inside_the_input(torch):
    x = np.full((1, 1, 2, 2), -np.inf, dtype=np.float32)
    _, indices = F.max_pool2d(mg.tensor(x), 3, stride=1, padding=1, return_indices=True)
    _, expected = torch.nn.functional.max_pool2d(torch.tensor(x), 3, stride=1, padding=1,
                                                 return_indices=True)
    np.testing.assert_array_equal(indices.data, expected.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(args=pool2d_args("avg", max_kernel=4, max_extra=5), data=st.data())
def test_avg_pool2d_matches_torch(torch, dtype, args, data):
    x = data.draw(arrays(args.input_shape, dtype=dtype))
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.avg_pool2d(x, **args),
        lambda x: torch.nn.functional.avg_pool2d(x, **args), [x])
    assert_matches(outs[0].data, expected_outs[0], dtype)
    assert_matches(grads[0], expected_grads[0], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9),
                       st.integers(1, 9)), data=st.data())
def test_adaptive_pool2d_matches_torch(torch, dtype, name, shape, data):
    size = data.draw(adaptive_sizes(*shape[2:]))
    if data.draw(st.booleans()):
        shape = shape[1:]  # unbatched
    x = data.draw(arrays(shape, dtype=dtype, distinct=name == "adaptive_max_pool2d"))
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: getattr(F, name)(x, size),
        lambda x: getattr(torch.nn.functional, name)(x, size), [x])
    assert_matches(outs[0].data, expected_outs[0], dtype)
    assert_matches(grads[0], expected_grads[0], dtype)


def test_adaptive_max_pool2d_indices_and_ties_match_torch(torch):
    x = np.array([[[[1, 1, 0, 2, 2], [1, 0, 0, 2, 1], [3, 3, 3, 0, 0]]]], dtype=np.float32)
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.adaptive_max_pool2d(x, (2, 3), return_indices=True),
        lambda x: torch.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True),
        [x])
    np.testing.assert_array_equal(outs[1].data, expected_outs[1].numpy())
    np.testing.assert_array_equal(grads[0], expected_grads[0].numpy())


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (2, 3)},
                                    {"kernel_size": 2, "stride": 2, "ceil_mode": True}])
def test_tiling_fast_path_matches_torch(torch, name, kwargs):
    """Windows that tile the input exactly (the reshape fast path) on a larger input."""
    x = np.random.default_rng(2).standard_normal((4, 3, 12, 18)).astype(np.float32)
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: getattr(F, name)(x, **kwargs),
        lambda x: getattr(torch.nn.functional, name)(x, **kwargs), [x])
    assert_matches(outs[0].data, expected_outs[0], np.float32)
    assert_matches(grads[0], expected_grads[0], np.float32)


# ---- integer inputs: forward only, as PyTorch allows -------------------------------------
def test_integer_forward_matches_torch(torch):
    rng = np.random.default_rng(3)
    x = rng.integers(-9, 10, size=(2, 3, 6, 7))
    weight = rng.integers(-3, 4, size=(4, 3, 3, 2))
    bias = rng.integers(-5, 6, size=4)
    ours = F.conv2d(mg.tensor(x), mg.tensor(weight), mg.tensor(bias), stride=(1, 2), padding=1)
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(weight),
                                        torch.tensor(bias), stride=(1, 2), padding=1)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert ours.dtype == np.int64
    for name, kwargs in [("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
                         ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
                         ("avg_pool2d", {"kernel_size": 2, "ceil_mode": True,
                                         "count_include_pad": False})]:
        ours = getattr(F, name)(mg.tensor(x), **kwargs)
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), **kwargs)
        np.testing.assert_array_equal(ours.data, theirs.numpy())  # avg rounds toward zero
        assert ours.dtype == np.int64


# ---- the parametrized pool cases: values, dtypes and inputs ---------------------------------
# each case takes the functional module, minigrad's or torch's, so one line serves both
POOLS = {
    "max_pool2d": lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
    "max_pool2d_tiled": lambda F, x: F.max_pool2d(x, 2),
    "avg_pool2d_tiled": lambda F, x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_avg_pool2d_global": lambda F, x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_max_pool2d": lambda F, x: F.adaptive_max_pool2d(x, (3, 2)),
}


def pool_input(dtype) -> np.ndarray:
    return np.random.default_rng(4).standard_normal((2, 3, 6, 8)).astype(dtype)


@pytest.mark.parametrize("name", sorted(POOLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_keeps_dtype_and_leaves_input_alone(name, dtype):
    data = pool_input(dtype)
    before = data.copy()
    x = mg.tensor(data, requires_grad=True)
    x.data = data  # share the array so a write through a view would show
    out = POOLS[name](F, x)
    out.backward(mg.ones(out.shape, dtype=dtype))
    assert out.dtype == x.grad.dtype == dtype
    np.testing.assert_array_equal(data, before)


@pytest.mark.parametrize("name", sorted(POOLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_cases_match_torch(torch, name, dtype):
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, lambda x: POOLS[name](F, x), lambda x: POOLS[name](torch.nn.functional, x),
        [pool_input(dtype)])
    assert_matches(outs[0].data, expected_outs[0], dtype)
    assert_matches(grads[0], expected_grads[0], dtype)


# ---- avg_pool2d's divisor corners: ceil_mode overhang, count_include_pad, divisor_override ----
# (input shape, keyword arguments); every case has a last window hanging over the input
AVG_CORNERS = {
    "ceil_overhang": ((1, 1, 5, 5), {"kernel_size": 2, "stride": 2, "ceil_mode": True}),
    "ceil_overhang_past_padding": ((1, 2, 6, 6), {"kernel_size": 3, "stride": 2, "padding": 1,
                                                  "ceil_mode": True}),
    "ceil_overhang_no_pad_count": ((1, 2, 6, 6), {"kernel_size": 3, "stride": 2, "padding": 1,
                                                  "ceil_mode": True,
                                                  "count_include_pad": False}),
    "ceil_divisor_override": ((1, 1, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                             "ceil_mode": True, "divisor_override": 2}),
    "override_beats_no_pad_count": ((2, 1, 5, 5), {"kernel_size": 3, "stride": 2,
                                                   "padding": 1, "ceil_mode": True,
                                                   "count_include_pad": False,
                                                   "divisor_override": 5}),
    "ceil_rectangular": ((1, 1, 7, 8), {"kernel_size": (3, 2), "stride": (2, 3),
                                        "padding": (1, 0), "ceil_mode": True}),
    "ceil_unbatched": ((2, 5, 4), {"kernel_size": 2, "stride": (2, 3), "ceil_mode": True,
                                   "count_include_pad": False}),
    "pad_count_no_ceil": ((1, 1, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "no_pad_count_no_ceil": ((1, 1, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1,
                                            "count_include_pad": False}),
}


def avg_pool_both_kernels(x: np.ndarray, kwargs: dict) -> dict:
    """{kind: (output, input gradient)} of avg_pool2d with the fast and the reference kernels,
    the gradient for a fixed random output gradient."""
    results = {}
    try:
        for kind in ("fast", "reference"):
            mg.set_kernels(kind)
            tensor = mg.tensor(x, requires_grad=True)
            out = F.avg_pool2d(tensor, **kwargs)
            grad = np.random.default_rng(0).standard_normal(out.shape).astype(x.dtype)
            out.backward(mg.tensor(grad))
            results[kind] = (out.detach().numpy(), tensor.grad.numpy())
    finally:
        mg.set_kernels("fast")
    return results


# Ones in, kernel 3, stride 2, padding 1, ceil_mode on a 6x6 input: 4 windows per axis,
# starting at -1, 1, 3, 5. The last one covers row 5 (real), 6 (padding) and 7 (past the
# padding, never counted). Per axis: real pixels 2, 3, 3, 1; pixels counted with padding
# 3, 3, 3, 2.
REAL = np.array([2.0, 3.0, 3.0, 1.0])
WITH_PADDING = np.array([3.0, 3.0, 3.0, 2.0])
CORNER_KNOWN_VALUES = [
    ({}, np.outer(REAL / WITH_PADDING, REAL / WITH_PADDING)),
    ({"count_include_pad": False}, np.ones((4, 4))),
    ({"divisor_override": 2}, np.outer(REAL, REAL) / 2),
    ({"count_include_pad": False, "divisor_override": 4}, np.outer(REAL, REAL) / 4),
]


@pytest.mark.parametrize("kind", ["fast", "reference"])
@pytest.mark.parametrize("kwargs, expected", CORNER_KNOWN_VALUES)
def test_avg_pool2d_ceil_mode_known_values(kind, kwargs, expected):
    try:
        mg.set_kernels(kind)
        x = mg.ones(1, 1, 6, 6, dtype=mg.float64, requires_grad=True)
        out = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, **kwargs)
        out.sum().backward()
    finally:
        mg.set_kernels("fast")
    np.testing.assert_allclose(out.detach().numpy()[0, 0], expected, rtol=1e-12)
    # the gradient of the sum: each pixel gets 1 / divisor from every window it is in
    assert x.grad.sum().item() == pytest.approx(out.sum().item())


def test_avg_pool2d_ceil_overhang_without_padding_averages_real_pixels():
    """5x5 ones, 2x2 windows, stride 2, ceil_mode: the third window per axis sees one real
    pixel and nothing else counts, so every output is 1 (not 0.5 or 0.25)."""
    for kind in ("fast", "reference"):
        try:
            mg.set_kernels(kind)
            out = F.avg_pool2d(mg.ones(1, 1, 5, 5), 2, ceil_mode=True)
        finally:
            mg.set_kernels("fast")
        np.testing.assert_array_equal(out.numpy(), np.ones((1, 1, 3, 3), dtype=np.float32))


@pytest.mark.parametrize("name", sorted(AVG_CORNERS))
def test_avg_pool2d_corners_match_reference_kernels(name):
    shape, kwargs = AVG_CORNERS[name]
    x = np.random.default_rng(7).standard_normal(shape)
    results = avg_pool_both_kernels(x, kwargs)
    for fast, reference in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(AVG_CORNERS))
def test_avg_pool2d_corners_match_torch(torch, name, dtype):
    shape, kwargs = AVG_CORNERS[name]
    x = np.random.default_rng(7).standard_normal(shape).astype(dtype)
    results = avg_pool_both_kernels(x, kwargs)
    (_, _), (expected_outs, expected_grads) = run_both(
        torch, lambda x: F.avg_pool2d(x, **kwargs),
        lambda x: torch.nn.functional.avg_pool2d(x, **kwargs), [x])
    for out, grad in results.values():
        assert_matches(out, expected_outs[0], dtype)
        assert_matches(grad, expected_grads[0], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_keeps_dtype_and_leaves_inputs_alone(dtype):
    rng = np.random.default_rng(5)
    arrays_in = [rng.standard_normal(shape).astype(dtype)
                 for shape in [(2, 4, 7, 7), (6, 2, 3, 3), (6,)]]
    befores = [a.copy() for a in arrays_in]
    tensors_in = []
    for array in arrays_in:
        tensor = mg.tensor(array, requires_grad=True)
        tensor.data = array
        tensors_in.append(tensor)
    out = F.conv2d(*tensors_in, stride=2, padding=1, dilation=1, groups=2)
    out.backward(mg.ones(out.shape, dtype=dtype))
    assert out.dtype == dtype
    for tensor, array, before in zip(tensors_in, arrays_in, befores):
        assert tensor.grad.dtype == dtype
        np.testing.assert_array_equal(array, before)


def test_conv2d_1x1_shares_no_scratch_with_its_input(torch):
    """A 1x1 stride-1 conv's columns are the input itself; backward must not write there."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    before = x.copy()
    (outs, grads), (expected_outs, expected_grads) = run_both(
        torch, F.conv2d, torch.nn.functional.conv2d, [x, weight])
    np.testing.assert_array_equal(x, before)
    assert_matches(outs[0].data, expected_outs[0], np.float32)
    for ours, theirs in zip(grads, expected_grads):
        assert_matches(ours, theirs, np.float32)


@pytest.mark.parametrize("padding", [1, 0])
def test_conv2d_backward_twice_with_retain_graph(padding):
    rng = np.random.default_rng(10)
    x = mg.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    weight = mg.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                       requires_grad=True)
    out = F.conv2d(x, weight, padding=padding)
    grad = mg.tensor(rng.standard_normal(out.shape).astype(np.float32))
    out.backward(grad, retain_graph=True)
    first = (x.grad.data.copy(), weight.grad.data.copy())
    out.backward(grad)
    np.testing.assert_allclose(x.grad.data, 2 * first[0], rtol=1e-6)
    np.testing.assert_allclose(weight.grad.data, 2 * first[1], rtol=1e-6)


def test_max_pool2d_infinite_gradient_reaches_only_the_winners(torch):
    x = np.random.default_rng(11).permutation(32).reshape(1, 2, 4, 4).astype(np.float32)
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        ours_x, theirs_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours, theirs = F.max_pool2d(ours_x, **kwargs), torch.nn.functional.max_pool2d(
            theirs_x, **kwargs)
        ours_grad = np.ones(ours.shape, dtype=np.float32)
        ours_grad.reshape(-1)[0] = np.inf
        ours.backward(mg.tensor(ours_grad))
        theirs.backward(torch.tensor(ours_grad))
        np.testing.assert_array_equal(ours_x.grad.data, theirs_x.grad.numpy())
        assert np.isnan(ours_x.grad.data).sum() == 0


def test_unbatched_input_matches_batch_of_one():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    weight = mg.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32))
    for op in (lambda t: F.conv2d(t, weight, padding="same"),
               *(lambda t, name=name: POOLS[name](F, t)
                 for name in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"))):
        single, batch = mg.tensor(x, requires_grad=True), mg.tensor(x[None], requires_grad=True)
        out, out_batch = op(single), op(batch)
        np.testing.assert_array_equal(out.data, out_batch.data[0])
        out.backward(mg.ones(out.shape))
        out_batch.backward(mg.ones(out_batch.shape))
        assert single.grad.shape == x.shape
        np.testing.assert_array_equal(single.grad.data, batch.grad.data[0])


def test_same_padding_keeps_size_with_extra_pad_bottom_right(torch):
    x = np.random.default_rng(7).standard_normal((1, 1, 5, 6)).astype(np.float32)
    weight = np.random.default_rng(8).standard_normal((1, 1, 4, 2)).astype(np.float32)
    ours = F.conv2d(mg.tensor(x), mg.tensor(weight), padding="same")
    # explicit asymmetric padding: top 1, bottom 2, left 0, right 1
    padded = np.pad(x, ((0, 0), (0, 0), (1, 2), (0, 1)))
    expected = F.conv2d(mg.tensor(padded), mg.tensor(weight))
    assert ours.shape == x.shape
    np.testing.assert_allclose(ours.data, expected.data, rtol=1e-6)


# ---- errors -----------------------------------------------------------------------------
def t(*shape, dtype=np.float32):
    return mg.zeros(shape, dtype=dtype)


CONV_ERRORS = [
    ((t(8, 3, 28, 28), t(6, 1, 5, 5)), {}, RuntimeError,
     "conv2d: input has 3 channels, weight expects 1 (input (8, 3, 28, 28), weight (6, 1, 5, 5))"),
    ((t(1, 3, 5, 5), t(6, 1, 3, 3)), {"groups": 2}, RuntimeError, "weight expects 2"),
    ((t(1, 4, 5, 5), t(5, 2, 3, 3)), {"groups": 2}, RuntimeError, "groups=2"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"groups": 0}, RuntimeError, "groups"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"groups": 1.0}, TypeError, "groups"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"stride": 0}, RuntimeError, "stride"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"stride": (1, -1)}, RuntimeError, "stride"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"stride": (1, 1, 1)}, RuntimeError, "stride"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"stride": 1.5}, TypeError, "stride"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"dilation": 0}, RuntimeError, "dilation"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"padding": -1}, RuntimeError, "padding"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"padding": "full"}, RuntimeError, "padding"),
    ((t(1, 3, 5, 5), t(6, 3, 3, 3)), {"padding": "same", "stride": 2}, RuntimeError, "same"),
    ((t(1, 3, 4, 4), t(6, 3, 5, 5)), {}, RuntimeError, "kernel size (5, 5)"),
    ((t(1, 3, 4, 4), t(6, 3, 2, 2)), {"dilation": 4}, RuntimeError, "dilated to (5, 5)"),
    ((t(3, 28), t(6, 3, 5, 5)), {}, RuntimeError, "input of shape (3, 28)"),
    ((t(1, 1, 3, 28, 28), t(6, 3, 5, 5)), {}, RuntimeError, "input of shape"),
    ((t(1, 3, 8, 8), t(6, 3, 5)), {}, RuntimeError, "weight of shape (6, 3, 5)"),
    ((t(1, 3, 8, 8), t(6, 3, 5, 5), t(5)), {}, RuntimeError, "bias (5,)"),
    ((t(1, 3, 8, 8), t(6, 3, 5, 5), t(6, 1)), {}, RuntimeError, "bias (6, 1)"),
    ((t(1, 3, 8, 8), t(6, 3, 5, 5, dtype=np.float64)), {}, RuntimeError, "dtype"),
    ((t(1, 3, 8, 8), t(6, 3, 5, 5), t(6, dtype=np.float64)), {}, RuntimeError, "bias dtype"),
    ((t(1, 3, 8, 8, dtype=bool), t(6, 3, 5, 5, dtype=bool)), {}, NotImplementedError, "bool"),
    ((np.zeros((1, 3, 8, 8)), t(6, 3, 5, 5)), {}, TypeError, "input must be a Tensor"),
]


@pytest.mark.parametrize("inputs, kwargs, error, message", CONV_ERRORS)
def test_conv2d_errors(inputs, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        F.conv2d(*inputs, **kwargs)


POOL_ERRORS = [
    ({"kernel_size": 0}, RuntimeError, "kernel_size must be positive"),
    ({"kernel_size": (2, 2, 2)}, RuntimeError, "kernel_size"),
    ({"kernel_size": 2.0}, TypeError, "kernel_size"),
    ({"kernel_size": 2, "stride": 0}, RuntimeError, "stride must be positive"),
    ({"kernel_size": 2, "stride": (1, -1)}, RuntimeError, "stride must be positive"),
    ({"kernel_size": 2, "padding": -1}, RuntimeError, "padding must be non-negative"),
    ({"kernel_size": 2, "padding": 2}, RuntimeError,
     "pad should be at most half of effective kernel size"),
    ({"kernel_size": (3, 2), "padding": (1, 2)}, RuntimeError, "pad should be at most half"),
    ({"kernel_size": 4}, RuntimeError,
     "Given input size (1, 3, 3), calculated output size (1, 0, 0) is too small"),
]


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kwargs, error, message", POOL_ERRORS)
def test_pool_errors(name, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)) as info:
        getattr(F, name)(t(1, 3, 3), **kwargs)
    assert str(info.value).startswith(f"{name}: ")


def test_pool_too_small_message_is_exact():
    with pytest.raises(RuntimeError, match=re.escape(
            "max_pool2d: Given input size (1, 3, 3), calculated output size (1, 0, 0) is "
            "too small")):
        F.max_pool2d(t(1, 3, 3), 4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.max_pool2d(t(1, 3, 3), 2, dilation=0), RuntimeError, "dilation"),
    (lambda: F.max_pool2d(t(3, 3), 2), RuntimeError, "input of shape (3, 3)"),
    (lambda: F.avg_pool2d(t(3, 3), 2), RuntimeError, "input of shape (3, 3)"),
    (lambda: F.max_pool2d(t(1, 1, 1, 3, 3), 2), RuntimeError, "input of shape (1, 1, 1, 3, 3)"),
    (lambda: F.max_pool2d(t(1, 0, 3), 2), RuntimeError, "non-zero"),
    (lambda: F.max_pool2d(t(1, 4, 4, dtype=bool), 2), NotImplementedError, "bool"),
    (lambda: F.avg_pool2d(t(1, 4, 4), 2, divisor_override=0), RuntimeError, "divisor_override"),
    (lambda: F.avg_pool2d(t(1, 4, 4), 2, divisor_override=1.5), TypeError, "divisor_override"),
    (lambda: F.adaptive_avg_pool2d(t(1, 4, 4), -1), RuntimeError, "output_size"),
    (lambda: F.adaptive_avg_pool2d(t(1, 4, 4), (1, 2, 3)), ValueError, "output_size"),
    (lambda: F.adaptive_avg_pool2d(t(1, 4, 4), 2.0), TypeError, "output_size"),
    (lambda: F.adaptive_avg_pool2d(t(4, 4), 2), RuntimeError, "input of shape (4, 4)"),
    (lambda: F.adaptive_max_pool2d(t(4, 4), 2), RuntimeError, "input of shape (4, 4)"),
    (lambda: F.adaptive_avg_pool2d(t(1, 4, 4, dtype=np.int64), 2), NotImplementedError,
     "int64"),
    (lambda: F.max_pool2d(np.zeros((1, 4, 4)), 2), TypeError, "input must be a Tensor"),
])
def test_other_errors(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
