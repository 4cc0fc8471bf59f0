"""Gradients of gradients: autograd.grad / backward(create_graph=True) with PyTorch's semantics,
custom Functions in both orders, once_differentiable, and the engine's bookkeeping."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from minigrad.testing import GradcheckError, gradgradcheck


def _x(values, dtype=mg.float64):
    return mg.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)


def test_second_derivative_of_a_polynomial():
    x = _x([1.0, -2.0, 0.5])
    y = (x * x * x).sum()
    (first,) = autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(first.detach().numpy(), 3 * x.detach().numpy() ** 2)
    assert first.requires_grad and first.grad_fn is not None
    (second,) = autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.detach().numpy())
    assert not second.requires_grad


def test_third_derivative():
    x = _x([0.3, -0.7])
    (d1,) = autograd.grad(mg.tanh(x).sum(), x, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = autograd.grad(d2.sum(), x)
    t = np.tanh(x.detach().numpy())
    np.testing.assert_allclose(d3.numpy(), -2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t))


def test_float32_stays_float32_in_every_order():
    x = _x([0.5, 1.5], dtype=mg.float32)
    (d1,) = autograd.grad(mg.exp(x * x).sum(), x, create_graph=True)
    (d2,) = autograd.grad(d1.sum(), x)
    assert d1.dtype == mg.float32 and d2.dtype == mg.float32


def test_retain_graph_defaults_to_create_graph():
    x = _x([1.0, 2.0])
    y = (x * x).sum()
    autograd.grad(y, x, create_graph=True)
    autograd.grad(y, x)          # the graph was retained by create_graph
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad(y, x)      # ... but not by the plain call


def test_backward_create_graph_accumulates_differentiable_grads_like_pytorch():
    x = _x([1.0, 3.0])
    with pytest.warns(UserWarning, match="reference cycle"):
        (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    grad_copy = x.grad
    x.grad = None
    grad_copy.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())


def test_grads_of_grads_accumulate_into_dot_grad():
    x = _x([2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x * x * x).sum().backward(create_graph=True)   # x.grad = 3x^2 (recorded)
    x.grad.sum().backward()                               # adds 6x
    np.testing.assert_allclose(x.grad.detach().numpy(), [3 * 4 + 6 * 2])


def test_grad_does_not_touch_dot_grad_and_takes_several_outputs_and_inputs():
    a, b = _x([1.0, 2.0]), _x([3.0])
    ga, gb = autograd.grad([(a * b).sum(), (a * a).sum()], [a, b])
    assert a.grad is None and b.grad is None
    np.testing.assert_allclose(ga.numpy(), [3 + 2, 3 + 4])
    np.testing.assert_allclose(gb.numpy(), [3.0])


def test_grad_outputs_weight_the_outputs():
    x = _x([1.0, 2.0])
    (g,) = autograd.grad(x * x, x, grad_outputs=mg.tensor([1.0, 10.0], dtype=mg.float64))
    np.testing.assert_allclose(g.numpy(), [2.0, 40.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        autograd.grad(x * x, x)


def test_unused_input_errors_like_pytorch_or_gives_none_or_zeros():
    x, unused = _x([1.0]), _x([5.0, 6.0])
    message = "appears to not have been used in the graph"
    with pytest.raises(RuntimeError, match=message):
        autograd.grad((x * x).sum(), [x, unused], retain_graph=True)
    _, none = autograd.grad((x * x).sum(), [x, unused], allow_unused=True, retain_graph=True)
    assert none is None
    _, zeros = autograd.grad((x * x).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(zeros.numpy(), [0.0, 0.0])
    with pytest.raises(ValueError, match="allow_unused"):
        autograd.grad((x * x).sum(), [x], allow_unused=False, materialize_grads=True)


def test_input_that_does_not_require_grad_is_refused():
    x = _x([1.0])
    constant = mg.tensor([2.0], dtype=mg.float64)
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * constant).sum(), [constant])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = _x([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


def test_backward_inputs_accumulates_only_into_the_given_tensors():
    a, b = _x([1.0]), _x([2.0])
    (a * b).sum().backward(inputs=[a])
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [2.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).sum().backward(inputs=[])


def test_autograd_backward_function_matches_tensor_backward():
    x = _x([1.0, -1.0])
    autograd.backward([(x * x).sum(), (x * 2.0).sum()])
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy() + 2)


def test_gradient_penalty_style_double_backward_reaches_the_weights():
    x, w = _x([[0.5, -1.0]]), _x([[2.0], [3.0]])
    out = mg.tanh(x @ w).sum()
    (gx,) = autograd.grad(out, x, create_graph=True)
    penalty = ((gx * gx).sum() - 1.0) ** 2
    (gw,) = autograd.grad(penalty, w)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    wt = torch.tensor(w.detach().numpy(), requires_grad=True)
    (gxt,) = torch.autograd.grad(torch.tanh(xt @ wt).sum(), xt, create_graph=True)
    (gwt,) = torch.autograd.grad(((gxt * gxt).sum() - 1.0) ** 2, wt)
    np.testing.assert_allclose(gw.numpy(), gwt.numpy(), rtol=1e-10)


class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class CubeOnce(Cube):
    @staticmethod
    @autograd.once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


def test_custom_function_backward_written_with_ops_is_twice_differentiable():
    x = _x([1.0, -2.0])
    (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
    assert gradgradcheck(Cube.apply, [mg.tensor([0.3, -1.1], dtype=mg.float64)])


def test_once_differentiable_raises_pytorchs_error_when_differentiated_twice():
    x = _x([1.0, -2.0])
    (g,) = autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        autograd.grad(g.sum(), x)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        autograd.grad(g.sum(), x, allow_unused=True)   # never a silent None or zero


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class WrongSecond(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            # right value, wrong dependence on x: 3 * x * x.detach() halves d2/dx2
            return grad * 3 * x * mg.tensor(x.detach().numpy())

    x = mg.tensor([0.5, 1.5], dtype=mg.float64)
    with pytest.raises(GradcheckError):
        gradgradcheck(WrongSecond.apply, [x])


def test_in_place_change_of_a_saved_tensor_still_raises_with_create_graph():
    x = _x([1.0, 2.0])
    h = x * 2.0
    y = (h * h).sum()
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        autograd.grad(y, x, create_graph=True)


def test_saved_buffers_are_released_after_a_first_order_backward():
    x = _x(np.ones(4))
    y = mg.exp(x * x)
    node = y.grad_fn
    y.sum().backward()
    assert node.released and not hasattr(node, "saved")


def test_autograd_grad_leaves_no_reference_cycle():
    x = _x(np.ones(3))
    y = mg.tanh(x * x).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    watch = weakref.ref(y.grad_fn)
    del y, g
    gc.disable()
    try:
        assert watch() is None   # freed by reference counting alone
    finally:
        gc.enable()


def test_inputs_skip_branches_that_cannot_reach_them():
    calls = []
    x, w = _x([1.0, 2.0]), _x([3.0, 4.0])
    y = (x * w).sum()
    y.grad_fn  # noqa: B018
    from minigrad.engine import hooks

    hooks.backward_observers.append(lambda function, grad: calls.append(function.name))
    try:
        autograd.grad(mg.exp(w).sum() + y, x)
    finally:
        hooks.backward_observers.pop()
    assert "Exp" not in calls


def test_double_backward_graph_can_be_drawn():
    pytest.importorskip("graphviz")
    from minigrad.viz import draw_graph

    x = _x([0.5, 1.0])
    (g,) = autograd.grad(mg.tanh(x * x).sum(), x, create_graph=True)
    source = draw_graph(g * g).source
    # the second-order graph is ordinary recorded ops: tanh' = 1 - tanh^2 shows as sub/mul
    assert '"tanh' in source and '"sub' in source and '"mul' in source
    svg = draw_graph(g * g).pipe(format="svg").decode()
    assert "<svg" in svg and "tanh" in svg
