"""Conv1d/2d/3d, ConvTranspose1d/2d/3d, the 1-D/3-D pooling layers, MaxUnpool, LPPool and
Fold/Unfold against PyTorch: PyTorch's weights loaded through load_state_dict give the same
outputs and parameter gradients; state_dict keys and shapes are equal; a state_dict saved by
minigrad (safetensors) loads into PyTorch's layer and back; reprs, init bounds and argument
errors match."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")

CONV_CASES = [
    ("Conv1d", (4, 6, 3), {}, (2, 4, 9)),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 2, "dilation": 2, "groups": 2}, (2, 4, 11)),
    ("Conv1d", (4, 6, 4), {"padding": "same", "padding_mode": "circular"}, (2, 4, 9)),
    ("Conv1d", (3, 2, 3), {"padding": 2, "padding_mode": "reflect", "bias": False}, (3, 9)),
    ("Conv1d", (3, 2, 3), {"padding": "valid", "padding_mode": "replicate"}, (2, 3, 9)),
    ("Conv2d", (4, 6, 3), {"padding": (1, 2), "padding_mode": "replicate"}, (2, 4, 7, 8)),
    ("Conv2d", (4, 6, (2, 3)), {"padding": "same", "padding_mode": "reflect",
                                "dilation": (2, 1), "groups": 2}, (2, 4, 7, 8)),
    ("Conv2d", (2, 3, 3), {"stride": 2, "padding": 1, "padding_mode": "circular"},
     (2, 2, 7, 6)),
    ("Conv3d", (4, 6, (2, 3, 2)), {"padding": 1, "stride": (1, 2, 1), "groups": 2},
     (2, 4, 5, 6, 7)),
    ("Conv3d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect"}, (1, 2, 4, 5, 4)),
    ("Conv3d", (2, 3, 2), {"padding": (1, 0, 1), "padding_mode": "replicate",
                           "dilation": (1, 2, 1), "bias": False}, (2, 4, 5, 4)),
    ("Conv3d", (2, 2, 2), {"padding": 1, "padding_mode": "circular"}, (1, 2, 3, 4, 3)),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2}, (2, 4, 7)),
    ("ConvTranspose1d", (3, 2, 4), {"dilation": 2, "bias": False}, (3, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": (1, 0),
                                    "dilation": (1, 2)}, (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 4, 4), {"stride": 2, "padding": 1, "groups": 4}, (2, 4, 3, 3)),
    ("ConvTranspose3d", (4, 6, 2), {"stride": 2, "bias": False}, (2, 4, 3, 4, 3)),
    ("ConvTranspose3d", (2, 4, (3, 2, 3)), {"stride": (2, 1, 2), "padding": (1, 0, 1),
                                            "output_padding": (1, 0, 0), "groups": 2},
     (2, 3, 3, 4)),
]


def pair_of_layers(name, args, kwargs, dtype):
    """The same layer in both frameworks, minigrad's loaded with PyTorch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, name)(*args, **kwargs, dtype=mg.float64 if dtype == np.float64
                             else mg.float32)
    ours.load_state_dict({key: mg.tensor(value.detach().numpy())
                          for key, value in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, args, kwargs, shape", CONV_CASES)
def test_conv_layer_matches_torch(name, args, kwargs, shape, dtype):
    ours, theirs = pair_of_layers(name, args, kwargs, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = ours(mg.tensor(x))
    expected = theirs(torch.from_numpy(x))
    upstream = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = ({"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64
                 else {"rtol": 1e-4, "atol": 1e-4})
    assert out.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    for key, parameter in theirs.named_parameters():
        mine = dict(ours.named_parameters())[key]
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), parameter.grad.numpy(), **tolerance)


@pytest.mark.parametrize("name, args, kwargs, shape", CONV_CASES[::3])
def test_state_dict_round_trip_through_safetensors(tmp_path, name, args, kwargs, shape):
    """minigrad saves, PyTorch loads (safetensors) and gives the same output; and back."""
    from safetensors.torch import load_file, save_file

    ours = getattr(nn, name)(*args, **kwargs)
    path = tmp_path / "layer.safetensors"
    mg.save(ours.state_dict(), path)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    theirs.load_state_dict(load_file(str(path)))
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    back = getattr(torch.nn, name)(*args, **kwargs)
    save_file(back.state_dict(), str(tmp_path / "back.safetensors"))
    fresh = getattr(nn, name)(*args, **kwargs)
    fresh.load_state_dict(mg.load(tmp_path / "back.safetensors"))
    np.testing.assert_allclose(fresh(mg.tensor(x)).detach().numpy(),
                               back(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, args", [
    ("Conv1d", (4, 6, 3)), ("Conv3d", (4, 6, (2, 3, 2))), ("ConvTranspose1d", (4, 6, 3)),
    ("ConvTranspose2d", (4, 6, 3, 1, 0, 0, 2)), ("ConvTranspose3d", (3, 8, 2)),
])
def test_init_follows_torchs_bounds(name, args):
    """weight and bias uniform in +-1 / sqrt(fan_in), fan_in = weight.shape[1] * kernel."""
    layer = getattr(nn, name)(*args)
    weight = layer.weight.detach().numpy()
    fan_in = weight.shape[1] * int(np.prod(weight.shape[2:]))
    bound = 1 / np.sqrt(fan_in)
    assert weight.shape == tuple(getattr(torch.nn, name)(*args).weight.shape)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.5 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound


def test_conv_transpose_output_size_picks_output_padding():
    ours = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((1, 3, 4, 5)).astype(np.float32)
    for size in [(8, 10), (7, 9), (1, 2, 8, 9)]:
        out = ours(mg.tensor(x), output_size=size)
        expected = theirs(torch.from_numpy(x), output_size=size)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size"):
        ours(mg.tensor(x), output_size=(12, 9))
    with pytest.raises(ValueError, match="requested an output size"):
        theirs(torch.from_numpy(x), output_size=(12, 9))


@pytest.mark.parametrize("make", [
    lambda m: m.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
    lambda m: m.Conv1d(2, 2, 3, padding_mode="mirror"),
    lambda m: m.Conv3d(2, 2, 3, stride=2, padding="same"),
    lambda m: m.Conv1d(3, 2, 3, groups=2),
    lambda m: m.ConvTranspose3d(2, 3, 3, groups=2),
])
def test_bad_layer_arguments_raise_value_error_like_torch(make):
    with pytest.raises(ValueError):
        make(torch.nn)
    with pytest.raises(ValueError):
        make(nn)


POOL_CASES = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
     (2, 3, 11)),
    ("MaxPool1d", (2,), {"return_indices": True}, (3, 8)),
    ("MaxPool3d", ((2, 3, 2),), {"stride": (1, 2, 2), "padding": (1, 1, 0)}, (2, 2, 5, 6, 7)),
    ("MaxPool3d", (2,), {"return_indices": True, "ceil_mode": True}, (2, 5, 5, 5)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False},
     (2, 3, 10)),
    ("AvgPool3d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 2, 6, 7, 5)),
    ("AvgPool3d", ((2, 3, 2),), {"divisor_override": 4}, (2, 6, 7, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 11)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, (2, 3, 5, 6, 7)),
    ("AdaptiveMaxPool1d", (4,), {"return_indices": True}, (2, 3, 11)),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool3d", (2,), {"return_indices": True}, (2, 3, 5, 6, 7)),
    ("LPPool1d", (2, 3), {"stride": 2}, (2, 3, 10)),
    ("LPPool2d", (3.0, (2, 3)), {"ceil_mode": True}, (2, 3, 7, 8)),
    ("LPPool3d", (2, 2), {}, (2, 2, 4, 5, 4)),
    ("Unfold", ((2, 3),), {"dilation": (1, 2), "padding": 1, "stride": 2}, (2, 3, 7, 8)),
    ("Fold", ((5, 6), (2, 3)), {"padding": (1, 0), "stride": (1, 2)}, (2, 12, 12)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, args, kwargs, shape", POOL_CASES)
def test_pool_layer_matches_torch(name, args, kwargs, shape, dtype):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    count = int(np.prod(shape))
    # distinct positive values: one winner per window, real Lp powers
    x = (np.random.default_rng(4).permutation(count).reshape(shape) / count + 0.5).astype(dtype)
    mine = mg.tensor(x, requires_grad=True)
    reference = torch.from_numpy(x.copy()).requires_grad_()
    out, expected = ours(mine), theirs(reference)
    if kwargs.get("return_indices"):
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        out, expected = out[0], expected[0]
    upstream = np.random.default_rng(5).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = ({"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64
                 else {"rtol": 1e-5, "atol": 1e-5})
    assert out.dtype == mine.grad.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tolerance)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_layer_inverts_max_pool_like_torch(dims):
    shape = (2, 3) + (8, 6, 4)[:dims]
    x = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    pool = getattr(torch.nn, f"MaxPool{dims}d")(2, stride=2, return_indices=True)
    pooled, indices = pool(torch.from_numpy(x))
    theirs = getattr(torch.nn, f"MaxUnpool{dims}d")(2, stride=2)
    ours = getattr(nn, f"MaxUnpool{dims}d")(2, stride=2)
    assert repr(ours) == repr(theirs)
    out = ours(mg.tensor(pooled.numpy()), mg.tensor(indices.numpy()), output_size=shape)
    expected = theirs(pooled, indices, output_size=shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    # and minigrad's own pool's indices do the same
    our_pool = getattr(nn, f"MaxPool{dims}d")(2, stride=2, return_indices=True)
    values, our_indices = our_pool(mg.tensor(x))
    np.testing.assert_array_equal(ours(values, our_indices).numpy(),
                                  theirs(pooled, indices).numpy())


def dcgan(nn_module, nz=8, ngf=4, ndf=4, nc=3):
    """Generator and Discriminator of PyTorch's DCGAN example (examples/dcgan/main.py),
    written once against either framework's `nn`."""
    generator = nn_module.Sequential(
        nn_module.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
        nn_module.BatchNorm2d(ngf * 8), nn_module.ReLU(True),
        nn_module.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
        nn_module.BatchNorm2d(ngf * 4), nn_module.ReLU(True),
        nn_module.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn_module.BatchNorm2d(ngf * 2), nn_module.ReLU(True),
        nn_module.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn_module.BatchNorm2d(ngf), nn_module.ReLU(True),
        nn_module.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn_module.Tanh())
    discriminator = nn_module.Sequential(
        nn_module.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn_module.LeakyReLU(0.2, inplace=True),
        nn_module.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn_module.BatchNorm2d(ndf * 2),
        nn_module.LeakyReLU(0.2, inplace=True),
        nn_module.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn_module.BatchNorm2d(ndf * 4),
        nn_module.LeakyReLU(0.2, inplace=True),
        nn_module.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn_module.BatchNorm2d(ndf * 8),
        nn_module.LeakyReLU(0.2, inplace=True),
        nn_module.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn_module.Sigmoid())
    return generator, discriminator


def test_dcgan_generator_and_discriminator_match_torch():
    """PyTorch's DCGAN, weights copied over: the discriminator's score of generated images
    and every parameter gradient agree (training-mode BatchNorm included)."""
    torch.manual_seed(0)
    ours, theirs = dcgan(nn), dcgan(torch.nn)
    for mine, reference in zip(ours, theirs):
        assert list(mine.state_dict()) == list(reference.state_dict())
        mine.load_state_dict({key: mg.tensor(value.detach().numpy())
                              for key, value in reference.state_dict().items()})
    noise = np.random.default_rng(9).standard_normal((4, 8, 1, 1)).astype(np.float32)
    fake = ours[0](mg.tensor(noise))
    expected_fake = theirs[0](torch.from_numpy(noise))
    assert fake.shape == (4, 3, 64, 64)
    np.testing.assert_allclose(fake.detach().numpy(), expected_fake.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    score = ours[1](fake).mean()
    expected_score = theirs[1](expected_fake).mean()
    score.backward()
    expected_score.backward()
    np.testing.assert_allclose(score.item(), expected_score.item(), rtol=1e-5)
    for mine, reference in zip(ours, theirs):
        parameters = dict(mine.named_parameters())
        for key, parameter in reference.named_parameters():
            np.testing.assert_allclose(parameters[key].grad.numpy(), parameter.grad.numpy(),
                                       rtol=1e-3, atol=1e-5)
