"""activation_loss family: activations, softmax, losses, dropout, one_hot.

Sections: gradchecks (hypothesis, float64) | known values and behaviour | errors |
PyTorch comparisons (forward and backward, float32 and float64; skipped without torch).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes, tensors

SMALL = shapes(min_dims=0, max_dims=3, max_side=4)
REDUCTIONS = ("none", "mean", "sum")

ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.2),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "elu": lambda x: F.elu(x, alpha=0.7),
}


@pytest.fixture(autouse=True)
def keep_global_rng():
    """Tests that reseed minigrad's generator leave it as they found it."""
    state = mg.get_rng_state()
    yield
    mg.set_rng_state(state)


# ---- strategies -----------------------------------------------------------------------------
@st.composite
def class_problems(draw, probabilities=False):
    """(logits, target, options) for nll_loss / cross_entropy: (C,), (N, C) or (N, C, d...)."""
    classes = draw(st.integers(1, 4))
    batch = draw(st.integers(1, 3))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    unbatched = not extra and draw(st.booleans())
    shape = (classes,) if unbatched else (batch, classes) + extra
    logits = draw(arrays(shape, low=-3.0, high=3.0))
    weight = None
    if draw(st.booleans()):
        weight = mg.tensor(draw(arrays((classes,), low=0.2, high=2.0)))
    options = {"weight": weight, "reduction": draw(st.sampled_from(REDUCTIONS))}
    if probabilities:
        target = mg.tensor(draw(arrays(shape, low=0.0, high=1.0)))
        return mg.tensor(logits), target, options
    target_shape = () if unbatched else (batch,) + extra
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
    if classes > 1 and draw(st.booleans()):
        options["ignore_index"] = 0  # ignore class 0, but keep one target so mean is not 0/0
        target.flat[0] = classes - 1
    return mg.tensor(logits), mg.tensor(target), options


# ---- gradchecks (float64) -------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(x=tensors(SMALL, elements={"avoid_zero": 0.1}))
def test_activation_gradcheck(name, x):
    assert gradcheck(ACTIVATIONS[name], [x])


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax])
@given(data=st.data(), x=tensors(shapes(min_dims=1, max_dims=3, max_side=4)))
def test_softmax_gradcheck(function, data, x):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradcheck(lambda a: function(a, dim), [x])


@given(problem=class_problems(), smoothing=st.sampled_from([0.0, 0.25, 1.0]))
def test_cross_entropy_gradcheck(problem, smoothing):
    logits, target, options = problem
    assert gradcheck(
        lambda a: F.cross_entropy(a, target, label_smoothing=smoothing, **options), [logits])


@given(problem=class_problems(probabilities=True), smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_probability_target_gradcheck(problem, smoothing):
    logits, target, options = problem
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=smoothing, **options),
                     [logits, target])


@given(problem=class_problems())
def test_nll_loss_gradcheck(problem):
    log_probs, target, options = problem
    assert gradcheck(lambda a: F.nll_loss(a, target, **options), [log_probs])


@pytest.mark.filterwarnings("ignore:mse_loss")
@given(data=st.data(), pair=broadcastable_shapes(count=2, max_dims=3, max_side=3),
       reduction=st.sampled_from(REDUCTIONS))
def test_mse_loss_gradcheck(data, pair, reduction):
    x, y = (mg.tensor(data.draw(arrays(shape))) for shape in pair)
    assert gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_gradcheck(data, shape, reduction, weighted):
    p = mg.tensor(data.draw(arrays(shape, low=0.05, high=0.95)))
    # targets away from 0 and 1: gradcheck's nudges must stay in [0, 1], which BCE checks
    target = mg.tensor(data.draw(arrays(shape, low=0.05, high=0.95)))
    weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=2.0))) if weighted else None
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, weight=weight, reduction=reduction), [p, target])


@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_with_logits_gradcheck(data, shape, reduction, weighted):
    x = mg.tensor(data.draw(arrays(shape, low=-4.0, high=4.0)))
    target = mg.tensor(data.draw(arrays(shape, low=0.0, high=1.0)))
    weight = pos_weight = None
    if weighted:
        weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=2.0)))
        pos_weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=3.0)))
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=weight, pos_weight=pos_weight, reduction=reduction), [x, target])


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
@given(x=tensors(shapes(min_dims=4, max_dims=4, max_side=3)), p=st.sampled_from([0.3, 0.7]))
def test_dropout_gradcheck(function, x, p):
    def seeded(a):
        mg.manual_seed(7)  # the same mask on every evaluation
        return function(a, p)

    assert gradcheck(seeded, [x])


# ---- known values and behaviour -------------------------------------------------------------
def test_activation_known_values():
    x = mg.tensor([-2.0, 0.0, 1.0])
    np.testing.assert_allclose(F.relu(x).numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(F.leaky_relu(x).numpy(), [-0.02, 0.0, 1.0], rtol=1e-6)
    # gelu(1) = Phi(1) = 0.8413447..., tanh form 0.8411920...
    np.testing.assert_allclose(F.gelu(x).numpy()[2], 0.8413447460685429, rtol=1e-6)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy()[2], 0.8411919906,
                               rtol=1e-6)
    np.testing.assert_allclose(F.silu(x).numpy()[2], 1 / (1 + np.exp(-1)), rtol=1e-6)
    np.testing.assert_allclose(F.elu(x).numpy()[0], np.expm1(-2.0), rtol=1e-6)


@pytest.mark.parametrize("function, slope", [(F.relu, 0.0), (F.leaky_relu, 0.01)])
def test_gradient_at_zero_follows_torch(function, slope):
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    function(x).backward(mg.tensor([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [slope, 1.0], rtol=1e-6)


def test_relu_on_integers_and_as_method_and_toplevel():
    ints = mg.tensor([-3, 0, 4])
    assert F.relu(ints).dtype == mg.int64
    assert F.relu(ints).tolist() == [0, 0, 4]
    x = mg.tensor([-1.0, 3.0])
    assert x.relu().tolist() == [0.0, 3.0]
    assert mg.relu(x).tolist() == [0.0, 3.0]


def test_softmax_known_values_method_and_toplevel():
    x = mg.tensor([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), [[0.25, 0.75]], rtol=1e-6)
    np.testing.assert_allclose(x.softmax(-1).numpy(), [[0.25, 0.75]], rtol=1e-6)
    np.testing.assert_allclose(mg.log_softmax(x, 1).numpy(), np.log([[0.25, 0.75]]),
                               rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).numpy(), np.log([[0.25, 0.75]]), rtol=1e-6)
    np.testing.assert_allclose(mg.softmax(x, 0).numpy(), [[1.0, 1.0]])


def test_softmax_of_zero_dim_tensor_is_one():
    assert F.softmax(mg.tensor(3.0), 0).item() == 1.0
    assert F.log_softmax(mg.tensor(3.0), -1).item() == 0.0


def test_softmax_dtype_argument_casts_first():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = F.softmax(x, 0, dtype=mg.float64)
    assert y.dtype == mg.float64
    y.backward(mg.tensor([1.0, 0.0], dtype=mg.float64))
    assert x.grad.dtype == mg.float32


@pytest.mark.parametrize("ndim, implicit", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_without_dim_uses_torch_legacy_rule_and_warns(ndim, implicit):
    x = mg.tensor(np.random.default_rng(0).standard_normal((2,) * ndim))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy(), F.softmax(x, implicit).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(x)


def test_softmax_method_requires_dim():
    with pytest.raises(TypeError):
        mg.tensor([1.0]).softmax()


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax])
def test_softmax_is_stable_for_huge_logits(function):
    x = mg.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], requires_grad=True)
    y = function(x, 1)
    y.backward(mg.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 0.5]]))
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    expected = [[0.0, -1e4, -2e4], [-np.log(3)] * 3]
    if function is F.softmax:
        expected = np.exp(expected)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-6)


def test_cross_entropy_is_stable_for_huge_logits():
    x = mg.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([1, 0]), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    # mean of 0.9 * nll + 0.1 / 3 * sum(-logp): row 0 nll 1e4, smooth 3e4; row 1 nll 2e4, 4e4
    expected = (0.9 * 1e4 + 0.1 / 3 * 3e4 + 0.9 * 2e4 + 0.1 / 3 * 4e4) / 2
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)


def test_cross_entropy_known_values():
    uniform = mg.zeros(4, 5)
    target = mg.tensor([0, 1, 2, 3])
    np.testing.assert_allclose(F.cross_entropy(uniform, target).item(), np.log(5), rtol=1e-6)
    # weighted mean divides by the weights of the (non-ignored) targets
    logits = mg.tensor([[0.0, np.log(3.0)], [0.0, 0.0], [5.0, 1.0]])
    weight = mg.tensor([1.0, 3.0])
    loss = F.cross_entropy(logits, mg.tensor([1, 0, -100]), weight=weight)
    expected = (3.0 * -np.log(0.75) + 1.0 * np.log(2.0)) / 4.0
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    per_item = F.cross_entropy(logits, mg.tensor([1, 0, -100]), reduction="none")
    np.testing.assert_allclose(per_item.numpy(), [-np.log(0.75), np.log(2.0), 0.0], rtol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = mg.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], requires_grad=True)
    F.cross_entropy(logits, mg.tensor([2, 0]), reduction="sum").backward()
    expected = F.softmax(logits.detach(), 1).numpy() - np.eye(3)[[2, 0]]
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-6)


def test_cross_entropy_all_ignored_mean_is_nan_with_zero_gradient():
    logits = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([-100, -100]))
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(logits.grad.numpy(), np.zeros((2, 2)))


def test_cross_entropy_accepts_uint8_targets_and_unbatched_input():
    logits = mg.tensor([[1.0, 2.0], [3.0, 0.0]])
    expected = F.cross_entropy(logits, mg.tensor([1, 0])).item()
    assert F.cross_entropy(logits, mg.tensor([1, 0], dtype=mg.uint8)).item() == expected
    single = F.cross_entropy(mg.tensor([1.0, 2.0]), mg.tensor(1), reduction="none")
    assert single.shape == ()
    np.testing.assert_allclose(single.item(), np.log1p(np.exp(-1.0)), rtol=1e-6)


def test_cross_entropy_backward_twice_with_retain_graph_gives_same_gradient():
    logits = mg.tensor([[1.0, 2.0, 0.5]], requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([1]), weight=mg.tensor([1.0, 2.0, 0.5]),
                           label_smoothing=0.2)
    loss.backward(retain_graph=True)
    first = logits.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), 2 * first, rtol=1e-6)


def test_mse_loss_known_value_and_broadcast_warning():
    x = mg.tensor([[1.0], [3.0]])
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(x, mg.tensor([0.0, 1.0]))
    np.testing.assert_allclose(loss.item(), (1 + 0 + 9 + 4) / 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.mse_loss(x, x, reduction="sum").item() == 0.0


def test_binary_cross_entropy_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(mg.tensor([0.0, 1.0]), mg.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0])


def test_binary_cross_entropy_with_logits_is_stable_and_matches_known_value():
    x = mg.tensor([1e4, -1e4, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, mg.tensor([0.0, 1.0, 1.0]), reduction="none")
    loss.backward(mg.ones(3))
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 1e4, np.log(2.0)], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5], rtol=1e-6)


def test_dropout_keeps_expected_fraction_and_scales_survivors():
    mg.manual_seed(0)
    x = mg.ones(200, 100, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    assert set(np.unique(values).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert abs((values > 0).mean() - 0.7) < 0.02
    y.backward(mg.ones(200, 100))
    np.testing.assert_array_equal(x.grad.numpy(), values)  # gradient is the scaled mask


def test_dropout_repeats_with_manual_seed_and_advances_otherwise():
    x = mg.ones(64)
    mg.manual_seed(3)
    first = F.dropout(x).numpy()
    second = F.dropout(x).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_dropout_identity_when_not_training_or_p_zero_and_zero_when_p_one(function):
    x = mg.ones(2, 3, 4, 4, requires_grad=True)
    assert function(x, 0.5, training=False) is x
    assert function(x, 0.0) is x
    y = function(x, 1.0)
    y.backward(mg.ones(2, 3, 4, 4))
    assert not y.detach().numpy().any() and not x.grad.numpy().any()


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(1)
    y = F.dropout2d(mg.ones(8, 16, 3, 3), p=0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()
    assert set(np.unique(y).tolist()) == {0.0, 2.0}
    with pytest.warns(UserWarning, match="3D input"):
        three_d = F.dropout2d(mg.ones(4, 5, 6)).numpy()
    assert (three_d.min(axis=2) == three_d.max(axis=2)).all()


def test_one_hot():
    encoded = F.one_hot(mg.tensor([0, 2, 1]))
    assert encoded.dtype == mg.int64
    np.testing.assert_array_equal(encoded.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(mg.tensor([[1]]), num_classes=4).shape == (1, 1, 4)


# ---- dtype preservation and inputs not mutated -----------------------------------------------
def _case_inputs(dtype):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 4)).astype(dtype)
    probs = rng.uniform(0.1, 0.9, (3, 4)).astype(dtype)
    return logits, probs, np.array([1, -100, 3])


# each case takes the functional module, minigrad's or torch's, so one line serves both
CASES = {
    "relu": lambda F, x, p, t: F.relu(x),
    "leaky_relu": lambda F, x, p, t: F.leaky_relu(x),
    "gelu": lambda F, x, p, t: F.gelu(x),
    "gelu_tanh": lambda F, x, p, t: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x, p, t: F.silu(x),
    "elu": lambda F, x, p, t: F.elu(x),
    "softmax": lambda F, x, p, t: F.softmax(x, 1),
    "log_softmax": lambda F, x, p, t: F.log_softmax(x, 0),
    "cross_entropy": lambda F, x, p, t: F.cross_entropy(x, t, label_smoothing=0.1),
    "cross_entropy_probs": lambda F, x, p, t: F.cross_entropy(x, p),
    "nll_loss": lambda F, x, p, t: F.nll_loss(x, t),
    "mse_loss": lambda F, x, p, t: F.mse_loss(x, p),
    "binary_cross_entropy": lambda F, x, p, t: F.binary_cross_entropy(p, p),
    "binary_cross_entropy_with_logits": lambda F, x, p, t: F.binary_cross_entropy_with_logits(x, p),
    "dropout": lambda F, x, p, t: F.dropout(x, 0.5),
    "dropout2d": lambda F, x, p, t: F.dropout2d(x, 0.5),
}


@pytest.mark.filterwarnings("ignore:dropout2d")  # the 2-D input is deliberate
@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_inputs_not_mutated(name, dtype):
    logits, probs, target = _case_inputs(dtype)
    originals = [logits.copy(), probs.copy(), target.copy()]
    x = mg.tensor(logits, requires_grad=True)
    p = mg.tensor(probs, requires_grad=True)
    t = mg.tensor(target)
    y = CASES[name](F, x, p, t)
    assert y.dtype == dtype
    y.backward(mg.tensor(np.ones(y.shape, dtype=dtype)))
    for tensor in (x, p):
        assert tensor.grad is None or tensor.grad.dtype == dtype
    assert x.grad is not None or p.grad is not None
    for tensor, original in zip((x, p, t), originals):
        np.testing.assert_array_equal(tensor.numpy() if not tensor.requires_grad
                                      else tensor.detach().numpy(), original)


# ---- errors ---------------------------------------------------------------------------------
LOGITS = mg.zeros(8, 5)


@pytest.mark.parametrize("function", [F.cross_entropy, F.nll_loss])
def test_class_target_errors(function):
    name = function.__name__
    with pytest.raises(IndexError, match=r"Target 12 is out of bounds.*5 classes"):
        function(LOGITS, mg.tensor([12, 0, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(IndexError, match=r"Target -3 is out of bounds"):
        function(LOGITS, mg.tensor([-3, 0, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(8\) to match target "
                                         r"batch_size \(4\)\."):
        function(LOGITS, mg.tensor([1, 0, 0, 0]))
    with pytest.raises(RuntimeError, match=rf"{name}: expected target dtype.*float32"):
        function(LOGITS, mg.tensor([1.0, 0, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(RuntimeError, match="expected target dtype.*int32"):
        function(LOGITS, mg.tensor(np.zeros(8, dtype=np.int32)))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        function(LOGITS, mg.zeros(8, 2, dtype=mg.int64))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        function(mg.zeros(2, 3, 4), mg.zeros(2, 5, dtype=mg.int64))
    with pytest.raises(ValueError, match=r"For 1D input, 1D target must have size 1"):
        function(mg.zeros(5), mg.tensor([1, 2]))
    with pytest.raises(ValueError, match=rf"{name}: Expected 1 or more dimensions"):
        function(mg.tensor(1.0), mg.tensor(0))
    with pytest.raises(ValueError, match=rf"{name}: avg is not a valid value for reduction"):
        function(LOGITS, mg.zeros(8, dtype=mg.int64), reduction="avg")
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 5 "
                                           r"classes.*\[3\]"):
        function(LOGITS, mg.zeros(8, dtype=mg.int64), weight=mg.ones(3))
    with pytest.raises(RuntimeError, match="expected scalar type float32 but found float64"):
        function(LOGITS, mg.zeros(8, dtype=mg.int64), weight=mg.ones(5, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        function(LOGITS, mg.zeros(8, dtype=mg.int64), weight=mg.ones(5, requires_grad=True))
    with pytest.raises(NotImplementedError, match=rf"{name}: .*int64"):
        function(mg.zeros(8, 5, dtype=mg.int64), mg.zeros(8, dtype=mg.int64))
    with pytest.raises(TypeError, match="argument 'target' must be Tensor"):
        function(LOGITS, [0] * 8)


def test_cross_entropy_specific_errors():
    with pytest.raises(RuntimeError, match=r"float32.*class probabilities of the input's shape"):
        F.cross_entropy(LOGITS, mg.zeros(8, 4))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(LOGITS, mg.zeros(8, 5), ignore_index=1)
    for smoothing in (1.1, -0.1):
        with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
            F.cross_entropy(LOGITS, mg.zeros(8, dtype=mg.int64), label_smoothing=smoothing)


def test_activation_and_softmax_errors():
    with pytest.raises(RuntimeError, match="gelu: approximate argument must be either none or "
                                           "tanh"):
        F.gelu(LOGITS, approximate="fast")
    with pytest.raises(RuntimeError, match="relu: Boolean inputs not supported"):
        F.relu(mg.tensor([True]))
    ints = mg.tensor([1, 2])
    for function in (F.leaky_relu, F.gelu, F.silu, F.elu, lambda x: F.softmax(x, 0),
                     lambda x: F.log_softmax(x, 0)):
        with pytest.raises(NotImplementedError, match="int64"):
            function(ints)
    with pytest.raises(IndexError, match=r"softmax: Dimension out of range.*got 2"):
        F.softmax(LOGITS, 2)
    with pytest.raises(TypeError, match=r"relu\(\): argument 'input' must be Tensor, not list"):
        F.relu([1.0])


def test_loss_errors():
    with pytest.raises(RuntimeError, match=r"mse_loss: shapes \(3, 2\), \(3,\) cannot be "
                                           r"broadcast"):
        F.mse_loss(mg.zeros(3, 2), mg.zeros(3))
    with pytest.raises(ValueError, match="mse_loss: x is not a valid value for reduction"):
        F.mse_loss(mg.zeros(3), mg.zeros(3), reduction="x")
    with pytest.raises(ValueError, match=r"binary_cross_entropy: Using a target size \(\(3,\)\)"):
        F.binary_cross_entropy(mg.zeros(3, 1), mg.zeros(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="Found dtype int64 but expected float32"):
        F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1]))
    with pytest.raises(ValueError, match=r"Target size \(\(3,\)\) must be the same as input"):
        F.binary_cross_entropy_with_logits(mg.zeros(3, 1), mg.zeros(3))
    with pytest.raises(RuntimeError, match=r"pos_weight of shape \(3,\) cannot be broadcast"):
        F.binary_cross_entropy_with_logits(mg.zeros(3, 2), mg.zeros(3, 2), pos_weight=mg.ones(3))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument "
                                           "'weight'"):
        F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1.0]),
                               weight=mg.ones(1, requires_grad=True))


def test_dropout_and_one_hot_errors():
    for function in (F.dropout, F.dropout2d):
        for p in (1.5, -0.1):
            with pytest.raises(ValueError, match=rf"dropout probability has to be between 0 and "
                                                 rf"1, but got {p}"):
                function(LOGITS, p)
    with pytest.raises(RuntimeError, match="dropout2d: Feature dropout requires at least 2"):
        F.dropout2d(mg.zeros(3))
    with pytest.raises(NotImplementedError, match="dropout: .*int64"):
        F.dropout(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(mg.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(mg.tensor([0, -1]), 3)
    with pytest.raises(RuntimeError, match="LongTensor.*int32"):
        F.one_hot(mg.tensor(np.zeros(2, dtype=np.int32)), 3)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes"):
        F.one_hot(mg.zeros(0, dtype=mg.int64))


# ---- PyTorch comparisons --------------------------------------------------------------------
TOLERANCES = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _torch_dtype_name(tensor) -> str:
    return str(tensor.dtype).replace("torch.", "")


def assert_matches_torch(mg_fn, torch_fn, arrays, grad_of, dtype):
    """Run both on the same arrays, backward with the same seed gradient; compare all."""
    torch = pytest.importorskip("torch")
    tolerance = TOLERANCES[dtype]
    ours = [mg.tensor(a, requires_grad=wanted) for a, wanted in zip(arrays, grad_of)]
    theirs = [torch.tensor(a, requires_grad=wanted) for a, wanted in zip(arrays, grad_of)]
    output, expected = mg_fn(*ours), torch_fn(*theirs)
    assert str(output.dtype) == _torch_dtype_name(expected)
    assert output.shape == tuple(expected.shape)
    np.testing.assert_allclose(output.numpy() if not output.requires_grad
                               else output.detach().numpy(), expected.detach().numpy(),
                               **tolerance)
    seed = np.random.default_rng(1).standard_normal(output.shape).astype(output.dtype)
    output.backward(mg.tensor(seed))
    expected.backward(torch.tensor(seed))
    for mine, reference in zip(ours, theirs):
        if reference.requires_grad:
            assert mine.grad.dtype == mine.dtype
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), **tolerance)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture(scope="module")
def tf():
    """torch.nn.functional, on one thread: for tensors this small, waking threads costs more
    than the work (milliseconds per call when the machine is busy)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch.nn.functional
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name, kwargs", [
    ("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {}),
    ("elu", {"alpha": 0.5}),
])
def test_activations_match_torch(tf, dtype, name, kwargs):
    x = np.random.default_rng(2).uniform(-4, 4, (3, 4, 5)).astype(dtype)
    x[0, 0, :2] = [0.0, -0.0]  # the kink: the gradient there follows torch's convention
    assert_matches_torch(lambda a: getattr(F, name)(a, **kwargs),
                         lambda a: getattr(tf, name)(a, **kwargs), [x], [True], dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_matches_torch(tf, dtype, name, dim, scale):
    x = (np.random.default_rng(3).standard_normal((3, 4, 5)) * scale).astype(dtype)
    assert_matches_torch(lambda a: getattr(F, name)(a, dim), lambda a: getattr(tf, name)(a, dim),
                         [x], [True], dtype)


def _class_arrays(dtype, shape, ignore_index):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal(shape).astype(dtype)
    classes = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    target = rng.integers(0, classes, target_shape)
    if target.ndim:
        target.flat[::3] = ignore_index  # some ignored targets
    weight = rng.uniform(0.2, 2.0, classes).astype(dtype)
    return logits, target, weight


CLASS_SHAPES = [(6, 4), (3, 4, 2, 3), (4,)]


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_matches_torch(tf, dtype, shape, reduction, weighted, smoothing,
                                     ignore_index):
    torch = pytest.importorskip("torch")
    logits, target, weight = _class_arrays(dtype, shape, ignore_index)
    options = {"reduction": reduction, "label_smoothing": smoothing, "ignore_index": ignore_index}
    ours = {"weight": mg.tensor(weight) if weighted else None, **options}
    theirs = {"weight": torch.tensor(weight) if weighted else None, **options}
    assert_matches_torch(lambda a: F.cross_entropy(a, mg.tensor(target), **ours),
                         lambda a: tf.cross_entropy(a, torch.tensor(target), **theirs),
                         [logits], [True], dtype)


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets_match_torch(tf, dtype, shape, reduction, weighted,
                                                       smoothing):
    torch = pytest.importorskip("torch")
    logits, _, weight = _class_arrays(dtype, shape, -100)
    probs = np.random.default_rng(6).dirichlet(np.ones(logits.shape[1 if len(shape) > 1 else 0]),
                                               size=1)[0]
    target = np.broadcast_to(
        probs.reshape((-1,) + (1,) * (len(shape) - 2)) if len(shape) > 1 else probs,
        shape).astype(dtype)
    target = target * np.random.default_rng(7).uniform(0.5, 1.5, shape).astype(dtype)
    options = {"reduction": reduction, "label_smoothing": smoothing}
    ours = {"weight": mg.tensor(weight) if weighted else None, **options}
    theirs = {"weight": torch.tensor(weight) if weighted else None, **options}
    assert_matches_torch(lambda a, b: F.cross_entropy(a, b, **ours),
                         lambda a, b: tf.cross_entropy(a, b, **theirs),
                         [logits, target], [True, True], dtype)


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_nll_loss_matches_torch(tf, dtype, shape, reduction, weighted, ignore_index):
    torch = pytest.importorskip("torch")
    logits, target, weight = _class_arrays(dtype, shape, ignore_index)
    options = {"reduction": reduction, "ignore_index": ignore_index}
    ours = {"weight": mg.tensor(weight) if weighted else None, **options}
    theirs = {"weight": torch.tensor(weight) if weighted else None, **options}
    assert_matches_torch(lambda a: F.nll_loss(a, mg.tensor(target), **ours),
                         lambda a: tf.nll_loss(a, torch.tensor(target), **theirs),
                         [logits], [True], dtype)


def test_cross_entropy_huge_logits_match_torch(tf, dtype):
    torch = pytest.importorskip("torch")
    logits = (np.random.default_rng(8).standard_normal((5, 4)) * 1e4).astype(dtype)
    target = np.array([0, 1, 2, 3, 0])
    assert_matches_torch(lambda a: F.cross_entropy(a, mg.tensor(target), label_smoothing=0.1),
                         lambda a: tf.cross_entropy(a, torch.tensor(target), label_smoothing=0.1),
                         [logits], [True], dtype)


@pytest.mark.parametrize("function, options", [
    ("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.2}), ("nll_loss", {}),
])
def test_masked_minus_inf_logits_match_torch(tf, dtype, function, options):
    """-inf logits (masked classes) stay finite where the target is elsewhere or ignored."""
    torch = pytest.importorskip("torch")
    logits = np.array([[-np.inf, 1.0, 2.0], [0.5, -np.inf, 2.0]], dtype=dtype)
    target = np.array([-100, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from 0 * -inf either
        assert_matches_torch(
            lambda a: getattr(F, function)(a, mg.tensor(target), **options),
            lambda a: getattr(tf, function)(a, torch.tensor(target), **options),
            [logits], [True], dtype)


@pytest.mark.filterwarnings("ignore:mse_loss")
@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes_", [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3), (1, 3))],
                         ids=str)
def test_mse_loss_matches_torch(tf, dtype, reduction, shapes_):
    rng = np.random.default_rng(9)
    arrays_ = [rng.standard_normal(shape).astype(dtype) for shape in shapes_]
    assert_matches_torch(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                         lambda a, b: tf.mse_loss(a, b, reduction=reduction),
                         arrays_, [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_binary_cross_entropy_matches_torch(tf, dtype, reduction, weighted):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    p = rng.uniform(0.02, 0.98, (4, 3)).astype(dtype)
    p[0, :2] = [0.0, 1.0]  # the clamped ends
    target = rng.uniform(0, 1, (4, 3)).astype(dtype)
    weight = rng.uniform(0.5, 2, 3).astype(dtype)
    ours = mg.tensor(weight) if weighted else None
    theirs = torch.tensor(weight) if weighted else None
    assert_matches_torch(
        lambda a, b: F.binary_cross_entropy(a, b, weight=ours, reduction=reduction),
        lambda a, b: tf.binary_cross_entropy(a, b, weight=theirs, reduction=reduction),
        [p, target], [True, True], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("positive", [False, True], ids=["no_pos_weight", "pos_weight"])
def test_binary_cross_entropy_with_logits_matches_torch(tf, dtype, reduction, weighted,
                                                        positive):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((4, 3)) * 5).astype(dtype)
    x[0] = [1e4, -1e4, 0.0]
    target = rng.uniform(0, 1, (4, 3)).astype(dtype)
    weight = rng.uniform(0.5, 2, 3).astype(dtype)
    pos_weight = rng.uniform(0.5, 3, 3).astype(dtype)
    ours = {"weight": mg.tensor(weight) if weighted else None,
            "pos_weight": mg.tensor(pos_weight) if positive else None, "reduction": reduction}
    theirs = {"weight": torch.tensor(weight) if weighted else None,
              "pos_weight": torch.tensor(pos_weight) if positive else None,
              "reduction": reduction}
    assert_matches_torch(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **ours),
                         lambda a, b: tf.binary_cross_entropy_with_logits(a, b, **theirs),
                         [x, target], [True, True], dtype)


@pytest.mark.parametrize("function", ["dropout", "dropout2d"])
def test_dropout_scaling_matches_torch(tf, dtype, function):
    """Masks come from different generators, so compare what a mask does: the values kept
    (x / (1 - p)), the gradient (the scaled mask), dtypes and the kept fraction."""
    torch = pytest.importorskip("torch")
    mg.manual_seed(5)
    torch.manual_seed(5)
    ours = mg.ones(40, 30, 2, 2, dtype=dtype, requires_grad=True)
    theirs = torch.ones(40, 30, 2, 2, dtype=getattr(torch, dtype.__name__), requires_grad=True)
    output, expected = getattr(F, function)(ours, p=0.3), getattr(tf, function)(theirs, p=0.3)
    output.backward(mg.ones(40, 30, 2, 2, dtype=dtype))
    expected.backward(torch.ones_like(expected))
    assert str(output.dtype) == _torch_dtype_name(expected)
    assert ours.grad.dtype == dtype
    for mine, reference in ((output.detach().numpy(), expected.detach().numpy()),
                            (ours.grad.numpy(), theirs.grad.numpy())):
        np.testing.assert_allclose(np.unique(mine), np.unique(reference), **TOLERANCES[dtype])
        assert abs((mine != 0).mean() - (reference != 0).mean()) < 0.06


def test_one_hot_matches_torch(tf):
    torch = pytest.importorskip("torch")
    indices = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(indices)).numpy(),
                                  tf.one_hot(torch.tensor(indices)).numpy())
    np.testing.assert_array_equal(F.one_hot(mg.tensor(indices), 6).numpy(),
                                  tf.one_hot(torch.tensor(indices), 6).numpy())


RANDOM_CASES = {"dropout", "dropout2d"}


@pytest.mark.parametrize("name", sorted(set(CASES) - RANDOM_CASES))
def test_cases_match_torch(tf, dtype, name):
    """The dtype cases above, for values and gradients against PyTorch."""
    torch = pytest.importorskip("torch")
    arrays = _case_inputs(dtype)
    ours = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    output, expected = CASES[name](F, *ours), CASES[name](tf, *theirs)
    np.testing.assert_allclose(output.detach().numpy(), expected.detach().numpy(),
                               **TOLERANCES[dtype])
    seed = np.random.default_rng(1).standard_normal(output.shape).astype(dtype)
    output.backward(mg.tensor(seed))
    expected.backward(torch.tensor(seed))
    for mine, reference in zip(ours[:2], theirs[:2]):
        assert (mine.grad is None) == (reference.grad is None)
        if reference.grad is not None:
            np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(),
                                       **TOLERANCES[dtype])


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("name", sorted(RANDOM_CASES))
def test_random_cases_keep_or_scale_each_value(dtype, name):
    """Dropout cases (no PyTorch twin for the random mask): every output is 0 or x / (1 - p),
    and the gradient is the same mask and scale."""
    logits, probs, target = _case_inputs(dtype)
    mg.manual_seed(3)
    x = mg.tensor(logits, requires_grad=True)
    y = CASES[name](F, x, mg.tensor(probs), mg.tensor(target))
    y.backward(mg.ones_like(y))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 2 * logits[kept], rtol=1e-6)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 2.0, 0.0))
    assert 0 < kept.sum() < kept.size
