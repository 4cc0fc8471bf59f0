"""Rounding and sign ops against PyTorch: floor/ceil/trunc/fix/round(decimals)/frac,
remainder/fmod/`%`, sign/sgn/signbit, copysign, clamp_min/clamp_max, positive, nan_to_num:
values, dtypes (integer kernels and PyTorch's errors), zero and nonzero gradients,
gradcheck/gradgradcheck and in-place variants."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes, shapes
from minigrad.testing.torch_compare import named_op_matches_torch as compare_with_torch

# examples per property test: enough for the shapes and dtypes drawn, bounded so
# the file stays fast at the suite's default of 100
SOME = settings(max_examples=20)
FEW = settings(max_examples=6)

ANY_SHAPE = shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
SMALL = shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
ZERO_GRADIENT = ["floor", "ceil", "trunc", "fix", "round", "sign", "sgn"]
INTEGER_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint8]



# ---- piecewise-constant ops: values and zero gradients ------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ZERO_GRADIENT + ["frac"])
@SOME
@given(data=st.data())
def test_unary_matches_torch(name, dtype, data):
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, low=-20.0, high=20.0))
    compare_with_torch(name, [x], rtol=0, atol=0 if name != "frac" else 1e-6)


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2, 3])
@SOME
@given(data=st.data())
def test_round_with_decimals_matches_torch(decimals, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    x = data.draw(arrays(ANY_SHAPE, dtype=dtype, low=-500.0, high=500.0))
    compare_with_torch("round", [x], rtol=0, atol=0, decimals=decimals)


def test_round_halves_to_even_like_torch():
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.125, 0.375], dtype=np.float32)
    compare_with_torch("round", [halves], rtol=0, atol=0)
    compare_with_torch("round", [halves], rtol=0, atol=0, decimals=2)
    assert mg.round(mg.tensor([0.5, 1.5, 2.5])).tolist() == [0.0, 2.0, 2.0]


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign", "sgn"])
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_integer_inputs_keep_their_dtype(name, dtype):
    values = np.array([0, 1, 7, 100]).astype(dtype)
    if np.dtype(dtype).kind == "i":
        values = values - np.array(3, dtype=dtype)
    compare_with_torch(name, [values], rtol=0, atol=0)


@pytest.mark.parametrize("name,kernel", [("floor", "floor_vml_cpu"), ("ceil", "ceil_vml_cpu"),
                                         ("trunc", "trunc_vml_cpu"), ("round", "round_cpu")])
def test_bool_inputs_have_no_rounding_kernel(name, kernel):
    with pytest.raises(NotImplementedError, match=f"{name}.*{kernel}.*Bool"):
        getattr(mg, name)(mg.tensor([True, False]))


def test_integer_round_with_decimals_and_integer_frac_are_refused_like_torch():
    with pytest.raises(NotImplementedError, match="round_cpu.*Long"):
        mg.round(mg.tensor([1, 2]), decimals=1)
    with pytest.raises(NotImplementedError, match="frac_cpu.*Long"):
        mg.frac(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="decimals"):
        mg.round(mg.tensor([1.0]), decimals=1.5)


def test_sign_of_special_values_and_bool_like_torch():
    special = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, -3.0], dtype=np.float32)
    compare_with_torch("sign", [special], rtol=0, atol=0)
    compare_with_torch("signbit", [special], rtol=0, atol=0)
    compare_with_torch("sign", [np.array([True, False])], rtol=0, atol=0)
    compare_with_torch("signbit", [np.array([-1, 0, 3], dtype=np.int32)], rtol=0, atol=0)
    compare_with_torch("signbit", [np.array([True, False])], rtol=0, atol=0)


@pytest.mark.parametrize("name", ZERO_GRADIENT)
def test_zero_gradient_also_with_create_graph(name):
    x = mg.tensor(np.array([0.3, -1.7, 2.2]), requires_grad=True)
    assert gradcheck(getattr(mg, name), [x])
    ones = mg.ones(3, dtype=mg.float64)
    first, = mg.autograd.grad(getattr(mg, name)(x), [x], grad_outputs=ones, create_graph=True)
    np.testing.assert_array_equal(first.detach().numpy(), np.zeros(3))


@FEW
@given(x=arrays(SMALL, low=-5.0, high=5.0))
def test_frac_gradcheck_and_gradgradcheck(x):
    assume(np.all(np.abs(x - np.round(x)) > 1e-3))
    assert gradcheck(mg.frac, [mg.tensor(x)])
    assert gradgradcheck(mg.frac, [mg.tensor(x)])


# ---- remainder, fmod, % ---------------------------------------------------------------------
def _off_jumps(a, b, rounding):
    """True when a / b is not within 1e-3 of a jump of the quotient (integers)."""
    ratio = np.broadcast_arrays(a, b)[0] / np.broadcast_arrays(a, b)[1]
    return bool(np.all(np.abs(ratio - np.round(ratio)) > 1e-3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["remainder", "fmod"])
@SOME
@given(data=st.data())
def test_modulo_matches_torch_with_broadcasting(name, dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, dtype=dtype, low=-10.0, high=10.0))
    b = data.draw(arrays(shape_b, dtype=dtype, avoid_zero=0.5))
    assume(_off_jumps(a.astype(np.float64), b.astype(np.float64), name))
    compare_with_torch(name, [a, b], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["remainder", "fmod"])
@FEW
@given(data=st.data())
def test_modulo_gradcheck_and_gradgradcheck(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    a = data.draw(arrays(shape_a, low=-10.0, high=10.0))
    b = data.draw(arrays(shape_b, avoid_zero=0.5))
    assume(_off_jumps(a, b, name))
    assert gradcheck(getattr(mg, name), [mg.tensor(a), mg.tensor(b)])
    assert gradgradcheck(getattr(mg, name), [mg.tensor(a), mg.tensor(b)])


@pytest.mark.parametrize("name", ["remainder", "fmod"])
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_integer_modulo_matches_torch(name, dtype):
    a = np.array([[7], [0], [100]]).astype(dtype)
    b = np.array([2, 3, 7]).astype(dtype)
    if np.dtype(dtype).kind == "i":
        a, b = a - np.array(50, dtype=dtype), b - np.array(5, dtype=dtype)
    compare_with_torch(name, [a, b], rtol=0, atol=0)


def test_modulo_errors_like_torch():
    with pytest.raises(RuntimeError, match="remainder.*ZeroDivisionError"):
        mg.remainder(mg.tensor([5, 3]), 0)
    with pytest.raises(RuntimeError, match="fmod.*ZeroDivisionError"):
        mg.fmod(mg.tensor([5, 3]), mg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _ = 7 % mg.tensor([3, 0])
    with pytest.raises(NotImplementedError, match="remainder_cpu.*Bool"):
        mg.remainder(mg.tensor([True]), mg.tensor([True]))
    with pytest.raises(RuntimeError, match="remainder.*broadcast"):
        mg.remainder(mg.ones(2), mg.ones(3))


def test_percent_operator_and_float_division_by_zero_like_torch():
    torch = pytest.importorskip("torch")
    values = [5.5, -3.0, 0.0, -7.25]
    x, t = mg.tensor(values), torch.tensor(values)
    for ours, theirs in [(x % 2, t % 2), (x % -2.5, t % -2.5), (7 % (x + 10), 7 % (t + 10)),
                         (mg.remainder(x, 0.0), torch.remainder(t, 0.0)),
                         (mg.fmod(x, 0.0), torch.fmod(t, 0.0)),
                         (mg.tensor([5, -3]) % 2.5, torch.tensor([5, -3]) % 2.5),
                         (mg.remainder(5, mg.tensor([3, -4])),
                          torch.remainder(5, torch.tensor([3, -4])))]:
        assert str(theirs.dtype) == f"torch.{ours.dtype}"
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


# ---- copysign, clamp_min/max, positive, nan_to_num ------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SOME
@given(data=st.data())
def test_copysign_matches_torch(dtype, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, dtype=dtype, avoid_zero=0.1))
    b = data.draw(arrays(shape_b, dtype=dtype))
    compare_with_torch("copysign", [a, b], rtol=1e-6, atol=0)


@FEW
@given(data=st.data())
def test_copysign_gradcheck_and_gradgradcheck(data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    a = mg.tensor(data.draw(arrays(shape_a, avoid_zero=0.1)))
    b = mg.tensor(data.draw(arrays(shape_b, avoid_zero=0.1)))
    assert gradcheck(mg.copysign, [a, b])
    assert gradgradcheck(mg.copysign, [a, b])


def test_copysign_signed_zeros_integers_and_numbers_like_torch():
    torch = pytest.importorskip("torch")
    zeros = np.array([0.0, -0.0, 2.0, -2.0], dtype=np.float32)
    compare_with_torch("copysign", [zeros, zeros[::-1].copy()], rtol=0, atol=0)
    compare_with_torch("copysign", [np.array([3, -4, 0]), np.array([-1, 1, -1])], rtol=0,
                       atol=0)
    compare_with_torch("copysign", [np.array([True, False]), np.array([True, True])], rtol=0,
                       atol=0)
    ours = mg.copysign(mg.tensor([1.0, -2.0]), -0.0)
    theirs = torch.copysign(torch.tensor([1.0, -2.0]), -0.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
@SOME
@given(data=st.data())
def test_clamp_min_and_max_match_torch(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, dtype=np.float32, distinct=True))
    b = data.draw(arrays(shape_b, dtype=np.float32, low=-1.003, high=0.997, distinct=True))
    assume(np.all(np.abs(np.subtract(*np.broadcast_arrays(a, b))) > 1e-3))
    compare_with_torch(name, [a, b], rtol=1e-6, atol=0)
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(mg, name)(mg.tensor(a), 0.5), getattr(torch, name)(torch.tensor(a), 0.5)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_positive_is_the_input_and_refuses_bool():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    assert mg.positive(x) is x
    assert (+x) is x
    with pytest.raises(RuntimeError, match="`\\+` operator, on a bool tensor"):
        mg.positive(mg.tensor([True]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_nan_to_num_matches_torch_with_and_without_replacements(dtype):
    values = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0], dtype=dtype)
    compare_with_torch("nan_to_num", [values], rtol=0, atol=0)
    compare_with_torch("nan_to_num", [values], rtol=0, atol=0, nan=2.0, posinf=1.0,
                       neginf=-3.0)
    compare_with_torch("nan_to_num", [np.array([3, -1])], rtol=0, atol=0)
    with pytest.raises(TypeError, match="nan"):
        mg.nan_to_num(mg.tensor(values), nan="zero")


def test_nan_to_num_gradcheck_and_gradgradcheck():
    x = mg.tensor(np.array([0.5, -1.5, 2.0]))
    assert gradcheck(mg.nan_to_num, [x])
    assert gradgradcheck(mg.nan_to_num, [x])


# ---- in-place variants ----------------------------------------------------------------------
def test_in_place_variants_match_out_of_place():
    base = np.array([1.25, -2.75, 3.5, -0.5], dtype=np.float32)
    for name in ["floor", "ceil", "trunc", "fix", "round", "frac", "sign", "sgn", "nan_to_num"]:
        x = mg.tensor(base.copy())
        assert getattr(x, f"{name}_")() is x
        np.testing.assert_array_equal(x.numpy(), getattr(mg, name)(mg.tensor(base)).numpy())
    for name, other in [("remainder", 1.5), ("fmod", -1.5), ("copysign", -1.0),
                        ("clamp_min", 0.0), ("clamp_max", 0.0)]:
        x = mg.tensor(base.copy())
        assert getattr(x, f"{name}_")(other) is x
        np.testing.assert_array_equal(x.numpy(),
                                      getattr(mg, name)(mg.tensor(base), other).numpy())
    x = mg.tensor(base.copy())
    x.round_(decimals=1)
    np.testing.assert_array_equal(x.numpy(), mg.round(mg.tensor(base), decimals=1).numpy())
    counts = mg.tensor([7, -7, 9])
    counts %= 4
    assert counts.tolist() == [3, 1, 1] and counts.dtype == mg.int64


def test_in_place_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    ours = mg.tensor([1.25, -2.75, 3.5], requires_grad=True)
    theirs = torch.tensor([1.25, -2.75, 3.5], requires_grad=True)
    y = ours * 3
    y.remainder_(2.0).copysign_(mg.tensor([-1.0, 1.0, -1.0]))
    t_y = (theirs * 3).remainder_(2.0).copysign_(torch.tensor([-1.0, 1.0, -1.0]))
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    (t_y * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_in_place_errors_like_torch():
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).copysign_(-1)
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).remainder_(1.5)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mg.tensor([1.0], requires_grad=True).floor_()


def test_inputs_are_not_mutated_and_float32_stays_float32():
    data = np.array([1.3, -0.4], dtype=np.float32)
    x = mg.tensor(data.copy(), requires_grad=True)
    out = mg.floor(x) + mg.frac(x) + mg.remainder(x, 0.7) + mg.fmod(x, 0.7) + mg.copysign(x, -1)
    assert out.dtype == mg.float32
    out.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.detach().numpy(), data)


def test_bad_input_names_the_function():
    with pytest.raises(TypeError, match="floor.*input.*Tensor"):
        mg.floor([1.0])
    with pytest.raises(TypeError, match="copysign.*other"):
        mg.copysign(mg.ones(2), "x")
