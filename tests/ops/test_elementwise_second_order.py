"""Second derivatives of the elementwise, cast and in-place ops.

Sections: gradgradcheck in float64 (hypothesis-drawn shapes, few examples), the second
derivative against torch.autograd.grad(..., create_graph=True), float32 staying float32,
and the version-counter check in a second pass.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops.inplace import ScatterPositions, TakePositions, WriteRegion
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes

SMALL = shapes(max_dims=2, max_side=3)
FEW = settings(max_examples=4, deadline=None)

# name -> keyword arguments for `arrays`, keeping values inside the domain and off kinks
UNARY = {
    "neg": {}, "exp": {}, "sin": {}, "cos": {}, "tanh": {}, "sigmoid": {}, "square": {},
    "expm1": {},
    "log": {"low": 0.2}, "sqrt": {"low": 0.2}, "rsqrt": {"low": 0.2},
    "log1p": {"low": -0.8}, "reciprocal": {"avoid_zero": 0.3}, "abs": {"avoid_zero": 0.1},
}
# name -> (elements of input, elements of other)
BINARY = {
    "add": ({}, {}),
    "sub": ({}, {}),
    "mul": ({}, {}),
    "div": ({}, {"avoid_zero": 0.3}),
    # at exponent 0 the slope is 0 by PyTorch's rule (no NaN at base 0), a kink for d/db
    "pow": ({"low": 0.5, "high": 2.5}, {"low": -2.0, "high": 2.0, "avoid_zero": 0.1}),
    "maximum": ({"distinct": True}, {"distinct": True}),
    "minimum": ({"distinct": True}, {"distinct": True}),
}


def far_apart(*arrays_: np.ndarray, gap: float = 1e-2) -> bool:
    """True when no two broadcast-aligned elements of different arrays are within `gap`."""
    aligned = np.broadcast_arrays(*arrays_)
    return all(np.abs(a - b).min(initial=np.inf) > gap
               for i, a in enumerate(aligned) for b in aligned[i + 1:])


def second_derivatives_match_torch(fn, torch_fn, values, seed=0, rtol=1e-7, atol=1e-9):
    """d/dx <v, d/dx <w, fn(x)>> in minigrad and in torch (create_graph=True) agree.

    `values` are float arrays (float64 for a tight comparison); w and v are random.
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    ours = [mg.tensor(value, requires_grad=True) for value in values]
    theirs = [torch.tensor(value, requires_grad=True) for value in values]
    out, torch_out = fn(*ours), torch_fn(*theirs)
    weight = rng.standard_normal(out.shape).astype(values[0].dtype)
    grads = mg.autograd.grad(out, ours, grad_outputs=[mg.tensor(weight)], create_graph=True,
                             allow_unused=True)
    torch_grads = torch.autograd.grad(torch_out, theirs, grad_outputs=[torch.tensor(weight)],
                                      create_graph=True, allow_unused=True)
    for grad, torch_grad in zip(grads, torch_grads):  # first derivatives agree too
        if torch_grad is not None:
            np.testing.assert_allclose(grad.data, torch_grad.detach().numpy(), rtol=rtol,
                                       atol=atol)
    directions = [rng.standard_normal(value.shape).astype(value.dtype) for value in values]
    # a gradient that is a constant (abs: w * sign(x)) has no graph in minigrad, where
    # torch records one with zero derivative: both mean a zero second derivative
    pairs = [(grad, direction) for grad, direction in zip(grads, directions)
             if grad is not None and grad.requires_grad]
    torch_pairs = [(grad, direction) for grad, direction in zip(torch_grads, directions)
                   if grad is not None and grad.requires_grad]
    if pairs:
        second = mg.autograd.grad([grad for grad, _ in pairs], ours,
                                  grad_outputs=[mg.tensor(d) for _, d in pairs],
                                  materialize_grads=True)
        assert all(result.dtype == values[0].dtype for result in second)
        second = [result.data for result in second]
    else:
        second = [np.zeros_like(value) for value in values]
    if torch_pairs:
        torch_second = torch.autograd.grad(
            [grad for grad, _ in torch_pairs], theirs,
            grad_outputs=[torch.tensor(d) for _, d in torch_pairs], materialize_grads=True)
        torch_second = [expected.numpy(force=True) for expected in torch_second]
    else:
        torch_second = [np.zeros_like(value) for value in values]
    for result, expected in zip(second, torch_second):
        np.testing.assert_allclose(result, expected, rtol=rtol, atol=atol)


def torch_op(name):
    torch = pytest.importorskip("torch")
    return getattr(torch, name)


# ---- gradgradcheck (float64) --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary_second_derivative(name, data):
    x = data.draw(arrays(SMALL, **UNARY[name]))
    assert gradgradcheck(getattr(mg, name), [mg.tensor(x)])


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_second_derivative_with_broadcasting(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = data.draw(arrays(shape_a, **elements_a))
    b = data.draw(arrays(shape_b, **elements_b))
    if name in ("maximum", "minimum"):
        assume(far_apart(a, b))
    assert gradgradcheck(getattr(mg, name), [mg.tensor(a), mg.tensor(b)])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_evenly_in_both_orders(name):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    # squares keep a second derivative; the tie (element 0) splits it in half
    second_derivatives_match_torch(lambda x, y: getattr(mg, name)(x * x, y * y),
                                   lambda x, y: torch_op(name)(x * x, y * y), [a, b])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@FEW
@given(x=arrays(SMALL, low=0.5, high=2.5), number=st.sampled_from([-1.5, 0.5, 2, 3.0]))
def test_second_derivative_with_a_number_on_either_side(name, x, number):
    function = getattr(mg, name)
    assert gradgradcheck(lambda t: function(t, number), [mg.tensor(x)])
    assert gradgradcheck(lambda t: function(abs(number), t), [mg.tensor(x)])


@FEW
@given(data=st.data())
def test_clamp_second_derivative_with_tensor_and_number_bounds(data):
    shape_x, shape_low, shape_high = data.draw(broadcastable_shapes(3, max_dims=2, max_side=3))
    x = data.draw(arrays(shape_x, distinct=True))
    low = data.draw(arrays(shape_low, low=-2.5, high=-0.2, distinct=True))
    high = data.draw(arrays(shape_high, low=0.2, high=2.5, distinct=True))
    assume(far_apart(x, low, high) and far_apart(x * x, low * low, high * high))
    # squares inside give every input a nonzero second derivative where it wins
    assert gradgradcheck(lambda t, lo, hi: mg.clamp(t * t, min=lo * lo - 1, max=hi * hi),
                         [mg.tensor(x), mg.tensor(low), mg.tensor(high)])
    assert gradgradcheck(lambda t: mg.clamp(t * t, -0.5037, 1.9871), [mg.tensor(x)])
    assert gradgradcheck(lambda t, lo: mg.clamp(t * t, min=lo * lo), [mg.tensor(x), mg.tensor(low)])


@FEW
@given(data=st.data())
def test_where_and_masked_fill_second_derivative(data):
    shape_c, shape_a, shape_b = data.draw(broadcastable_shapes(3, max_dims=2, max_side=3))
    condition = mg.tensor(data.draw(arrays(shape_c)) > 0)
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    assert gradgradcheck(lambda x, y: mg.where(condition, x * y, y * y),
                         [mg.tensor(a), mg.tensor(b)])
    mask = mg.tensor(data.draw(arrays(shape_a)) > 0)
    value = data.draw(arrays(()))
    assert gradgradcheck(lambda x, v: (x * x).masked_fill(mask, v * v) * x,
                         [mg.tensor(a), mg.tensor(value)])


def test_rounded_division_has_zero_gradient_in_both_orders():
    a = mg.tensor([2.5, -1.3, 4.1], dtype=mg.float64)
    b = mg.tensor([0.7, 0.9, -1.7], dtype=mg.float64)
    for mode in ("floor", "trunc"):
        assert gradgradcheck(lambda x, y, m=mode: mg.div(x, y, rounding_mode=m) * x * y, [a, b])
        x = mg.tensor(a.numpy(), requires_grad=True)
        (grad,) = mg.autograd.grad(mg.div(x, 0.7, rounding_mode=mode), x,
                                   grad_outputs=mg.ones(3, dtype=mg.float64), create_graph=True)
        np.testing.assert_array_equal(grad.numpy(), np.zeros(3))


def test_cast_second_derivative():
    x = mg.tensor([0.3, -1.2, 2.0], dtype=mg.float64)
    # through float32: numerical differences need a coarse step
    assert gradgradcheck(lambda t: mg.sin(t.float()).double() * t, [x], eps=1e-2, atol=1e-3,
                         rtol=1e-2)
    y = mg.tensor([0.3, -1.2, 2.0], dtype=mg.float32, requires_grad=True)
    (grad,) = mg.autograd.grad(mg.sin(y.double()), y, grad_outputs=mg.ones(3, dtype=mg.float64),
                               create_graph=True)
    assert grad.dtype == mg.float32
    (second,) = mg.autograd.grad(grad, y, grad_outputs=mg.ones(3, dtype=mg.float32))
    assert second.dtype == mg.float32
    np.testing.assert_allclose(second.numpy(), -np.sin(y.detach().numpy()), rtol=1e-6)


# ---- in-place ops: copy_, x[key] = value, in-place ops on views ---------------------------
def test_copy_second_derivative():
    x, src = mg.randn(2, 3, dtype=mg.float64), mg.randn(3, dtype=mg.float64)

    def copied(t, s):
        y = t * 1.0
        y.copy_(s * s)  # src broadcast over rows; t's old values get no gradient
        return y * t

    assert gradgradcheck(copied, [x, src])


@pytest.mark.parametrize("key, value_shape", [
    ((0, slice(1, None)), (2,)),
    ((np.array([0, 2]), 1), (2,)),
    ((np.array([0, 2]), slice(1, None)), (2, 2)),
    ((1, slice(None), np.array([0, 2])), (3, 2)),
    ((Ellipsis, np.array([True, False, True])), (1,)),
])
def test_setitem_second_derivative(key, value_shape):
    shape = (2, 3, 3) if len(key) == 3 else (3, 3)
    x, value = mg.randn(*shape, dtype=mg.float64), mg.randn(*value_shape, dtype=mg.float64)

    def assigned(t, v):
        y = t * t
        y[key] = v * v
        return y * t

    assert gradgradcheck(assigned, [x, value])


def test_write_region_and_its_gather_scatter_pair_second_derivative():
    positions = mg.tensor(np.array([[1, 5], [7, 2]]))
    base, values = mg.randn(3, 3, dtype=mg.float64), mg.randn(2, 2, dtype=mg.float64)
    assert gradgradcheck(lambda b, v: WriteRegion.apply(b * b, v * v, positions) * b,
                         [base, values])
    assert gradgradcheck(lambda b: TakePositions.apply(b * b, positions, shape=(4,)), [base])
    repeated = mg.tensor(np.array([1, 5, 1, 2]))  # repeated positions add up
    assert gradgradcheck(lambda v: ScatterPositions.apply(v * v, repeated, shape=(2, 3)),
                         [mg.randn(4, dtype=mg.float64)])


def test_in_place_op_on_a_view_second_derivative():
    def row_scaled(t, v):
        y = t * t
        y[1].mul_(v)  # recorded as a WriteRegion on y's history
        y[:, 1:3].add_(v[:2] * t[0, :2])  # another view, overlapping the first
        return y * t

    x, v = mg.randn(3, 4, dtype=mg.float64), mg.randn(4, dtype=mg.float64)
    assert gradgradcheck(row_scaled, [x, v])
    second_derivatives_match_torch(row_scaled, row_scaled, [x.numpy(), v.numpy()])


def test_in_place_op_on_a_view_second_derivative_through_the_value_matches_torch():
    # only v's gradient is built as a graph, so x[key] runs its backward once (WriteRegion's
    # gather and the Mul run in the graph); then that gradient is differentiated in x
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x_value, v_value = rng.standard_normal((3, 4)), rng.standard_normal(4)
    weight, direction = rng.standard_normal((3, 4)), rng.standard_normal(4)
    results = []
    for library in (mg, torch):
        x = library.tensor(x_value, requires_grad=True)
        v = library.tensor(v_value, requires_grad=True)
        y = x * x
        y[1].mul_(v)  # in minigrad, a WriteRegion on y's history
        (grad_v,) = library.autograd.grad(y * x, v, grad_outputs=library.tensor(weight),
                                          create_graph=True)
        (grad_x,) = library.autograd.grad(grad_v, x, grad_outputs=library.tensor(direction))
        results.append((grad_v.detach().numpy(), grad_x.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_in_place_ops_second_derivative_against_torch():
    def updated(t, s, u):
        y = t * 1.0
        y.mul_(s)
        y.add_(s * t)
        y.div_(s * s + 1)
        y.clamp_(-0.8, 0.9)
        y[np.array([0, 1]), 0] = u * u
        z = t * 2.0
        z.copy_(y * s)  # z's old values get no gradient
        return z * t

    rng = np.random.default_rng(3)
    second_derivatives_match_torch(updated, updated, [rng.standard_normal((2, 3)),
                                                      rng.standard_normal(3),
                                                      rng.standard_normal(2)])


# ---- against PyTorch ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary_second_derivative_matches_torch(name, data):
    x = data.draw(arrays(SMALL, **UNARY[name]))
    second_derivatives_match_torch(getattr(mg, name), torch_op(name), [x])


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_second_derivative_matches_torch(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = data.draw(arrays(shape_a, **elements_a))
    b = data.draw(arrays(shape_b, **elements_b))
    if name in ("maximum", "minimum"):
        assume(far_apart(a, b))
    second_derivatives_match_torch(getattr(mg, name), torch_op(name), [a, b])


def test_clamp_where_masked_fill_second_derivative_matches_torch():
    rng = np.random.default_rng(1)
    x, low, high = rng.standard_normal((3, 4)), rng.uniform(-1, 0, 4), rng.uniform(0, 1, (3, 1))
    second_derivatives_match_torch(
        lambda t, lo, hi: mg.clamp(t * t * t, min=lo * lo - 0.5, max=hi * hi),
        lambda t, lo, hi: torch_op("clamp")(t * t * t, min=lo * lo - 0.5, max=hi * hi),
        [x, low, high])
    condition = x > 0
    second_derivatives_match_torch(
        lambda a, b: mg.where(mg.tensor(condition), a * b, b * b),
        lambda a, b: torch_op("where")(torch_op("tensor")(condition), a * b, b * b),
        [x, high])
    second_derivatives_match_torch(
        lambda a, v: (a * a).masked_fill(mg.tensor(condition), v * v) * a,
        lambda a, v: (a * a).masked_fill(torch_op("tensor")(condition), v * v) * a,
        [x, np.asarray(0.7)])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 * inf, as in torch
def test_pow_second_derivative_at_a_zero_base_and_exponent_matches_torch():
    base, exponent = np.array([0.0, 0.0, 1.5, 2.0]), np.array([2.0, 3.0, 0.0, -1.0])
    second_derivatives_match_torch(lambda a, b: a ** b, lambda a, b: a ** b, [base, exponent])


# ---- float32 stays float32; in-place changes still refused --------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_second_derivative_stays_float32_and_matches_torch(name):
    low = UNARY[name].get("low", -1.0)
    x = np.linspace(max(low, -1.0) + 0.05, 1.7, 6).astype(np.float32)
    x = np.where(np.abs(x) < 0.3, 0.35, x).astype(np.float32)
    second_derivatives_match_torch(getattr(mg, name), torch_op(name), [x], rtol=2e-5,
                                   atol=1e-5)


def test_second_pass_refuses_a_saved_tensor_changed_in_place():
    x = mg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    hidden = x * 2.0
    (grad,) = mg.autograd.grad(mg.sin(hidden), x, grad_outputs=mg.ones(3), create_graph=True)
    with mg.no_grad():
        hidden.add_(1.0)  # Cos(hidden) in the gradient's graph saved the old values
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        mg.autograd.grad(grad, x, grad_outputs=mg.ones(3))
