"""Reductions, second order: gradgradcheck of every reduction op in float64, and second
derivatives (Hessian-vector products) against torch.autograd.grad(create_graph=True)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import autograd
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import arrays, shapes

FEW = settings(max_examples=6, deadline=None)
TOLERANCES = {"float64": {"rtol": 1e-9, "atol": 1e-10}, "float32": {"rtol": 2e-4, "atol": 2e-5}}


@st.composite
def cases(draw, single=False, min_dims=0, **elements):
    """(array, dim, keepdim): a tiny float64 array and a dim for it (None, int or tuple)."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=3))
    ndim = len(shape)
    if single:
        dim = draw(st.integers(-ndim, ndim - 1)) if ndim else 0
    elif ndim == 0:
        dim = None
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        dim = draw(st.sampled_from([None, axes[0] - ndim, tuple(axes)]))
    return draw(arrays(shape, **elements)), dim, draw(st.booleans())


def count_of(shape, dim):
    if dim is None or not shape:
        return int(np.prod(shape, dtype=np.int64))
    axes = dim if isinstance(dim, tuple) else (dim,)
    return int(np.prod([shape[axis] for axis in axes], dtype=np.int64))


# ---- gradgradcheck in float64 -----------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@FEW
@given(case=cases())
def test_smooth_reductions(name, case):
    x, dim, keepdim = case
    if name == "logsumexp" and dim is None:
        dim = tuple(range(x.ndim))
    function = getattr(mg, name)
    assert gradgradcheck(lambda t: function(t, dim, keepdim), [mg.tensor(x)])


@FEW
@given(case=cases(single=True, low=-2.0, high=2.0), full=st.booleans())
def test_prod(case, full):
    x, dim, keepdim = case
    dim = None if full else dim
    assert gradgradcheck(lambda t: mg.prod(t, dim, keepdim), [mg.tensor(x)])


def test_prod_with_zeros():
    """Zeros take no special case: the product of the others is exact at every order."""
    x = mg.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, -2.0, 0.5]])
    for dim in (0, 1, None):
        assert gradgradcheck(lambda t, dim=dim: mg.prod(t, dim), [x])


@pytest.mark.parametrize("name", ["amax", "amin"])
@FEW
@given(case=cases(distinct=True))
def test_amax_amin(name, case):
    x, dim, keepdim = case
    dim = () if dim is None else dim
    assert gradgradcheck(lambda t: getattr(mg, name)(t, dim, keepdim), [mg.tensor(x)])


def test_amax_ties_share_in_the_second_pass_too():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    w = mg.tensor([2.0, 3.0], requires_grad=True)
    leaf = mg.tensor(x.numpy(), requires_grad=True)
    (g,) = autograd.grad(mg.amax(leaf, 1), leaf, grad_outputs=w, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[0, 1, 1], [1, 1, 1]])
    (dw,) = autograd.grad((g * mg.tensor([[1.0, 2.0, 4.0], [3.0, 0.0, 6.0]])).sum(), w)
    np.testing.assert_allclose(dw.numpy(), [3.0, 3.0])  # (2 + 4) / 2, (3 + 0 + 6) / 3


@pytest.mark.parametrize("name", ["max", "min"])
@FEW
@given(case=cases(single=True, distinct=True))
def test_max_min_along_dim(name, case):
    x, dim, keepdim = case
    assert gradgradcheck(lambda t: getattr(mg, name)(t, dim, keepdim).values, [mg.tensor(x)])


@pytest.mark.parametrize("name", ["max", "min"])
@FEW
@given(x=arrays(shapes(max_dims=3, max_side=3), distinct=True))
def test_full_max_min(name, x):
    assert gradgradcheck(lambda t: getattr(t, name)(), [mg.tensor(x)])


@pytest.mark.parametrize("name", ["var", "std"])
@FEW
@given(case=cases(distinct=True), correction=st.sampled_from([0, 1, 0.5]))
def test_var_std(name, case, correction):
    x, dim, keepdim = case
    assume(count_of(x.shape, dim) >= 2)
    function = getattr(mg, name)
    assert gradgradcheck(lambda t: function(t, dim, keepdim=keepdim, correction=correction),
                         [mg.tensor(x)])


def test_std_of_a_constant_row_has_zero_gradients_of_both_orders():
    x = mg.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    (g,) = autograd.grad(mg.std(x, 1).sum(), x, create_graph=True)
    assert g.detach().numpy()[0].tolist() == [0.0, 0.0, 0.0]
    (h,) = autograd.grad((g * g).sum(), x)
    assert np.isfinite(h.numpy()).all() and h.numpy()[0].tolist() == [0.0, 0.0, 0.0]


# ---- second derivatives against PyTorch ---------------------------------------------------
def hessian_vector_products(function, torch_function, x, dtype="float64", seed=0):
    """(first derivative, Hessian-vector product) of sum(w * tanh(f(x))) in both frameworks.

    The tanh makes even a linear f's second derivative depend on f's gradient formula as a
    recorded graph (its grad input depends on x).
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    out_shape = np.shape(torch_function(torch.tensor(x)).detach().numpy())
    w = rng.standard_normal(out_shape)
    v = rng.standard_normal(x.shape)
    results = []
    for framework in ("minigrad", "torch"):
        if framework == "minigrad":
            leaf = mg.tensor(x, dtype=getattr(mg, dtype), requires_grad=True)
            weights, direction = mg.tensor(w, dtype=leaf.dtype), mg.tensor(v, dtype=leaf.dtype)
            total = (mg.tanh(function(leaf)) * weights).sum()
            (first,) = autograd.grad(total, leaf, create_graph=True)
            (second,) = autograd.grad((first * direction).sum(), leaf)
            results.append((first.detach().numpy(), second.numpy(), second.dtype))
        else:
            leaf = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
            weights = torch.tensor(w, dtype=leaf.dtype)
            direction = torch.tensor(v, dtype=leaf.dtype)
            total = (torch.tanh(torch_function(leaf)) * weights).sum()
            (first,) = torch.autograd.grad(total, leaf, create_graph=True)
            (second,) = torch.autograd.grad((first * direction).sum(), leaf)
            results.append((first.detach().numpy(), second.numpy(), None))
    return results


def assert_matches_torch(function, torch_function, x, dtype="float64"):
    (g, h, h_dtype), (tg, th, _) = hessian_vector_products(function, torch_function, x, dtype)
    tolerance = TOLERANCES[dtype]
    np.testing.assert_allclose(g, tg, **tolerance)
    np.testing.assert_allclose(h, th, **tolerance)
    assert h_dtype == getattr(mg, dtype)


def _torch_dim(dim, x):
    return tuple(range(x.ndim)) if dim is None else dim


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "amax", "amin"])
@FEW
@given(case=cases(min_dims=1, distinct=True))
def test_dim_reductions_match_torch(name, dtype, case):
    x, dim, keepdim = case
    dim = _torch_dim(dim, x)
    assert_matches_torch(lambda t: getattr(mg, name)(t, dim, keepdim),
                         lambda t: getattr(t, name)(dim, keepdim), x, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["var", "std"])
@FEW
@given(case=cases(min_dims=1, distinct=True), correction=st.sampled_from([0, 1]))
def test_var_std_match_torch(name, dtype, case, correction):
    x, dim, keepdim = case
    dim = _torch_dim(dim, x)
    assume(count_of(x.shape, dim) >= 2)
    assert_matches_torch(lambda t: getattr(mg, name)(t, dim, keepdim=keepdim,
                                                     correction=correction),
                         lambda t: getattr(t, name)(dim, keepdim=keepdim,
                                                    correction=correction), x, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@FEW
@given(case=cases(single=True, min_dims=1, low=-1.5, high=1.5, avoid_zero=0.1),
       full=st.booleans())
def test_prod_matches_torch(dtype, case, full):
    # (away from 0: PyTorch's prod double backward drops a term for inputs like 1e-124)
    x, dim, keepdim = case
    if full:
        assert_matches_torch(lambda t: t.prod(), lambda t: t.prod(), x, dtype)
    else:
        assert_matches_torch(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim),
                             x, dtype)


def test_prod_with_zeros_matches_torch():
    x = np.array([[0.0, 2.0, 3.0, 0.5], [0.0, 0.0, 1.5, 2.0], [1.0, -2.0, 0.5, 0.0]])
    for dim in (0, 1):
        assert_matches_torch(lambda t, dim=dim: t.prod(dim), lambda t, dim=dim: t.prod(dim), x)
    assert_matches_torch(lambda t: t.prod(), lambda t: t.prod(), x[:, 1:])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["max", "min"])
@FEW
@given(case=cases(single=True, min_dims=1, distinct=True))
def test_max_min_along_dim_match_torch(name, dtype, case):
    x, dim, keepdim = case
    assert_matches_torch(lambda t: getattr(t, name)(dim, keepdim).values,
                         lambda t: getattr(t, name)(dim, keepdim).values, x, dtype)


def test_third_derivative_of_logsumexp_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.4]])
    values = []
    for lib, leaf in ((mg, mg.tensor(x, requires_grad=True)),
                      (torch, torch.tensor(x, requires_grad=True))):
        grad = autograd.grad if lib is mg else torch.autograd.grad
        (d1,) = grad(lib.logsumexp(leaf, 1).sum(), leaf, create_graph=True)
        (d2,) = grad((d1 * d1).sum(), leaf, create_graph=True)
        (d3,) = grad((d2 * d2).sum(), leaf)
        values.append(d3.detach().numpy())
    np.testing.assert_allclose(values[0], values[1], rtol=1e-9, atol=1e-12)


def test_first_order_gradients_stay_writable():
    """A sum's gradient is a read-only broadcast on arrays; .grad must still be its own."""
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    (x.sum() * 2).backward()
    x.grad.data[...] = 0
    assert x.grad.sum().item() == 0


def test_retained_gradient_of_a_sum_input_is_its_own_copy():
    """retain_grad copies, as PyTorch's does: what flows past may be a read-only broadcast."""
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    y.grad.zero_()
    assert y.grad.sum().item() == 0 and x.grad.tolist() == [[2.0] * 3] * 2


def test_a_0d_output_stays_the_output_in_a_graph():
    """std / logsumexp of everything return 0-d arrays (NumPy would give scalars): the second
    pass must still see them as the op's output, not as constants."""
    x = mg.tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
    for function in (lambda t: mg.std(t), lambda t: mg.logsumexp(t, (0, 1))):
        out = function(x)
        assert out.grad_fn.saved_sources[-1] is not None
        assert gradgradcheck(function, [x])
