"""F.scaled_dot_product_attention and F.layer_norm against PyTorch on hypothesis-drawn shapes
(float32 and float64), gradcheck and gradgradcheck, second derivatives against torch, masks,
dtype, inputs not mutated, and PyTorch's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd import grad as mg_grad
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FEW = settings(max_examples=12, deadline=None)
# float32: a row with variance near eps loses ~1e-4 to cancellation in either framework (a
# case drawn here: minigrad 1.0e-4, PyTorch 2.7e-4 from the float64 value), so 1e-3 relative
TOLERANCE = {np.float32: {"rtol": 1e-3, "atol": 1e-4}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}


def both(values, dtype):
    ours = [mg.tensor(v.astype(dtype), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.astype(dtype), requires_grad=True) for v in values]
    return ours, theirs


def compare(fn_ours, fn_theirs, values, dtype, seed=0):
    """Outputs and the gradients of a random projection of the output agree with torch."""
    before = [v.copy() for v in values]
    ours, theirs = both(values, dtype)
    out_ours, out_theirs = fn_ours(*ours), fn_theirs(*theirs)
    assert out_ours.dtype == ours[0].dtype
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(),
                               **TOLERANCE[dtype])
    weights = np.random.default_rng(seed).standard_normal(out_ours.shape).astype(dtype)
    (out_ours * mg.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        assert a.grad.dtype == a.dtype
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOLERANCE[dtype])
    for value, kept in zip(values, before, strict=True):
        np.testing.assert_array_equal(value, kept)


@st.composite
def attention_shapes(draw):
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    length, source, embed, value_dim = (draw(st.integers(1, 4)) for _ in range(4))
    return batch + (length, embed), batch + (source, embed), batch + (source, value_dim)


@FEW
@given(shapes=attention_shapes(), dtype=st.sampled_from([np.float32, np.float64]),
       mask_kind=st.sampled_from([None, "bool", "float", "causal"]),
       scale=st.sampled_from([None, 0.3]), seed=st.integers(0, 2**16))
def test_sdpa_matches_torch(shapes, dtype, mask_kind, scale, seed):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape) for shape in shapes]
    length, source = shapes[0][-2], shapes[1][-2]
    mask_ours = mask_theirs = None
    causal = mask_kind == "causal"
    if mask_kind == "bool":
        mask = rng.random((length, source)) > 0.3
        mask[:, 0] = True  # every query row may attend somewhere
        mask_ours, mask_theirs = mg.tensor(mask), torch.tensor(mask)
    elif mask_kind == "float":
        mask = rng.standard_normal((length, source)).astype(dtype)
        mask_ours, mask_theirs = mg.tensor(mask), torch.tensor(mask)
    compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask_ours, is_causal=causal,
                                                           scale=scale),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, mask_theirs,
                                                            is_causal=causal, scale=scale),
            values, dtype, seed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_grouped_query_attention_and_broadcast_mask(dtype):
    rng = np.random.default_rng(1)
    values = [rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)),
              rng.standard_normal((2, 2, 6, 3))]
    mask = rng.random((2, 1, 3, 6)) > 0.4
    mask[..., 0] = True
    compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mg.tensor(mask),
                                                           enable_gqa=True),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask),
                                                            enable_gqa=True),
            values, dtype)


def test_sdpa_fully_masked_row_gives_zeros_like_torch():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 3, 4)) for _ in range(3))
    mask = np.array([[True, False, True], [False, False, False], [True, True, True]])
    compare(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mg.tensor(mask)),
            lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask)),
            [q, k, v], np.float64)
    out = F.scaled_dot_product_attention(*(mg.tensor(a) for a in (q, k, v)), mg.tensor(mask))
    np.testing.assert_array_equal(out.numpy()[0, 1], 0)


def test_sdpa_dropout_is_seeded_and_scaled():
    q = mg.ones(1, 4, 2)
    v = mg.tensor(np.arange(8.0, dtype=np.float32).reshape(1, 4, 2))
    mg.manual_seed(3)
    first = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, F.scaled_dot_product_attention(q, q, v,
                                                                         dropout_p=0.5).numpy())
    # uniform weights 1/4, each kept one scaled to 1/2: every output is a sum of v rows / 2
    rows = v.numpy()[0]
    sums = {tuple(rows[list(s)].sum(0) / 2) for s in _subsets(4)}
    assert all(tuple(row) in sums for row in first[0])


def _subsets(n):
    return [[i for i in range(n) if bits >> i & 1] for bits in range(2**n)]


def test_sdpa_gradcheck_and_gradgradcheck():
    q, k, v = mg.randn(2, 3, 2, dtype=mg.float64), mg.randn(2, 4, 2, dtype=mg.float64), \
        mg.randn(2, 4, 3, dtype=mg.float64)
    mask = mg.tensor(np.array([[1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 1, 1]], dtype=bool))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), [q, k, v])
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask),
                         [q, k, v])
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v[:, :, :2],
                                                                        is_causal=True),
                         [q, k[:, :3], v[:, :3]])


def second_derivative(library, grad, fn, tensors, v):
    first = grad((fn(*tensors) ** 2).sum(), tensors, create_graph=True)
    total = sum((g * library.tensor(w)).sum() for g, w in zip(first, v, strict=True))
    return [s.detach().numpy() for s in grad(total, tensors)]


def test_sdpa_second_derivative_matches_torch():
    rng = np.random.default_rng(4)
    values = [rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 4, 2)),
              rng.standard_normal((2, 4, 3))]
    v = [rng.standard_normal(value.shape) for value in values]
    mask = rng.random((3, 4)) > 0.3
    mask[:, 0] = True
    ours, theirs = both(values, np.float64)
    got = second_derivative(mg, mg_grad, lambda q, k, val: F.scaled_dot_product_attention(
        q, k, val, mg.tensor(mask)), ours, v)
    want = second_derivative(torch, torch.autograd.grad,
                             lambda q, k, val: TF.scaled_dot_product_attention(
                                 q, k, val, torch.tensor(mask)), theirs, v)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_sdpa_errors_like_torch():
    q = mg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, mg.ones(3, 3, dtype=mg.bool_), is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="share E"):
        F.scaled_dot_product_attention(q, mg.randn(2, 3, 5), q)
    with pytest.raises(TypeError, match="query"):
        F.scaled_dot_product_attention(np.ones((2, 3)), q, q)


# ---- layer_norm ----------------------------------------------------------------------------
@st.composite
def layer_norm_shapes(draw):
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    normalized = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    return lead + normalized, normalized


@FEW
@given(shapes=layer_norm_shapes(), dtype=st.sampled_from([np.float32, np.float64]),
       affine=st.sampled_from(["both", "weight", "none"]), seed=st.integers(0, 2**16))
def test_layer_norm_matches_torch(shapes, dtype, affine, seed):
    rng = np.random.default_rng(seed)
    shape, normalized = shapes
    values = [rng.standard_normal(shape)]
    if affine != "none":
        values.append(rng.standard_normal(normalized))
    if affine == "both":
        values.append(rng.standard_normal(normalized))
    if np.prod(normalized) == 1:
        values[0] = np.zeros(shape)  # one element: the normalised value is exactly 0
    compare(lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-3),
            lambda x, *wb: TF.layer_norm(x, normalized, *wb, eps=1e-3), values, dtype, seed)


def test_layer_norm_gradcheck_gradgradcheck_and_second_derivative():
    rng = np.random.default_rng(5)
    values = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)]
    inputs = [mg.tensor(value) for value in values]
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), inputs)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), inputs)
    v = [rng.standard_normal(value.shape) for value in values]
    ours, theirs = both(values, np.float64)
    got = second_derivative(mg, mg_grad, lambda x, w, b: F.layer_norm(x, (4,), w, b), ours, v)
    want = second_derivative(torch, torch.autograd.grad,
                             lambda x, w, b: TF.layer_norm(x, (4,), w, b), theirs, v)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_layer_norm_errors_like_torch():
    x = mg.randn(2, 3)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, (3,), mg.ones(2))
