"""nn.utils: conv2d_output_shape and gradient clipping (against PyTorch)."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, conv2d_output_shape


def test_conv2d_output_shape_known_values():
    assert conv2d_output_shape((28, 28), 3) == (26, 26)  # the seed notebook's example
    assert nn.utils.conv2d_output_shape((28, 28), 5) == (24, 24)
    assert conv2d_output_shape((28, 28), 5, padding=2) == (28, 28)
    assert conv2d_output_shape((32, 30), (3, 5), stride=(2, 1), padding=(1, 0)) == (16, 26)
    assert conv2d_output_shape((10, 10), 3, dilation=2) == (6, 6)
    assert conv2d_output_shape(7, 2, stride=2) == (3, 3)
    assert conv2d_output_shape((9, 8), (3, 4), padding="same") == (9, 8)
    assert conv2d_output_shape((9, 8), 3, padding="valid") == (7, 6)


def test_conv2d_output_shape_errors():
    with pytest.raises(ValueError, match="too small"):
        conv2d_output_shape((2, 2), 3)
    with pytest.raises(ValueError, match="positive"):
        conv2d_output_shape((8, 8), 3, stride=0)
    with pytest.raises(ValueError, match="stride 1"):
        conv2d_output_shape((8, 8), 3, stride=2, padding="same")
    with pytest.raises(TypeError, match="kernel_size"):
        conv2d_output_shape((8, 8), (1, 2, 3))


@pytest.mark.parametrize("size,kernel,stride,padding,dilation",
                         [(28, 5, 1, 0, 1), (13, 3, 2, 1, 1), (17, 4, 3, 2, 2), (6, 6, 1, 0, 1)])
def test_conv2d_output_shape_matches_layers(size, kernel, stride, padding, dilation):
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    output = conv(mg.zeros(1, 1, size, size + 1))
    assert output.shape[2:] == conv2d_output_shape((size, size + 1), kernel, stride, padding,
                                                   dilation)


def _params_with_grads(dtype=mg.float32, scale=1.0):
    rng = np.random.default_rng(0)
    params = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        param = nn.Parameter(mg.zeros(*shape, dtype=dtype))
        param.grad = mg.tensor((rng.standard_normal(shape) * scale).astype(dtype))
        params.append(param)
    return params


def test_clip_grad_norm_scales_to_max_norm():
    params = _params_with_grads(scale=3.0)
    before = np.sqrt(sum(float((param.grad.data.astype(np.float64) ** 2).sum())
                         for param in params))
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, mg.Tensor) and total.dtype == np.float32
    assert total.item() == pytest.approx(before, rel=1e-6)
    after = np.sqrt(sum(float((param.grad.data ** 2).sum()) for param in params))
    assert after == pytest.approx(1.0, rel=1e-5)
    assert all(param.grad.dtype == np.float32 for param in params)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _params_with_grads(scale=0.01)
    saved = [param.grad.data.copy() for param in params]
    clip_grad_norm_(iter(params), max_norm=10.0)
    for param, grad in zip(params, saved):
        np.testing.assert_array_equal(param.grad.data, grad)


def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor():
    lone = nn.Parameter(mg.zeros(2))
    assert clip_grad_norm_([lone], 1.0).item() == 0.0
    lone.grad = mg.tensor([3.0, 4.0])
    assert clip_grad_norm_(lone, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(lone.grad.data, [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    params = _params_with_grads()
    params[1].grad.data[0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(params, 1.0).item())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_clip_grad_norm_matches_torch(norm_type, dtype):
    torch = pytest.importorskip("torch")
    ours = _params_with_grads(dtype, scale=2.0)
    theirs = []
    for param in ours:
        copy = torch.nn.Parameter(torch.zeros(param.shape, dtype=getattr(torch, str(dtype))))
        copy.grad = torch.tensor(param.grad.data.copy())
        theirs.append(copy)
    total = clip_grad_norm_(ours, max_norm=0.5, norm_type=norm_type)
    reference = torch.nn.utils.clip_grad_norm_(theirs, max_norm=0.5, norm_type=norm_type)
    tolerance = 1e-6 if dtype == mg.float32 else 1e-12
    assert total.dtype == reference.numpy().dtype
    assert total.item() == pytest.approx(reference.item(), rel=tolerance)
    for param, copy in zip(ours, theirs):
        np.testing.assert_allclose(param.grad.data, copy.grad.numpy(), rtol=tolerance * 10,
                                   atol=tolerance)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _params_with_grads(scale=2.0)
    theirs = [torch.nn.Parameter(torch.zeros(param.shape)) for param in ours]
    for param, copy in zip(ours, theirs):
        copy.grad = torch.tensor(param.grad.data.copy())
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for param, copy in zip(ours, theirs):
        np.testing.assert_array_equal(param.grad.data, copy.grad.numpy())
        assert np.abs(param.grad.data).max() <= np.float32(0.7)
