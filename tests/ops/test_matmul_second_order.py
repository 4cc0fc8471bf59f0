"""Second derivatives of the matrix products: matmul / @ (1-D, 2-D, batched broadcasting),
mm, bmm, F.linear.

Sections: gradgradcheck in float64 (hypothesis-drawn shapes, few examples), the second
derivative against torch.autograd.grad(..., create_graph=True), float32, memory release.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.engine import Tensor
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import arrays, broadcastable_shapes

sides = st.integers(1, 3)
FEW = settings(max_examples=6, deadline=None)


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) torch.matmul accepts: each 1-D or a (batch..., rows, cols) matrix,
    with batch dims that broadcast (missing leading dims and size-1 dims included)."""
    n, k, p = draw(sides), draw(sides), draw(sides)
    batch_a, batch_b = draw(broadcastable_shapes(count=2, max_dims=2, max_side=2))
    a_shape = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b_shape = (k,) if draw(st.booleans()) else batch_b + (k, p)
    return a_shape, b_shape


@st.composite
def linear_shapes(draw):
    """(input, weight, bias or None) shapes for F.linear, with 0-2 leading input dims."""
    lead = tuple(draw(st.lists(sides, max_size=2)))
    in_features, out_features = draw(sides), draw(sides)
    output_shape = lead + (out_features,)
    bias = draw(st.sampled_from([None, (out_features,), (1,), output_shape]))
    return lead + (in_features,), (out_features, in_features), bias


def second_derivatives_match_torch(fn, torch_fn, values, seed=0, rtol=1e-7, atol=1e-9):
    """d/dx <v, d/dx <w, fn(x)>> in minigrad and in torch (create_graph=True) agree."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    ours = [mg.tensor(value, requires_grad=True) for value in values]
    theirs = [torch.tensor(value, requires_grad=True) for value in values]
    out, torch_out = fn(*ours), torch_fn(*theirs)
    weight = rng.standard_normal(out.shape).astype(values[0].dtype)
    grads = mg.autograd.grad(out, ours, grad_outputs=[mg.tensor(weight)], create_graph=True)
    torch_grads = torch.autograd.grad(torch_out, theirs, grad_outputs=[torch.tensor(weight)],
                                      create_graph=True)
    for grad, torch_grad in zip(grads, torch_grads):
        np.testing.assert_allclose(grad.data, torch_grad.detach().numpy(), rtol=rtol, atol=atol)
    # differentiate the weighted sum of the gradients that have a graph (a bias gradient
    # of the last layer is a constant in both frameworks)
    directions = [rng.standard_normal(value.shape).astype(value.dtype) for value in values]
    chosen = [index for index, grad in enumerate(grads) if grad.requires_grad]
    assert chosen == [index for index, grad in enumerate(torch_grads) if grad.requires_grad]
    second = mg.autograd.grad([grads[i] for i in chosen], ours,
                              grad_outputs=[mg.tensor(directions[i]) for i in chosen],
                              materialize_grads=True)
    torch_second = torch.autograd.grad([torch_grads[i] for i in chosen], theirs,
                                       grad_outputs=[torch.tensor(directions[i]) for i in chosen],
                                       materialize_grads=True)
    for result, expected in zip(second, torch_second):
        assert result.dtype == values[0].dtype
        np.testing.assert_allclose(result.data, expected.numpy(), rtol=rtol, atol=atol)


# ---- gradgradcheck (float64) --------------------------------------------------------------
@FEW
@given(matmul_shapes(), st.data())
def test_matmul_second_derivative(shape_pair, data):
    a_shape, b_shape = shape_pair
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    assert gradgradcheck(lambda x, y: x @ y, [Tensor(a), Tensor(b)])


@FEW
@given(matmul_shapes(), st.data())
def test_matmul_second_derivative_with_one_input_frozen(shape_pair, data):
    a_shape, b_shape = shape_pair
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    frozen, frozen_left = Tensor(b), Tensor(a)
    # the square makes the second derivative depend on the free input itself
    assert gradgradcheck(lambda x: (x * x) @ frozen, [Tensor(a)])
    assert gradgradcheck(lambda y: frozen_left @ (y * y), [Tensor(b)])


@settings(max_examples=3, deadline=None)
@given(sides, sides, sides, sides, st.data())
def test_mm_and_bmm_second_derivative(batch, n, k, p, data):
    a, b = data.draw(arrays((n, k))), data.draw(arrays((k, p)))
    assert gradgradcheck(lambda x, y: x.mm(y), [Tensor(a), Tensor(b)])
    a, b = data.draw(arrays((batch, n, k))), data.draw(arrays((batch, k, p)))
    assert gradgradcheck(lambda x, y: mg.bmm(x, y), [Tensor(a), Tensor(b)])


@FEW
@given(linear_shapes(), st.data())
def test_linear_second_derivative(shapes_, data):
    input_shape, weight_shape, bias_shape = shapes_
    inputs = [Tensor(data.draw(arrays(input_shape))), Tensor(data.draw(arrays(weight_shape)))]
    if bias_shape is not None:
        inputs.append(Tensor(data.draw(arrays(bias_shape))))
    assert gradgradcheck(lambda *ts: F.linear(*ts), inputs)
    # through a nonlinearity every input's second derivative is nonzero
    assert gradgradcheck(lambda *ts: mg.tanh(F.linear(*ts)), inputs)


# ---- against PyTorch ----------------------------------------------------------------------
@FEW
@given(matmul_shapes(), st.data())
def test_matmul_second_derivative_matches_torch(shape_pair, data):
    torch = pytest.importorskip("torch")
    a_shape, b_shape = shape_pair
    a, b = data.draw(arrays(a_shape)), data.draw(arrays(b_shape))
    second_derivatives_match_torch(lambda x, y: mg.tanh(x @ y),
                                   lambda x, y: torch.tanh(x @ y), [a, b])


def test_mm_bmm_linear_second_derivative_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    second_derivatives_match_torch(lambda x, y: mg.tanh(mg.mm(x, y)),
                                   lambda x, y: torch.tanh(torch.mm(x, y)), [a, b])
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 2))
    second_derivatives_match_torch(lambda x, y: mg.tanh(mg.bmm(x, y)),
                                   lambda x, y: torch.tanh(torch.bmm(x, y)), [a, b])
    x, w, bias = (rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)),
                  rng.standard_normal(5))
    second_derivatives_match_torch(
        lambda *ts: mg.tanh(F.linear(*ts)),
        lambda *ts: torch.tanh(torch.nn.functional.linear(*ts)), [x, w, bias])


def test_mlp_hessian_vector_product_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    values = [rng.standard_normal(shape).astype(np.float32)
              for shape in [(8, 5), (6, 5), (6,), (3, 6), (3,)]]

    def network(linear, tanh, x, w1, b1, w2, b2):
        return linear(tanh(linear(x, w1, b1)), w2, b2)

    second_derivatives_match_torch(
        lambda *ts: network(F.linear, mg.tanh, *ts),
        lambda *ts: network(torch.nn.functional.linear, torch.tanh, *ts),
        values, rtol=1e-4, atol=1e-5)


# ---- memory ------------------------------------------------------------------------------
def test_first_order_backward_releases_what_matmul_and_linear_saved():
    a = mg.randn(4, 3, requires_grad=True)
    b = mg.randn(3, 2, requires_grad=True)
    weight = mg.randn(2, 3, requires_grad=True)
    product = a @ b
    hidden = F.linear(a, weight)
    (product.sum() + hidden.sum()).backward()
    for function in (product.grad_fn, hidden.grad_fn):
        assert function.released
        assert not hasattr(function, "saved")


def test_matmul_saves_only_what_each_gradient_needs():
    a = mg.randn(4, 3, requires_grad=True)
    b = mg.randn(3, 2)  # frozen: a's gradient needs b, nothing needs a
    product = a @ b
    with mg.no_grad():
        a.mul_(2.0)  # not saved: backward is still fine, as in PyTorch
    product.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((4, 2)) @ b.numpy().T, rtol=1e-6)
    product = a @ b
    b.add_(1.0)  # saved for a's gradient: refused
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        product.sum().backward()
