"""fmax/fmin, heaviside, gcd, lcm and ldexp against PyTorch: values with NaN, dtypes,
gradients (PyTorch's routing of ties and NaN), gradcheck/gradgradcheck and errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes

# examples per property test: enough for the shapes and dtypes drawn, bounded so
# the file stays fast at the suite's default of 100
SOME = settings(max_examples=20)
FEW = settings(max_examples=6)

WITH_NAN = st.sampled_from([np.nan, -1.5, 0.0, 1.0, 2.5, np.inf])


@pytest.mark.parametrize("name", ["fmax", "fmin"])
@SOME
@given(data=st.data())
def test_fmax_fmin_values_and_gradients_match_torch(name, data):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    a = data.draw(hnp.arrays(dtype, shape_a, elements=WITH_NAN))
    b = data.draw(hnp.arrays(dtype, shape_b, elements=WITH_NAN))
    ours = [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    out, expected = getattr(mg, name)(*ours), getattr(torch, name)(*theirs)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    weights = np.arange(1, out.numel() + 1, dtype=dtype).reshape(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine.grad.numpy(), reference.grad.numpy())


@pytest.mark.parametrize("name", ["fmax", "fmin"])
@FEW
@given(data=st.data())
def test_fmax_fmin_gradcheck_and_gradgradcheck(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=2, max_side=3))
    a = data.draw(arrays(shape_a, distinct=True))
    b = data.draw(arrays(shape_b, low=-2.9937, high=2.9871, distinct=True))
    assume(np.all(np.abs(np.subtract(*np.broadcast_arrays(a, b))) > 1e-3))
    function = getattr(mg, name)
    assert gradcheck(function, [mg.tensor(a), mg.tensor(b)])
    assert gradgradcheck(function, [mg.tensor(a), mg.tensor(b)])


def test_fmax_fmin_on_integers_and_mixed_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    for name in ["fmax", "fmin"]:
        for a, b in [(np.array([1, 5]), np.array([2, 3])),
                     (np.array([1, 5]), np.array([2.0, np.nan], dtype=np.float32))]:
            ours = getattr(mg, name)(mg.tensor(a), mg.tensor(b))
            theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
            assert str(theirs.dtype) == f"torch.{ours.dtype}"
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        with pytest.raises(TypeError, match=f"{name}.*other.*Tensor"):
            getattr(mg, name)(mg.ones(2), 1.0)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
@SOME
@given(data=st.data())
def test_gcd_lcm_match_torch(name, data):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.int64, np.int32, np.int16, np.uint8]))
    low = 0 if dtype == np.uint8 else -60
    a = data.draw(hnp.arrays(dtype, shape_a, elements=st.integers(low, 60)))
    b = data.draw(hnp.arrays(dtype, shape_b, elements=st.integers(low, 60)))
    ours = getattr(mg, name)(mg.tensor(a), mg.tensor(b))
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_gcd_lcm_refuse_floats_and_bool_like_torch():
    for name in ["gcd", "lcm"]:
        with pytest.raises(NotImplementedError, match=f"{name}_cpu.*Float"):
            getattr(mg, name)(mg.ones(2), mg.ones(2))
        with pytest.raises(NotImplementedError, match=f"{name}_cpu.*Bool"):
            getattr(mg, name)(mg.tensor([True]), mg.tensor([True]))


@SOME
@given(data=st.data())
def test_heaviside_matches_torch(data):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int64]))
    elements = WITH_NAN if dtype != np.int64 else st.integers(-2, 2)
    x = data.draw(hnp.arrays(dtype, shape_a, elements=elements))
    values = data.draw(hnp.arrays(dtype, shape_b, elements=elements))
    ours = mg.heaviside(mg.tensor(x), mg.tensor(values))
    theirs = torch.heaviside(torch.tensor(x), torch.tensor(values))
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="different dtypes"):
        mg.heaviside(mg.ones(2), mg.ones(2, dtype=mg.float64))


@FEW
@given(data=st.data())
def test_ldexp_matches_torch_and_is_twice_differentiable(data):
    torch = pytest.importorskip("torch")
    shape_a, shape_b = data.draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(arrays(shape_a, dtype=np.float32))
    b = data.draw(arrays(shape_b, dtype=np.float32))
    ours = [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
    out, expected = mg.ldexp(*ours), torch.ldexp(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)
    pair = [mg.tensor(a.astype(np.float64)), mg.tensor(b.astype(np.float64))]
    assert gradcheck(mg.ldexp, pair)
    assert gradgradcheck(mg.ldexp, pair)
    ints = mg.ldexp(mg.tensor([1, 3]), mg.tensor([2, -1]))
    assert ints.dtype == mg.float32 and ints.tolist() == [4.0, 1.5]


def test_in_place_forms():
    x = mg.tensor([12, 18])
    x.gcd_(mg.tensor([8, 12]))
    assert x.tolist() == [4, 6]
    x.lcm_(mg.tensor([6, 4]))
    assert x.tolist() == [12, 12]
    y = mg.tensor([1.0, 3.0])
    y.ldexp_(mg.tensor([1.0, -1.0]))
    assert y.tolist() == [2.0, 1.5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.tensor([1, 2]).ldexp_(mg.tensor([1, 1]))
