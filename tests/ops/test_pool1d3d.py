"""1-D and 3-D pooling, max-unpooling, Lp pooling and fold/unfold: forward, indices and
gradients against PyTorch on hypothesis-drawn configurations (float32 and float64),
gradcheck and gradgradcheck in float64, second derivatives against PyTorch, and PyTorch's
errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd
from minigrad.testing import gradcheck, gradgradcheck

FEW = settings(max_examples=4, deadline=None)
SOME = settings(max_examples=20, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def distinct(rng, shape, dtype=np.float64):
    """Values without ties (a max has one winner) spread over [-2, 2]."""
    count = int(np.prod(shape))
    return (rng.permutation(count).reshape(shape) / max(count, 1) * 4 - 2).astype(dtype)


@st.composite
def pool_args(draw, dims: int, kind: str):
    """(input shape, kwargs) for a valid {kind}_pool{dims}d call."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if kind == "max" else (
        (1,) * dims)
    ceil_mode = draw(st.booleans())
    size = tuple(d * (k - 1) + 1 + draw(st.integers(0, 4)) for d, k in zip(dilation, kernel))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding,
              "ceil_mode": ceil_mode}
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        if dims == 3 and draw(st.booleans()):
            kwargs["divisor_override"] = draw(st.integers(1, 5))
    if dims == 1:
        kwargs = {name: value[0] if isinstance(value, tuple) else value
                  for name, value in kwargs.items()}
    return (*batch, draw(st.integers(1, 2)), *size), kwargs


def compare(torch, name, x, *args, **kwargs):
    """Outputs (and indices) and input gradients equal to PyTorch's; x not mutated."""
    copy = x.copy()
    ours = mg.tensor(x, requires_grad=True)
    theirs = torch.from_numpy(x.copy()).requires_grad_()
    out = getattr(F, name)(ours, *args, **kwargs)
    expected = getattr(torch.nn.functional, name)(theirs, *args, **kwargs)
    if isinstance(expected, tuple):
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        assert out[1].dtype == np.int64
        out, expected = out[0], expected[0]
    upstream = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(x.dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    tolerance = ({"rtol": 1e-10, "atol": 1e-12} if x.dtype == np.float64
                 else {"rtol": 1e-5, "atol": 1e-5})
    assert out.shape == tuple(expected.shape)
    assert out.dtype == ours.grad.dtype == x.dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **tolerance)
    np.testing.assert_array_equal(x, copy)


@SOME
@given(args=pool_args(1, "max"), indices=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_max_pool1d_matches_torch(torch, args, indices, dtype, seed):
    shape, kwargs = args
    compare(torch, "max_pool1d", distinct(np.random.default_rng(seed), shape, dtype),
            return_indices=indices, **kwargs)


@SOME
@given(args=pool_args(3, "max"), indices=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_max_pool3d_matches_torch(torch, args, indices, dtype, seed):
    shape, kwargs = args
    compare(torch, "max_pool3d", distinct(np.random.default_rng(seed), shape, dtype),
            return_indices=indices, **kwargs)


@SOME
@given(args=pool_args(1, "avg"), dtype=DTYPES, seed=st.integers(0, 99))
def test_avg_pool1d_matches_torch(torch, args, dtype, seed):
    shape, kwargs = args
    compare(torch, "avg_pool1d",
            np.random.default_rng(seed).standard_normal(shape).astype(dtype), **kwargs)


@SOME
@given(args=pool_args(3, "avg"), dtype=DTYPES, seed=st.integers(0, 99))
def test_avg_pool3d_matches_torch(torch, args, dtype, seed):
    shape, kwargs = args
    compare(torch, "avg_pool3d",
            np.random.default_rng(seed).standard_normal(shape).astype(dtype), **kwargs)


@st.composite
def adaptive_args(draw, dims: int):
    size = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    out = tuple(draw(st.one_of(st.integers(1, 8), st.none())) for _ in range(dims))
    if dims == 1:
        out = out[0] if out[0] is not None else size[0]
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    return (*batch, draw(st.integers(1, 2)), *size), out


@SOME
@given(args=adaptive_args(1), kind=st.sampled_from(["avg", "max"]), dtype=DTYPES,
       seed=st.integers(0, 99))
def test_adaptive_pool1d_matches_torch(torch, args, kind, dtype, seed):
    shape, out = args
    extra = {"return_indices": True} if kind == "max" else {}
    compare(torch, f"adaptive_{kind}_pool1d", distinct(np.random.default_rng(seed), shape,
                                                       dtype), out, **extra)


@SOME
@given(args=adaptive_args(3), kind=st.sampled_from(["avg", "max"]), dtype=DTYPES,
       seed=st.integers(0, 99))
def test_adaptive_pool3d_matches_torch(torch, args, kind, dtype, seed):
    shape, out = args
    extra = {"return_indices": True} if kind == "max" else {}
    compare(torch, f"adaptive_{kind}_pool3d", distinct(np.random.default_rng(seed), shape,
                                                       dtype), out, **extra)


@SOME
@given(dims=st.integers(1, 3), norm=st.sampled_from([1.0, 2.0, 3.0, 1.5]),
       kernel=st.integers(1, 3), stride=st.one_of(st.none(), st.integers(1, 2)),
       ceil_mode=st.booleans(), dtype=DTYPES, seed=st.integers(0, 99))
def test_lp_pool_matches_torch(torch, dims, norm, kernel, stride, ceil_mode, dtype, seed):
    rng = np.random.default_rng(seed)
    shape = (2, 2) + tuple(kernel + int(rng.integers(0, 4)) for _ in range(dims))
    # positive inputs: x ** 1.5 of a negative number is NaN in both frameworks
    x = (rng.random(shape) + 0.5).astype(dtype)
    compare(torch, f"lp_pool{dims}d", x, norm, kernel, stride, ceil_mode)


@pytest.mark.parametrize("dims, kwargs", [
    (1, {"kernel_size": 2}), (1, {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, {"kernel_size": 2}), (2, {"kernel_size": (3, 2), "stride": (2, 2), "padding": (1, 0)}),
    (3, {"kernel_size": 2}), (3, {"kernel_size": (2, 3, 2), "stride": (2, 3, 2),
                                  "padding": (1, 1, 0)}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_unpool_matches_torch(torch, dims, kwargs, dtype):
    rng = np.random.default_rng(dims)
    shape = (2, 3) + (7, 8, 6)[:dims]
    source = torch.from_numpy(distinct(rng, shape, dtype))
    pooled, indices = getattr(torch.nn.functional, f"max_pool{dims}d")(
        source, return_indices=True, **kwargs)
    expected_size = shape[2:]
    name = f"max_unpool{dims}d"
    theirs = pooled.detach().clone().requires_grad_()
    expected = getattr(torch.nn.functional, name)(theirs, indices, output_size=expected_size,
                                                  **kwargs)
    ours = mg.tensor(pooled.numpy(), requires_grad=True)
    out = getattr(F, name)(ours, mg.tensor(indices.numpy()), output_size=expected_size,
                           **kwargs)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(mg.tensor(upstream))
    expected.backward(torch.from_numpy(upstream))
    assert out.dtype == ours.grad.dtype == dtype
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_max_unpool_default_size_and_unbatched(torch):
    x = torch.randn(3, 8)
    pooled, indices = torch.nn.functional.max_pool1d(x, 2, return_indices=True)
    expected = torch.nn.functional.max_unpool1d(pooled, indices, 2)
    out = F.max_unpool1d(mg.tensor(pooled.numpy()), mg.tensor(indices.numpy()), 2)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


# ---- gradcheck and gradgradcheck ----------------------------------------------------------
@FEW
@given(args=pool_args(3, "max"), seed=st.integers(0, 9))
def test_max_pool3d_gradgradcheck(args, seed):
    shape, kwargs = args
    x = mg.tensor(distinct(np.random.default_rng(seed), shape), requires_grad=True)
    assert gradcheck(lambda x: F.max_pool3d(x, **kwargs), [x])
    assert gradgradcheck(lambda x: F.max_pool3d(x, **kwargs), [x])


@FEW
@given(args=pool_args(3, "avg"), seed=st.integers(0, 9))
def test_avg_pool3d_gradgradcheck(args, seed):
    shape, kwargs = args
    x = mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x: F.avg_pool3d(x, **kwargs), [x])
    assert gradgradcheck(lambda x: F.avg_pool3d(x, **kwargs), [x])


@pytest.mark.parametrize("name, shape, args", [
    ("max_pool1d", (2, 2, 7), (3, 2, 1)),
    ("avg_pool1d", (2, 2, 7), (3, 2, 1)),
    ("adaptive_avg_pool1d", (2, 2, 7), (3,)),
    ("adaptive_max_pool1d", (2, 2, 7), (3,)),
    ("adaptive_avg_pool3d", (1, 2, 4, 5, 3), ((2, 3, 2),)),
    ("adaptive_max_pool3d", (1, 2, 4, 5, 3), ((2, 3, 2),)),
    ("lp_pool1d", (1, 2, 7), (2.0, 3, 2)),
    ("lp_pool2d", (1, 2, 5, 4), (3.0, 2)),
    ("lp_pool3d", (1, 2, 4, 4, 3), (2.0, 2)),
])
def test_gradcheck_and_gradgradcheck(name, shape, args):
    values = distinct(np.random.default_rng(4), shape)
    if name.startswith("lp"):
        values = values + 2.5  # away from the kink of |x| at 0
    x = mg.tensor(values, requires_grad=True)
    assert gradcheck(lambda x: getattr(F, name)(x, *args), [x])
    assert gradgradcheck(lambda x: getattr(F, name)(x, *args), [x])


def test_max_unpool_gradgradcheck():
    x = mg.tensor(np.random.default_rng(5).standard_normal((2, 2, 3, 3)), requires_grad=True)
    indices = mg.tensor(np.array([0, 3, 5, 12, 14, 17, 24, 27, 29]).reshape(1, 1, 3, 3)
                        .repeat(2, 0).repeat(2, 1))
    assert gradcheck(lambda x: F.max_unpool2d(x, indices, 2, output_size=(6, 6)), [x])
    assert gradgradcheck(lambda x: F.max_unpool2d(x, indices, 2, output_size=(6, 6)), [x])


def penalty_gradients(framework, f, array):
    """d/dx of ||d(f . v)/dx||^2 through conv -> pool, float64."""
    if framework == "torch":
        import torch

        x = torch.tensor(array, requires_grad=True)
        out = f(x)
        v = torch.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
        g, = torch.autograd.grad((out * v).sum(), x, create_graph=True)
        return torch.autograd.grad((g * g).sum(), x)[0].numpy()
    x = mg.tensor(array, requires_grad=True)
    out = f(x)
    v = mg.tensor(np.random.default_rng(7).standard_normal(out.shape))
    g, = autograd.grad((out * v).sum(), x, create_graph=True)
    return autograd.grad((g * g).sum(), x)[0].numpy()


@pytest.mark.parametrize("name, args", [
    ("max_pool3d", (2, 1, 1)), ("avg_pool3d", (3, 2, 1)), ("adaptive_max_pool3d", (2,)),
    ("adaptive_avg_pool3d", ((3, 2, 2),)), ("lp_pool3d", (2.0, 2)),
])
def test_second_derivative_through_pool_matches_torch(torch, name, args):
    array = distinct(np.random.default_rng(6), (1, 2, 5, 4, 4))
    mine = penalty_gradients("mg", lambda x: getattr(F, name)(x.tanh() + 1.5, *args), array)
    reference = penalty_gradients(
        "torch", lambda x: getattr(torch.nn.functional, name)(x.tanh() + 1.5, *args), array)
    np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-9)


# ---- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda F, t, i: F.max_pool3d(t(2, 4, 4), 2), RuntimeError, "4-D .* 5-D"),
    (lambda F, t, i: F.max_pool3d(t(1, 1, 4, 4, 4), 2, padding=2), RuntimeError,
     "pad should"),
    (lambda F, t, i: F.avg_pool3d(t(1, 1, 2, 4, 4), 3), RuntimeError, "too small"),
    (lambda F, t, i: F.max_pool1d(t(1, 2, 8, 8, 8), 2), RuntimeError, "2-D .* 3-D"),
    (lambda F, t, i: F.avg_pool1d(t(1, 2, 8), 2, padding=2), RuntimeError, "pad"),
    (lambda F, t, i: F.max_unpool2d(t(1, 1, 2, 2), i((1, 1, 2, 2), 99), 2), RuntimeError,
     "invalid max index"),
    (lambda F, t, i: F.max_unpool2d(t(1, 1, 2, 2), i((1, 1, 2, 2), 0), 2, output_size=(9, 9)),
     ValueError, "output_size"),
    (lambda F, t, i: F.unfold(t(1, 2, 3, 3), 4), RuntimeError, "sliding blocks"),
    (lambda F, t, i: F.fold(t(1, 8, 5), (4, 4), 2), RuntimeError, "sliding blocks"),
    (lambda F, t, i: F.fold(t(1, 7, 9), (4, 4), 2), RuntimeError, "divisible"),
])
def test_errors_match_torch(torch, call, error, match):
    """The same call raises the same exception type in both frameworks."""
    with pytest.raises(error):
        call(torch.nn.functional, torch.randn,
             lambda shape, value: torch.full(shape, value, dtype=torch.int64))
    with pytest.raises(error, match=match):
        call(F, mg.randn, lambda shape, value: mg.tensor(np.full(shape, value, dtype=np.int64)))


# ---- fold / unfold ------------------------------------------------------------------------
@st.composite
def fold_args(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(max(d * (k - 1) + 1 - 2 * p, 1) + draw(st.integers(0, 4))
                 for d, k, p in zip(dilation, kernel, padding))
    batch = () if draw(st.booleans()) else (draw(st.integers(1, 2)),)
    return ((*batch, draw(st.integers(1, 3)), *size),
            {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride})


@SOME
@given(args=fold_args(), dtype=DTYPES, seed=st.integers(0, 99))
def test_unfold_and_fold_match_torch(torch, args, dtype, seed):
    shape, kwargs = args
    rng = np.random.default_rng(seed)
    compare(torch, "unfold", rng.standard_normal(shape).astype(dtype), **kwargs)
    columns = torch.nn.functional.unfold(torch.zeros(shape, dtype=torch.float64), **kwargs)
    compare(torch, "fold", rng.standard_normal(tuple(columns.shape)).astype(dtype), shape[-2:],
            **kwargs)


@FEW
@given(args=fold_args(), seed=st.integers(0, 9))
def test_unfold_and_fold_gradgradcheck(args, seed):
    shape, kwargs = args
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradgradcheck(lambda x: F.unfold(x, **kwargs), [x])
    columns = F.unfold(x.detach(), **kwargs)
    c = mg.tensor(rng.standard_normal(columns.shape), requires_grad=True)
    assert gradgradcheck(lambda c: F.fold(c, shape[-2:], **kwargs), [c])


def test_fold_of_unfold_counts_window_overlaps():
    """fold(unfold(ones)) counts how many windows cover each pixel (PyTorch's docs)."""
    ones = mg.ones(1, 1, 4, 4)
    counts = F.fold(F.unfold(ones, 3, padding=1), (4, 4), 3, padding=1)
    expected = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(counts.numpy()[0, 0], expected)


@pytest.mark.parametrize("name, args", [("max_pool3d", (3, 1, 1)), ("max_pool3d", (2,)),
                                        ("adaptive_max_pool3d", ((2, 3, 2),))])
def test_nan_and_ties_follow_torchs_scan(torch, name, args):
    """Ties go to the first max in (d, h, w) order, NaN to the last NaN of a window; a
    window of -inf names its first pixel inside the input."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, size=(2, 2, 4, 5, 4)).astype(np.float64)  # many ties
    x[0, 0, 1, 1, 1] = x[0, 0, 1, 2, 2] = x[1, 1, 2, 3, 0] = np.nan
    x[1, 0] = -np.inf
    compare(torch, name, x, *args, return_indices=True)
