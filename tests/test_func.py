"""minigrad.func and minigrad.autograd.functional against torch.func and
torch.autograd.functional on the same functions and numbers."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd, func, nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
Y = RNG.standard_normal(4)
M = RNG.standard_normal((3, 4))


def f_mg(x, y):
    return (mg.tanh(x * y) * x).sum() + (x * x * y).sum()


def f_torch(x, y):
    return (torch.tanh(x * y) * x).sum() + (x * x * y).sum()


def vector_mg(x):
    return mg.tanh(mg.tensor(M) @ x) * x[:3]


def vector_torch(x):
    return torch.tanh(torch.from_numpy(M) @ x) * x[:3]


def _mg(value):
    return mg.tensor(value)


def _t(value):
    return torch.from_numpy(np.array(value))


def _close(ours, theirs, rtol=1e-10):
    if isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b, rtol)
        return
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=1e-12)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_grad_and_grad_and_value(argnums):
    _close(func.grad(f_mg, argnums=argnums)(_mg(X), _mg(Y)),
           torch.func.grad(f_torch, argnums=argnums)(_t(X), _t(Y)))
    gradient, value = func.grad_and_value(f_mg, argnums=argnums)(_mg(X), _mg(Y))
    gradient_t, value_t = torch.func.grad_and_value(f_torch, argnums=argnums)(_t(X), _t(Y))
    _close(gradient, gradient_t)
    _close(value, value_t)


def test_grad_has_aux_and_nesting():
    def with_aux(x):
        return (x * x).sum(), x * 2

    gradient, aux = func.grad(with_aux, has_aux=True)(_mg(X))
    np.testing.assert_allclose(gradient.detach().numpy(), 2 * X)
    np.testing.assert_allclose(aux.detach().numpy(), 2 * X)

    def inner(x):
        return func.grad(lambda y: (mg.sin(y) * y).sum())(x).sum()

    def inner_t(x):
        return torch.func.grad(lambda y: (torch.sin(y) * y).sum())(x).sum()

    _close(func.grad(inner)(_mg(X)), torch.func.grad(inner_t)(_t(X)))


def test_grad_of_a_dict_argument():
    params = {"w": _mg(M), "b": _mg(X[:3])}
    gradient = func.grad(lambda p, x: ((p["w"] @ x + p["b"]) ** 2).sum())(params, _mg(Y))
    theirs = torch.func.grad(lambda p, x: ((p["w"] @ x + p["b"]) ** 2).sum())(
        {"w": _t(M), "b": _t(X[:3])}, _t(Y))
    assert set(gradient) == {"w", "b"}
    _close([gradient["w"], gradient["b"]], [theirs["w"], theirs["b"]])


def test_vjp_and_jvp():
    out, vjp_fn = func.vjp(vector_mg, _mg(X))
    out_t, vjp_fn_t = torch.func.vjp(vector_torch, _t(X))
    _close(out, out_t)
    _close(vjp_fn(_mg(Y[:3])), vjp_fn_t(_t(Y[:3])))
    _close(func.jvp(vector_mg, (_mg(X),), (_mg(Y),)),
           torch.func.jvp(vector_torch, (_t(X),), (_t(Y),)))


def test_jacrev_jacfwd_and_hessian():
    _close(func.jacrev(vector_mg)(_mg(X)), torch.func.jacrev(vector_torch)(_t(X)))
    _close(func.jacfwd(vector_mg)(_mg(X)), torch.func.jacfwd(vector_torch)(_t(X)))
    _close(func.hessian(lambda x: f_mg(x, _mg(Y)))(_mg(X)),
           torch.func.hessian(lambda x: f_torch(x, _t(Y)))(_t(X)))
    _close(func.jacrev(f_mg, argnums=(0, 1))(_mg(X), _mg(Y)),
           torch.func.jacrev(f_torch, argnums=(0, 1))(_t(X), _t(Y)))


def test_functional_call_swaps_parameters_and_restores_them():
    mg.manual_seed(0)
    layer = nn.Linear(4, 3).to(mg.float64)
    original = layer.weight
    replacement = {"weight": _mg(M).requires_grad_(True), "bias": _mg(X[:3])}
    out = func.functional_call(layer, replacement, (_mg(Y),))
    np.testing.assert_allclose(out.detach().numpy(), M @ Y + X[:3])
    assert layer.weight is original
    out.sum().backward()
    np.testing.assert_allclose(replacement["weight"].grad.numpy(), np.tile(Y, (3, 1)))
    assert original.grad is None
    with pytest.raises(RuntimeError, match="Unexpected key"):
        func.functional_call(layer, {"nope": _mg(X)}, (_mg(Y),))
    # per-example gradients through functional_call, the torch.func idiom
    grads = func.grad(lambda p, x: func.functional_call(layer, p, (x,)).sum())(
        dict(layer.named_parameters()), _mg(Y))
    np.testing.assert_allclose(grads["weight"].detach().numpy(), np.tile(Y, (3, 1)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_autograd_functional_products(name):
    ours_fn, theirs_fn = getattr(autograd.functional, name), getattr(torch.autograd.functional,
                                                                     name)
    if name in ("vjp", "jvp"):
        v = Y[:3] if name == "vjp" else Y
        ours = ours_fn(vector_mg, _mg(X), _mg(v))
        theirs = theirs_fn(vector_torch, _t(X), _t(v))
    else:
        ours = ours_fn(lambda x: f_mg(x, _mg(Y)), _mg(X), _mg(Y))
        theirs = theirs_fn(lambda x: f_torch(x, _t(Y)), _t(X), _t(Y))
    _close(ours, theirs)
    assert not ours[1].requires_grad   # detached without create_graph, as in PyTorch


def test_autograd_functional_jacobian_and_hessian_of_tuples():
    _close(autograd.functional.jacobian(vector_mg, _mg(X)),
           torch.autograd.functional.jacobian(vector_torch, _t(X)))
    _close(autograd.functional.jacobian(lambda a, b: a * b, (_mg(X), _mg(Y))),
           torch.autograd.functional.jacobian(lambda a, b: a * b, (_t(X), _t(Y))))
    _close(autograd.functional.hessian(f_mg, (_mg(X), _mg(Y))),
           torch.autograd.functional.hessian(f_torch, (_t(X), _t(Y))))
    with pytest.raises(RuntimeError, match="strict"):
        autograd.functional.jacobian(lambda a, b: a * 2, (_mg(X), _mg(Y)), strict=True)
