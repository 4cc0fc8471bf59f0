"""Predicates, logical and bitwise ops against PyTorch: isnan/isinf/isfinite/isposinf/
isneginf, isclose/allclose/equal, logical_*, bitwise_*, shifts and the `& | ^ ~ << >>`
operators: values and result dtypes over integer, bool and float dtypes (PyTorch's
promotion and its errors), broadcasting, in-place forms, and no gradient."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing.strategies import broadcastable_shapes, shapes

# examples per property test: enough for the shapes and dtypes drawn, bounded so
# the file stays fast at the suite's default of 100
SOME = settings(max_examples=20)
FEW = settings(max_examples=6)

ANY_SHAPE = shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8]
ALL_DTYPES = [np.bool_, *INTEGER_DTYPES, np.float32, np.float64]


def special_floats(shape, dtype=np.float32):
    """Floats with NaN, infinities, signed zeros and ordinary values."""
    return hnp.arrays(dtype, shape, elements=st.sampled_from(
        [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5, 1e-8, 3.0]))


def integers(shape, dtype):
    info = np.iinfo(dtype) if np.dtype(dtype).kind != "b" else None
    if info is None:
        return hnp.arrays(dtype, shape)
    return hnp.arrays(dtype, shape, elements=st.integers(max(info.min, -100), min(info.max, 100)))


def assert_same(ours, theirs):
    """Same dtype (by PyTorch's name), shape and values; ours never requires grad."""
    torch = pytest.importorskip("torch")
    if isinstance(theirs, bool):
        assert ours is theirs or ours == theirs and isinstance(ours, bool)
        return
    assert isinstance(theirs, torch.Tensor)
    assert str(theirs.dtype) == f"torch.{ours.dtype}".replace("bool_", "bool")
    assert ours.shape == tuple(theirs.shape)
    assert not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def both(name, *arrays, **kwargs):
    """Call `name` in minigrad and in PyTorch on the same arrays (numbers passed through)."""
    torch = pytest.importorskip("torch")
    ours = [mg.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    theirs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    return getattr(mg, name)(*ours, **kwargs), getattr(torch, name)(*theirs, **kwargs)


# ---- predicates -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf"])
@SOME
@given(data=st.data())
def test_predicates_match_torch(name, data):
    dtype = data.draw(st.sampled_from(ALL_DTYPES))
    shape = data.draw(ANY_SHAPE)
    if np.dtype(dtype).kind == "f":
        x = data.draw(special_floats(shape, dtype))
    else:
        x = data.draw(integers(shape, dtype))
    assert_same(*both(name, x))
    x_grad = mg.tensor(np.array([1.0, np.nan]), requires_grad=True)
    assert not getattr(mg, name)(x_grad).requires_grad


@SOME
@given(data=st.data(), rtol=st.sampled_from([0.0, 1e-5, 1e-2]),
       atol=st.sampled_from([0.0, 1e-8, 0.1]), equal_nan=st.booleans())
def test_isclose_and_allclose_match_torch(data, rtol, atol, equal_nan):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    a = data.draw(special_floats(shape_a, dtype))
    b = data.draw(special_floats(shape_b, dtype))
    b = np.asarray(b + np.asarray(data.draw(st.sampled_from([0.0, 1e-9, 1e-3, 0.05])), dtype=dtype))
    for name in ["isclose", "allclose"]:
        assert_same(*both(name, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.int32, np.uint8])
def test_isclose_on_integers_and_bool_matches_torch(dtype):
    a = np.array([0, 1, 1, 100]).astype(dtype)
    b = np.array([0, 1, 0, 100]).astype(dtype)
    assert_same(*both("isclose", a, b))
    assert_same(*both("isclose", a, b, atol=2.0, rtol=0.0))
    assert_same(*both("allclose", a, b))


def test_isclose_errors_like_torch():
    with pytest.raises(RuntimeError, match="Float did not match Long"):
        mg.isclose(mg.ones(2), mg.tensor([1, 1]))
    with pytest.raises(TypeError, match="isclose.*other.*Tensor"):
        mg.isclose(mg.ones(2), 1.0)
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
        mg.isclose(mg.ones(2), mg.ones(2), rtol=-1.0)
    with pytest.raises(RuntimeError, match="allclose.*broadcast"):
        mg.allclose(mg.ones(2), mg.ones(3))


def test_equal_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [(np.ones(3), np.ones(3)), (np.ones(3), np.ones(2)), (np.ones((1, 3)), np.ones(3)),
             (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
             (np.array([1, 2]), np.array([1.0, 2.0])), (np.zeros(0), np.zeros(0)),
             (np.array(2.5), np.array(2.5, dtype=np.float32))]
    for a, b in cases:
        assert mg.equal(mg.tensor(a), mg.tensor(b)) is torch.equal(torch.tensor(a),
                                                                   torch.tensor(b))
    with pytest.raises(TypeError, match="equal.*other.*Tensor"):
        mg.equal(mg.ones(2), 1)


# ---- logical --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@SOME
@given(data=st.data())
def test_logical_ops_match_torch_on_any_dtypes(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    arrays_ = []
    for shape in (shape_a, shape_b):
        dtype = data.draw(st.sampled_from(ALL_DTYPES))
        draw = special_floats(shape, dtype) if np.dtype(dtype).kind == "f" else \
            integers(shape, dtype)
        arrays_.append(data.draw(draw))
    assert_same(*both(name, *arrays_))
    assert_same(*both("logical_not", arrays_[0]))


def test_logical_ops_need_tensors_and_broadcastable_shapes():
    with pytest.raises(TypeError, match="logical_and.*other.*Tensor"):
        mg.logical_and(mg.ones(2), True)
    with pytest.raises(RuntimeError, match="logical_or.*broadcast"):
        mg.logical_or(mg.ones(2), mg.ones(3))
    with pytest.raises(TypeError, match="logical_not.*input.*Tensor"):
        mg.logical_not(True)


# ---- bitwise and shifts ---------------------------------------------------------------------
BITWISE = {"bitwise_and": operator.and_, "bitwise_or": operator.or_,
           "bitwise_xor": operator.xor}
SHIFTS = {"bitwise_left_shift": operator.lshift, "bitwise_right_shift": operator.rshift}


@pytest.mark.parametrize("name", sorted(BITWISE))
@SOME
@given(data=st.data())
def test_bitwise_ops_match_torch_with_promotion(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype_a = data.draw(st.sampled_from([np.bool_, *INTEGER_DTYPES]))
    dtype_b = data.draw(st.sampled_from([np.bool_, *INTEGER_DTYPES]))
    a = data.draw(integers(shape_a, dtype_a))
    b = data.draw(integers(shape_b, dtype_b))
    assert_same(*both(name, a, b))
    torch = pytest.importorskip("torch")
    symbol = BITWISE[name]
    assert_same(symbol(mg.tensor(a), mg.tensor(b)), symbol(torch.tensor(a), torch.tensor(b)))
    for number in (3, True):
        assert_same(symbol(mg.tensor(a), number), symbol(torch.tensor(a), number))
        assert_same(symbol(number, mg.tensor(a)), symbol(number, torch.tensor(a)))


@pytest.mark.parametrize("name", sorted(SHIFTS))
@SOME
@given(data=st.data())
def test_shifts_match_torch_including_out_of_range_amounts(name, data):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from(INTEGER_DTYPES))
    a = data.draw(integers(shape_a, dtype))
    bits = np.dtype(dtype).itemsize * 8
    low = 0 if np.dtype(dtype).kind == "u" else -3
    b = data.draw(hnp.arrays(dtype, shape_b, elements=st.integers(low, min(bits + 3, 100))))
    assert_same(*both(name, a, b))
    symbol = SHIFTS[name]
    assert_same(symbol(mg.tensor(a), mg.tensor(b)), symbol(torch.tensor(a), torch.tensor(b)))
    assert_same(symbol(mg.tensor(a), 2), symbol(torch.tensor(a), 2))
    assert_same(symbol(mg.tensor(a), 70), symbol(torch.tensor(a), 70))
    assert_same(symbol(1, mg.tensor(b)), symbol(1, torch.tensor(b)))


@SOME
@given(data=st.data())
def test_bitwise_not_and_invert_match_torch(data):
    dtype = data.draw(st.sampled_from([np.bool_, *INTEGER_DTYPES]))
    x = data.draw(integers(data.draw(ANY_SHAPE), dtype))
    assert_same(*both("bitwise_not", x))
    torch = pytest.importorskip("torch")
    assert_same(~mg.tensor(x), ~torch.tensor(x))


def test_bool_shifts_promote_with_numbers_and_are_refused_between_bools_like_torch():
    torch = pytest.importorskip("torch")
    flags = np.array([True, False, True])
    assert_same(mg.tensor(flags) << 1, torch.tensor(flags) << 1)
    with pytest.raises(NotImplementedError, match="lshift_cpu.*Bool"):
        mg.tensor(flags) << mg.tensor(flags)


def test_float_operands_get_torchs_errors():
    floats, ints = mg.ones(2), mg.tensor([1, 2])
    for name, kernel in [("bitwise_and", "bitwise_and_cpu"), ("bitwise_or", "bitwise_or_cpu"),
                         ("bitwise_xor", "bitwise_xor_cpu"),
                         ("bitwise_left_shift", "lshift_cpu"),
                         ("bitwise_right_shift", "rshift_cpu")]:
        with pytest.raises(NotImplementedError, match=f"{name}.*{kernel}.*Float"):
            getattr(mg, name)(floats, ints)
        with pytest.raises(NotImplementedError, match=f"{kernel}.*Float"):
            getattr(mg, name)(ints, 1.5)
    with pytest.raises(NotImplementedError, match="bitwise_not_cpu.*Float"):
        mg.bitwise_not(floats)
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        _ = ~floats
    with pytest.raises(TypeError):
        _ = ints & "x"
    with pytest.raises(RuntimeError, match="bitwise_and.*broadcast"):
        mg.bitwise_and(mg.tensor([1, 2]), mg.tensor([1, 2, 3]))


# ---- in-place forms -------------------------------------------------------------------------
def test_in_place_bitwise_and_logical_ops_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([5, -3, 12, 0])
    for symbol in ["&=", "|=", "^=", "<<=", ">>="]:
        ours, theirs = mg.tensor(values.copy()), torch.tensor(values.copy())
        alias = ours
        namespace = {"ours": ours, "theirs": theirs}
        exec(f"ours {symbol} 2\ntheirs {symbol} 2", namespace)  # noqa: S102
        assert namespace["ours"] is alias
        assert_same(namespace["ours"], namespace["theirs"])
    for name in ["bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_left_shift_",
                 "bitwise_right_shift_"]:
        ours, theirs = mg.tensor(values.copy()), torch.tensor(values.copy())
        getattr(ours, name)(mg.tensor([1, 2, 3, 1]))
        getattr(theirs, name)(torch.tensor([1, 2, 3, 1]))
        assert_same(ours, theirs)
    for name in ["logical_and_", "logical_or_", "logical_xor_"]:
        ours, theirs = mg.tensor([0.0, 2.0, -1.0]), torch.tensor([0.0, 2.0, -1.0])
        getattr(ours, name)(mg.tensor([1, 0, 1]))
        getattr(theirs, name)(torch.tensor([1, 0, 1]))
        assert_same(ours, theirs)
    ours, theirs = mg.tensor([0, 3]), torch.tensor([0, 3])
    ours.logical_not_()
    theirs.logical_not_()
    assert_same(ours, theirs)
    ours, theirs = mg.tensor(values.copy()), torch.tensor(values.copy())
    ours.bitwise_not_()
    theirs.bitwise_not_()
    assert_same(ours, theirs)


def test_in_place_errors_like_torch():
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([True, False]).bitwise_and_(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="output with shape"):
        mg.tensor([1, 2]).bitwise_or_(mg.tensor([[1, 2], [3, 4]]))


def test_methods_exist_with_torchs_names():
    x = mg.tensor([1.0, np.nan, np.inf])
    assert x.isnan().tolist() == [False, True, False]
    assert x.isfinite().tolist() == [True, False, False]
    assert x.isclose(x, equal_nan=True).tolist() == [True, True, True]
    assert x.allclose(x, equal_nan=True) is True
    assert x.equal(x) is False
    assert x.logical_not().tolist() == [False, False, False]
    assert mg.tensor([6]).bitwise_and(3).tolist() == [2]
