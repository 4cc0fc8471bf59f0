"""Trigonometric and hyperbolic ops against PyTorch: values, dtypes, first and second
derivatives, gradcheck/gradgradcheck, integer inputs, domains and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes
from minigrad.testing.torch_compare import named_op_matches_torch as compare_with_torch
from minigrad.testing.torch_compare import (
    named_op_second_derivative_matches_torch as compare_second_derivative,
)

# examples per property test: enough for the shapes and dtypes drawn, bounded so
# the file stays fast at the suite's default of 100
SOME = settings(max_examples=20)
FEW = settings(max_examples=6)

# shapes with empty and 0-d tensors
ANY_SHAPE = shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
SMALL = shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)

# name -> keyword arguments for `arrays`: inside the domain, off poles
UNARY = {
    "tan": {"low": -1.2, "high": 1.2}, "asin": {"low": -0.9, "high": 0.9},
    "acos": {"low": -0.9, "high": 0.9}, "atan": {}, "sinh": {}, "cosh": {}, "asinh": {},
    "acosh": {"low": 1.1, "high": 4.0}, "atanh": {"low": -0.9, "high": 0.9},
    "sinc": {"avoid_zero": 0.2}, "deg2rad": {}, "rad2deg": {},
}
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2"}
BINARY = {"atan2": ({}, {"avoid_zero": 0.3}), "hypot": ({"avoid_zero": 0.3}, {})}



# ---- values and gradients against PyTorch -----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
@SOME
@given(data=st.data())
def test_unary_matches_torch(name, dtype, data):
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, **UNARY[name]))
    compare_with_torch(name, [x], rtol=2e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
@SOME
@given(data=st.data())
def test_binary_matches_torch_with_broadcasting(name, dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = data.draw(arrays(shape_a, dtype=dtype, **elements_a))
    b = data.draw(arrays(shape_b, dtype=dtype, **elements_b))
    compare_with_torch(name, [a, b], rtol=2e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary_gradcheck_and_gradgradcheck(name, data):
    x = mg.tensor(data.draw(arrays(SMALL, **UNARY[name])))
    assert gradcheck(getattr(mg, name), [x])
    assert gradgradcheck(getattr(mg, name), [x])


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_gradcheck_and_gradgradcheck(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = mg.tensor(data.draw(arrays(shape_a, **elements_a)))
    b = mg.tensor(data.draw(arrays(shape_b, **elements_b)))
    assert gradcheck(getattr(mg, name), [a, b])
    assert gradgradcheck(getattr(mg, name), [a, b])


LINEAR = {"deg2rad", "rad2deg"}  # a constant first derivative: nothing to differentiate


@pytest.mark.parametrize("name", sorted(set(UNARY) - LINEAR) + sorted(BINARY))
def test_second_derivative_matches_torch(name):
    rng = np.random.default_rng(3)
    if name in BINARY:
        inputs = [rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(0.5, 2.0, (3,))]
    else:
        elements = UNARY[name]
        low, high = elements.get("low", -2.0), elements.get("high", 2.0)
        inputs = [rng.uniform(max(low, 0.3), high, (2, 3))]
    compare_second_derivative(name, inputs)


def test_sinc_at_zero_is_one_with_zero_gradient():
    torch = pytest.importorskip("torch")
    x = mg.tensor([0.0, 0.5, -1.5], requires_grad=True)
    out = mg.sinc(x)
    out.sum().backward()
    reference = torch.tensor([0.0, 0.5, -1.5], requires_grad=True)
    torch.sinc(reference).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), [1.0, 2 / math.pi, -2 / (3 * math.pi)],
                               rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert x.grad.numpy()[0] == 0


# ---- dtypes, domains, aliases, in-place -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_inputs_give_float32(name, dtype):
    values = np.array([0, 1, 2, 3]).astype(dtype)
    compare_with_torch(name, [values], rtol=2e-5, atol=1e-6)


def test_atan2_promotes_integers_and_hypot_refuses_them():
    a, b = np.array([3, -4, 0]), np.array([4, 3, 0])
    compare_with_torch("atan2", [a, b])
    with pytest.raises(NotImplementedError, match="hypot.*Long"):
        mg.hypot(mg.tensor(a), mg.tensor(b))
    compare_with_torch("hypot", [np.float32([3, 1e30]), np.float64([4, 1e30])])


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_ops_need_tensors(name):
    with pytest.raises(TypeError, match=f"{name}.*other.*Tensor"):
        getattr(mg, name)(mg.ones(2), 2.0)


def test_out_of_domain_gives_nan_and_inf_like_torch_without_warnings():
    values = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, np.inf, -np.inf, np.nan], dtype=np.float32)
    with np.errstate(all="raise"):
        for name in ["asin", "acos", "atanh", "acosh", "tan", "sinh", "cosh", "sinc", "atan"]:
            compare_with_torch(name, [values.copy()], rtol=1e-6)


def test_aliases_are_the_same_functions_and_methods():
    for alias, name in ALIASES.items():
        assert getattr(mg, alias) is getattr(mg, name)
    x = mg.tensor([0.25, 0.5])
    np.testing.assert_array_equal(x.arcsin().numpy(), mg.asin(x).numpy())
    np.testing.assert_array_equal(x.arctan2(x).numpy(), x.atan2(x).numpy())


def test_in_place_variants_match_out_of_place_and_keep_the_gradient():
    torch = pytest.importorskip("torch")
    for name in sorted(UNARY):
        x = mg.tensor([0.3, 0.6] if name != "acosh" else [1.5, 2.0])
        expected = getattr(mg, name)(x).numpy()
        returned = getattr(x, f"{name}_")()
        assert returned is x
        np.testing.assert_allclose(x.numpy(), expected)
    leaf = mg.tensor([0.3, 0.6], requires_grad=True)
    t_leaf = torch.tensor([0.3, 0.6], requires_grad=True)
    y = leaf * 2
    y.atan_().atan2_(mg.tensor([1.5, 2.5]))
    t_y = (t_leaf * 2).atan_().atan2_(torch.tensor([1.5, 2.5]))
    y.sum().backward()
    t_y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-5)


def test_in_place_float_math_on_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).sinh_()


def test_inputs_are_not_mutated():
    data = np.array([0.2, 0.4], dtype=np.float32)
    x = mg.tensor(data.copy(), requires_grad=True)
    (mg.tan(x) + mg.hypot(x, x) + mg.atan2(x, x)).sum().backward()
    np.testing.assert_array_equal(x.detach().numpy(), data)


def test_bad_input_names_the_function():
    with pytest.raises(TypeError, match="tan.*input.*Tensor"):
        mg.tan([1.0, 2.0])
    with pytest.raises(RuntimeError, match="atan2.*broadcast"):
        mg.atan2(mg.ones(2), mg.ones(3))
