"""Reductions: gradients (gradcheck), PyTorch agreement incl. ties, dtypes, dim errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck
from minigrad.testing.strategies import arrays, shapes


# ---- strategies ------------------------------------------------------------------------------
@st.composite
def dims(draw, ndim, single=False):
    """A `dim` argument for a tensor of `ndim` dims: None, an int or a tuple, maybe negative."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1] if not single else [0, -1]))
    one = st.integers(-ndim, ndim - 1)
    if single:
        return draw(one)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
    chosen = draw(st.one_of(st.none(), one, several))
    if isinstance(chosen, list):
        signs = draw(st.lists(st.booleans(), min_size=len(chosen), max_size=len(chosen)))
        chosen = tuple(axis - ndim if negative else axis for axis, negative in zip(chosen, signs))
    return chosen


@st.composite
def reductions(draw, single=False, min_dims=0, **elements):
    """(array, dim, keepdim) with a tiny float64 array."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=3))
    dim = draw(dims(len(shape), single=single))
    keepdim = draw(st.booleans())
    return draw(arrays(shape, **elements)), dim, keepdim


def reduced_count(shape, dim):
    """How many elements each output element of a reduction over `dim` covers."""
    if dim is None or len(shape) == 0:
        return int(np.prod(shape, dtype=np.int64))
    axes = dim if isinstance(dim, tuple) else (dim,)
    return int(np.prod([shape[axis] for axis in axes], dtype=np.int64))


# ---- gradients: gradcheck in float64 ----------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@given(case=reductions())
def test_smooth_reduction_gradient(name, case):
    x, dim, keepdim = case
    function = getattr(mg, name)
    if name == "logsumexp" and dim is None:
        dim = tuple(range(x.ndim))
    assert gradcheck(lambda t: function(t, dim, keepdim), [mg.tensor(x)])


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(case=reductions(distinct=True))
def test_amax_amin_gradient(name, case):
    x, dim, keepdim = case
    function = getattr(mg, name)
    dim = () if dim is None else dim
    assert gradcheck(lambda t: function(t, dim, keepdim=keepdim), [mg.tensor(x)])


@pytest.mark.parametrize("name", ["max", "min"])
@given(x=arrays(shapes(max_dims=3, max_side=3), distinct=True))
def test_full_max_min_gradient(name, x):
    assert gradcheck(lambda t: getattr(t, name)(), [mg.tensor(x)])


@pytest.mark.parametrize("name", ["max", "min"])
@given(case=reductions(single=True, distinct=True))
def test_max_min_along_dim_gradient(name, case):
    x, dim, keepdim = case
    assert gradcheck(lambda t: getattr(mg, name)(t, dim, keepdim).values, [mg.tensor(x)])


@given(case=reductions(single=True, low=-2.0, high=2.0), full=st.booleans())
def test_prod_gradient(case, full):
    x, dim, keepdim = case
    dim = None if full else dim
    assert gradcheck(lambda t: mg.prod(t, dim, keepdim), [mg.tensor(x)])


@pytest.mark.parametrize("name", ["var", "std"])
@given(case=reductions(distinct=True), correction=st.sampled_from([0, 1, 0.5]))
def test_var_std_gradient(name, case, correction):
    x, dim, keepdim = case
    count = reduced_count(x.shape, dim)
    assume(count >= 2)  # keeps N - correction > 0 and std > 0 (a kink at 0)
    function = getattr(mg, name)
    assert gradcheck(lambda t: function(t, dim, keepdim=keepdim, correction=correction),
                     [mg.tensor(x)])


@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3), low=0.5, high=2.0,
                distinct=True))
def test_gradient_of_a_composite_expression(x):
    def expression(t):
        centered = t - t.mean(-1, keepdim=True)
        return (centered * centered).sum() / t.std() + t.logsumexp(0).sum() * t.amax()

    assert gradcheck(expression, [mg.tensor(x)])


# ---- known values ----------------------------------------------------------------------------
def test_known_values():
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.sum().item() == 21.0
    assert x.sum(0).tolist() == [5.0, 7.0, 9.0]
    assert x.sum(-1, keepdim=True).tolist() == [[6.0], [15.0]]
    assert x.mean((0, 1)).item() == 3.5
    assert x.prod(1).tolist() == [6.0, 120.0]
    np.testing.assert_allclose(x.var().item(), 3.5)  # 17.5 / 5
    np.testing.assert_allclose(x.var(unbiased=False).item(), 17.5 / 6)
    np.testing.assert_allclose(x.std(1).tolist(), [1.0, 1.0])
    np.testing.assert_allclose(x.logsumexp(1).tolist(),
                               np.log(np.exp([[1, 2, 3], [4, 5, 6]]).sum(1)), rtol=1e-6)
    assert x.argmax().item() == 5 and x.argmin(1).tolist() == [0, 0]


def test_known_gradients_by_hand():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x.sum(0) * mg.tensor([10.0, 20.0])).sum().backward()
    assert x.grad.tolist() == [[10.0, 20.0], [10.0, 20.0]]
    x.grad = None
    x.mean().backward()
    assert x.grad.tolist() == [[0.25, 0.25], [0.25, 0.25]]


def test_max_along_dim_returns_named_values_and_indices():
    x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], requires_grad=True)
    result = x.max(1)
    values, indices = result
    assert values is result.values and indices is result.indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == mg.int64 and not indices.requires_grad
    kept = mg.min(x, dim=0, keepdim=True)
    assert kept.values.shape == (1, 3) and kept.indices.tolist() == [[0, 1, 0]]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # first maximum only


def test_max_with_a_tensor_is_maximum():
    a = mg.tensor([1.0, 4.0])
    b = mg.tensor([3.0, 2.0])
    assert a.max(b).tolist() == [3.0, 4.0] and mg.min(a, b).tolist() == [1.0, 2.0]


def test_zero_dim_tensors_accept_dim_zero_and_minus_one():
    x = mg.tensor(2.5, requires_grad=True)
    assert x.sum(0).shape == () and x.sum(-1, keepdim=True).shape == ()
    values, indices = x.max(0)
    assert values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0
    assert x.argmax(0).item() == 0 and x.prod(0).item() == 2.5


def test_logsumexp_is_stable_for_huge_logits():
    x = mg.tensor([1e4, 1e4, -1e4], requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        out = x.logsumexp(0)
        out.backward()
    np.testing.assert_allclose(out.item(), 1e4 + np.log(2.0), rtol=1e-7)
    np.testing.assert_allclose(x.grad.tolist(), [0.5, 0.5, 0.0])
    all_negative_infinity = mg.tensor([-np.inf, -np.inf])
    assert all_negative_infinity.logsumexp(0).item() == -np.inf


def test_prod_gradient_with_zeros():
    x = mg.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]


def test_empty_reductions():
    empty = mg.zeros(0, 3)
    assert empty.sum().item() == 0.0
    assert np.isnan(empty.mean().item())
    assert empty.prod(0).tolist() == [1.0, 1.0, 1.0]
    assert empty.max(1).values.shape == (0,)


# ---- dtypes ----------------------------------------------------------------------------------
FLOAT32_CASES = {
    "sum": lambda t: t.sum(1),
    "sum all": lambda t: t.sum(),
    "mean": lambda t: t.mean((0, -1), keepdim=True),
    "prod": lambda t: t.prod(0),
    "prod all": lambda t: t.prod(),
    "max": lambda t: t.max(),
    "max dim": lambda t: t.max(1).values,
    "min": lambda t: t.min(),
    "min dim": lambda t: t.min(0, keepdim=True).values,
    "amax": lambda t: t.amax(1),
    "amin": lambda t: t.amin((0, 1)),
    "var": lambda t: t.var(1),
    "std": lambda t: t.std(0, correction=0),
    "logsumexp": lambda t: t.logsumexp(1),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_in_float32_out_and_grads_and_input_not_mutated(name):
    array = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    copy = array.copy()
    x = mg.tensor(array, requires_grad=True)
    out = FLOAT32_CASES[name](x)
    assert out.dtype == mg.float32
    out.backward(mg.ones_like(out))
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.data, copy)


def test_float64_end_to_end():
    x = mg.tensor([[0.5, 1.5], [2.0, 3.0]], dtype=mg.float64, requires_grad=True)
    out = x.std(0).sum() + x.logsumexp(1).mean() + x.max() * x.prod()
    assert out.dtype == mg.float64
    out.backward()
    assert x.grad.dtype == mg.float64


def test_integer_and_bool_reductions_follow_pytorch_dtypes():
    ints = mg.tensor([[1, 2], [3, 4]], dtype=mg.int32)
    assert mg.tensor([True, True, False]).sum().dtype == mg.int64
    assert mg.tensor([True, True, False]).sum().item() == 2
    assert ints.sum(0).dtype == mg.int64
    assert ints.prod().dtype == mg.int64 and ints.prod().item() == 24
    assert ints.max().dtype == mg.int32 and ints.amax(0).dtype == mg.int32
    assert ints.argmax().dtype == mg.int64
    assert ints.logsumexp(1).dtype == mg.float32
    assert ints.mean(dtype=mg.float32).item() == 2.5
    float32_input = mg.tensor([1.0, 2.0], requires_grad=True)
    total = float32_input.sum(dtype=mg.float64)
    assert total.dtype == mg.float64
    total.backward()
    assert float32_input.grad.dtype == mg.float32


# ---- bad input -------------------------------------------------------------------------------
DIM_CALLS = {
    "sum": lambda t, d: t.sum(d), "mean": lambda t, d: t.mean(d),
    "prod": lambda t, d: t.prod(d), "max": lambda t, d: t.max(d), "min": lambda t, d: t.min(d),
    "amax": lambda t, d: t.amax(d), "amin": lambda t, d: t.amin(d),
    "var": lambda t, d: t.var(d), "std": lambda t, d: t.std(d),
    "logsumexp": lambda t, d: t.logsumexp(d), "argmax": lambda t, d: t.argmax(d),
    "argmin": lambda t, d: t.argmin(d),
}


@pytest.mark.parametrize("name", sorted(DIM_CALLS))
@pytest.mark.parametrize("bad, shown", [(3, 3), (-3, -3), ((0, 2), 2)])
def test_bad_dim_raises_index_error_with_the_range(name, bad, shown):
    if name in ("prod", "max", "min", "argmax", "argmin") and isinstance(bad, tuple):
        return  # these take one int dim
    x = mg.ones(2, 3)
    message = (rf"^{name}: Dimension out of range \(expected to be in range of \[-2, 1\], "
               rf"but got {shown}\)")
    with pytest.raises(IndexError, match=message):
        DIM_CALLS[name](x, bad)


def test_other_bad_arguments_raise_pytorch_errors():
    x = mg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"sum: dim 0 appears multiple times"):
        x.sum((0, -2))
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        mg.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="var: std and var only support floating point"):
        mg.tensor([1, 2]).var()
    with pytest.raises(TypeError, match="var: pass either unbiased= or correction="):
        x.var(unbiased=False, correction=0)
    with pytest.raises(TypeError, match="max: dim must be a single int"):
        x.max(dim=(0, 1))
    with pytest.raises(TypeError, match="sum: dim must be an int"):
        x.sum(1.0)
    with pytest.raises(RuntimeError, match="max: Expected reduction dim to be specified"):
        mg.zeros(0, 3).max()
    with pytest.raises(IndexError, match="argmax: Expected reduction dim 0 to have non-zero"):
        mg.zeros(0, 3).argmax(0)
    with pytest.raises(TypeError, match="sum: argument 'input' must be a Tensor"):
        mg.sum([1.0, 2.0])


# ---- agreement with PyTorch ------------------------------------------------------------------
TOLERANCES = {"float32": {"rtol": 2e-5, "atol": 1e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def compare_with_torch(torch, mg_function, torch_function, array, dtype, seed=0):
    """Run both frameworks on the same input; compare output, grad and their dtypes."""
    mine = mg.tensor(array.astype(dtype), requires_grad=True)
    theirs = torch.tensor(array.astype(dtype), requires_grad=True)
    out = mg_function(mine)
    expected = torch_function(theirs)
    assert str(expected.dtype) == f"torch.{out.dtype}"
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), equal_nan=True,
                               **TOLERANCES[dtype])
    weights = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert mine.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), equal_nan=True,
                               **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_cases_match_torch(name, dtype):
    """The dtype cases above, each call run on torch tensors too, for values."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3))
    compare_with_torch(torch, FLOAT32_CASES[name], FLOAT32_CASES[name], x, dtype)


def reduction_cases():
    """(label, call) pairs; each call works on minigrad and torch tensors alike."""
    cases = []
    for dim, keepdim in ((None, False), (1, False), ((0, -1), True), (-1, True)):
        for name in ("sum", "mean", "amax", "amin", "var", "std"):
            if dim is None:
                cases.append((f"{name}()", lambda t, n=name: getattr(t, n)()))
            else:
                cases.append((f"{name}({dim}, {keepdim})",
                              lambda t, n=name, d=dim, k=keepdim: getattr(t, n)(d, keepdim=k)))
        if dim is not None:
            cases.append((f"logsumexp({dim}, {keepdim})",
                          lambda t, d=dim, k=keepdim: t.logsumexp(d, keepdim=k)))
    for dim, keepdim in ((0, False), (2, True), (-2, False)):
        for name in ("max", "min"):
            cases.append((f"{name}({dim}, {keepdim})",
                          lambda t, n=name, d=dim, k=keepdim: getattr(t, n)(d, k).values))
        cases.append((f"prod({dim}, {keepdim})", lambda t, d=dim, k=keepdim: t.prod(d, k)))
    cases += [
        ("max()", lambda t: t.max()), ("min()", lambda t: t.min()), ("prod()", lambda t: t.prod()),
        ("var(correction=0)", lambda t: t.var(1, correction=0)),
        ("var(correction=2)", lambda t: t.var((0, 2), correction=2)),
        ("std(unbiased=False)", lambda t: t.std(0, unbiased=False)),
        ("var(legacy positional)", lambda t: t.var(1, True, True)),
        ("std(legacy bool)", lambda t: t.std(False)),
    ]
    return cases


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label, call", reduction_cases(),
                         ids=[label for label, _ in reduction_cases()])
def test_reduction_matches_torch(label, call, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).uniform(-2.0, 2.0, (2, 3, 4))
    compare_with_torch(torch, call, call, x, dtype)


TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 3.0], [-1.0, 0.0, -1.0, -1.0]])
TIE_CASES = {
    "max()": lambda t: t.max(),
    "min()": lambda t: t.min(),
    "amax(1)": lambda t: t.amax(1),
    "amin(0)": lambda t: t.amin(0),
    "amax((0, 1))": lambda t: t.amax((0, 1)),
    "amin(-1, keepdim)": lambda t: t.amin(-1, keepdim=True),
    "max(1)": lambda t: t.max(1).values,
    "max(0, keepdim)": lambda t: t.max(0, keepdim=True).values,
    "min(1)": lambda t: t.min(1).values,
    "min(0)": lambda t: t.min(0).values,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label", sorted(TIE_CASES))
def test_ties_match_torch(label, dtype):
    torch = pytest.importorskip("torch")
    compare_with_torch(torch, TIE_CASES[label], TIE_CASES[label], TIES, dtype)


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
def test_indices_at_ties_match_torch(name):
    torch = pytest.importorskip("torch")
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            mine = getattr(mg.tensor(TIES), name)(dim, keepdim)
            theirs = getattr(torch.tensor(TIES), name)(dim, keepdim)
            if name in ("max", "min"):
                mine, theirs = mine.indices, theirs.indices
            assert mine.dtype == mg.int64
            assert mine.tolist() == theirs.tolist()
    for keepdim in (False, True):
        mine = getattr(mg, name)(mg.tensor(TIES), keepdim=keepdim) if "arg" in name else None
        if mine is not None:
            theirs = getattr(torch, name)(torch.tensor(TIES), keepdim=keepdim)
            assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_points_match_torch(dtype):
    torch = pytest.importorskip("torch")
    with np.errstate(all="raise", under="ignore"):
        zeros = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]])
        compare_with_torch(torch, lambda t: t.prod(1), lambda t: t.prod(1), zeros, dtype)
        compare_with_torch(torch, lambda t: t.prod(), lambda t: t.prod(), zeros, dtype)
        flat = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])
        compare_with_torch(torch, lambda t: t.std(1), lambda t: t.std(1), flat, dtype)
        if dtype == "float64":  # in float32 torch's exp(x - out) is off by 2e-4 at 1e4
            huge = np.array([[1e4, 1e4, -1e4], [-np.inf, 0.0, 1.0]])
            compare_with_torch(torch, lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), huge,
                               dtype)


def test_integer_results_match_torch():
    torch = pytest.importorskip("torch")
    values = np.array([[1, 5, 5], [7, 0, 7]])
    for dtype in (np.int32, np.int64, np.bool_):
        array = values.astype(dtype)
        calls = [lambda t: t.sum(), lambda t: t.sum(1), lambda t: t.amax(0),
                 lambda t: t.max(), lambda t: t.max(1).indices]
        if dtype is not np.bool_:  # torch has no argmax for bool
            calls.append(lambda t: t.argmax(1))
        for call in calls:
            mine = call(mg.tensor(array))
            theirs = call(torch.tensor(array))
            assert str(theirs.dtype) == f"torch.{mine.dtype}".replace("bool_", "bool")
            assert mine.tolist() == theirs.tolist()


# ---- sum_to_size: broadcasting's gradient rule for custom ops --------------------------
@given(st.data())
def test_sum_to_size_matches_pytorch_and_its_gradient_checks(data):
    from minigrad.testing.strategies import broadcastable_shapes

    small, big = data.draw(broadcastable_shapes(count=2, max_dims=3, max_side=3))
    full = np.broadcast_shapes(small, big)
    x = data.draw(arrays(full))
    result = mg.tensor(x).sum_to_size(small)
    lead = len(full) - len(small)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(small)
                                      if n == 1 and full[lead + i] != 1)
    expected = x.sum(axis=axes, keepdims=True).reshape(small) if axes else x
    assert result.shape == small and np.allclose(result.data, expected)
    assert gradcheck(lambda t: t.sum_to_size(*small), [mg.tensor(x)])


def test_sum_to_size_against_torch_and_its_errors():
    torch = pytest.importorskip("torch")
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for size in [(3, 1), (1, 3, 1), (4,), (2, 3, 4), (1, 1, 1), ()]:
        ours = mg.tensor(x).sum_to_size(*size) if size else mg.tensor(x).sum_to_size(size)
        theirs = torch.tensor(x).sum_to_size(size)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == mg.float32
        assert np.array_equal(ours.data, theirs.numpy())
    same = mg.tensor(x)
    assert same.sum_to_size(2, 3, 4) is same and same.sum_to_size((3, 1)).shape == (3, 1)
    for bad in [(5,), (2, 3, 4, 1), (3, 2)]:
        with pytest.raises(RuntimeError, match=r"is not expandable to size \{\[2, 3, 4\]\}"):
            mg.tensor(x).sum_to_size(*bad)
    with pytest.raises(TypeError, match="sum_to_size"):
        mg.tensor(x).sum_to_size(2.5)
