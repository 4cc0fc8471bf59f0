"""Logarithms, exponentials and special functions against PyTorch: log2, log10, exp2, erf,
erfc, erfinv, lgamma, digamma, polygamma, xlogy, logaddexp(2), lerp, logit, float_power,
true_divide and `minigrad.special`: values (special values included), dtypes, first and
second derivatives, gradcheck/gradgradcheck, in-place variants and PyTorch's errors."""

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

ANY_SHAPE = shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
SMALL = shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)

# name -> keyword arguments for `arrays`: inside the domain, off poles
UNARY = {
    "log2": {"low": 0.2, "high": 5.0}, "log10": {"low": 0.2, "high": 5.0}, "exp2": {},
    "erf": {}, "erfc": {}, "erfinv": {"low": -0.9, "high": 0.9},
    "lgamma": {"low": 0.2, "high": 8.0}, "digamma": {"low": 0.3, "high": 8.0},
    "logit": {"low": 0.05, "high": 0.95},
}
BINARY = {"xlogy": ({"avoid_zero": 0.1}, {"low": 0.2}), "logaddexp": ({}, {}),
          "logaddexp2": ({}, {}), "true_divide": ({}, {"avoid_zero": 0.3})}



# ---- values and gradients against PyTorch -------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
@SOME
@given(data=st.data())
def test_unary_matches_torch(name, dtype, data):
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, **UNARY[name]))
    if dtype == np.float32:
        compare_with_torch(name, [x], rtol=2e-5, atol=2e-6)
    else:
        compare_with_torch(name, [x], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@SOME
@given(data=st.data())
def test_polygamma_matches_torch(n, data):
    torch = pytest.importorskip("torch")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, low=0.3, high=8.0))
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = mg.polygamma(n, ours), torch.polygamma(n, theirs)
    tolerance = {"rtol": 2e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-9}
    assert out.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **tolerance)
    np.testing.assert_allclose(ours.polygamma(n).detach().numpy(), out.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY))
@SOME
@given(data=st.data())
def test_binary_matches_torch_with_broadcasting(name, dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    elements_a, elements_b = BINARY[name]
    a = data.draw(arrays(shape_a, dtype=dtype, **elements_a))
    b = data.draw(arrays(shape_b, dtype=dtype, **elements_b))
    compare_with_torch(name, [a, b], rtol=2e-5 if dtype == np.float32 else 1e-10, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SOME
@given(data=st.data())
def test_lerp_matches_torch_with_tensor_and_number_weights(dtype, data):
    shapes_ = data.draw(broadcastable_shapes(3, max_dims=3, max_side=3))
    start, end, weight = (data.draw(arrays(shape, dtype=dtype)) for shape in shapes_)
    compare_with_torch("lerp", [start, end, weight], rtol=1e-5, atol=1e-5)
    number = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 2]))
    compare_with_torch("lerp", [start, end], rtol=1e-5, atol=1e-5, weight=number)


@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 0.1])
def test_logit_with_eps_matches_torch_inside_and_outside(eps):
    values = np.array([-0.5, 0.0, 0.05, 0.3, 0.5, 0.97, 1.0, 1.5, np.nan], dtype=np.float32)
    compare_with_torch("logit", [values], rtol=1e-5, atol=1e-6, eps=eps)


@SOME
@given(data=st.data())
def test_float_power_matches_torch_in_float64(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    a = data.draw(arrays(shape_a, dtype=dtype, low=0.5, high=2.5))
    b = data.draw(arrays(shape_b, dtype=dtype, low=-2.0, high=2.0))
    compare_with_torch("float_power", [a, b], rtol=1e-12)
    compare_with_torch("float_power", [np.array([2, 3]), np.array([3, -1])], rtol=1e-12)
    torch = pytest.importorskip("torch")
    ours = mg.float_power(2, mg.tensor([3, 4]))
    assert ours.dtype == mg.float64
    assert ours.tolist() == torch.float_power(2, torch.tensor([3, 4])).tolist()
    assert mg.tensor([1.5]).float_power(2).tolist() == [2.25]


# ---- gradcheck, gradgradcheck, second derivatives -------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary_gradcheck_and_gradgradcheck(name, data):
    x = mg.tensor(data.draw(arrays(SMALL, **UNARY[name])))
    assert gradcheck(getattr(mg, name), [x])
    assert gradgradcheck(getattr(mg, name), [x])


@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma_gradcheck_and_gradgradcheck(n):
    x = mg.tensor(np.array([0.4, 1.3, 5.0]))
    assert gradcheck(lambda t: mg.polygamma(n, t), [x])
    assert gradgradcheck(lambda t: mg.polygamma(n, t), [x])


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


@FEW
@given(data=st.data())
def test_lerp_and_logit_eps_gradcheck_and_gradgradcheck(data):
    shapes_ = data.draw(broadcastable_shapes(3, max_dims=2, max_side=3))
    start, end, weight = (mg.tensor(data.draw(arrays(shape))) for shape in shapes_)
    assert gradcheck(mg.lerp, [start, end, weight])
    assert gradgradcheck(mg.lerp, [start, end, weight])
    assert gradgradcheck(lambda s, e: mg.lerp(s, e, 0.3), [start, end])
    x = mg.tensor(data.draw(arrays(SMALL, low=0.05, high=0.95)))
    assert gradgradcheck(lambda t: mg.logit(t, eps=0.01), [x])


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(BINARY))
def test_second_derivative_matches_torch(name):
    rng = np.random.default_rng(3)
    if name in BINARY:
        inputs = [rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(0.5, 2.0, (3,))]
    else:
        elements = UNARY[name]
        inputs = [rng.uniform(elements.get("low", -2.0), elements.get("high", 2.0), (2, 3))]
    compare_second_derivative(name, inputs)


def test_second_derivative_of_polygamma_lerp_and_float_power_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.uniform(0.5, 3.0, (4,))
    compare_second_derivative("polygamma", [x], leading=(1,))
    start, end, weight = rng.standard_normal((3, 2, 3))
    compare_second_derivative("lerp", [start, end, weight])
    compare_second_derivative("float_power", [x, rng.uniform(-2, 2, (4,))])


# ---- special values, integers, errors --------------------------------------------------------
SPECIAL_VALUES = np.array([-np.inf, -3.0, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 1e-30, 30.0,
                           np.inf, np.nan], dtype=np.float64)


@pytest.mark.parametrize("name", ["log2", "log10", "exp2", "erf", "erfc", "erfinv", "lgamma",
                                  "digamma", "logit"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_match_torch_without_warnings(name, dtype):
    torch = pytest.importorskip("torch")
    values = SPECIAL_VALUES.astype(dtype)
    with np.errstate(all="raise"):
        ours = getattr(mg, name)(mg.tensor(values)).numpy()
    theirs = getattr(torch, name)(torch.tensor(values)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-30, equal_nan=True)


def test_xlogy_at_zero_and_nan_matches_torch():
    x = np.array([0.0, 0.0, 0.0, 1.0, 2.0, -1.0], dtype=np.float32)
    y = np.array([0.0, np.nan, 2.0, 0.0, np.inf, 3.0], dtype=np.float32)
    compare_with_torch("xlogy", [x, y], rtol=1e-6)
    compare_with_torch("xlogy", [np.array([1, 0, 3]), np.array([2, 5, 1])], rtol=1e-6)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(mg.xlogy(2, mg.tensor([1.0, 3.0])).numpy(),
                               torch.xlogy(2, torch.tensor([1.0, 3.0])).numpy())


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_])
def test_integer_inputs_give_float32(name, dtype):
    compare_with_torch(name, [np.array([0, 1, 2]).astype(dtype)], rtol=2e-5, atol=1e-6)


def test_integer_and_mixed_dtype_errors_like_torch():
    ints = mg.tensor([1, 2])
    for name in ["logaddexp", "logaddexp2"]:
        with pytest.raises(NotImplementedError, match=f"{name}.*Long"):
            getattr(mg, name)(ints, ints)
        with pytest.raises(TypeError, match=f"{name}.*other.*Tensor"):
            getattr(mg, name)(mg.ones(2), 1.0)
    with pytest.raises(NotImplementedError, match="lerp.*Long"):
        mg.lerp(ints, ints, 0.5)
    with pytest.raises(RuntimeError, match="lerp.*end"):
        mg.lerp(mg.ones(2), mg.ones(2, dtype=mg.float64), 0.5)
    with pytest.raises(RuntimeError, match="lerp.*weight"):
        mg.lerp(mg.ones(2), mg.ones(2), mg.ones(2, dtype=mg.float64))
    scalar_weight = mg.lerp(mg.ones(2), mg.ones(2) * 3, mg.tensor(0.5, dtype=mg.float64))
    assert scalar_weight.dtype == mg.float32 and scalar_weight.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="polygamma.*negative"):
        mg.polygamma(-1, mg.ones(2))
    with pytest.raises(TypeError, match="polygamma.*'n'"):
        mg.polygamma(1.5, mg.ones(2))
    with pytest.raises(TypeError, match="erf.*input.*Tensor"):
        mg.erf(0.5)


def test_special_namespace_uses_torch_special_names():
    torch = pytest.importorskip("torch")
    x = np.array([0.2, 0.7, 1.9], dtype=np.float32)
    for name in ["erf", "erfc", "erfinv", "expit", "logit", "gammaln", "digamma", "psi",
                 "exp2", "expm1", "log1p", "sinc", "round"]:
        ours = getattr(mg.special, name)(mg.tensor(x / 2)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(x / 2)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(mg.special.polygamma(1, mg.tensor(x)).numpy(),
                               torch.special.polygamma(1, torch.tensor(x)).numpy(), rtol=2e-5)
    np.testing.assert_allclose(mg.special.xlogy(mg.tensor(x), mg.tensor(x)).numpy(),
                               torch.special.xlogy(torch.tensor(x), torch.tensor(x)).numpy(),
                               rtol=2e-5)
    assert set(mg.special.__all__) <= set(dir(torch.special))


def test_in_place_variants_match_out_of_place():
    base = np.array([0.25, 0.5, 0.75], dtype=np.float32)
    for name in sorted(UNARY):
        x = mg.tensor(base.copy())
        assert getattr(x, f"{name}_")() is x
        np.testing.assert_array_equal(x.numpy(), getattr(mg, name)(mg.tensor(base)).numpy())
    for name in ["xlogy", "logaddexp", "logaddexp2", "true_divide"]:
        x = mg.tensor(base.copy())
        getattr(x, f"{name}_")(mg.tensor(base[::-1].copy()))
        expected = getattr(mg, name)(mg.tensor(base), mg.tensor(base[::-1].copy())).numpy()
        np.testing.assert_array_equal(x.numpy(), expected)
    x = mg.tensor(base.copy())
    x.lerp_(mg.ones(3), 0.5)
    np.testing.assert_array_equal(x.numpy(), mg.lerp(mg.tensor(base), mg.ones(3), 0.5).numpy())
    x = mg.tensor(base.copy() + 1)
    x.polygamma_(1)
    np.testing.assert_array_equal(x.numpy(), mg.polygamma(1, mg.tensor(base + 1)).numpy())
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).erf_()


def test_in_place_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    ours = mg.tensor([0.25, 0.5, 0.75], requires_grad=True)
    theirs = torch.tensor([0.25, 0.5, 0.75], requires_grad=True)
    y = ours * 1.5
    y.erf_().lgamma_()
    t_y = (theirs * 1.5).erf_().lgamma_()
    y.sum().backward()
    t_y.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5)


def test_inputs_are_not_mutated_and_float32_stays_float32():
    data = np.array([0.3, 0.6], dtype=np.float32)
    x = mg.tensor(data.copy(), requires_grad=True)
    out = (mg.erf(x) + mg.lgamma(x) + mg.digamma(x) + mg.erfinv(x) + mg.logit(x)
           + mg.xlogy(x, x) + mg.logaddexp(x, x) + mg.lerp(x, x * 2, x))
    assert out.dtype == mg.float32
    out.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.detach().numpy(), data)


# ---- torch.special's normal-distribution functions and entr ----------------------------------
NORMAL = {"ndtr": {}, "log_ndtr": {"low": -8.0, "high": 3.0},
          "ndtri": {"low": 0.05, "high": 0.95}, "entr": {"low": 0.1, "high": 3.0}}


@pytest.mark.parametrize("name", sorted(NORMAL))
@SOME
@given(data=st.data())
def test_normal_functions_match_torch_special(name, data):
    torch = pytest.importorskip("torch")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, **NORMAL[name]))
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = getattr(mg.special, name)(ours), getattr(torch.special, name)(theirs)
    tolerance = {"rtol": 2e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-9}
    assert out.dtype == dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    weights = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **tolerance)


@pytest.mark.parametrize("name", sorted(NORMAL))
def test_normal_functions_gradcheck_gradgradcheck_and_edges(name):
    torch = pytest.importorskip("torch")
    function = getattr(mg.special, name)
    x = mg.tensor(np.array([0.2, 0.45, 0.8]))
    assert gradcheck(function, [x])
    assert gradgradcheck(function, [x])
    edges = np.array([-40.0, -1.0, 0.0, 1.0, 1.5, np.inf, -np.inf, np.nan], dtype=np.float32)
    with np.errstate(all="raise"):
        ours = function(mg.tensor(edges)).numpy()
    theirs = getattr(torch.special, name)(torch.tensor(edges)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, equal_nan=True)
    assert function(mg.tensor([1, 0])).dtype == mg.float32
