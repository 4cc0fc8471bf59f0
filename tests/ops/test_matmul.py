"""Matrix products: matmul / @ (1-D, 2-D, batched broadcasting), mm, bmm, F.linear.

Sections: gradients (hypothesis + gradcheck, float64), PyTorch comparisons (float32 and
float64, forward and backward), dtypes and strides, errors, known values.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.engine import Tensor
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes

sides = st.integers(1, 3)


# ---- strategies ---------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) torch.matmul accepts: each 1-D or a (batch..., rows, cols) matrix,
    with batch dims that broadcast (missing leading dims and size-1 dims included)."""
    n, k, p = draw(sides), draw(sides), draw(sides)
    batch_a, batch_b = draw(broadcastable_shapes(count=2, max_dims=2, max_side=3))
    a_shape = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b_shape = (k,) if draw(st.booleans()) else batch_b + (k, p)
    return a_shape, b_shape


@st.composite
def linear_shapes(draw):
    """(input, weight, bias or None) shapes for F.linear, with 0-2 leading input dims."""
    lead = tuple(draw(st.lists(sides, max_size=2)))
    in_features, out_features = draw(sides), draw(sides)
    output_shape = lead + (out_features,)
    bias = draw(st.sampled_from([None, (out_features,), (1,), output_shape,
                                 output_shape[-2:] if len(output_shape) > 1 else (1,)]))
    return lead + (in_features,), (out_features, in_features), bias


# ---- gradients (float64, central differences) ---------------------------------------------
@given(matmul_shapes(), st.data())
def test_matmul_gradients(shape_pair, data):
    a_shape, b_shape = shape_pair
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    gradcheck(lambda x, y: x @ y, [Tensor(a), Tensor(b)])
    gradcheck(lambda x, y: mg.matmul(x, y), [Tensor(a), Tensor(b)])


@given(sides, sides, sides, sides, st.data())
def test_mm_and_bmm_gradients(batch, n, k, p, data):
    a, b = data.draw(arrays((n, k))), data.draw(arrays((k, p)))
    gradcheck(lambda x, y: x.mm(y), [Tensor(a), Tensor(b)])
    a, b = data.draw(arrays((batch, n, k))), data.draw(arrays((batch, k, p)))
    gradcheck(lambda x, y: mg.bmm(x, y), [Tensor(a), Tensor(b)])


@given(linear_shapes(), st.data())
def test_linear_gradients(shapes_, data):
    input_shape, weight_shape, bias_shape = shapes_
    inputs = [Tensor(data.draw(arrays(input_shape))), Tensor(data.draw(arrays(weight_shape)))]
    if bias_shape is not None:
        inputs.append(Tensor(data.draw(arrays(bias_shape))))
    gradcheck(lambda *ts: F.linear(*ts), inputs)


@given(matmul_shapes(), st.data())
def test_matmul_gradient_with_one_input_frozen(shape_pair, data):
    a_shape, b_shape = shape_pair
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    frozen = Tensor(b)  # a constant operand: only the other side needs a gradient
    gradcheck(lambda x: x @ frozen, [Tensor(a)])
    frozen_left = Tensor(a)
    gradcheck(lambda y: frozen_left @ y, [Tensor(b)])


# ---- PyTorch comparisons ------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def compare_with_torch(torch, mg_fn, torch_fn, arrays_in, dtype, seed=0):
    """Run both frameworks on the same inputs; compare output, grads and their dtypes."""
    arrays_in = [np.asarray(a, dtype=dtype) for a in arrays_in]
    before = [a.copy() for a in arrays_in]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays_in]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays_in]
    out, expected = mg_fn(*ours), torch_fn(*theirs)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    assert out.shape == tuple(expected.shape)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    weights = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(mg.tensor(weights))
    expected.backward(torch.tensor(weights))
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == dtype
        assert mine.grad.shape == mine.shape
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **tol)
    for array, original in zip(arrays_in, before):
        np.testing.assert_array_equal(array, original)  # inputs not mutated


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (5, 3, 4)), ((4,), (2, 1, 4, 3)),
    ((2, 1, 2, 3), (1, 3, 3, 2)), ((0, 2, 3), (3, 4)), ((2, 0), (0, 3)), ((2, 3), (3, 0)),
    ((0,), (0,)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape_pair", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(torch, shape_pair, dtype):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(shape) for shape in shape_pair)
    compare_with_torch(torch, lambda x, y: x @ y, lambda x, y: x @ y, [a, b], dtype)


@given(matmul_shapes(), st.data())
def test_random_matmul_matches_torch(shape_pair, data):
    torch = pytest.importorskip("torch")
    a, b = (data.draw(arrays(shape)) for shape in shape_pair)
    compare_with_torch(torch, mg.matmul, torch.matmul, [a, b], np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mm_bmm_match_torch(torch, dtype):
    rng = np.random.default_rng(2)
    compare_with_torch(torch, mg.mm, torch.mm,
                       [rng.standard_normal((4, 3)), rng.standard_normal((3, 5))], dtype)
    compare_with_torch(torch, lambda x, y: x.bmm(y), lambda x, y: x.bmm(y),
                       [rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3, 5))], dtype)


LINEAR_SHAPES = [((8, 5), (3, 5), (3,)), ((8, 5), (3, 5), None), ((5,), (3, 5), (3,)),
                 ((2, 4, 5), (3, 5), (3,)), ((2, 4, 5), (3, 5), (4, 3)), ((4, 5), (3, 5), (1,)),
                 ((0, 5), (3, 5), (3,)), ((2, 0), (3, 0), (3,))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes_", LINEAR_SHAPES, ids=str)
def test_linear_matches_torch(torch, shapes_, dtype):
    rng = np.random.default_rng(3)
    arrays_in = [rng.standard_normal(shape) for shape in shapes_ if shape is not None]
    compare_with_torch(torch, F.linear, torch.nn.functional.linear, arrays_in, dtype)


# ---- dtypes, strides, operands ------------------------------------------------------------
def test_float32_stays_float32_and_grads_too():
    a = mg.randn(2, 3, 4, requires_grad=True)
    b = mg.randn(4, 5, requires_grad=True)
    bias = mg.randn(5, requires_grad=True)
    for out in (a @ b, a.matmul(b), F.linear(a, b.T, bias), mg.bmm(a, b.expand(2, 4, 5))):
        assert out.dtype == np.float32
        out.backward(mg.ones(*out.shape))
    for tensor in (a, b, bias):
        assert tensor.grad.dtype == np.float32


def test_mixed_dtypes_are_refused_as_in_pytorch_and_integers_multiply():
    a = mg.ones(2, 3)
    b = mg.ones(3, 2, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="input float32 and other float64"):
        a @ b
    ints = mg.tensor([[1, 2], [3, 4]])
    assert (ints @ ints).dtype == np.int64
    assert (ints @ ints).tolist() == [[7, 10], [15, 22]]
    with pytest.raises(RuntimeError, match="input int64 and other float32"):
        ints @ mg.ones(2)
    with pytest.raises(RuntimeError, match="input float32 and weight float64"):
        F.linear(mg.ones(2, 3), mg.ones(4, 3, dtype=mg.float64))
    assert (a.double() @ b).dtype == np.float64


def test_ndarray_operands_on_either_side():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    left = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    assert isinstance(left @ x, Tensor)
    assert (left @ x).tolist() == [[1.0, 2.0], [6.0, 8.0]]
    assert (x @ left).tolist() == [[1.0, 4.0], [3.0, 8.0]]


def test_strided_and_broadcast_operands_give_the_same_product():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((6, 8))
    views = {
        "transposed": base.T,
        "stepped": base[::2, ::2],
        "broadcast": np.broadcast_to(base[:1], (6, 8)),
        "negative": base[::-1],
    }
    other = rng.standard_normal((8, 3))
    for name, view in views.items():
        right = other[:view.shape[1]]
        strided = Tensor._from_op(view).requires_grad_()  # the strided array itself, no copy
        out = strided @ mg.tensor(right)
        np.testing.assert_allclose(out.data, view @ right, err_msg=name)
        out.backward(mg.ones(*out.shape, dtype=mg.float64))
        np.testing.assert_allclose(strided.grad.data, np.ones(out.shape) @ right.T,
                                   err_msg=name)


def test_linear_equals_matmul_with_transposed_weight_plus_bias():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out = F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b))
    np.testing.assert_allclose(out.data, x @ w.T + b, rtol=1e-5)


def test_inputs_are_not_mutated():
    a = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = mg.tensor(np.ones((4, 3)), requires_grad=True)
    bias = mg.tensor(np.zeros(4), requires_grad=True)
    snapshots = [t.data.copy() for t in (a, w, bias)]
    out = F.linear(a, w, bias)
    out.backward(mg.ones(2, 4, dtype=mg.float64))
    (a @ w.T).backward(mg.ones(2, 4, dtype=mg.float64))
    for tensor, snapshot in zip((a, w, bias), snapshots):
        np.testing.assert_array_equal(tensor.data, snapshot)


def test_gradient_only_for_inputs_that_need_it():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4)
    (a @ b).backward(mg.ones(2, 4))
    assert a.grad is not None
    assert b.grad is None


# ---- known values ------------------------------------------------------------------------
def test_known_values():
    a = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = mg.tensor([[5.0, 6.0], [7.0, 8.0]])
    assert (a @ b).tolist() == [[19.0, 22.0], [43.0, 50.0]]
    assert (mg.tensor([1.0, 2.0]) @ mg.tensor([3.0, 4.0])).item() == 11.0
    assert (a @ mg.tensor([1.0, 1.0])).tolist() == [3.0, 7.0]
    assert (mg.tensor([1.0, 1.0]) @ a).tolist() == [4.0, 6.0]
    assert F.linear(a, b, mg.tensor([1.0, -1.0])).tolist() == [[18.0, 22.0], [40.0, 52.0]]
    w = mg.tensor([[1.0, 2.0]], requires_grad=True)
    x = mg.tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    F.linear(x, w).backward(mg.ones(2, 1))
    assert w.grad.tolist() == [[8.0, 10.0]]
    assert x.grad.tolist() == [[1.0, 2.0], [1.0, 2.0]]


# ---- errors ------------------------------------------------------------------------------
def test_matmul_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(8x1176 and 100x10\)"):
        mg.zeros(8, 1176) @ mg.zeros(100, 10)
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(3 and 4\)"):
        mg.zeros(3) @ mg.zeros(4)
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(2x2x3 and 4x5\)"):
        mg.matmul(mg.zeros(2, 2, 3), mg.zeros(4, 5))
    with pytest.raises(RuntimeError, match=r"batch dimensions \(2,\) and \(3,\) cannot be "
                                           r"broadcast.*\(2, 2, 3\) and \(3, 3, 5\)"):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 5)
    with pytest.raises(RuntimeError, match="at least 1D, but they are 0D and 1D"):
        mg.tensor(2.0) @ mg.zeros(4)
    with pytest.raises(TypeError, match="unsupported operand"):
        mg.zeros(2, 3) @ 2.0
    with pytest.raises(TypeError, match="argument 'other' must be Tensor"):
        mg.matmul(mg.zeros(2, 3), [1.0, 2.0, 3.0])


def test_mm_bmm_errors_match_torch(torch):
    cases = [
        (lambda lib, z: lib.mm(z(2, 3), z(3)), "mat2 must be a matrix"),
        (lambda lib, z: lib.mm(z(3), z(3, 2)), "self must be a matrix"),
        (lambda lib, z: lib.mm(z(2, 3), z(4, 2)), r"cannot be multiplied \(2x3 and 4x2\)"),
        (lambda lib, z: lib.bmm(z(2, 3), z(2, 3, 2)), "batch1 must be a 3D tensor"),
        (lambda lib, z: lib.bmm(z(2, 2, 3), z(2, 3)), "batch2 must be a 3D tensor"),
        (lambda lib, z: lib.bmm(z(2, 2, 3), z(3, 3, 2)),
         r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[3, 3\]"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call(mg, mg.zeros)
        with pytest.raises(RuntimeError, match=message):
            call(torch, torch.zeros)


def test_linear_errors_name_input_and_weight():
    with pytest.raises(RuntimeError, match=r"linear: mat1 and mat2 shapes cannot be multiplied "
                                           r"\(8x1176 and 100x10\) \(input \(8, 1176\), "
                                           r"weight \(10, 100\)\)"):
        F.linear(mg.zeros(8, 1176), mg.zeros(10, 100))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(20x3 and 2x4\)"):
        F.linear(mg.zeros(5, 4, 3), mg.zeros(4, 2))
    with pytest.raises(RuntimeError, match=r"bias of shape \(3,\) does not broadcast to the "
                                           r"output shape \(4, 2\)"):
        F.linear(mg.zeros(4, 3), mg.zeros(2, 3), mg.zeros(3))
    with pytest.raises(RuntimeError, match="at least 1D"):
        F.linear(mg.tensor(3.0), mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="weight must be 2-D"):
        F.linear(mg.zeros(4, 3), mg.zeros(2, 3, 1))
    with pytest.raises(TypeError, match="argument 'weight' must be Tensor"):
        F.linear(mg.zeros(4, 3), np.zeros((2, 3)))
