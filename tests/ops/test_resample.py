"""interpolate in every mode, pixel/channel shuffles and the upsampling layers, against
PyTorch: values, gradients, second derivatives, gradcheck / gradgradcheck, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import assert_matches_torch

FEW = settings(max_examples=8, deadline=None)
MODE_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3),
             "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
CORNERS = ("linear", "bilinear", "bicubic", "trilinear")


@st.composite
def interpolate_cases(draw, mode):
    dims = draw(st.sampled_from(MODE_DIMS[mode]))
    spatial = tuple(draw(st.lists(st.integers(1, 5), min_size=dims, max_size=dims)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    options = {"mode": mode}
    if draw(st.booleans()):
        options["size"] = tuple(draw(st.lists(st.integers(1, 7), min_size=dims,
                                              max_size=dims)))
    else:
        scales = [draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0]))
                  for _ in range(dims)]
        scales = [max(scale, 1.0 / side + 1e-3) for scale, side in zip(scales, spatial)]
        options["scale_factor"] = tuple(scales) if draw(st.booleans()) or dims > 1 else \
            scales[0]
        if draw(st.booleans()):
            options["recompute_scale_factor"] = True
    if mode in CORNERS:
        options["align_corners"] = draw(st.sampled_from([None, False, True]))
    seed = draw(st.integers(0, 2 ** 16))
    return np.random.default_rng(seed).standard_normal(shape), options


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("mode", sorted(MODE_DIMS))
@FEW
@given(data=st.data())
def test_interpolate_matches_torch(dtype, mode, data):
    torch = pytest.importorskip("torch")
    x, options = data.draw(interpolate_cases(mode))
    assert_matches_torch(lambda t: F.interpolate(t, **options),
                         lambda t: torch.nn.functional.interpolate(t, **options), [x], dtype)


@pytest.mark.parametrize("mode", sorted(MODE_DIMS))
def test_interpolate_gradcheck_and_gradgradcheck(mode):
    dims = MODE_DIMS[mode][-1] if mode not in ("nearest", "area") else 2
    shape = (1, 2) + (3, 4, 2)[:dims]
    x = mg.tensor(np.random.default_rng(1).standard_normal(shape))
    options = {"mode": mode, "size": (5, 3, 3)[:dims]}

    def function(t):
        return F.interpolate(t, **options) ** 2  # squared: the second derivative is not 0

    assert gradcheck(function, [x])
    assert gradgradcheck(function, [x])


def test_nearest_scale_factor_cell_edges_match_torch():
    torch = pytest.importorskip("torch")
    for in_size in range(1, 12):
        for scale in (0.3, 0.7, 1.3, 1.7, 2.2, 3.1, 1 / 3):
            if int(in_size * scale) < 1:
                continue
            x = np.arange(float(in_size)).reshape(1, 1, in_size)
            for mode in ("nearest", "nearest-exact"):
                expected = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale,
                                                           mode=mode).numpy()
                actual = F.interpolate(mg.tensor(x), scale_factor=scale, mode=mode).numpy()
                np.testing.assert_array_equal(actual, expected, err_msg=f"{mode} {scale}")


def test_interpolate_keeps_integer_dtype_for_nearest():
    x = mg.tensor(np.arange(6, dtype=np.uint8).reshape(1, 1, 2, 3))
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == np.uint8 and y.shape == (1, 1, 4, 6)


def test_interpolate_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    x, tx = mg.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    calls = [
        {"size": 2, "scale_factor": 2},
        {},
        {"size": 2, "mode": "nearest", "align_corners": True},
        {"size": 2, "mode": "linear"},
        {"size": 2, "mode": "trilinear"},
        {"size": (2, 2, 2)},
    ]
    for options in calls:
        with pytest.raises(Exception) as expected:
            torch.nn.functional.interpolate(tx, **options)
        with pytest.raises(type(expected.value)):
            F.interpolate(x, **options)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@FEW
@given(r=st.integers(1, 3), channels=st.integers(1, 2), lead=st.sampled_from([(), (2,), (1, 2)]))
def test_pixel_shuffle_pair_matches_torch(dtype, r, channels, lead):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(r).standard_normal(lead + (channels * r * r, 2, 3))
    assert_matches_torch(lambda t: F.pixel_shuffle(t, r) ** 2,
                         lambda t: torch.nn.functional.pixel_shuffle(t, r) ** 2, [x], dtype)
    y = np.random.default_rng(r).standard_normal(lead + (channels, 2 * r, 3 * r))
    assert_matches_torch(lambda t: F.pixel_unshuffle(t, r) ** 2,
                         lambda t: torch.nn.functional.pixel_unshuffle(t, r) ** 2, [y], dtype)


@pytest.mark.parametrize("groups", [1, 2, 3])
def test_channel_shuffle_matches_torch(groups):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 2))
    assert_matches_torch(lambda t: F.channel_shuffle(t, groups) ** 2,
                         lambda t: torch.nn.functional.channel_shuffle(t, groups) ** 2, [x])


def test_shuffle_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    pairs = [
        (lambda: F.pixel_shuffle(mg.zeros(1, 3, 2, 2), 2),
         lambda: torch.nn.functional.pixel_shuffle(torch.zeros(1, 3, 2, 2), 2)),
        (lambda: F.pixel_unshuffle(mg.zeros(1, 1, 3, 2), 2),
         lambda: torch.nn.functional.pixel_unshuffle(torch.zeros(1, 1, 3, 2), 2)),
        (lambda: F.channel_shuffle(mg.zeros(1, 5, 2), 2),
         lambda: torch.nn.functional.channel_shuffle(torch.zeros(1, 5, 2), 2)),
    ]
    for ours, theirs in pairs:
        with pytest.raises(Exception) as expected:
            theirs()
        with pytest.raises(type(expected.value)):
            ours()


LAYERS = [
    ("Upsample", {"scale_factor": 2}, (1, 2, 3, 3)),
    ("Upsample", {"size": (5, 4), "mode": "bilinear", "align_corners": True}, (1, 2, 3, 3)),
    ("Upsample", {"scale_factor": (1.5, 2.0), "mode": "bicubic"}, (1, 1, 4, 3)),
    ("Upsample", {"size": 7, "mode": "linear"}, (2, 3, 4)),
    ("Upsample", {"scale_factor": 2, "mode": "trilinear", "recompute_scale_factor": True},
     (1, 1, 2, 3, 2)),
    ("UpsamplingNearest2d", {"scale_factor": 3}, (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", {"size": 5}, (1, 2, 2, 3)),
    ("PixelShuffle", {"upscale_factor": 2}, (1, 8, 2, 3)),
    ("PixelUnshuffle", {"downscale_factor": 2}, (1, 2, 4, 6)),
    ("ChannelShuffle", {"groups": 2}, (1, 4, 2, 2)),
]


@pytest.mark.parametrize("name, options, shape", LAYERS,
                         ids=[f"{layer[0]}-{i}" for i, layer in enumerate(LAYERS)])
def test_resample_layers_match_torch(name, options, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**options), getattr(torch.nn, name)(**options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    assert_matches_torch(ours, theirs, [x], "float32")


def test_deprecated_upsample_functions_warn_and_match_interpolate():
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 3)))
    with pytest.warns(UserWarning, match="deprecated"):
        nearest = F.upsample_nearest(x, scale_factor=2)
    with pytest.warns(UserWarning, match="deprecated"):
        bilinear = F.upsample_bilinear(x, size=5)
    with pytest.warns(UserWarning, match="deprecated"):
        general = F.upsample(x, size=4, mode="bicubic")
    np.testing.assert_array_equal(nearest.numpy(), F.interpolate(x, scale_factor=2).numpy())
    np.testing.assert_array_equal(
        bilinear.numpy(), F.interpolate(x, size=5, mode="bilinear", align_corners=True).numpy())
    np.testing.assert_array_equal(general.numpy(),
                                  F.interpolate(x, size=4, mode="bicubic").numpy())
