"""grid_sample and affine_grid against PyTorch: values, gradients for input, grid and theta,
second derivatives (gradgradcheck and torch), errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import assert_matches_torch

FEW = settings(max_examples=4, deadline=None)
MODES = ("bilinear", "nearest")
PADDING = ("zeros", "border", "reflection")




@st.composite
def sample_cases(draw):
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    height, width = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    out_h, out_w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, height, width))
    grid = rng.uniform(-1.4, 1.4, (batch, out_h, out_w, 2))
    return x, grid


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", (False, True))
@FEW
@given(case=sample_cases())
def test_grid_sample_matches_torch(dtype, mode, padding_mode, align_corners, case):
    torch = pytest.importorskip("torch")
    x, grid = case
    options = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    assert_matches_torch(lambda a, g: F.grid_sample(a, g, **options),
                         lambda a, g: torch.nn.functional.grid_sample(a, g, **options),
                         [x, grid], dtype)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", (False, True))
def test_grid_sample_volumetric_matches_torch(mode, padding_mode, align_corners):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 2, 3, 4, 2))
    grid = rng.uniform(-1.3, 1.3, (2, 2, 3, 2, 3))
    options = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    assert_matches_torch(lambda a, g: F.grid_sample(a, g, **options),
                         lambda a, g: torch.nn.functional.grid_sample(a, g, **options),
                         [x, grid], "float64")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDING)
@pytest.mark.parametrize("align_corners", (False, True))
def test_grid_sample_gradcheck_and_gradgradcheck(mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((1, 2, 3, 4)))
    grid = mg.tensor(rng.uniform(-1.3, 1.3, (1, 2, 3, 2)))

    def function(a, g):
        return F.grid_sample(a, g, mode, padding_mode, align_corners) ** 2

    assert gradcheck(function, [x, grid])
    assert gradgradcheck(function, [x, grid])


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4)])
@pytest.mark.parametrize("align_corners", (False, True))
def test_affine_grid_matches_torch(dtype, size, align_corners):
    torch = pytest.importorskip("torch")
    dims = len(size) - 2
    theta = np.random.default_rng(4).standard_normal((size[0], dims, dims + 1))
    assert_matches_torch(lambda t: F.affine_grid(t, size, align_corners) ** 2,
                         lambda t: torch.nn.functional.affine_grid(t, size, align_corners) ** 2,
                         [theta], dtype)


def test_spatial_transformer_gradient_matches_torch():
    """affine_grid + grid_sample: the gradient reaching theta, as a spatial transformer."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 6))
    theta = np.array([[[0.9, 0.1, 0.05], [-0.1, 0.8, 0.1]]] * 2) + rng.normal(0, .05, (2, 2, 3))

    def ours(a, t):
        return F.grid_sample(a, F.affine_grid(t, (2, 3, 4, 4), False), align_corners=False)

    def theirs(a, t):
        grid = torch.nn.functional.affine_grid(t, (2, 3, 4, 4), align_corners=False)
        return torch.nn.functional.grid_sample(a, grid, align_corners=False)

    assert_matches_torch(ours, theirs, [x, theta], "float64")


def test_sampling_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    x, grid = mg.zeros(1, 1, 3, 3), mg.zeros(1, 2, 2, 2)
    tx, tgrid = torch.zeros(1, 1, 3, 3), torch.zeros(1, 2, 2, 2)
    pairs = [
        (lambda: F.grid_sample(x, grid, mode="bicubic2"),
         lambda: torch.nn.functional.grid_sample(tx, tgrid, mode="bicubic2")),
        (lambda: F.grid_sample(x, grid, padding_mode="wrap"),
         lambda: torch.nn.functional.grid_sample(tx, tgrid, padding_mode="wrap")),
        (lambda: F.grid_sample(x, mg.zeros(1, 2, 2, 3)),
         lambda: torch.nn.functional.grid_sample(tx, torch.zeros(1, 2, 2, 3))),
        (lambda: F.affine_grid(mg.zeros(1, 3, 3), (1, 1, 2, 2)),
         lambda: torch.nn.functional.affine_grid(torch.zeros(1, 3, 3), (1, 1, 2, 2))),
    ]
    for ours, theirs in pairs:
        with pytest.raises(Exception) as expected:
            theirs()
        with pytest.raises(type(expected.value)):
            ours()
