"""conv2d takes different internal paths by shape (column build by planes or by columns,
input gradient by columns, by planes or by kernel rows): each path, on the layer shapes of
the built-in models and around them, against PyTorch in float32 and float64."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

# (input shape, weight shape, stride, padding, dilation, groups)
CASES = [
    ((3, 1, 28, 28), (6, 1, 5, 5), 1, 0, 1, 1),      # LeNet conv1: first layer
    ((3, 6, 12, 12), (16, 6, 5, 5), 1, 0, 1, 1),     # LeNet conv2: narrow valid output
    ((2, 1, 28, 28), (32, 1, 3, 3), 1, 1, 1, 1),     # SimpleCNN conv1: 'same' width
    ((2, 32, 14, 14), (64, 32, 3, 3), 1, 1, 1, 1),   # SimpleCNN conv2
    ((2, 6, 9, 11), (4, 6, 3, 5), 1, (1, 2), 1, 1),  # non-square kernel, same width
    ((2, 4, 10, 10), (8, 2, 3, 3), 1, 1, 1, 2),      # groups on the planes path
    ((2, 3, 11, 9), (5, 3, 3, 3), 2, 1, 1, 1),       # stride 2
    ((2, 3, 12, 12), (4, 3, 3, 3), 1, 2, 2, 1),      # dilation 2, same width
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, "same", 1, 1),
    ((1, 2, 7, 5), (3, 2, 2, 4), 1, "same", 2, 1),   # even kernel, asymmetric 'same'
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape, weight_shape, stride, padding, dilation, groups", CASES)
def test_conv2d_paths_match_pytorch(input_shape, weight_shape, stride, padding, dilation,
                                    groups, dtype):
    rng = np.random.default_rng(sum(input_shape) + sum(weight_shape))
    x = rng.standard_normal(input_shape).astype(dtype)
    w = rng.standard_normal(weight_shape).astype(dtype)
    b = rng.standard_normal(weight_shape[0]).astype(dtype)
    args = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    out = F.conv2d(*ours, **args)
    expected = torch.nn.functional.conv2d(*theirs, **args)
    upstream = rng.standard_normal(expected.shape).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tight = dtype == np.float64
    tolerance = {"rtol": 1e-10, "atol": 1e-10} if tight else {"rtol": 1e-4, "atol": 1e-4}
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    for name, mine, reference in zip(("input", "weight", "bias"), ours, theirs):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), err_msg=name,
                                   **tolerance)


def test_the_cases_cover_every_internal_path(monkeypatch):
    from minigrad.ops import conv

    used = set()
    for name in ("row_transposed_conv", "conv_windows_by_columns", "copy_windows_by_planes",
                 "columns_to_image", "conv_windows"):
        original = getattr(conv, name)

        def counting(*args, __name=name, __original=original, **kwargs):
            used.add(__name)
            return __original(*args, **kwargs)

        monkeypatch.setattr(conv, name, counting)
    for input_shape, weight_shape, stride, padding, dilation, groups in CASES:
        x = mg.randn(*input_shape, requires_grad=True)
        w = mg.randn(*weight_shape, requires_grad=True)
        F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation,
                 groups=groups).sum().backward()
    assert used == {"row_transposed_conv", "conv_windows_by_columns", "copy_windows_by_planes",
                    "columns_to_image", "conv_windows"}
