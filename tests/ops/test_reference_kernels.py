"""Reference kernels (readable loops) against the fast ones: same forward and backward on
random shapes and arguments, switched with mg.set_kernels."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import models
from minigrad.ops.reference_kernels import (
    AvgPool2dReference,
    Conv2dReference,
    MaxPool2dReference,
)
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, conv2d_args, pool2d_args

PUBLIC = {"conv2d": F.conv2d, "max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d}
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


@pytest.fixture(autouse=True)
def fast_kernels_afterwards():
    yield
    mg.set_kernels("fast")


def run(name, arrays_in, options, kind, weights=None):
    """Forward and backward of op `name` with `kind` kernels: (output, grads, node)."""
    mg.set_kernels(kind)
    inputs = [None if array is None else mg.tensor(array, requires_grad=True)
              for array in arrays_in]
    output = PUBLIC[name](*inputs, **options)
    if weights is None:
        weights = np.random.default_rng(0).standard_normal(output.shape)
    output.backward(mg.tensor(weights.astype(output.dtype)))
    grads = [None if tensor is None else tensor.grad for tensor in inputs]
    return output, grads, output.grad_fn


def assert_same(name, arrays_in, options, dtype=np.float64):
    arrays_in = [None if array is None else array.astype(dtype) for array in arrays_in]
    fast, fast_grads, fast_node = run(name, arrays_in, options, "fast")
    reference, reference_grads, reference_node = run(name, arrays_in, options, "reference")
    assert "Reference" in reference_node.name and "Reference" not in fast_node.name
    assert reference.shape == fast.shape and reference.dtype == fast.dtype == dtype
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(reference.data, fast.data, rtol=tolerance, atol=tolerance)
    for index, (mine, theirs) in enumerate(zip(reference_grads, fast_grads)):
        if theirs is None:
            continue
        assert mine.dtype == theirs.dtype == dtype, index
        np.testing.assert_allclose(mine.data, theirs.data, rtol=tolerance, atol=tolerance,
                                   err_msg=f"gradient of input {index}")


# ---- the same results on random arguments -------------------------------------------------
@given(data=st.data(), args=conv2d_args(), with_bias=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_conv2d_reference_matches_fast(data, args, with_bias, dtype):
    x = data.draw(arrays(args.input_shape), label="input")
    weight = data.draw(arrays(args.weight_shape), label="weight")
    bias = data.draw(arrays(args.bias_shape), label="bias") if with_bias else None
    assert_same("conv2d", [x, weight, bias], dict(args), dtype)


@given(data=st.data(), args=pool2d_args("max"), dtype=st.sampled_from([np.float64, np.float32]))
def test_max_pool2d_reference_matches_fast(data, args, dtype):
    x = data.draw(arrays(args.input_shape, distinct=True), label="input")
    assert_same("max_pool2d", [x], dict(args), dtype)


@given(data=st.data(), args=pool2d_args("max"))
def test_max_pool2d_ties_go_to_the_same_pixel(data, args):
    x = data.draw(arrays(args.input_shape, low=0, high=2).map(np.round), label="input")
    assert_same("max_pool2d", [x], dict(args))


@given(data=st.data(), args=pool2d_args("avg"), dtype=st.sampled_from([np.float64, np.float32]))
def test_avg_pool2d_reference_matches_fast(data, args, dtype):
    x = data.draw(arrays(args.input_shape), label="input")
    assert_same("avg_pool2d", [x], dict(args), dtype)


@given(data=st.data(), args=pool2d_args("avg"))
def test_integer_pooling_matches_fast(data, args):
    x = data.draw(arrays(args.input_shape, low=-20, high=20).map(np.round), label="input")
    x = mg.tensor(x.astype(np.int64))
    mg.set_kernels("reference")
    reference_avg = F.avg_pool2d(x, **args)
    reference_max = F.max_pool2d(x, args["kernel_size"], args["stride"], args["padding"])
    mg.set_kernels("fast")
    np.testing.assert_array_equal(reference_avg.numpy(), F.avg_pool2d(x, **args).numpy())
    np.testing.assert_array_equal(
        reference_max.numpy(),
        F.max_pool2d(x, args["kernel_size"], args["stride"], args["padding"]).numpy())
    assert reference_avg.dtype == reference_max.dtype == mg.int64


@given(data=st.data(), args=conv2d_args(max_channels_per_group=1, max_extra=1))
def test_reference_conv2d_passes_gradcheck(data, args):
    x = data.draw(arrays(args.input_shape), label="input")
    weight = data.draw(arrays(args.weight_shape), label="weight")
    bias = data.draw(arrays(args.bias_shape), label="bias")
    mg.set_kernels("reference")
    assert gradcheck(lambda *t: F.conv2d(*t, **args),
                     [mg.tensor(x), mg.tensor(weight), mg.tensor(bias)])


# ---- known values, models, switching ---------------------------------------------------------
@pytest.mark.parametrize("kind", ["fast", "reference"])
def test_seed_notebook_conv_example(kind):
    """The seed's verify_cnn_forward, in NCHW: two 3x3 filters on a 4x4 ramp."""
    mg.set_kernels(kind)
    x = mg.tensor(np.arange(1.0, 17.0).reshape(1, 1, 4, 4), requires_grad=True)
    weight = np.zeros((2, 1, 3, 3))
    weight[0, 0, 1, 1], weight[0, 0, 2, 1] = 1, -1
    weight[1, 0, 1, 1], weight[1, 0, 1, 2] = -1, 1
    weight = mg.tensor(weight, requires_grad=True)
    out = F.conv2d(x, weight, mg.zeros(2, dtype=mg.float64))
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], np.full((2, 2), -4.0))
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], np.full((2, 2), 1.0))
    delta = np.array([[[[-4, -4], [10, 11]], [[1, -7], [1, -11]]]], dtype=np.float64)
    out.backward(mg.tensor(delta))
    expected = [[0, 0, 0, 0], [0, -5, 4, -7], [0, 13, 27, -11], [0, -10, -11, 0]]
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_a_model_trains_the_same_on_both_kernels():
    results = {}
    for kind in ("fast", "reference"):
        mg.set_kernels(kind)
        mg.manual_seed(0)
        model = models.LeNet5()
        x = mg.randn(2, 1, 28, 28)
        loss = F.cross_entropy(model(x), mg.tensor([3, 7]))
        loss.backward()
        results[kind] = (loss.item(), model.conv1.weight.grad.numpy().copy())
    assert results["fast"][0] == pytest.approx(results["reference"][0], rel=1e-5)
    np.testing.assert_allclose(results["fast"][1], results["reference"][1], rtol=1e-4,
                               atol=1e-6)


def test_set_and_get_kernels():
    assert mg.get_kernels() == "fast"
    mg.set_kernels("reference")
    assert mg.get_kernels() == "reference"
    x = mg.randn(1, 1, 4, 4, requires_grad=True)
    assert isinstance(F.conv2d(x, mg.randn(1, 1, 3, 3)).grad_fn, Conv2dReference)
    assert isinstance(F.max_pool2d(x, 2).grad_fn, MaxPool2dReference)
    assert isinstance(F.avg_pool2d(x, 2).grad_fn, AvgPool2dReference)
    assert isinstance(mg.nn.MaxPool2d(2)(x).grad_fn, MaxPool2dReference)
    mg.set_kernels("fast")
    assert not isinstance(F.conv2d(x, mg.randn(1, 1, 3, 3)).grad_fn, Conv2dReference)
    with pytest.raises(ValueError, match="'fast' or 'reference'"):
        mg.set_kernels("slow")
    assert mg.get_kernels() == "fast"


def test_errors_are_the_public_functions_whatever_the_kernels():
    mg.set_kernels("reference")
    with pytest.raises(RuntimeError, match="conv2d: input has 3 channels, weight expects 1"):
        F.conv2d(mg.randn(8, 3, 28, 28), mg.randn(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match="max_pool2d: pad should be at most half"):
        F.max_pool2d(mg.randn(1, 1, 4, 4), 2, padding=2)
