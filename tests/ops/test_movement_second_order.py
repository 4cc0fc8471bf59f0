"""Movement ops, second order: gradgradcheck of every op in float64 (the gradient of a
movement is linear, so this checks its graph formula against the output weights), and
Hessian-vector products through tanh against torch.autograd.grad(create_graph=True)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.testing import gradgradcheck
from minigrad.testing.strategies import arrays, shapes

FEW = settings(max_examples=5, deadline=None)
TOLERANCES = {"float64": {"rtol": 1e-9, "atol": 1e-10}, "float32": {"rtol": 2e-4, "atol": 2e-5}}


def _torch_pad(x, pad, mode, **options):
    import torch.nn.functional

    return torch.nn.functional.pad(x, pad, mode=mode, **options)


def _torch_tensor(values):
    import torch

    return torch.tensor(values)


MASK = np.arange(12).reshape(3, 4) % 3 == 0
INDEX = [[0, 0, 3], [1, 2, 1], [3, 3, 3]]


# name -> (input shape, minigrad function, torch function); outputs may be tuples
CASES = {
    "reshape": ((2, 3, 4), lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1)),
    "reshape_copy": ((2, 3, 4), lambda x: x.transpose(0, 2).reshape(-1),
                     lambda x: x.transpose(0, 2).reshape(-1)),
    "view": ((2, 6), lambda x: x.view(3, 4), lambda x: x.view(3, 4)),
    "flatten": ((2, 3, 4), lambda x: x.flatten(1), lambda x: x.flatten(1)),
    "unflatten": ((2, 6), lambda x: x.unflatten(1, (3, 2)), lambda x: x.unflatten(1, (3, 2))),
    "squeeze": ((1, 3, 1), lambda x: x.squeeze(), lambda x: x.squeeze()),
    "unsqueeze": ((2, 3), lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(1)),
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    "transpose": ((2, 3, 4), lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    "t": ((2, 3), lambda x: x.t(), lambda x: x.t()),
    "expand": ((3, 1), lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4)),
    "repeat": ((2, 3), lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3)),
    "flip": ((2, 3, 4), lambda x: x.flip(0, 2), lambda x: x.flip(0, 2)),
    "contiguous": ((2, 3), lambda x: x.t().contiguous(), lambda x: x.t().contiguous()),
    "clone": ((2, 3), lambda x: x.clone(), lambda x: x.clone()),
    "getitem_basic": ((3, 4, 2), lambda x: x[1:, ::2, 0], lambda x: x[1:, ::2, 0]),
    "getitem_int": ((3, 4), lambda x: x[1, 2], lambda x: x[1, 2]),
    "getitem_none_ellipsis": ((3, 4), lambda x: x[None, ..., 1], lambda x: x[None, ..., 1]),
    "getitem_repeats": ((3, 4), lambda x: x[[0, 2, 0, 0], 1:], lambda x: x[[0, 2, 0, 0], 1:]),
    "getitem_two_arrays": ((3, 4, 2), lambda x: x[[1, 1, 0], :, [0, 1, 0]],
                           lambda x: x[[1, 1, 0], :, [0, 1, 0]]),
    "getitem_int_then_array": ((3, 4, 2), lambda x: x[0, [3, 3, 1]],
                               lambda x: x[0, [3, 3, 1]]),
    "getitem_mask": ((3, 4), lambda x: x[MASK], lambda x: x[_torch_tensor(MASK)]),
    "split": ((5, 2), lambda x: x.split(2), lambda x: x.split(2)),
    "split_sizes": ((2, 5), lambda x: mg.split(x, [1, 4], dim=1),
                    lambda x: x.split([1, 4], dim=1)),
    "chunk": ((7, 2), lambda x: x.chunk(3), lambda x: x.chunk(3)),
    "unbind": ((3, 2), lambda x: x.unbind(1), lambda x: x.unbind(1)),
    "gather": ((3, 4), lambda x: mg.gather(x, 1, mg.tensor(INDEX)),
               lambda x: x.gather(1, _torch_tensor(INDEX))),
    "getitem_repeated_columns": ((3, 4), lambda x: x[:, [1, 1, 2]], lambda x: x[:, [1, 1, 2]]),
}
PADS = [((2, 3, 4), (1, 2, 0, 1), "constant"), ((2, 3), (-1, 2, 1, -1), "constant"),
        ((2, 3, 4), (3, 1, 2, 2), "reflect"), ((1, 2, 3, 4), (2, 5, 1, 0), "replicate"),
        ((1, 2, 3, 4), (4, 1, 3, 2), "circular"), ((1, 2, 5), (-1, 3), "reflect"),
        ((1, 2, 3, 3, 4), (1, 2, 2, 1, 1, 1), "reflect"), ((1, 2, 5), (2, -1), "circular")]
for _shape, _pad, _mode in PADS:
    _value = {"value": 0.5} if _mode == "constant" else {}
    CASES[f"pad_{_mode}_{_pad}"] = (
        _shape,
        lambda x, pad=_pad, mode=_mode, kw=_value: F.pad(x, pad, mode=mode, **kw),
        lambda x, pad=_pad, mode=_mode, kw=_value: _torch_pad(x, pad, mode, **kw))


def _outputs(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def hessian_vector_products(lib, function, inputs, weights, direction, dtype, order=2):
    """d/dx of sum_i w_i * tanh(out_i) and its derivative along `direction` (order 2), or
    the derivative along `direction` of the derivative along `direction` (order 3)."""
    grad = autograd.grad if lib is mg else lib.autograd.grad
    to_tensor = (lambda a: mg.tensor(a, dtype=getattr(mg, dtype))) if lib is mg else (
        lambda a: lib.tensor(a, dtype=getattr(lib, dtype)))
    leaves = [to_tensor(a).requires_grad_(True) for a in inputs]
    outs = _outputs(function(*leaves))
    total = sum((lib.tanh(out) * to_tensor(w)).sum() for out, w in zip(outs, weights))
    derivatives = grad(total, leaves, create_graph=True)
    results = [tuple(d.detach().numpy() for d in derivatives)]
    for step in range(order - 1):
        along = sum((d * to_tensor(v)).sum() for d, v in zip(derivatives, direction))
        derivatives = grad(along, leaves, create_graph=step < order - 2)
        results.append(tuple(d.detach().numpy() for d in derivatives))
    dtypes = [d.dtype for d in derivatives]
    return results, dtypes


def assert_matches_torch(function, torch_function, inputs, dtype="float64", order=2, seed=0):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    inputs = [np.asarray(a, dtype=np.float64) for a in inputs]
    reference = _outputs(torch_function(*[torch.tensor(a) for a in inputs]))
    weights = [rng.standard_normal(tuple(out.shape)) for out in reference]
    direction = [rng.standard_normal(a.shape) for a in inputs]
    ours, our_dtypes = hessian_vector_products(mg, function, inputs, weights, direction, dtype,
                                               order)
    theirs, _ = hessian_vector_products(torch, torch_function, inputs, weights, direction,
                                        dtype, order)
    for mine, expected in zip(ours, theirs):
        for a, b in zip(mine, expected):
            np.testing.assert_allclose(a, b, **TOLERANCES[dtype])
    assert all(d == getattr(mg, dtype) for d in our_dtypes)


# ---- the table: gradgradcheck and PyTorch ---------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck(name):
    shape, function, _ = CASES[name]
    x = np.random.default_rng(1).standard_normal(shape)
    assert gradgradcheck(function, [mg.tensor(x)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_torch(name, dtype):
    shape, function, torch_function = CASES[name]
    x = np.random.default_rng(2).standard_normal(shape)
    assert_matches_torch(function, torch_function, [x], dtype)


@pytest.mark.parametrize("name", ["getitem_repeats", "getitem_mask", "gather",
                                  "pad_reflect_(3, 1, 2, 2)", "pad_constant_(1, 2, 0, 1)",
                                  "expand", "repeat", "flip"])
def test_third_derivative_matches_torch(name):
    """Select and scatter, pad and its adjoint...: each is the other's derivative, so any
    order works."""
    shape, function, torch_function = CASES[name]
    x = np.random.default_rng(3).standard_normal(shape)
    assert_matches_torch(function, torch_function, [x], order=3)


# ---- several inputs -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    parts = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    assert gradgradcheck(lambda *ts: mg.stack(list(ts), dim), [mg.tensor(p) for p in parts])
    assert_matches_torch(lambda *ts: mg.stack(list(ts), dim),
                         lambda *ts: torch.stack(list(ts), dim), parts, dtype)
    parts.append(rng.standard_normal((2, 3)) if dim else rng.standard_normal((1, 3)))
    assert gradgradcheck(lambda *ts: mg.cat(list(ts), dim), [mg.tensor(p) for p in parts])
    assert_matches_torch(lambda *ts: mg.cat(list(ts), dim),
                         lambda *ts: torch.cat(list(ts), dim), parts, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add(dim, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    index = np.array([[0, 2, 2, 1], [2, 2, 0, 0]])

    def ours(t, s):
        return mg.scatter_add(t, dim, mg.tensor(index), s)

    def theirs(t, s):
        return t.scatter_add(dim, torch.tensor(index), s)

    assert gradgradcheck(ours, [mg.tensor(x), mg.tensor(src)])  # src larger than index
    src = src[:2]  # PyTorch's double backward wants src shaped like index
    assert_matches_torch(ours, theirs, [x, src], dtype)
    assert_matches_torch(ours, theirs, [x, src], order=3)


# ---- hypothesis-drawn keys, pads and indices ------------------------------------------------
@st.composite
def index_keys(draw, shape):
    """A getitem key: ints, slices, at most one integer array (with repeats) or mask."""
    advanced = draw(st.none() | st.integers(0, len(shape) - 1))
    items = []
    for axis, size in enumerate(shape):
        if axis == advanced:
            if draw(st.booleans()):
                items.append(draw(st.lists(st.integers(-size, size - 1), min_size=1,
                                           max_size=4)))
            else:
                items.append(np.array(draw(st.lists(st.booleans(), min_size=size,
                                                    max_size=size))))
            continue
        items.append(draw(st.integers(-size, size - 1) | st.builds(
            slice, st.none() | st.integers(-size, size), st.none() | st.integers(-size, size),
            st.none() | st.integers(1, 2))))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


@FEW
@given(x=arrays(shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_random_getitem(x, data):
    key = data.draw(index_keys(x.shape))
    assert gradgradcheck(lambda t: t[key], [mg.tensor(x)])


@FEW
@given(mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
       padded=st.integers(1, 2), data=st.data())
def test_random_pad(mode, padded, data):
    ndim = padded + data.draw(st.integers(1, 2))
    shape = tuple(data.draw(st.lists(st.integers(2, 3), min_size=ndim, max_size=ndim)))
    pad = []
    for pair in range(padded):
        limit = shape[-1 - pair] - 1 if mode == "reflect" else shape[-1 - pair]
        low = -1 if mode == "constant" else 0
        pad += [data.draw(st.integers(low, limit)), data.draw(st.integers(low, limit))]
    x = data.draw(arrays(shape))
    assert gradgradcheck(lambda t: F.pad(t, tuple(pad), mode=mode), [mg.tensor(x)])


@FEW
@given(data=st.data())
def test_random_gather(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = [data.draw(st.integers(1, size)) for size in shape]
    index_shape[dim] = data.draw(st.integers(1, 4))
    index = np.asarray(data.draw(st.lists(st.integers(0, shape[dim] - 1),
                                          min_size=int(np.prod(index_shape)),
                                          max_size=int(np.prod(index_shape)))))
    index = mg.tensor(index.reshape(index_shape))
    x = data.draw(arrays(shape))
    assert gradgradcheck(lambda t: mg.gather(t, dim, index), [mg.tensor(x)])


# ---- the graph of a gradient ---------------------------------------------------------------
def test_gradient_of_an_index_is_a_recorded_scatter_whose_gradient_is_the_index():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = autograd.grad(x[:, [2, 0, 2]][1], x, grad_outputs=w, create_graph=True)
    assert g.grad_fn is not None and g.grad_fn.name == "IndexScatter"
    assert g.tolist() == [[0.0, 0.0, 0.0], [2.0, 0.0, 4.0]]
    (dw,) = autograd.grad((g * mg.tensor([[9.0, 9.0, 9.0], [1.0, 10.0, 100.0]])).sum(), w)
    assert dw.tolist() == [100.0, 1.0, 100.0]


def test_view_tracking_still_replays_movement_ops():
    """In-place changes through views of views still reach the base and its gradient."""
    base = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = base * 1.0
    view = y.t()[1:][:, 0]
    view.mul_(3.0)
    assert y.tolist() == [[1.0, 3.0, 3.0], [1.0, 1.0, 1.0]]
    (g,) = autograd.grad(y.sum(), base, create_graph=True)
    assert g.tolist() == [[1.0, 3.0, 3.0], [1.0, 1.0, 1.0]]
