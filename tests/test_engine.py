"""The engine alone: graph walk, accumulation, hooks, grad mode, release, dtype rules.

Ops here are tiny Functions defined in this file, so these tests do not depend on minigrad.ops.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.engine import Function, Tensor, dtypes


class Scale(Function):
    """y = factor * x."""

    def forward(self, x, factor):
        self.factor = factor
        return x * np.asarray(factor, dtype=x.dtype)

    def backward(self, xp, grad):
        return grad * np.asarray(self.factor, dtype=grad.dtype)


class Product(Function):
    """y = a * b (same shapes)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, xp, grad):
        return grad * self.b, grad * self.a


class Total(Function):
    """y = sum(x)."""

    def forward(self, x):
        self.shape = x.shape
        return np.asarray(x.sum(), dtype=x.dtype)

    def backward(self, xp, grad):
        return np.broadcast_to(grad, self.shape).copy()


def test_chain_rule_and_accumulation_into_leaf():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Product.apply(x, x)            # x used twice: gradients from both uses add
    Total.apply(Scale.apply(y, factor=3.0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, 2.0, 3.0]))
    assert x.grad.dtype == np.float32


def test_grads_accumulate_across_backward_calls():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    Total.apply(Scale.apply(x, factor=2.0)).backward()
    Total.apply(Scale.apply(x, factor=5.0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0])


def test_diamond_graph_runs_each_node_once():
    x = mg.tensor([2.0], requires_grad=True)
    h = Scale.apply(x, factor=3.0)
    y = Product.apply(Scale.apply(h, factor=2.0), Scale.apply(h, factor=5.0))  # 10 h^2 = 90 x^2
    Total.apply(y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [180.0 * 2.0])


def test_chain_of_100000_ops_needs_no_recursion():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = Scale.apply(y, factor=1.0)
    Total.apply(y).backward()
    assert x.grad.item() == 1.0


def test_non_leaf_grad_only_with_retain_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = Scale.apply(x, factor=2.0)
    k = Scale.apply(x, factor=4.0)
    h.retain_grad()
    Total.apply(Product.apply(h, k)).backward()
    np.testing.assert_allclose(h.grad.numpy(), k.data)
    assert k.grad is None
    assert not h.is_leaf and x.is_leaf


def test_second_backward_raises_unless_graph_retained():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = Total.apply(Product.apply(x, x))
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_saved_buffers_are_freed_after_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Product.apply(x, x)
    Total.apply(y).backward()
    assert not hasattr(y.grad_fn, "a") and y.grad_fn.released


def test_non_scalar_backward_needs_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, factor=2.0)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(mg.tensor([1.0, 2.0, 3.0]))
    y.backward(mg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_hooks_see_and_replace_gradients():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = Scale.apply(x, factor=3.0)
    seen = []
    h.register_hook(lambda grad: seen.append(grad.numpy().copy()))
    handle = x.register_hook(lambda grad: Tensor(grad.numpy() * 0 + 7.0))
    Total.apply(h).backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0])
    handle.remove()
    x.grad = None
    Total.apply(Scale.apply(x, factor=3.0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_no_grad_and_enable_grad_as_context_and_decorator():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not Scale.apply(x, factor=2.0).requires_grad
        with mg.enable_grad():
            assert Scale.apply(x, factor=2.0).requires_grad

    @mg.no_grad()
    def evaluate(t):
        return Scale.apply(t, factor=2.0)

    assert not evaluate(x).requires_grad
    assert mg.is_grad_enabled()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="int64"):
        mg.arange(3).requires_grad_()


def test_default_dtypes_follow_pytorch():
    assert mg.tensor(1.5).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True]).dtype == mg.bool
    assert mg.tensor(np.zeros(2)).dtype == mg.float64
    assert mg.randn(2).dtype == mg.float32 and mg.zeros(1, 2).shape == (1, 2)
    assert mg.arange(3).dtype == mg.int64 and mg.arange(0, 1, 0.5).dtype == mg.float32


def test_promotion_rules_are_pytorchs_not_numpys():
    f32 = mg.zeros(2)
    f64 = mg.zeros(2, dtype=mg.float64)
    i64 = mg.arange(2)
    assert dtypes.result_type(f32, 2.0) == mg.float32
    assert dtypes.result_type(i64, 2.0) == mg.float32
    assert dtypes.result_type(i64, f32) == mg.float32
    assert dtypes.result_type(f32, f64) == mg.float64
    assert dtypes.result_type(f32, mg.tensor(1.0, dtype=mg.float64)) == mg.float32
    assert dtypes.result_type(i64, 3) == mg.int64


def test_manual_seed_repeats_random_draws():
    mg.manual_seed(3)
    first = mg.randn(4).numpy().copy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, mg.randn(4).numpy())


def test_tensor_attributes_and_conversions():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.size() == (2, 2) and x.size(-1) == 2 and x.dim() == 2 and x.numel() == 4
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert mg.tensor([5.0]).item() == 5.0
    with pytest.raises(RuntimeError, match="4 elements"):
        x.item()
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert not w.detach().requires_grad
    assert repr(w) == "tensor([1.], requires_grad=True)"


class WideningScale(Function):
    """A broken op: its backward computes in float64."""

    def forward(self, x):
        return x * 2

    def backward(self, xp, grad):
        return grad.astype(np.float64) * 2


class MissingUnbroadcast(Function):
    """A broken op: y = x + b with b broadcast, but b's gradient is not summed back."""

    def forward(self, x, b):
        return x + b

    def backward(self, xp, grad):
        return grad, grad


def test_backward_refuses_gradients_of_the_wrong_dtype_or_shape():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="WideningScale.backward returned a gradient of dtype "
                                           "float64 and shape \\(2,\\) for input 0, which has "
                                           "dtype float32"):
        Total.apply(WideningScale.apply(x)).backward()
    b = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="shape \\(2,\\) for input 1, which has dtype "
                                           "float32 and shape \\(1,\\)"):
        Total.apply(MissingUnbroadcast.apply(x, b)).backward()


def test_repr_and_iteration_look_like_pytorch():
    assert repr(mg.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1e-3, 100.0])) == "tensor([1.0000e-03, 1.0000e+02])"
    assert [t.item() for t in mg.tensor([3.0, 4.0])] == [3.0, 4.0]
    with pytest.raises(TypeError, match="0-d tensor"):
        list(mg.tensor(1.0))
