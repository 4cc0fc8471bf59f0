"""State dicts of the normalization layers cross between minigrad and PyTorch through
safetensors files, both directions, and give the same outputs afterwards."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

LAYERS = [
    ("LayerNorm", ((3, 4),), {}),
    ("GroupNorm", (2, 4), {}),
    ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
    ("RMSNorm", (4,), {}),
]


def _randomize_torch(layer, torch):
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for value in layer.parameters():
            value.copy_(torch.randn(value.shape, generator=generator))
        for name, value in layer.named_buffers():
            if value.is_floating_point():
                value.copy_(torch.rand(value.shape, generator=generator) + 0.5)


@pytest.mark.parametrize("name, args, options", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_state_dict_crosses_safetensors_both_ways(name, args, options, tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    theirs = getattr(torch.nn, name)(*args, **options).eval()
    _randomize_torch(theirs, torch)
    torch_file = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(dict(theirs.state_dict()), str(torch_file))
    ours = getattr(nn, name)(*args, **options).eval()
    ours.load_state_dict(mg.load(torch_file))
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    # and back: minigrad's file into a fresh PyTorch layer
    ours_file = tmp_path / "minigrad.safetensors"
    mg.save(ours.state_dict(), ours_file)
    fresh = getattr(torch.nn, name)(*args, **options).eval()
    fresh.load_state_dict(safetensors_torch.load_file(str(ours_file)))
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())
