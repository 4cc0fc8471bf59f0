"""Second derivatives of the activation_loss family, and of BatchNorm built from ops.

Sections: gradgradcheck in float64 (hypothesis, few examples) for every op and loss option |
second derivatives against torch.autograd.grad(..., create_graph=True), float64 and float32 |
behaviour (constant masks, dtypes, first-order caches) | BatchNorm1d/2d in training mode.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, nn
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes, tensors

SMALL = shapes(min_dims=0, max_dims=3, max_side=3)
REDUCTIONS = ("none", "mean", "sum")
FEW = settings(max_examples=4, deadline=None)

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


@st.composite
def class_problems(draw, probabilities=False):
    """(logits, target, options) for nll_loss / cross_entropy: (C,), (N, C) or (N, C, d...)."""
    classes = draw(st.integers(2, 4))
    batch = draw(st.integers(1, 3))
    extra = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    unbatched = not extra and draw(st.booleans())
    shape = (classes,) if unbatched else (batch, classes) + extra
    logits = mg.tensor(draw(arrays(shape, low=-3.0, high=3.0)))
    options = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        options["weight"] = mg.tensor(draw(arrays((classes,), low=0.2, high=2.0)))
    if probabilities:
        return logits, mg.tensor(draw(arrays(shape, low=0.0, high=1.0))), options
    target_shape = () if unbatched else (batch,) + extra
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
    if draw(st.booleans()):
        options["ignore_index"] = 0  # ignore class 0, but keep one target so mean is not 0/0
        target.flat[0] = classes - 1
    return logits, mg.tensor(target), options


# ---- gradgradcheck (float64) ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@FEW
@given(x=tensors(SMALL, elements={"avoid_zero": 0.1}))
def test_activation_gradgradcheck(name, x):
    assert gradgradcheck(ACTIVATIONS[name], [x])


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax])
@FEW
@given(data=st.data(), x=tensors(shapes(min_dims=1, max_dims=3, max_side=3)))
def test_softmax_gradgradcheck(function, data, x):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert gradgradcheck(lambda a: function(a, dim), [x])


def test_softmax_of_zero_dim_tensor_gradgradcheck():
    x = mg.tensor(0.7, dtype=mg.float64)
    assert gradgradcheck(lambda a: F.softmax(a, 0), [x])
    assert gradgradcheck(lambda a: F.log_softmax(a, 0), [x])


@FEW
@given(problem=class_problems(), smoothing=st.sampled_from([0.0, 0.25, 1.0]))
def test_cross_entropy_gradgradcheck(problem, smoothing):
    logits, target, options = problem
    assert gradgradcheck(
        lambda a: F.cross_entropy(a, target, label_smoothing=smoothing, **options), [logits])


@FEW
@given(problem=class_problems(probabilities=True), smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_probability_target_gradgradcheck(problem, smoothing):
    logits, target, options = problem
    assert gradgradcheck(
        lambda a, b: F.cross_entropy(a, b, label_smoothing=smoothing, **options),
        [logits, target])


@FEW
@given(problem=class_problems())
def test_nll_loss_gradgradcheck(problem):
    log_probs, target, options = problem
    assert gradgradcheck(lambda a: F.nll_loss(a, target, **options), [log_probs])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"label_smoothing": 0.2},
                                     {"ignore_index": 1}, {"weight": True, "ignore_index": 2,
                                                           "label_smoothing": 0.4}])
def test_cross_entropy_every_option_gradgradcheck(reduction, options):
    rng = np.random.default_rng(3)
    logits = mg.tensor(rng.standard_normal((3, 4, 2)))
    target = mg.tensor(np.array([[1, 2], [3, 0], [2, 1]]))
    options = dict(options, reduction=reduction)
    if options.pop("weight", False):
        options["weight"] = mg.tensor(rng.uniform(0.3, 2.0, 4))
    assert gradgradcheck(lambda a: F.cross_entropy(a, target, **options), [logits])


@pytest.mark.filterwarnings("ignore:mse_loss")
@FEW
@given(data=st.data(), pair=broadcastable_shapes(count=2, max_dims=3, max_side=3),
       reduction=st.sampled_from(REDUCTIONS))
def test_mse_loss_gradgradcheck(data, pair, reduction):
    x, y = (mg.tensor(data.draw(arrays(shape))) for shape in pair)
    assert gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


@FEW
@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_gradgradcheck(data, shape, reduction, weighted):
    p = mg.tensor(data.draw(arrays(shape, low=0.05, high=0.95)))
    # targets inside (0, 1): the checker's nudges must stay in the range BCE accepts
    target = mg.tensor(data.draw(arrays(shape, low=0.01, high=0.99)))
    weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=2.0))) if weighted else None
    assert gradgradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, weight=weight, reduction=reduction), [p, target])


@FEW
@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), positive_weighted=st.booleans())
def test_binary_cross_entropy_with_logits_gradgradcheck(data, shape, reduction, weighted,
                                                        positive_weighted):
    x = mg.tensor(data.draw(arrays(shape, low=-4.0, high=4.0, avoid_zero=0.05)))
    target = mg.tensor(data.draw(arrays(shape, low=0.0, high=1.0)))
    weight = pos_weight = None
    if weighted:
        weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=2.0)))
    if positive_weighted:
        pos_weight = mg.tensor(data.draw(arrays(shape[-1:], low=0.1, high=3.0)))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=weight, pos_weight=pos_weight, reduction=reduction), [x, target])


@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
@FEW
@given(x=tensors(shapes(min_dims=4, max_dims=4, max_side=3)), p=st.sampled_from([0.3, 0.7]))
def test_dropout_gradgradcheck(function, x, p):
    def seeded(a):
        mg.manual_seed(7)  # the same mask on every evaluation
        return function(a, p)

    assert gradgradcheck(seeded, [x])


# ---- second derivatives against PyTorch -----------------------------------------------------
class Framework:
    """minigrad or torch behind one face: F, grad, and tensors from NumPy arrays."""

    def __init__(self, name):
        if name == "torch":
            import torch

            self.F, self.grad = torch.nn.functional, torch.autograd.grad
            self.tensor = lambda array, grad=False: torch.tensor(array, requires_grad=grad)
            self.numpy = lambda tensor: tensor.detach().numpy()
        else:
            self.F, self.grad = F, autograd.grad
            self.tensor = lambda array, grad=False: mg.tensor(array, requires_grad=grad)
            self.numpy = lambda tensor: tensor.detach().numpy()


def second_derivatives(lib, call, arrays_in, differentiable, seed=0):
    """Gradients of sum(g * v) with respect to the inputs and to the output weights w, where
    g = grad(call(inputs), inputs, grad_outputs=w, create_graph=True); None as zeros."""
    rng = np.random.default_rng(seed)
    inputs = [lib.tensor(array, grad=flag) for array, flag in zip(arrays_in, differentiable)]
    output = call(lib, *inputs)
    dtype = arrays_in[0].dtype
    weight = lib.tensor(np.asarray(rng.standard_normal(tuple(output.shape)), dtype=dtype),
                        grad=True)
    wrt = [tensor for tensor in inputs if tensor.requires_grad]
    grads = lib.grad([output], wrt, grad_outputs=[weight], create_graph=True, allow_unused=True)
    vectors = [lib.tensor(np.asarray(rng.standard_normal(tuple(t.shape)), dtype=dtype))
               for t in wrt]
    dot = sum((g * v).sum() for g, v in zip(grads, vectors) if g is not None)
    if not getattr(dot, "requires_grad", False):
        return [np.zeros(tuple(t.shape)) for t in wrt + [weight]]
    second = lib.grad([dot], wrt + [weight], allow_unused=True)
    return [np.zeros(tuple(t.shape)) if s is None else lib.numpy(s)
            for t, s in zip(wrt + [weight], second)]


RNG = np.random.default_rng(11)
LOGITS = RNG.standard_normal((3, 4))
LOGITS_4D = RNG.standard_normal((2, 3, 2, 2))
TARGET = np.array([1, 3, 0])
TARGET_3D = np.array([[[0, 2], [1, 1]], [[2, 0], [2, 1]]])
CLASS_WEIGHT = RNG.uniform(0.3, 2.0, 4)
CLASS_WEIGHT_3 = RNG.uniform(0.3, 2.0, 3)
AWAY_FROM_ZERO = np.where(np.abs(LOGITS) < 0.1, 0.5, LOGITS)


def _const(lib, array):
    return lib.tensor(array)


def _weighted(lib, x, array):
    """A constant like `array` in x's dtype (None stays None)."""
    return None if array is None else _const(lib, array.astype(lib.numpy(x).dtype))


def _cross_entropy(reduction="mean", weight=None, label_smoothing=0.0, ignore_index=-100,
                   target=TARGET):
    def call(lib, x):
        return lib.F.cross_entropy(x, _const(lib, target), weight=_weighted(lib, x, weight),
                                   reduction=reduction, label_smoothing=label_smoothing,
                                   ignore_index=ignore_index)
    return call


CASES = {
    "relu": (lambda lib, x: lib.F.relu(x), [AWAY_FROM_ZERO]),
    "leaky_relu": (lambda lib, x: lib.F.leaky_relu(x, 0.2), [AWAY_FROM_ZERO]),
    "gelu": (lambda lib, x: lib.F.gelu(x), [LOGITS]),
    "gelu_tanh": (lambda lib, x: lib.F.gelu(x, approximate="tanh"), [LOGITS]),
    "silu": (lambda lib, x: lib.F.silu(x), [LOGITS]),
    "elu": (lambda lib, x: lib.F.elu(x, 0.7), [AWAY_FROM_ZERO]),
    "softmax": (lambda lib, x: lib.F.softmax(x, 1), [LOGITS]),
    "softmax_dim0_4d": (lambda lib, x: lib.F.softmax(x, 0), [LOGITS_4D]),
    "log_softmax": (lambda lib, x: lib.F.log_softmax(x, 1), [LOGITS]),
    "log_softmax_4d": (lambda lib, x: lib.F.log_softmax(x, -1), [LOGITS_4D]),
    "cross_entropy": (_cross_entropy(), [LOGITS]),
    "cross_entropy_sum": (_cross_entropy("sum"), [LOGITS]),
    "cross_entropy_none": (_cross_entropy("none"), [LOGITS]),
    "cross_entropy_weight": (_cross_entropy(weight=CLASS_WEIGHT), [LOGITS]),
    "cross_entropy_ignore": (_cross_entropy(ignore_index=3), [LOGITS]),
    "cross_entropy_smoothing": (_cross_entropy(label_smoothing=0.2), [LOGITS]),
    "cross_entropy_all_options": (_cross_entropy(weight=CLASS_WEIGHT, label_smoothing=0.3,
                                                 ignore_index=0), [LOGITS]),
    "cross_entropy_all_options_none": (_cross_entropy("none", CLASS_WEIGHT, 0.3, 0),
                                       [LOGITS]),
    "cross_entropy_k_dim": (_cross_entropy(weight=CLASS_WEIGHT_3, label_smoothing=0.1,
                                           target=TARGET_3D), [LOGITS_4D]),
    "cross_entropy_k_dim_none": (_cross_entropy("none", ignore_index=1, target=TARGET_3D),
                                 [LOGITS_4D]),
    "cross_entropy_unbatched": (_cross_entropy(label_smoothing=0.1, target=np.array(2)),
                                [LOGITS[0]]),
    "cross_entropy_probabilities": (
        lambda lib, x, t: lib.F.cross_entropy(x, t), [LOGITS, RNG.uniform(0, 1, (3, 4))]),
    "cross_entropy_probabilities_options": (
        lambda lib, x, t: lib.F.cross_entropy(x, t, weight=_weighted(lib, x, CLASS_WEIGHT_3),
                                              label_smoothing=0.3, reduction="none"),
        [LOGITS_4D, RNG.uniform(0, 1, (2, 3, 2, 2))]),
    "cross_entropy_probabilities_unbatched": (
        lambda lib, x, t: lib.F.cross_entropy(x, t, reduction="sum", label_smoothing=0.2),
        [LOGITS[1], RNG.uniform(0, 1, 4)]),
    "nll_loss": (lambda lib, x: lib.F.nll_loss(x, _const(lib, TARGET)), [LOGITS]),
    "nll_loss_options": (
        lambda lib, x: lib.F.nll_loss(x, _const(lib, TARGET_3D), reduction="none",
                                      weight=_weighted(lib, x, CLASS_WEIGHT_3),
                                      ignore_index=2), [LOGITS_4D]),
    "mse_loss": (lambda lib, x, t: lib.F.mse_loss(x, t), [LOGITS, RNG.standard_normal((3, 4))]),
    "mse_loss_broadcast_none": (lambda lib, x, t: lib.F.mse_loss(x, t, reduction="none"),
                                [LOGITS, RNG.standard_normal((1, 4))]),
    "mse_loss_sum": (lambda lib, x, t: lib.F.mse_loss(x, t, reduction="sum"),
                     [LOGITS_4D, RNG.standard_normal((2, 3, 2, 2))]),
    "binary_cross_entropy": (lambda lib, p, t: lib.F.binary_cross_entropy(p, t),
                             [RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))]),
    "binary_cross_entropy_weight_none": (
        lambda lib, p, t: lib.F.binary_cross_entropy(p, t, weight=_weighted(lib, p,
                                                                           CLASS_WEIGHT),
                                                     reduction="none"),
        [RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))]),
    "binary_cross_entropy_with_logits": (
        lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(x, t),
        [LOGITS, RNG.uniform(0, 1, (3, 4))]),
    "binary_cross_entropy_with_logits_options": (
        lambda lib, x, t: lib.F.binary_cross_entropy_with_logits(
            x, t, weight=_weighted(lib, x, CLASS_WEIGHT),
            pos_weight=_weighted(lib, x, CLASS_WEIGHT[::-1].copy()), reduction="sum"),
        [LOGITS * 3, RNG.uniform(0, 1, (3, 4))]),
}


@pytest.mark.filterwarnings("ignore:mse_loss", "ignore:Using a target size")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_torch(name, dtype):
    pytest.importorskip("torch")
    call, inputs = CASES[name]
    inputs = [array.astype(dtype) for array in inputs]
    differentiable = [True] * len(inputs)
    ours = second_derivatives(Framework("minigrad"), call, inputs, differentiable)
    theirs = second_derivatives(Framework("torch"), call, inputs, differentiable)
    tolerance = 1e-9 if dtype == np.float64 else 2e-4
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert a.dtype == dtype or not a.any(), (index, a.dtype)
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                   err_msg=f"{name}: derivative {index}")


def assert_matches_torch(call, arrays_in, tolerance=1e-9):
    pytest.importorskip("torch")
    differentiable = [True] * len(arrays_in)
    ours = second_derivatives(Framework("minigrad"), call, arrays_in, differentiable)
    theirs = second_derivatives(Framework("torch"), call, arrays_in, differentiable)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                   err_msg=f"derivative {index}")


def _numpy_problem(problem):
    """A drawn (logits, target, options) as arrays; weight stays an array or None."""
    logits, target, options = problem
    options = dict(options)
    if "weight" in options:
        options["weight"] = options["weight"].numpy()
    return logits.numpy(), target.numpy(), options


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "gelu", "gelu_tanh", "silu", "elu"])
@FEW
@given(x=arrays(SMALL, avoid_zero=0.1))
def test_activation_second_derivative_matches_torch_drawn(name, x):
    call, _ = CASES[name]
    assert_matches_torch(call, [x])


@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
@FEW
@given(data=st.data(), x=arrays(shapes(min_dims=1, max_dims=3, max_side=3)))
def test_softmax_second_derivative_matches_torch_drawn(function, data, x):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_matches_torch(lambda lib, a: getattr(lib.F, function)(a, dim), [x])


@FEW
@given(problem=class_problems(), smoothing=st.sampled_from([0.0, 0.25, 1.0]))
def test_cross_entropy_second_derivative_matches_torch_drawn(problem, smoothing):
    logits, target, options = _numpy_problem(problem)

    def call(lib, x):
        return lib.F.cross_entropy(x, lib.tensor(target),
                                   weight=_weighted(lib, x, options.get("weight")),
                                   ignore_index=options.get("ignore_index", -100),
                                   reduction=options["reduction"], label_smoothing=smoothing)
    assert_matches_torch(call, [logits])


@FEW
@given(problem=class_problems(probabilities=True), smoothing=st.sampled_from([0.0, 0.3]))
def test_cross_entropy_probabilities_second_derivative_matches_torch_drawn(problem, smoothing):
    logits, target, options = _numpy_problem(problem)

    def call(lib, x, t):
        return lib.F.cross_entropy(x, t, weight=_weighted(lib, x, options.get("weight")),
                                   reduction=options["reduction"], label_smoothing=smoothing)
    assert_matches_torch(call, [logits, target])


@FEW
@given(problem=class_problems())
def test_nll_loss_second_derivative_matches_torch_drawn(problem):
    log_probs, target, options = _numpy_problem(problem)

    def call(lib, x):
        return lib.F.nll_loss(x, lib.tensor(target),
                              weight=_weighted(lib, x, options.get("weight")),
                              ignore_index=options.get("ignore_index", -100),
                              reduction=options["reduction"])
    assert_matches_torch(call, [log_probs])


@pytest.mark.filterwarnings("ignore:mse_loss", "ignore:Using a target size")
@FEW
@given(data=st.data(), pair=broadcastable_shapes(count=2, max_dims=3, max_side=3),
       reduction=st.sampled_from(REDUCTIONS))
def test_mse_loss_second_derivative_matches_torch_drawn(data, pair, reduction):
    x, y = (data.draw(arrays(shape)) for shape in pair)
    assert_matches_torch(lambda lib, a, b: lib.F.mse_loss(a, b, reduction=reduction), [x, y])


@FEW
@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_second_derivative_matches_torch_drawn(data, shape, reduction,
                                                                    weighted):
    p = data.draw(arrays(shape, low=0.05, high=0.95))
    target = data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape[-1:], low=0.1, high=2.0)) if weighted else None
    assert_matches_torch(lambda lib, a, b: lib.F.binary_cross_entropy(
        a, b, weight=_weighted(lib, a, weight), reduction=reduction), [p, target],
        tolerance=1e-8)


@FEW
@given(data=st.data(), shape=SMALL, reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), positive_weighted=st.booleans())
def test_binary_cross_entropy_with_logits_second_derivative_matches_torch_drawn(
        data, shape, reduction, weighted, positive_weighted):
    x = data.draw(arrays(shape, low=-4.0, high=4.0))
    target = data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape[-1:], low=0.1, high=2.0)) if weighted else None
    pos_weight = data.draw(arrays(shape[-1:], low=0.1, high=3.0)) if positive_weighted else None
    assert_matches_torch(lambda lib, a, b: lib.F.binary_cross_entropy_with_logits(
        a, b, weight=_weighted(lib, a, weight), pos_weight=_weighted(lib, a, pos_weight),
        reduction=reduction), [x, target])


def test_float32_second_derivative_stays_float32():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    target = mg.tensor(np.array([0, 4, 2, 1]))
    for function in (F.gelu, F.silu, F.elu, lambda a: F.softmax(a, 1),
                     lambda a: F.cross_entropy(a, target, label_smoothing=0.1),
                     lambda a: F.binary_cross_entropy_with_logits(a, mg.ones(4, 5))):
        (g,) = autograd.grad(function(x).sum(), [x], create_graph=True)
        (h,) = autograd.grad((g * g).sum(), [x])
        assert g.dtype == mg.float32 and h.dtype == mg.float32


# ---- behaviour --------------------------------------------------------------------------------
@pytest.mark.parametrize("function", [F.dropout, F.dropout2d])
def test_dropout_mask_is_a_constant_of_the_second_pass(function):
    mg.manual_seed(3)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4)), requires_grad=True)
    y = function(x, 0.5)
    mask = y.detach().numpy() / x.detach().numpy()
    weight = mg.tensor(np.ones((2, 3, 4, 4)), requires_grad=True)
    (g,) = autograd.grad(y, [x], grad_outputs=weight, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), mask)
    second_x, second_weight = autograd.grad(g.sum(), [x, weight], allow_unused=True)
    assert second_x is None  # linear in x
    np.testing.assert_allclose(second_weight.numpy(), mask)


def test_relu_second_derivative_is_zero_and_mixed_one_is_the_mask():
    x = mg.tensor([-1.5, 0.5, 2.0], dtype=mg.float64, requires_grad=True)
    weight = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    (g,) = autograd.grad(F.relu(x), [x], grad_outputs=weight, create_graph=True)
    second_x, second_weight = autograd.grad(g.sum(), [x, weight], allow_unused=True)
    assert second_x is None
    np.testing.assert_allclose(second_weight.numpy(), [0.0, 1.0, 1.0])


def test_cross_entropy_third_derivative_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    logits, target = rng.standard_normal((2, 3)), np.array([2, 0])
    vector = rng.standard_normal((2, 3))

    def third(lib, framework_grad):
        x = lib.tensor(logits, grad=True)
        (g,) = framework_grad([lib.F.cross_entropy(x, lib.tensor(target))], [x],
                              create_graph=True)
        (h,) = framework_grad([(g * lib.tensor(vector)).sum()], [x], create_graph=True)
        (t,) = framework_grad([(h * h).sum()], [x])
        return lib.numpy(t)

    ours = third(Framework("minigrad"), autograd.grad)
    theirs = third(Framework("torch"), torch.autograd.grad)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layout", [(3, 4), (2, 3, 2)])
def test_class_pick_and_place_are_each_others_gradient_to_any_order(layout):
    """The gather/scatter pair behind nll_loss and cross_entropy: gradgradcheck of both, so
    pick's backward (place) and place's backward (pick) are checked through two passes."""
    from minigrad.ops.loss import PickClass, PlaceClass

    rng = np.random.default_rng(4)
    index = rng.integers(0, layout[1], (layout[0], 1) + layout[2:])
    values_shape = (layout[0], 1) + layout[2:]
    def pick(a):
        picked = PickClass.apply(a, index=index)
        return picked * picked

    def place(a):
        placed = PlaceClass.apply(a, index=index, shape=layout)
        return placed * placed

    assert gradgradcheck(pick, [mg.tensor(rng.standard_normal(layout))])
    assert gradgradcheck(place, [mg.tensor(rng.standard_normal(values_shape))])


def test_first_order_backward_frees_the_softmax_cache():
    logits = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor(np.array([0, 1, 2, 0])))
    node = loss.grad_fn
    assert node.probabilities is not None
    loss.backward()
    assert not hasattr(node, "probabilities") and not hasattr(node, "saved")


def test_graph_pass_does_not_reuse_first_order_cache():
    """A create_graph pass keeps the softmax cache out of the new graph: the gradient's
    graph goes back to the logits (a cached array would make the second derivative 0)."""
    logits = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor(np.array([0, 1, 2, 0])))
    (g,) = autograd.grad(loss, [logits], create_graph=True)
    (h,) = autograd.grad((g * g).sum(), [logits])
    assert np.abs(h.numpy()).max() > 1e-3


# ---- BatchNorm: composite of ops, twice differentiable ----------------------------------------
def _batch_norm_second_derivatives(lib, module, x_array, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(x_array, grad=True)
    output = module(x)
    weight = lib.tensor(rng.standard_normal(tuple(output.shape)), grad=True)
    params = [x, module.weight, module.bias]
    grads = lib.grad([output], params, grad_outputs=[weight], create_graph=True)
    vectors = [lib.tensor(rng.standard_normal(tuple(p.shape))) for p in params]
    dot = sum((g * v).sum() for g, v in zip(grads, vectors))
    second = lib.grad([dot], params + [weight], allow_unused=True)
    return [np.zeros(tuple(p.shape)) if s is None else lib.numpy(s)
            for p, s in zip(params + [weight], second)]


@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 2)),
                                         ("BatchNorm2d", (3, 3, 2, 2))])
def test_batch_norm_train_mode_second_derivatives_match_torch(kind, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 2 + 0.5
    affine = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    ours_module = getattr(nn, kind)(3).to(mg.float64)
    ours_module.weight.data = mg.tensor(affine[0]).data
    ours_module.bias.data = mg.tensor(affine[1]).data
    theirs_module = getattr(torch.nn, kind)(3).double()
    theirs_module.weight.data = torch.tensor(affine[0])
    theirs_module.bias.data = torch.tensor(affine[1])
    ours = _batch_norm_second_derivatives(Framework("minigrad"), ours_module, x)
    theirs = _batch_norm_second_derivatives(Framework("torch"), theirs_module, x)
    for name, a, b in zip(("x", "weight", "bias", "grad_output"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (4, 2)), ("BatchNorm2d", (2, 2, 2, 2))])
def test_batch_norm_train_mode_gradgradcheck(kind, shape):
    module = getattr(nn, kind)(2).to(mg.float64)
    x = mg.tensor(np.random.default_rng(2).standard_normal(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradgradcheck(module, [x])
