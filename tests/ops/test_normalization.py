"""Normalization ops and layers against PyTorch: values, gradients, second derivatives,
gradcheck / gradgradcheck, errors, state_dict keys."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.torch_compare import assert_matches_torch

FEW = settings(max_examples=6, deadline=None)
DTYPES = ("float32", "float64")


@st.composite
def layer_norm_cases(draw):
    """(x, normalized_shape, affine, bias) with 1..4 dims, normalizing the last 1..3."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    count = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - count:]
    if int(np.prod(normalized)) < 2:  # a single element normalizes to 0: keep it informative
        shape = shape[:-1] + (shape[-1] + 2,)
        normalized = shape[len(shape) - count:]
    seed = draw(st.integers(0, 2 ** 16))
    x = np.random.default_rng(seed).standard_normal(shape)
    return x, normalized, draw(st.booleans()), draw(st.booleans())


def _torch():
    return pytest.importorskip("torch")


# ---- layer_norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(case=layer_norm_cases())
def test_layer_norm_matches_torch(dtype, case):
    torch = _torch()
    x, normalized, affine, with_bias = case
    rng = np.random.default_rng(1)
    arrays = [x]
    if affine:
        arrays.append(rng.standard_normal(normalized) + 1)
    with_bias = with_bias and affine  # torch's double backward fails for a bias alone
    if with_bias:
        arrays.append(rng.standard_normal(normalized))

    def split(tensors):
        x, rest = tensors[0], list(tensors[1:])
        weight = rest.pop(0) if affine else None
        bias = rest.pop(0) if with_bias else None
        return x, weight, bias

    def ours(*tensors):
        x, weight, bias = split(tensors)
        return F.layer_norm(x, normalized, weight, bias, eps=1e-3)

    def theirs(*tensors):
        x, weight, bias = split(tensors)
        return torch.nn.functional.layer_norm(x, normalized, weight, bias, eps=1e-3)

    assert_matches_torch(ours, theirs, arrays, dtype)


@FEW
@given(case=layer_norm_cases())
def test_layer_norm_gradcheck_and_gradgradcheck(case):
    x, normalized, _, _ = case
    weight = mg.tensor(np.linspace(0.5, 1.5, int(np.prod(normalized))).reshape(normalized))
    bias = mg.tensor(np.linspace(-1, 1, int(np.prod(normalized))).reshape(normalized))
    inputs = [mg.tensor(x), weight, bias]

    def function(x, w, b):
        return F.layer_norm(x, normalized, w, b)

    assert gradcheck(function, inputs)
    assert gradgradcheck(function, inputs)


def _layer_norm_hessian_term(x):
    """h = d/dx sum(g * g), g = d/dx sum(layer_norm(x) ** 3): a second derivative."""
    leaf = mg.tensor(x, requires_grad=True)
    out = F.layer_norm(leaf, (5,)) ** 3
    (g,) = mg.autograd.grad(out.sum(), leaf, create_graph=True)
    (h,) = mg.autograd.grad((g * g).sum(), leaf, create_graph=True)
    return leaf, h


def test_layer_norm_third_derivative_matches_finite_differences():
    # torch 2.13's third derivative of layer_norm disagrees with finite differences of its
    # own (correct) second derivative, so the reference here is central differences of h,
    # after checking h itself against torch
    torch = _torch()
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    leaf, h = _layer_norm_hessian_term(x)
    tleaf = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.layer_norm(tleaf, (5,)) ** 3).sum(), tleaf,
                                create_graph=True)
    (th,) = torch.autograd.grad((tg * tg).sum(), tleaf)
    np.testing.assert_allclose(h.detach().numpy(), th.numpy(), rtol=1e-9, atol=1e-9)
    (third,) = mg.autograd.grad((h * mg.tensor(v)).sum(), leaf)
    step = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        shifted = [x.copy(), x.copy()]
        shifted[0][index] += step
        shifted[1][index] -= step
        plus, minus = (_layer_norm_hessian_term(s)[1].detach().numpy() for s in shifted)
        numeric[index] = ((plus - minus) * v).sum() / (2 * step)
    np.testing.assert_allclose(third.numpy(), numeric, rtol=1e-5, atol=1e-3)


def test_layer_norm_float32_stays_float32_and_input_unchanged():
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
                  requires_grad=True)
    before = x.detach().numpy().copy()
    layer = nn.LayerNorm(4)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert layer.weight.grad.dtype == np.float32
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_layer_norm_without_affine_output_can_change_in_place():
    x = mg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    out = F.layer_norm(x, (4,))
    out.mul_(2.0)
    out.sum().backward()
    torch = _torch()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.layer_norm(tx, (4,)).mul_(2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_layer_norm_errors_match_torch_types():
    torch = _torch()
    x = mg.zeros(2, 4)
    tx = torch.zeros(2, 4)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError):
        torch.nn.functional.layer_norm(tx, (3,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, (4,), mg.ones(3))
    with pytest.raises(RuntimeError):
        torch.nn.functional.layer_norm(tx, (4,), torch.ones(3))
    with pytest.raises(TypeError, match="input"):
        F.layer_norm(np.zeros((2, 4)), (4,))
    with pytest.raises(TypeError):
        torch.nn.functional.layer_norm(np.zeros((2, 4)), (4,))


@pytest.mark.parametrize("options", [{}, {"elementwise_affine": False}, {"bias": False},
                                     {"eps": 1e-3}])
def test_layer_norm_module_matches_torch(options):
    torch = _torch()
    shape = (3, 4)
    ours = nn.LayerNorm(shape, **options)
    theirs = torch.nn.LayerNorm(shape, **options).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for value in theirs.parameters():
        with torch.no_grad():
            value.copy_(torch.randn(value.shape, dtype=value.dtype))
    ours.double()
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 5) + shape)
    mx = mg.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = ours(mx), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(3).standard_normal(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_layer_norm_module_init_like_torch():
    layer = nn.LayerNorm([2, 3])
    assert layer.normalized_shape == (2, 3)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros((2, 3), np.float32))
    assert layer.weight.dtype == np.float32


# ---- group_norm, instance_norm, rms_norm, local_response_norm, normalize -------------------
@st.composite
def channel_inputs(draw, min_spatial=0, max_spatial=2):
    batch = draw(st.integers(1, 3))
    channels = draw(st.sampled_from([2, 4, 6]))
    spatial = tuple(draw(st.lists(st.integers(2, 4), min_size=min_spatial,
                                  max_size=max_spatial)))
    seed = draw(st.integers(0, 2 ** 16))
    return np.random.default_rng(seed).standard_normal((batch, channels) + spatial)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(x=channel_inputs(), groups=st.sampled_from([1, 2]), affine=st.booleans())
def test_group_norm_matches_torch(dtype, x, groups, affine):
    torch = _torch()
    if x.size // x.shape[0] // groups < 2:
        x = np.concatenate([x, -x + 0.5], axis=0).reshape(x.shape[0], -1, 2)
    channels = x.shape[1]
    rng = np.random.default_rng(4)
    arrays = [x] + ([rng.standard_normal(channels) + 1, rng.standard_normal(channels)]
                    if affine else [])
    assert_matches_torch(lambda *t: F.group_norm(t[0], groups, *t[1:], eps=1e-3),
                         lambda *t: torch.nn.functional.group_norm(t[0], groups, *t[1:],
                                                                   eps=1e-3),
                         arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(x=channel_inputs(min_spatial=1), affine=st.booleans())
def test_instance_norm_matches_torch(dtype, x, affine):
    torch = _torch()
    channels = x.shape[1]
    rng = np.random.default_rng(5)
    arrays = [x] + ([rng.standard_normal(channels) + 1, rng.standard_normal(channels)]
                    if affine else [])

    def ours(*t):
        return F.instance_norm(t[0], None, None, *t[1:], eps=1e-3)

    def theirs(*t):
        return torch.nn.functional.instance_norm(t[0], None, None, *t[1:], eps=1e-3)

    assert_matches_torch(ours, theirs, arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(case=layer_norm_cases(), eps=st.sampled_from([None, 1e-3]))
def test_rms_norm_matches_torch(dtype, case, eps):
    torch = _torch()
    x, normalized, affine, _ = case
    arrays = [x] + ([np.random.default_rng(6).standard_normal(normalized)] if affine else [])
    assert_matches_torch(lambda *t: F.rms_norm(t[0], normalized, *t[1:], eps=eps),
                         lambda *t: torch.nn.functional.rms_norm(t[0], normalized, *t[1:],
                                                                 eps=eps),
                         arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(x=channel_inputs(min_spatial=1), size=st.integers(1, 5))
def test_local_response_norm_matches_torch(dtype, x, size):
    torch = _torch()
    options = {"alpha": 0.3, "beta": 0.75, "k": 1.5}
    assert_matches_torch(lambda t: F.local_response_norm(t, size, **options),
                         lambda t: torch.nn.functional.local_response_norm(t, size, **options),
                         [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@FEW
@given(x=channel_inputs(), dim=st.integers(-2, 1))
def test_normalize_matches_torch(dtype, p, x, dim):
    torch = _torch()
    # away from 0: a norm over one small element is a pole of the second derivative
    x = np.where(x >= 0, x + 0.3, x - 0.3)
    assert_matches_torch(lambda t: F.normalize(t, p=p, dim=dim),
                         lambda t: torch.nn.functional.normalize(t, p=p, dim=dim), [x], dtype)


def test_normalize_zero_row_gradient_matches_torch():
    torch = _torch()
    x = np.zeros((2, 3))
    x[1] = [1.0, -2.0, 0.5]
    # first order only: torch's second derivative is NaN on the zero row, minigrad's is 0
    assert_matches_torch(lambda t: F.normalize(t), lambda t: torch.nn.functional.normalize(t),
                         [x], second_order=False)


COMPOSITES = {
    "group_norm": lambda x, w, b: F.group_norm(x, 2, w, b),
    "instance_norm": lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
    "rms_norm": lambda x, w, b: F.rms_norm(x, (x.shape[-1],), w[:x.shape[-1]]) + b[0],
    "local_response_norm": lambda x, w, b: F.local_response_norm(x, 3, 0.5, 0.75, 1.0) * w[0],
    "normalize": lambda x, w, b: F.normalize(x, dim=1) * w[0],
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_gradcheck_and_gradgradcheck(name):
    rng = np.random.default_rng(7)
    inputs = [mg.tensor(rng.standard_normal((2, 4, 3))), mg.tensor(rng.standard_normal(4) + 1),
              mg.tensor(rng.standard_normal(4))]
    assert gradcheck(COMPOSITES[name], inputs)
    assert gradgradcheck(COMPOSITES[name], inputs)


def test_normalization_errors_match_torch_types():
    torch = _torch()
    x, tx = mg.zeros(2, 6, 3), torch.zeros(2, 6, 3)
    for ours, theirs in [
        (lambda: F.group_norm(x, 4), lambda: torch.nn.functional.group_norm(tx, 4)),
        (lambda: F.rms_norm(x, (4,)), lambda: torch.nn.functional.rms_norm(tx, (4,))),
        (lambda: F.instance_norm(mg.zeros(2, 6, 1)),
         lambda: torch.nn.functional.instance_norm(torch.zeros(2, 6, 1))),
        (lambda: F.local_response_norm(mg.zeros(2, 3), 2),
         lambda: torch.nn.functional.local_response_norm(torch.zeros(2, 3), 2)),
    ]:
        with pytest.raises(Exception) as expected:
            theirs()
        with pytest.raises(type(expected.value)):
            ours()
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)


# ---- layers against torch, with torch's weights loaded -------------------------------------
def _compare_layer(ours, theirs, x, train=True, steps=1):
    torch = _torch()
    theirs = theirs.double()
    ours.double()
    for value in theirs.parameters():
        with torch.no_grad():
            value.copy_(torch.randn(value.shape, dtype=value.dtype))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.train(train)
    theirs.train(train)
    for step in range(steps):
        mx = mg.tensor(x + step, requires_grad=True)
        tx = torch.tensor(x + step, requires_grad=True)
        out, tout = ours(mx), theirs(tx)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-9,
                                   atol=1e-10)
        weights = np.random.default_rng(step).standard_normal(out.shape)
        (out * mg.tensor(weights)).sum().backward()
        (tout * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=name)
    for (name, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-10, err_msg=name)


LAYER_CASES = [
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (4, 4), {"affine": False}, (2, 4, 3, 3)),
    ("GroupNorm", (1, 4), {"bias": False, "eps": 1e-3}, (2, 4)),
    ("InstanceNorm1d", (4,), {}, (2, 4, 5)),
    ("InstanceNorm1d", (4,), {"affine": True}, (4, 5)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 4, 4)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": None}, (3, 4, 4)),
    ("InstanceNorm3d", (2,), {"affine": True, "track_running_stats": True}, (2, 2, 3, 2, 3)),
    ("RMSNorm", ((4, 5),), {}, (2, 3, 4, 5)),
    ("RMSNorm", (5,), {"eps": 1e-3, "elementwise_affine": False}, (2, 5)),
    ("LocalResponseNorm", (3,), {"alpha": 0.1, "beta": 0.5, "k": 2.0}, (2, 5, 3, 3)),
]


@pytest.mark.parametrize("name, args, options, shape", LAYER_CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(LAYER_CASES)])
@pytest.mark.parametrize("train", [True, False])
def test_normalization_layers_match_torch(name, args, options, shape, train):
    torch = _torch()
    x = np.random.default_rng(8).standard_normal(shape)
    _compare_layer(getattr(nn, name)(*args, **options),
                   getattr(torch.nn, name)(*args, **options), x, train, steps=3)


def test_instance_norm_running_stats_then_eval_match_torch():
    torch = _torch()
    ours = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3)
    theirs = torch.nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3)
    rng = np.random.default_rng(9)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 6)).astype(np.float32)
        ours(mg.tensor(x))
        theirs(torch.tensor(x))
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-6)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)
