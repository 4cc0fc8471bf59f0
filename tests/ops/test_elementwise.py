"""Elementwise ops: gradients (gradcheck), PyTorch agreement, dtype promotion, errors."""

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes

SMALL = shapes(max_dims=3, max_side=3)

# name -> keyword arguments for `arrays`, keeping values inside the domain and off kinks
UNARY = {
    "neg": {}, "exp": {}, "sin": {}, "cos": {}, "tanh": {}, "sigmoid": {}, "square": {},
    "expm1": {},
    "log": {"low": 0.1}, "sqrt": {"low": 0.1}, "rsqrt": {"low": 0.1},
    "log1p": {"low": -0.9}, "reciprocal": {"avoid_zero": 0.3}, "abs": {"avoid_zero": 0.1},
}
# name -> (elements of input, elements of other)
BINARY = {
    "add": ({}, {}),
    "sub": ({}, {}),
    "mul": ({}, {}),
    "div": ({}, {"avoid_zero": 0.3}),
    "pow": ({"low": 0.5, "high": 2.5}, {"low": -2.0, "high": 2.0}),
    "maximum": ({"distinct": True}, {"distinct": True}),
    "minimum": ({"distinct": True}, {"distinct": True}),
}
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
OPERATORS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__",
             "ge": "__ge__"}


def far_apart(*arrays_: np.ndarray, gap: float = 1e-3) -> bool:
    """True when no two broadcast-aligned elements of different arrays are within `gap`."""
    aligned = np.broadcast_arrays(*arrays_)
    return all(np.abs(a - b).min(initial=np.inf) > gap
               for i, a in enumerate(aligned) for b in aligned[i + 1:])


# ---- gradients: gradcheck in float64 ----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradient(name, data):
    x = data.draw(arrays(SMALL, **UNARY[name]))
    assert gradcheck(getattr(mg, name), [mg.tensor(x)])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_gradient_with_broadcasting(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = data.draw(arrays(shape_a, **elements_a))
    b = data.draw(arrays(shape_b, **elements_b))
    if name in ("maximum", "minimum"):
        assume(far_apart(a, b))
    assert gradcheck(getattr(mg, name), [mg.tensor(a), mg.tensor(b)])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@given(x=arrays(SMALL, low=0.5, high=2.5), number=st.sampled_from([-1.5, 0.5, 2, 3.0]))
def test_gradient_with_a_number_on_either_side(name, x, number):
    function = getattr(mg, name)
    assert gradcheck(lambda t: function(t, number), [mg.tensor(x)])
    assert gradcheck(lambda t: function(abs(number), t), [mg.tensor(x)])


@given(x=arrays(SMALL, distinct=True), low=st.sampled_from([-1.0037, None]),
       high=st.sampled_from([0.9871, None]))
def test_clamp_gradient_with_number_bounds(x, low, high):
    assume(low is not None or high is not None)
    assert gradcheck(lambda t: mg.clamp(t, low, high), [mg.tensor(x)])
    assert gradcheck(lambda t: t.clip(min=low, max=high), [mg.tensor(x)])


@given(data=st.data())
def test_clamp_gradient_with_tensor_bounds(data):
    shape_x, shape_low, shape_high = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3))
    x = data.draw(arrays(shape_x, distinct=True))
    low = data.draw(arrays(shape_low, low=-2.5, high=-0.2, distinct=True))
    high = data.draw(arrays(shape_high, low=0.2, high=2.5, distinct=True))
    assume(far_apart(x, low, high))
    assert gradcheck(lambda t, lo, hi: mg.clamp(t, min=lo, max=hi),
                     [mg.tensor(x), mg.tensor(low), mg.tensor(high)])
    assert gradcheck(lambda t, lo: mg.clamp(t, min=lo), [mg.tensor(x), mg.tensor(low)])
    assert gradcheck(lambda t, hi: mg.clamp(t, max=hi), [mg.tensor(x), mg.tensor(high)])


@given(data=st.data())
def test_where_gradient_with_broadcasting(data):
    shape_c, shape_a, shape_b = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3))
    condition = mg.tensor(data.draw(arrays(shape_c)) > 0)
    a = data.draw(arrays(shape_a))
    b = data.draw(arrays(shape_b))
    assert gradcheck(lambda x, y: mg.where(condition, x, y), [mg.tensor(a), mg.tensor(b)])
    assert gradcheck(lambda x: mg.where(condition, x, 0.5), [mg.tensor(a)])


@given(data=st.data())
def test_masked_fill_gradient_for_input_and_value(data):
    shape_x, shape_mask = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    mask = mg.tensor(data.draw(arrays(shape_mask)) > 0)
    x = data.draw(arrays(shape_x))
    value = data.draw(arrays(()))
    assert gradcheck(lambda t, v: t.masked_fill(mask, v), [mg.tensor(x), mg.tensor(value)])
    assert gradcheck(lambda t: mg.masked_fill(t, mask, -2.5), [mg.tensor(x)])


@given(x=arrays(SMALL, low=0.5, high=2.0))
def test_gradient_of_a_composite_expression(x):
    def expression(t):
        return (mg.sigmoid(t * 2.0 - 1) + t.exp() / (1 + t ** 2)).log() - 3.0 / t

    assert gradcheck(expression, [mg.tensor(x)])


# ---- known values ----------------------------------------------------------------------------
def test_known_values():
    x = mg.tensor([0.0, 1.0, 4.0])
    np.testing.assert_allclose(mg.sigmoid(x).numpy(), [0.5, 1 / (1 + np.exp(-1)),
                                                       1 / (1 + np.exp(-4))], rtol=1e-6)
    np.testing.assert_allclose(mg.sqrt(x).numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose((x ** 2 + 1).numpy(), [1.0, 2.0, 17.0])
    np.testing.assert_allclose((2 ** x).numpy(), [1.0, 2.0, 16.0])
    np.testing.assert_allclose(mg.exp(mg.tensor([1.0])).numpy(), [np.e], rtol=1e-6)


def test_known_gradients_by_hand():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a * b + a / b - b ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3 + 1 / 3, 4 + 1 / 4], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [1 - 1 / 9 - 6, 2 - 2 / 16 - 8], rtol=1e-6)


def test_broadcast_gradient_sums_over_repeats():
    a = mg.tensor([[1.0], [2.0]], requires_grad=True)  # (2, 1)
    b = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)  # (3,)
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[60.0], [60.0]])
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 3.0, 3.0])


def test_sigmoid_is_stable_for_large_inputs():
    x = mg.tensor([-1000.0, -80.0, 0.0, 80.0, 1000.0], requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        y = mg.sigmoid(x)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, np.exp(-80.0), 0.5, 1.0, 1.0], atol=1e-30)
    assert np.all(np.isfinite(x.grad.numpy()))


def test_comparisons_give_bool_tensors_without_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mg.tensor([3.0, 2.0, 1.0])
    expected = {"eq": [False, True, False], "ne": [True, False, True],
                "lt": [True, False, False], "le": [True, True, False],
                "gt": [False, False, True], "ge": [False, True, True]}
    for name, values in expected.items():
        for result in (getattr(mg, name)(x, y), getattr(x, OPERATORS[name])(y)):
            assert result.dtype == mg.bool
            assert not result.requires_grad
            assert result.tolist() == values
    assert (x > 1.5).tolist() == [False, True, True]
    assert (2 < x).tolist() == [False, False, True]  # reflected: x.__gt__(2)
    assert (mg.tensor([1, 2, 3]) == 2.5).tolist() == [False, False, False]  # compared as float


def test_eq_keeps_identity_hashing_and_foreign_types():
    x = mg.tensor([1.0, 2.0])
    y = mg.tensor([1.0, 2.0])
    table = {x: "x", y: "y"}
    assert table[x] == "x" and table[y] == "y"
    assert hash(x) != hash(y)
    assert (x == None) is False  # Python falls back to identity, as with torch
    assert x != "text"


def test_operators_with_numpy_on_the_left():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    result = np.float32(3.0) * x + np.ones(2, dtype=np.float32)
    assert isinstance(result, mg.Tensor)
    np.testing.assert_allclose(result.data, [4.0, 7.0])


def test_div_rounding_modes_and_floor_division():
    a = mg.tensor([5, -5, 7])
    b = mg.tensor([2, 2, -2])
    assert mg.div(a, b, rounding_mode="floor").tolist() == [2, -3, -4]
    assert mg.div(a, b, rounding_mode="trunc").tolist() == [2, -2, -3]
    assert (a // b).dtype == mg.int64
    x = mg.tensor([1.5, -1.5], requires_grad=True)
    y = mg.div(x, 2.0, rounding_mode="floor")
    assert y.tolist() == [0.0, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # piecewise constant, as in PyTorch


def test_where_with_only_a_condition_gives_indices():
    rows, cols = mg.where(mg.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert rows.dtype == mg.int64


def test_add_and_sub_alpha():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.add(x, x, alpha=3).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    assert mg.sub(x, 1.0, alpha=2).tolist() == [-1.0, 0.0]


# ---- dtypes ----------------------------------------------------------------------------------
def float32_cases(lib=mg):
    """(label, function, inputs) for every differentiable op, in float32; `lib` is minigrad or
    torch, so the same cases run on both."""
    rng = np.random.default_rng(0)
    positive = rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    row = rng.uniform(0.5, 2.0, (3,)).astype(np.float32)
    high = 1.5 if lib is mg else lib.tensor(1.5)  # torch's clamp takes no tensor/number mix
    mask = lib.tensor(np.array([True, False, True]))
    cases = [(name, getattr(lib, name), [positive]) for name in UNARY]
    cases += [(name, getattr(lib, name), [positive, row]) for name in BINARY]
    cases += [
        ("clamp", lambda t: t.clamp(0.7, 1.5), [positive]),
        ("clamp tensors", lambda t, lo: lib.clamp(t, lo, high), [positive, row]),
        ("where", lambda a, b: lib.where(mask, a, b), [positive, row]),
        ("masked_fill", lambda t: t.masked_fill(mask, 0.25), [positive]),
        ("x * 2.0", lambda t: t * 2.0, [positive]),
        ("2.0 - x", lambda t: 2.0 - t, [positive]),
        ("1 / x", lambda t: 1 / t, [positive]),
        ("x ** 2", lambda t: t ** 2, [positive]),
        ("2 ** x", lambda t: 2 ** t, [positive]),
        ("-x", lambda t: -t, [positive]),
        ("abs(x)", lambda t: abs(t), [positive]),
        ("x + 0-dim float64", lambda t: t + lib.tensor(2.0, dtype=lib.float64), [positive]),
    ]
    return cases


@pytest.mark.parametrize("label, function, inputs", float32_cases(),
                         ids=[case[0] for case in float32_cases()])
def test_float32_in_float32_out_and_grads_and_inputs_not_mutated(label, function, inputs):
    tensors = [mg.tensor(array, requires_grad=True) for array in inputs]
    copies = [array.copy() for array in inputs]
    out = function(*tensors)
    assert out.dtype == mg.float32, label
    out.backward(mg.ones_like(out))
    for tensor, copy in zip(tensors, copies):
        assert tensor.grad is not None and tensor.grad.dtype == mg.float32, label
        np.testing.assert_array_equal(tensor.data, copy)


CASE_LABELS = [case[0] for case in float32_cases()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", range(len(CASE_LABELS)), ids=CASE_LABELS)
def test_float32_cases_match_torch(index, dtype):
    """The dtype cases above, for values and gradients against PyTorch."""
    torch = pytest.importorskip("torch")
    _, ours, inputs = float32_cases()[index]
    _, theirs, _ = float32_cases(torch)[index]
    compare_with_torch(torch, ours, theirs, inputs, dtype)


def test_promotion_follows_pytorch():
    ints = mg.tensor([1, 2, 3])
    floats = mg.tensor([1.0, 2.0, 3.0])
    doubles = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)
    assert (ints * 2.5).dtype == mg.float32
    assert (ints * 2).dtype == mg.int64
    assert (ints / ints).dtype == mg.float32
    assert (1 / ints).dtype == mg.float32
    assert (ints ** 2).dtype == mg.int64
    assert (ints ** 2.5).dtype == mg.float32
    assert (2 ** ints).dtype == mg.int64
    assert (ints + floats).dtype == mg.float32
    assert (floats + doubles).dtype == mg.float64
    assert (ints + mg.tensor(1.5, dtype=mg.float64)).dtype == mg.float64  # 0-dim, higher kind
    assert (floats + mg.tensor(1.5, dtype=mg.float64)).dtype == mg.float32
    assert mg.exp(ints).dtype == mg.float32
    assert mg.sigmoid(ints).dtype == mg.float32
    assert mg.abs(-ints).tolist() == [1, 2, 3] and (-ints).dtype == mg.int64
    assert mg.square(ints).dtype == mg.int64
    assert mg.clamp(ints, min=1.5).dtype == mg.float32
    assert mg.maximum(ints, floats).dtype == mg.float32
    assert mg.where(mg.tensor([True, False, True]), ints, 0.5).dtype == mg.float32
    assert ints.masked_fill(mg.tensor([True, False, False]), 2.7).tolist() == [2, 2, 3]
    assert mg.where(mg.tensor([True, False]), 1.0, 0.0).dtype == mg.float32


def test_gradients_flow_through_promotion_to_the_original_dtype():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)  # float32
    (x * y).sum().backward()
    assert x.grad.dtype == mg.float64 and y.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 2.0])


def test_float64_end_to_end():
    x = mg.tensor([0.5, 1.5], dtype=mg.float64, requires_grad=True)
    y = (mg.tanh(x) * 2.0 + mg.log(x) - 1 / x) ** 2
    assert y.dtype == mg.float64
    y.sum().backward()
    assert x.grad.dtype == mg.float64


# ---- bad input -------------------------------------------------------------------------------
SHAPE_ERRORS = {
    "add": lambda a, b: mg.add(a, b),
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: mg.maximum(a, b),
    "minimum": lambda a, b: mg.minimum(a, b),
    "clamp": lambda a, b: mg.clamp(a, min=b),
    "where": lambda a, b: mg.where(a > 0, a, b),
    "masked_fill": lambda a, b: a.masked_fill(b > 0, 1.0),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS) + COMPARISONS)
def test_mismatched_shapes_raise_runtime_error_naming_op_and_shapes(name):
    a = mg.ones(2, 3, requires_grad=True)
    b = mg.ones(4)
    call = SHAPE_ERRORS.get(name, getattr(mg, name))
    pattern = rf"^{name}: .*\(2, 3\).*\(4,\)"
    with pytest.raises(RuntimeError, match=pattern):
        call(a, b)


def test_bad_arguments_raise_pytorch_errors():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="clamp: At least one of 'min' or 'max'"):
        x.clamp()
    with pytest.raises(RuntimeError, match="where: expected condition to be a boolean"):
        mg.where(x, x, x)
    with pytest.raises(RuntimeError, match="masked_fill: expected mask to be a boolean"):
        x.masked_fill(mg.tensor([1, 0]), 0.0)
    with pytest.raises(RuntimeError, match="masked_fill: only supports a 0-dimensional value"):
        x.masked_fill(mg.tensor([True, False]), mg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="pow: Integers to negative integer powers"):
        mg.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError, match="neg: .*bool"):
        -mg.tensor([True])
    with pytest.raises(RuntimeError, match="sub: .*bool"):
        mg.tensor([True]) - mg.tensor([False])
    with pytest.raises(TypeError, match="exp: argument 'input' must be a Tensor, not float"):
        mg.exp(2.0)
    with pytest.raises(TypeError, match="add: argument 'other' must be a Tensor or a number"):
        mg.add(x, "text")
    with pytest.raises(TypeError):
        x + "text"
    with pytest.raises(ValueError, match="div: rounding_mode"):
        mg.div(x, x, rounding_mode="round")


# ---- agreement with PyTorch ------------------------------------------------------------------
TOLERANCES = {"float32": {"rtol": 2e-5, "atol": 1e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def compare_with_torch(torch, mg_function, torch_function, inputs, dtype, seed=0):
    """Run both frameworks on the same inputs; compare outputs, grads and their dtypes."""
    mg_inputs = [mg.tensor(array.astype(dtype), requires_grad=True) for array in inputs]
    torch_inputs = [torch.tensor(array.astype(dtype), requires_grad=True) for array in inputs]
    out = mg_function(*mg_inputs)
    expected = torch_function(*torch_inputs)
    assert str(expected.dtype) == f"torch.{out.dtype}"
    np.testing.assert_allclose(out.data, expected.detach().numpy(), equal_nan=True,
                               **TOLERANCES[dtype])
    weights = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, theirs in zip(mg_inputs, torch_inputs):
        if theirs.grad is None:
            assert mine.grad is None or not np.any(mine.grad.data)
            continue
        assert mine.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), equal_nan=True,
                                   **TOLERANCES[dtype])


def unary_inputs(name):
    rng = np.random.default_rng(1)
    elements = UNARY[name]
    low = elements.get("low", -3.0)
    values = rng.uniform(low, 3.0, (2, 3))
    if "avoid_zero" in elements:
        values = np.where(np.abs(values) < 0.3, 0.7, values)
    return [values]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    compare_with_torch(torch, getattr(mg, name), getattr(torch, name), unary_inputs(name), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_torch_with_broadcasting(name, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 2.0, (2, 1, 3))
    b = rng.uniform(-2.0, 2.0, (4, 1)) if name != "div" else rng.uniform(0.5, 2.0, (4, 1))
    compare_with_torch(torch, getattr(mg, name), getattr(torch, name), [a, b], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_operands_match_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).uniform(0.5, 2.0, (2, 3))

    def expression(t):
        return (2.0 - t) * 3 + 1 / t - t ** 1.5 + 2 ** t - t / 4 + 0.5 ** t

    compare_with_torch(torch, expression, expression, [x], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ties_at_maximum_and_minimum_split_the_gradient_like_torch(dtype):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    b = np.array([1.0, 1.0, 3.0])
    for name in ("maximum", "minimum"):
        compare_with_torch(torch, getattr(mg, name), getattr(torch, name), [a, b], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (0.0, None), (None, 1.0), (1.0, 0.0)])
def test_clamp_at_number_bounds_matches_torch(low, high, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    compare_with_torch(torch, lambda t: mg.clamp(t, low, high),
                       lambda t: torch.clamp(t, low, high), [x], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clamp_at_tensor_bounds_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    # ties with both bounds, and one bound pair inverted (min > max)
    low = np.array([0.0, 0.0, 0.5, 2.0, -1.0])
    high = np.array([1.0, 0.0, 0.5, 1.0, 2.0])
    compare_with_torch(torch, mg.clamp, torch.clamp, [x, low, high], dtype)
    compare_with_torch(torch, lambda t, lo: mg.clamp(t, min=lo),
                       lambda t, lo: torch.clamp(t, min=lo), [x, low], dtype)
    compare_with_torch(torch, lambda t, hi: mg.clamp(t, max=hi),
                       lambda t, hi: torch.clamp(t, max=hi), [x, high], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_points_match_torch(dtype):
    torch = pytest.importorskip("torch")
    with np.errstate(all="raise", under="ignore"):  # special points must not warn
        compare_with_torch(torch, mg.abs, torch.abs, [np.array([-1.0, 0.0, 2.0])], dtype)
        compare_with_torch(torch, mg.sqrt, torch.sqrt, [np.array([0.0, 4.0])], dtype)
        compare_with_torch(torch, mg.log, torch.log, [np.array([0.0, 1.0])], dtype)
        base = np.array([0.0, 0.0, -1.0, 2.0, 0.0])
        exponent = np.array([0.0, 2.0, 2.0, -1.0, 0.5])
        compare_with_torch(torch, mg.pow, torch.pow, [base, exponent], dtype)
        compare_with_torch(torch, lambda t: 0.0 ** t, lambda t: 0.0 ** t,
                           [np.array([0.0, 1.0, -1.0])], dtype)
        compare_with_torch(torch, mg.sigmoid, torch.sigmoid,
                           [np.array([-200.0, -30.0, 0.0, 30.0, 200.0])], dtype)
        compare_with_torch(torch, mg.tanh, torch.tanh, [np.array([-50.0, 0.0, 50.0])], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_where_and_masked_fill_match_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    condition = np.array([[True], [False]])
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((3,))
    compare_with_torch(torch, lambda x, y: mg.where(mg.tensor(condition), x, y),
                       lambda x, y: torch.where(torch.tensor(condition), x, y), [a, b], dtype)
    mask = np.array([True, False, True])
    compare_with_torch(torch, lambda x, v: x.masked_fill(mg.tensor(mask), v),
                       lambda x, v: x.masked_fill(torch.tensor(mask), v),
                       [a, np.array(0.75)], dtype)
    wide = np.array([[True, False, False], [False, False, True]])  # mask broadcasts input
    compare_with_torch(torch, lambda x: x.masked_fill(mg.tensor(wide), -1.0),
                       lambda x: x.masked_fill(torch.tensor(wide), -1.0), [b], dtype)


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_match_torch(name):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    b = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    for other_mg, other_torch in ((mg.tensor(b), torch.tensor(b)), (2.0, 2.0), (2, 2)):
        mine = getattr(mg, name)(mg.tensor(a), other_mg)
        theirs = getattr(torch, name)(torch.tensor(a), other_torch)
        assert mine.dtype == mg.bool
        np.testing.assert_array_equal(mine.data, theirs.numpy())


def test_promoted_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    ints = np.array([1, 2, 3])
    floats = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    cases = [
        lambda m, x, f: x * 2.5, lambda m, x, f: x / x, lambda m, x, f: 1 / x,
        lambda m, x, f: x ** 2, lambda m, x, f: 2 ** x, lambda m, x, f: x ** 0.5,
        lambda m, x, f: x + f, lambda m, x, f: m.exp(x), lambda m, x, f: -x,
        lambda m, x, f: m.maximum(x, f), lambda m, x, f: m.clamp(x, min=1.5),
        lambda m, x, f: m.where(x > 1, x, 0.5), lambda m, x, f: m.square(x),
        lambda m, x, f: f * 2, lambda m, x, f: f + m.tensor(1.0, dtype=m.float64),
        lambda m, x, f: x + m.tensor(1.0, dtype=m.float64),
    ]
    for case in cases:
        mine = case(mg, mg.tensor(ints), mg.tensor(floats))
        theirs = case(torch, torch.tensor(ints), torch.tensor(floats))
        assert str(theirs.dtype) == f"torch.{mine.dtype}"
        np.testing.assert_allclose(mine.data, theirs.numpy(), rtol=1e-6)


def test_shape_error_message_names_both_shapes_exactly():
    with pytest.raises(RuntimeError) as caught:
        mg.ones(2, 3) + mg.ones(4)
    assert re.search(r"\(2, 3\), \(4,\)", str(caught.value))
