"""activation_extra family (selu, celu, hardtanh, ..., glu, softmin) and the activation layers.

Sections: every op against PyTorch on drawn shapes (forward, gradient, second derivative,
float32 and float64) | gradcheck and gradgradcheck (float64) | known values and behaviour |
errors | layers (repr, state_dict, PReLU's parameter gradient against PyTorch's).
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays, shapes

sys.path.insert(0, str(Path(__file__).parent))
from torch_compare import Framework, assert_matches_torch, push_off

FEW = settings(max_examples=6, deadline=None)
SMALL = shapes(min_dims=1, max_dims=3, max_side=4)

# name -> (call(lib, x), kinks to keep values away from)
OPS = {
    "selu": (lambda lib, x: lib.F.selu(x), [0.0]),
    "celu": (lambda lib, x: lib.F.celu(x, alpha=0.5), [0.0]),
    "hardtanh": (lambda lib, x: lib.F.hardtanh(x, -1.5, 2.0), [-1.5, 2.0]),
    "relu6": (lambda lib, x: lib.F.relu6(x * 3), [0.0, 2.0]),
    "hardswish": (lambda lib, x: lib.F.hardswish(x * 2), [-1.5, 1.5]),
    "hardsigmoid": (lambda lib, x: lib.F.hardsigmoid(x * 2), [-1.5, 1.5]),
    "mish": (lambda lib, x: lib.F.mish(x * 2), []),
    "softplus": (lambda lib, x: lib.F.softplus(x), []),
    "softplus_beta": (lambda lib, x: lib.F.softplus(x * 4, beta=2.0, threshold=5.0), [0.625]),
    "softsign": (lambda lib, x: lib.F.softsign(x), [0.0]),
    "logsigmoid": (lambda lib, x: lib.F.logsigmoid(x * 3), []),
    "tanhshrink": (lambda lib, x: lib.F.tanhshrink(x), []),
    "softshrink": (lambda lib, x: lib.F.softshrink(x, 0.5), [-0.5, 0.5]),
    "hardshrink": (lambda lib, x: lib.F.hardshrink(x, 0.7), [-0.7, 0.7]),
    "threshold": (lambda lib, x: lib.F.threshold(x, 0.3, -2.0), [0.3]),
    "rrelu_eval": (lambda lib, x: lib.F.rrelu(x, 0.1, 0.3), [0.0]),
    "softmin": (lambda lib, x: lib.F.softmin(x, dim=-1), []),
    "glu": (lambda lib, x: lib.F.glu(lib.torch.cat([x, x * 2], -1), dim=-1), []),
    "glu_dim0": (lambda lib, x: lib.F.glu(lib.torch.cat([x, -x], 0), dim=0), []),
    "prelu_shared": (lambda lib, x: lib.F.prelu(x, lib.tensor(np.array([0.3], x_dtype(x)))),
                     [0.0]),
}


def x_dtype(x):
    return x.detach().numpy().dtype


@st.composite
def inputs(draw, kinks, dtype=np.float64):
    values = draw(arrays(SMALL, low=-3.0, high=3.0))
    return push_off(values, kinks + [0.0] * 0).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPS))
@FEW
@given(data=st.data())
def test_matches_torch(name, dtype, data):
    call, kinks = OPS[name]
    x = data.draw(inputs(kinks, dtype))
    # PyTorch has no double backward for hardsigmoid (ours is the zero it would be), and its
    # float64 backward multiplies by a float32 1/6
    loose = name == "hardsigmoid" and dtype == np.float64
    assert_matches_torch(call, [x], second=name != "hardsigmoid",
                         tolerance=1e-7 if loose else None)


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(name, data):
    call, kinks = OPS[name]
    x = mg.tensor(data.draw(inputs(kinks)))
    ours = Framework("minigrad")
    assert gradcheck(lambda a: call(ours, a), [x])
    assert gradgradcheck(lambda a: call(ours, a), [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@FEW
@given(data=st.data(), channels=st.integers(1, 4), extra=st.lists(st.integers(1, 3),
                                                                   max_size=2))
def test_prelu_per_channel_matches_torch(dtype, data, channels, extra):
    shape = (2, channels, *extra)
    x = push_off(data.draw(arrays(shape)), [0.0]).astype(dtype)
    weight = data.draw(arrays((channels,), low=-0.5, high=0.5)).astype(dtype)
    assert_matches_torch(lambda lib, a, w: lib.F.prelu(a, w), [x, weight])


def test_prelu_gradcheck_both_inputs():
    rng = np.random.default_rng(1)
    x = mg.tensor(push_off(rng.standard_normal((2, 3, 2)), [0.0]))
    weight = mg.tensor(rng.uniform(-0.5, 0.5, 3))
    assert gradcheck(F.prelu, [x, weight])
    assert gradgradcheck(F.prelu, [x, weight])


# ---- known values and behaviour -------------------------------------------------------------
def test_boundaries_follow_torch():
    """Gradients exactly at the corners are PyTorch's (strict inequalities)."""
    pytest.importorskip("torch")
    points = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])
    for call in (lambda lib, x: lib.F.relu6(x), lambda lib, x: lib.F.hardtanh(x),
                 lambda lib, x: lib.F.hardswish(x), lambda lib, x: lib.F.hardsigmoid(x),
                 lambda lib, x: lib.F.softshrink(x), lambda lib, x: lib.F.hardshrink(x),
                 lambda lib, x: lib.F.threshold(x, 0.5, 9.0), lambda lib, x: lib.F.selu(x),
                 lambda lib, x: lib.F.celu(x, 2.0)):
        assert_matches_torch(call, [points.astype(np.float32)], second=False)


def test_softplus_threshold_and_extremes_are_finite():
    x = mg.tensor([-100.0, -30.0, 0.0, 19.0, 21.0, 100.0], dtype=mg.float32, requires_grad=True)
    y = F.softplus(x)
    y.sum().backward()
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert y.detach().numpy()[-1] == 100.0 and x.grad.numpy()[-1] == 1.0
    assert np.isfinite(F.logsigmoid(x).detach().numpy()).all()
    assert np.isfinite(F.mish(x).detach().numpy()).all()


def test_integer_inputs_stay_integer_where_torch_allows():
    x = mg.tensor([-3, 0, 4, 9])
    assert F.relu6(x).dtype == mg.int64 and F.relu6(x).tolist() == [0, 0, 4, 6]
    assert F.hardtanh(x).tolist() == [-1, 0, 1, 1]
    assert F.threshold(x, 0, 5).tolist() == [5, 5, 4, 9]
    with pytest.raises(NotImplementedError, match="mish"):
        F.mish(x)


def test_rrelu_training_slopes_follow_the_uniform_distribution():
    mg.manual_seed(0)
    x = mg.full((20000,), -1.0, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.005 and abs(slopes.std() - 0.2 / np.sqrt(12)) < 0.005
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)  # gradient uses the same slopes
    positive = F.rrelu(mg.ones(5), training=True)
    np.testing.assert_array_equal(positive.numpy(), np.ones(5))
    mg.manual_seed(0)
    again = F.rrelu(-mg.ones(20000), 0.1, 0.3, training=True)
    np.testing.assert_array_equal(again.numpy(), y.detach().numpy())


def test_rrelu_second_derivative_is_zero_with_constant_slopes():
    x = mg.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    (g,) = mg.autograd.grad(F.rrelu(x, training=True).sum(), [x], create_graph=True)
    assert not g.requires_grad or not mg.autograd.grad(g.sum(), [x], allow_unused=True)[0]


def test_float32_stays_float32_and_inputs_unchanged():
    data = np.linspace(-4, 4, 12, dtype=np.float32).reshape(3, 4)
    for name, (call, _) in OPS.items():
        x = mg.tensor(data.copy(), requires_grad=True)
        y = call(Framework("minigrad"), x)
        y.sum().backward()
        assert y.dtype == mg.float32 and x.grad.dtype == mg.float32, name
        np.testing.assert_array_equal(x.detach().numpy(), data, err_msg=name)


# ---- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda lib: lib.F.glu(lib.tensor(np.ones((2, 3))), 1), RuntimeError, "even"),
    (lambda lib: lib.F.glu(lib.tensor(np.array(1.0))), RuntimeError, "scalars"),
    (lambda lib: lib.F.hardtanh(lib.tensor(np.ones(3)), 2.0, 1.0), ValueError, "min_val"),
    (lambda lib: lib.F.rrelu(lib.tensor(np.ones(3)), 0.5, 0.1), RuntimeError, "bound"),
    (lambda lib: lib.F.softshrink(lib.tensor(np.ones(3)), -1.0), RuntimeError, "ambda"),
    (lambda lib: lib.F.prelu(lib.tensor(np.ones((2, 4))), lib.tensor(np.ones(3))),
     RuntimeError, "channel size"),
    (lambda lib: lib.F.prelu(lib.tensor(np.ones((2, 3))), lib.tensor(np.ones((1, 3)))),
     RuntimeError, "weight"),
    (lambda lib: lib.F.elu(lib.tensor(np.arange(3))), NotImplementedError, "elu"),
    (lambda lib: lib.nn.Softmax2d()(lib.tensor(np.ones((2, 3)))), ValueError, "3D or 4D"),
])
def test_errors_match_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(Framework("minigrad"))
    pytest.importorskip("torch")
    with pytest.raises(error):
        call(Framework("torch"))


# ---- layers ----------------------------------------------------------------------------------
LAYERS = [
    ("ELU", (0.5, True)), ("SELU", (True,)), ("CELU", (2.0,)), ("GELU", ("tanh",)),
    ("Hardtanh", (-2, 2, True)), ("ReLU6", (True,)), ("Hardswish", (True,)),
    ("Hardsigmoid", ()), ("Mish", ()), ("Softplus", (2, 10)), ("Softsign", ()),
    ("Softmin", (1,)), ("LogSigmoid", ()), ("Tanhshrink", ()), ("Softshrink", (0.3,)),
    ("Hardshrink", ()), ("Threshold", (0.1, 20)), ("PReLU", (3, 0.1)),
    ("RReLU", (0.1, 0.3, True)), ("GLU", (1,)), ("Sigmoid", ()), ("Tanh", ()),
    ("SiLU", (True,)), ("Softmax2d", ()), ("LogSoftmax", (1,)), ("Softmax", (-1,)),
]


@pytest.mark.parametrize("name, args", LAYERS)
def test_layer_matches_torch(name, args):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    theirs.eval()
    ours.eval()
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    data = np.random.default_rng(0).standard_normal((2, 4, 3, 2)).astype(np.float32)
    x, tx = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    if name == "PReLU":
        x, tx = mg.tensor(data[:, :3], requires_grad=True), torch.tensor(data[:, :3],
                                                                        requires_grad=True)
    y, ty = ours(x), theirs(tx.clone())  # a clone: PyTorch's inplace=True layers write to it
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    weight = np.random.default_rng(1).standard_normal(ty.shape).astype(np.float32)
    (y * mg.tensor(weight)).sum().backward()
    (ty * torch.tensor(weight)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (key, parameter), (_, reference) in zip(ours.named_parameters(),
                                                theirs.named_parameters()):
        np.testing.assert_allclose(parameter.grad.numpy(), reference.grad.numpy(), rtol=1e-5,
                                   atol=1e-5, err_msg=key)


def test_prelu_init_and_state_dict_load_into_torch():
    torch = pytest.importorskip("torch")
    layer = nn.PReLU(4, init=0.1)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.full(4, 0.1, np.float32))
    reference = torch.nn.PReLU(4)
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                               layer.state_dict().items()})
    assert torch.equal(reference.weight.detach(), torch.full((4,), 0.1))


def test_rrelu_layer_is_random_in_training_and_fixed_in_eval():
    layer = nn.RReLU(0.1, 0.3)
    x = -mg.ones(1000)
    train_out = layer(x).numpy()
    assert train_out.std() > 0
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), np.full(1000, -0.2, np.float32), rtol=1e-6)


# ---- in-place forms --------------------------------------------------------------------------
@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)),
                                        ("hardtanh_", (-0.5, 0.5)), ("rrelu_", (0.1, 0.3)),
                                        ("threshold_", (0.2, -1.0)), ("celu_", (2.0,)),
                                        ("selu_", ())])
def test_in_place_forms_match_torch(name, args):
    torch = pytest.importorskip("torch")
    data = np.array([-2.0, -0.7, 0.3, 1.5])
    leaf, their_leaf = mg.tensor(data, requires_grad=True), torch.tensor(data,
                                                                         requires_grad=True)
    x, their_x = leaf * 1, their_leaf * 1
    result = getattr(F, name)(x, *args)
    getattr(torch.nn.functional, name)(their_x, *args)
    assert result is x
    np.testing.assert_allclose(x.detach().numpy(), their_x.detach().numpy(), rtol=1e-12)
    (x * mg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    (their_x * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), their_leaf.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(mg.tensor(data, requires_grad=True), *args)
