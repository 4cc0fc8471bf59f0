"""nn.init: bounds and statistics of each scheme, PyTorch's gains and fans, layer defaults."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init


def test_calculate_gain_values_and_errors():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("tanh", None), ("relu", None), ("selu", None),
                        ("leaky_relu", None), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5))]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("shape", [(3, 4), (6, 2, 5, 5), (4, 3, 2)])
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(mg.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims_and_modes_are_checked():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(mg.empty(3, 3), mode="fan_avg")
    with pytest.raises(TypeError, match="uniform_: expected a Tensor"):
        init.uniform_(np.zeros(3))


def _fill(function, shape=(400, 500), dtype=mg.float32, **kwargs):
    tensor = mg.empty(*shape, dtype=dtype)
    result = function(tensor, **kwargs)
    assert result is tensor
    assert tensor.dtype == dtype
    return tensor.data.astype(np.float64)


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_uniform_and_normal_statistics(dtype):
    mg.manual_seed(0)
    values = _fill(init.uniform_, dtype=dtype, a=-2.0, b=3.0)
    assert values.min() >= -2.0 and values.max() <= 3.0
    assert values.mean() == pytest.approx(0.5, abs=0.02)
    assert values.std() == pytest.approx(5 / math.sqrt(12), rel=0.01)
    values = _fill(init.normal_, dtype=dtype, mean=1.0, std=0.5)
    assert values.mean() == pytest.approx(1.0, abs=0.005)
    assert values.std() == pytest.approx(0.5, rel=0.01)


def test_trunc_normal_stays_in_bounds():
    mg.manual_seed(0)
    values = _fill(init.trunc_normal_, std=1.0, a=-0.5, b=1.5)
    assert values.min() >= -0.5 and values.max() <= 1.5


def test_constant_ones_zeros_eye():
    assert np.all(_fill(init.constant_, shape=(2, 3), val=0.25) == 0.25)
    assert np.all(_fill(init.ones_, shape=(2, 3)) == 1)
    assert np.all(_fill(init.zeros_, shape=(2, 3)) == 0)
    np.testing.assert_array_equal(_fill(init.eye_, shape=(2, 3)), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(mg.empty(3))


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier_bounds_and_std(gain):
    mg.manual_seed(1)
    fan_in, fan_out = 500, 400
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    values = _fill(init.xavier_uniform_, gain=gain)
    assert np.abs(values).max() <= math.sqrt(3) * std
    assert np.abs(values).max() > 0.99 * math.sqrt(3) * std
    assert values.std() == pytest.approx(std, rel=0.01)
    assert _fill(init.xavier_normal_, gain=gain).std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("tanh", 0)])
def test_kaiming_bounds_and_std(mode, nonlinearity, a):
    mg.manual_seed(2)
    shape = (40, 50, 3, 3)
    fan = (50 if mode == "fan_in" else 40) * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = _fill(init.kaiming_uniform_, shape=shape, a=a, mode=mode, nonlinearity=nonlinearity)
    assert np.abs(values).max() <= math.sqrt(3) * std * (1 + 1e-6)
    assert values.std() == pytest.approx(std, rel=0.02)
    values = _fill(init.kaiming_normal_, shape=shape, a=a, mode=mode, nonlinearity=nonlinearity)
    assert values.std() == pytest.approx(std, rel=0.02)


def test_kaiming_on_empty_tensor_warns_and_returns():
    tensor = mg.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(tensor) is tensor


def test_orthogonal_gives_orthonormal_rows_or_columns():
    mg.manual_seed(3)
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        tensor = init.orthogonal_(mg.empty(*shape, dtype=mg.float64), gain=2.0)
        flat = tensor.data.reshape(shape[0], -1)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-10)


def test_init_is_seeded_in_place_no_grad_and_bumps_version():
    param = nn.Parameter(mg.empty(3, 4))
    array = param.data
    mg.manual_seed(7)
    init.kaiming_uniform_(param, a=math.sqrt(5))
    first = param.data.copy()
    assert param.data is array  # filled in place
    assert param.version == 1
    assert param.requires_grad and param.grad_fn is None
    mg.manual_seed(7)
    init.kaiming_uniform_(param, a=math.sqrt(5))
    np.testing.assert_array_equal(param.data, first)
    assert param.version == 2


def test_init_after_use_in_graph_makes_backward_fail():
    param = nn.Parameter(mg.ones(2))
    loss = (param * param).sum()
    init.zeros_(param)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_statistics_match_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mg.manual_seed(0)
    cases = [("xavier_uniform_", {}), ("xavier_normal_", {"gain": 1.5}),
             ("kaiming_uniform_", {"a": math.sqrt(5)}),
             ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
             ("uniform_", {"a": -0.3, "b": 0.1}), ("normal_", {"std": 0.02})]
    for name, kwargs in cases:
        ours = getattr(init, name)(mg.empty(300, 200, 2), **kwargs).data.astype(np.float64)
        theirs = getattr(torch.nn.init, name)(torch.empty(300, 200, 2), **kwargs).double()
        theirs = theirs.numpy()
        spread = float(theirs.std())
        assert ours.mean() == pytest.approx(float(theirs.mean()), abs=0.02 * spread), name
        assert ours.std() == pytest.approx(spread, rel=0.02), name
        if "uniform" in name:  # same support: the extremes agree to within 1% of the range
            assert ours.min() == pytest.approx(float(theirs.min()), abs=0.01 * spread), name
            assert ours.max() == pytest.approx(float(theirs.max()), abs=0.01 * spread), name


# ---- layer defaults ---------------------------------------------------------------------
def test_linear_default_init_bounds():
    mg.manual_seed(0)
    layer = nn.Linear(400, 120)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives exactly 1/sqrt(fan_in)
    weight = layer.weight.data.astype(np.float64)
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(layer.bias.data).max() <= bound
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_conv_default_init_bounds():
    mg.manual_seed(0)
    layer = nn.Conv2d(6, 16, 5)
    bound = 1 / math.sqrt(6 * 25)
    assert np.abs(layer.weight.data).max() <= bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(layer.bias.data).max() <= bound
    grouped = nn.Conv2d(4, 8, 3, groups=2)
    grouped_bound = 1 / math.sqrt(2 * 9)
    assert np.abs(grouped.weight.data).max() <= grouped_bound
    assert np.abs(grouped.weight.data).max() > 0.9 * grouped_bound


def test_layer_default_inits_match_torch_statistics():
    torch = pytest.importorskip("torch")
    pairs = [(nn.Linear(400, 120), torch.nn.Linear(400, 120)),
             (nn.Conv2d(3, 64, 3), torch.nn.Conv2d(3, 64, 3)),
             (nn.Embedding(500, 64), torch.nn.Embedding(500, 64))]
    for ours, theirs in pairs:
        for name, param in theirs.named_parameters():
            mine = getattr(ours, name).data
            reference = param.detach().numpy()
            assert mine.shape == reference.shape and mine.dtype == np.float32
            assert mine.std() == pytest.approx(reference.std(), rel=0.15), name


def test_batchnorm_and_embedding_defaults():
    norm = nn.BatchNorm2d(3)
    np.testing.assert_array_equal(norm.weight.data, np.ones(3))
    np.testing.assert_array_equal(norm.bias.data, np.zeros(3))
    np.testing.assert_array_equal(norm.running_mean.data, np.zeros(3))
    np.testing.assert_array_equal(norm.running_var.data, np.ones(3))
    assert norm.num_batches_tracked.dtype == np.int64 and int(norm.num_batches_tracked) == 0
    mg.manual_seed(0)
    embedding = nn.Embedding(1000, 50, padding_idx=3)
    values = embedding.weight.data
    assert values.std() == pytest.approx(1.0, rel=0.02)
    assert np.all(values[3] == 0)


def test_layer_dtype_keyword():
    assert nn.Linear(2, 3, dtype=mg.float64).weight.dtype == np.float64
    assert nn.Conv2d(1, 2, 3, dtype=mg.float64).bias.dtype == np.float64
    norm = nn.BatchNorm1d(2, dtype=mg.float64)
    assert norm.running_var.dtype == np.float64 and norm.num_batches_tracked.dtype == np.int64
    assert nn.Embedding(3, 2, dtype=mg.float64).weight.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 3, device="cuda")
    assert nn.Linear(2, 3, device="cpu").weight.shape == (3, 2)
