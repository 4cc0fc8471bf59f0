"""loss_extra and distance families: l1, smooth_l1, huber, kl_div, poisson_nll, gaussian_nll,
soft_margin, multilabel_soft_margin, multilabel_margin, multi_margin, hinge_embedding,
cosine_embedding, margin_ranking, triplet_margin(_with_distance); normalize,
cosine_similarity, pairwise_distance, bilinear; and the loss layers.

Sections: against PyTorch on drawn shapes (forward, gradients, second derivatives, float32 and
float64) | gradcheck and gradgradcheck (float64) | behaviour | errors | layers.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays

sys.path.insert(0, str(Path(__file__).parent))
from torch_compare import Framework, assert_matches_torch, push_off

FEW = settings(max_examples=5, deadline=None)
REDUCTIONS = ("none", "mean", "sum")


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


@st.composite
def problems(draw, name, dtype=np.float64):
    """(call(lib, *tensors), arrays, differentiable flags) for loss `name`."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    batch, classes = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    reduction = draw(st.sampled_from(REDUCTIONS))
    shape = (batch, classes)

    def values(shape, low=-2.0, high=2.0):
        # off zero: cosine and norms of all-zero rows are degenerate (0 / 0)
        return push_off(draw(arrays(shape, low=low, high=high)), [0.0], 0.2)

    flags = None
    if name in ("l1_loss", "smooth_l1_loss", "huber_loss"):
        beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
        x, t = values(shape), values(shape)
        # |x - t| away from 0 and from beta, where the loss has kinks
        gap = push_off(x - t, [-beta, 0.0, beta], 0.05)
        t = x - gap
        option = {"l1_loss": {}, "smooth_l1_loss": {"beta": beta},
                  "huber_loss": {"delta": beta}}[name]
        if name != "smooth_l1_loss" and draw(st.booleans()):
            weight = rng.uniform(0.2, 2.0, shape)
            call = (lambda lib, a, b: getattr(lib.F, name)(
                a, b, reduction=reduction, weight=lib.tensor(weight.astype(a.detach().numpy()
                                                                           .dtype)), **option))
        else:
            call = (lambda lib, a, b: getattr(lib.F, name)(a, b, reduction=reduction,
                                                           **option))
        arrays_in = [x, t]
    elif name == "kl_div":
        log_target = draw(st.booleans())
        red = draw(st.sampled_from(REDUCTIONS + ("batchmean",)))
        x = values(shape)
        t = values(shape, 0.1, 1.0)
        if log_target:
            t = np.log(t)
        call = (lambda lib, a, b: lib.F.kl_div(a, b, reduction=red, log_target=log_target))
        arrays_in = [x, t]
    elif name == "poisson_nll_loss":
        log_input, full = draw(st.booleans()), draw(st.booleans())
        x = values(shape) if log_input else values(shape, 0.2, 3.0)
        t = push_off(values(shape, 0.0, 4.0), [1.0], 0.1)
        call = (lambda lib, a, b: lib.F.poisson_nll_loss(a, b, log_input=log_input, full=full,
                                                         reduction=reduction))
        arrays_in = [x, t]
    elif name == "gaussian_nll_loss":
        full = draw(st.booleans())
        var_shape = draw(st.sampled_from([shape, shape[:-1], (batch, 1)]))
        x, t, var = values(shape), values(shape), values(var_shape, 0.2, 2.0)
        call = (lambda lib, a, b, v: lib.F.gaussian_nll_loss(a, b, v, full=full,
                                                             reduction=reduction))
        arrays_in = [x, t, var]
    elif name == "soft_margin_loss":
        call = (lambda lib, a, b: lib.F.soft_margin_loss(a, b, reduction=reduction))
        arrays_in, flags = [values(shape), _signs(rng, shape)], [True, False]
    elif name == "multilabel_soft_margin_loss":
        weight = rng.uniform(0.2, 2.0, classes) if draw(st.booleans()) else None
        call = (lambda lib, a, b: lib.F.multilabel_soft_margin_loss(
            a, b, reduction=reduction,
            weight=None if weight is None else lib.tensor(weight.astype(a.detach().numpy()
                                                                        .dtype))))
        arrays_in = [values(shape), (rng.random(shape) < 0.5).astype(np.float64)]
    elif name == "multilabel_margin_loss":
        target = np.full(shape, -1, dtype=np.int64)
        for row in range(batch):
            chosen = rng.permutation(classes)[:rng.integers(0, classes + 1)]
            target[row, :chosen.size] = chosen
        x = draw(arrays(shape, distinct=True, low=-2, high=2))
        call = (lambda lib, a: lib.F.multilabel_margin_loss(a, lib.tensor(target),
                                                            reduction=reduction))
        arrays_in = [x]
    elif name == "multi_margin_loss":
        p, margin = draw(st.sampled_from([1, 2])), draw(st.sampled_from([0.5, 1.0]))
        target = rng.integers(0, classes, batch)
        weight = rng.uniform(0.2, 2.0, classes) if draw(st.booleans()) else None
        x = draw(arrays(shape, distinct=True, low=-2, high=2))
        call = (lambda lib, a: lib.F.multi_margin_loss(
            a, lib.tensor(target), p=p, margin=margin, reduction=reduction,
            weight=None if weight is None else lib.tensor(weight.astype(a.detach().numpy()
                                                                        .dtype))))
        arrays_in = [x]
    elif name == "hinge_embedding_loss":
        x = push_off(values(shape), [1.0], 0.05)
        call = (lambda lib, a, b: lib.F.hinge_embedding_loss(a, b, margin=1.0,
                                                             reduction=reduction))
        arrays_in, flags = [x, _signs(rng, shape)], [True, False]
    elif name == "margin_ranking_loss":
        x1, x2, y = values((batch,)), values((batch,)), _signs(rng, (batch,))
        x2 = x1 - push_off(x1 - x2, [0.3, -0.3], 0.05)
        call = (lambda lib, a, b, c: lib.F.margin_ranking_loss(a, b, c, margin=0.3,
                                                               reduction=reduction))
        arrays_in, flags = [x1, x2, y], [True, True, False]
    elif name == "cosine_embedding_loss":
        x1, x2, y = values(shape), values(shape), _signs(rng, (batch,))
        call = (lambda lib, a, b, c: lib.F.cosine_embedding_loss(a, b, c, margin=-0.9,
                                                                 reduction=reduction))
        arrays_in, flags = [x1, x2, y], [True, True, False]
    elif name in ("triplet_margin_loss", "triplet_margin_with_distance_loss"):
        a, p, n = values(shape), values(shape), values(shape)
        swap = draw(st.booleans())
        if name == "triplet_margin_loss":
            norm = draw(st.sampled_from([1.0, 2.0, 3.0]))
            call = (lambda lib, x, y, z: lib.F.triplet_margin_loss(
                x, y, z, margin=5.0, p=norm, swap=swap, reduction=reduction))
        else:
            call = (lambda lib, x, y, z: lib.F.triplet_margin_with_distance_loss(
                x, y, z, distance_function=lambda u, v: 1 - lib.F.cosine_similarity(u, v),
                margin=3.0, swap=swap, reduction=reduction))
        arrays_in = [a, p, n]
    return call, [np.asarray(a).astype(dtype) if np.asarray(a).dtype.kind == "f" else a
                  for a in arrays_in], flags


LOSSES = ["l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss",
          "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
          "multilabel_margin_loss", "multi_margin_loss", "hinge_embedding_loss",
          "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
          "triplet_margin_with_distance_loss"]


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LOSSES)
@FEW
@given(data=st.data())
def test_loss_matches_torch(name, dtype, data):
    call, arrays_in, flags = data.draw(problems(name, dtype))
    # PyTorch's multilabel_margin / multi_margin kernels have no double backward
    second = name not in ("multilabel_margin_loss", "multi_margin_loss")
    assert_matches_torch(call, arrays_in, flags, second=second,
                         tolerance=1e-4 if dtype == np.float32 else None)


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=2, deadline=None)
@given(data=st.data())
def test_loss_gradcheck_and_gradgradcheck(name, data):
    call, arrays_in, flags = data.draw(problems(name))
    flags = flags or [True] * len(arrays_in)
    ours = Framework("minigrad")
    tensors = [mg.tensor(a) for a in arrays_in]
    fixed = tensors
    moving = [i for i, flag in enumerate(flags) if flag]

    def function(*values):
        full = list(fixed)
        for index, value in zip(moving, values):
            full[index] = value
        return call(ours, *full)

    chosen = [fixed[i] for i in moving]
    assert gradcheck(function, chosen)
    assert gradgradcheck(function, chosen)


# ---- distances -------------------------------------------------------------------------------
DISTANCES = {
    "normalize": (lambda lib, a: lib.F.normalize(a, p=2.0, dim=1), 1),
    "normalize_p3_dim0": (lambda lib, a: lib.F.normalize(a, p=3.0, dim=0), 1),
    "normalize_p1": (lambda lib, a: lib.F.normalize(a, p=1.0, dim=-1), 1),
    "cosine_similarity": (lambda lib, a, b: lib.F.cosine_similarity(a, b), 2),
    "cosine_similarity_dim0": (lambda lib, a, b: lib.F.cosine_similarity(a, b[:1], dim=0), 2),
    "pairwise_distance": (lambda lib, a, b: lib.F.pairwise_distance(a, b), 2),
    "pairwise_distance_p1_keepdim": (
        lambda lib, a, b: lib.F.pairwise_distance(a, b, p=1.0, keepdim=True), 2),
    "pairwise_distance_p3": (lambda lib, a, b: lib.F.pairwise_distance(a, b, p=3.0), 2),
    "pairwise_distance_pinf": (lambda lib, a, b: lib.F.pairwise_distance(a, b, p=np.inf), 2),
    "pairwise_distance_broadcast": (lambda lib, a, b: lib.F.pairwise_distance(a, b[0]), 2),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(DISTANCES))
@FEW
@given(data=st.data(), shape=st.tuples(st.integers(1, 3), st.integers(2, 4)))
def test_distance_matches_torch(name, dtype, data, shape):
    call, count = DISTANCES[name]
    arrays_in = [push_off(data.draw(arrays(shape, distinct=True)), [0.0], 0.1).astype(dtype)
                 for _ in range(count)]
    assert_matches_torch(call, arrays_in, tolerance=1e-4 if dtype == np.float32 else None)


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_distance_gradcheck_and_gradgradcheck(name):
    call, count = DISTANCES[name]
    rng = np.random.default_rng(3)
    tensors = [mg.tensor(push_off(rng.standard_normal((3, 4)), [0.0], 0.1))
               for _ in range(count)]
    ours = Framework("minigrad")
    assert gradcheck(lambda *a: call(ours, *a), tensors)
    assert gradgradcheck(lambda *a: call(ours, *a), tensors)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@FEW
@given(data=st.data(), batch=st.sampled_from([(2,), (2, 3), ()]), bias=st.booleans())
def test_bilinear_matches_torch(dtype, data, batch, bias):
    in1, in2, out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), 2
    arrays_in = [data.draw(arrays(batch + (in1,))), data.draw(arrays(batch + (in2,))),
                 data.draw(arrays((out, in1, in2)))]
    if bias:
        arrays_in.append(data.draw(arrays((out,))))
    arrays_in = [a.astype(dtype) for a in arrays_in]
    assert_matches_torch(lambda lib, *t: lib.F.bilinear(*t), arrays_in,
                         tolerance=1e-4 if dtype == np.float32 else None)


def test_bilinear_gradgradcheck():
    rng = np.random.default_rng(0)
    tensors = [mg.tensor(rng.standard_normal(s)) for s in [(2, 3), (2, 2), (4, 3, 2), (4,)]]
    assert gradcheck(F.bilinear, tensors)
    assert gradgradcheck(F.bilinear, tensors)


def test_norm_gradient_is_zero_at_zero_vectors_like_torch():
    zeros = np.zeros((2, 3))
    zeros[1] = [1.0, -2.0, 0.5]
    for call in (lambda lib, a: lib.F.normalize(a), lambda lib, a: lib.F.normalize(a, p=3.0),
                 lambda lib, a, : lib.F.pairwise_distance(a, a * 0, eps=0.0)):
        assert_matches_torch(call, [zeros], second=False)


def test_cosine_similarity_of_zero_vectors_is_zero():
    x = mg.zeros(2, 3)
    np.testing.assert_array_equal(F.cosine_similarity(x, x).numpy(), np.zeros(2, np.float32))


# ---- behaviour -----------------------------------------------------------------------------
def test_kl_div_mean_warns_and_batchmean_divides_by_batch():
    x = mg.tensor(np.log(np.full((4, 5), 0.2)))
    target = mg.tensor(np.full((4, 5), 0.2))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, target)
    total = F.kl_div(x, target * 2, reduction="sum").item()
    assert F.kl_div(x, target * 2, reduction="batchmean").item() == pytest.approx(total / 4)


def test_l1_family_broadcast_warns_like_mse():
    with pytest.warns(UserWarning, match="target size"):
        F.l1_loss(mg.ones(3, 2), mg.ones(2))


def test_float32_stays_float32_and_inputs_unchanged():
    rng = np.random.default_rng(0)
    x_data = rng.standard_normal((3, 4)).astype(np.float32)
    t_data = rng.uniform(0.1, 1.0, (3, 4)).astype(np.float32)
    ours = Framework("minigrad")
    for name in ("l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss",
                 "soft_margin_loss", "multilabel_soft_margin_loss"):
        x = mg.tensor(x_data.copy(), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = getattr(ours.F, name)(x, mg.tensor(t_data.copy()))
        loss.backward()
        assert loss.dtype == mg.float32 and x.grad.dtype == mg.float32, name
        np.testing.assert_array_equal(x.detach().numpy(), x_data, err_msg=name)


def test_gaussian_nll_clamps_var_but_keeps_its_gradient():
    assert_matches_torch(lambda lib, x, t, v: lib.F.gaussian_nll_loss(x, t, v, eps=0.1),
                         [np.ones(3), np.zeros(3), np.array([0.01, 0.5, 2.0])])


# ---- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda lib: lib.F.l1_loss(lib.tensor(np.ones(3)), lib.tensor(np.ones(3)), reduction="x"),
     ValueError, "reduction"),
    (lambda lib: lib.F.smooth_l1_loss(lib.tensor(np.ones(3)), lib.tensor(np.ones(3)),
                                      beta=-1.0), RuntimeError, "beta"),
    (lambda lib: lib.F.huber_loss(lib.tensor(np.ones(3)), lib.tensor(np.ones(3)), delta=0.0),
     RuntimeError, "delta"),
    (lambda lib: lib.F.gaussian_nll_loss(lib.tensor(np.ones((2, 3))), lib.tensor(np.ones(
        (2, 3))), lib.tensor(np.ones((3, 2)))), ValueError, "var"),
    (lambda lib: lib.F.gaussian_nll_loss(lib.tensor(np.ones(3)), lib.tensor(np.ones(3)),
                                         lib.tensor(-np.ones(3))), ValueError, "negative"),
    (lambda lib: lib.F.multi_margin_loss(lib.tensor(np.ones((2, 3))),
                                         lib.tensor(np.array([0, 1])), p=3), ValueError, "p"),
    (lambda lib: lib.F.triplet_margin_loss(lib.tensor(np.ones((2, 3))),
                                           lib.tensor(np.ones(3)), lib.tensor(np.ones((2, 3)))),
     RuntimeError, "dimensions"),
    (lambda lib: lib.F.triplet_margin_with_distance_loss(
        lib.tensor(np.ones((2, 3))), lib.tensor(np.ones((2, 3))), lib.tensor(np.ones((2, 3))),
        margin=0.0), ValueError, "margin"),
    (lambda lib: lib.F.margin_ranking_loss(lib.tensor(np.ones((2, 3))), lib.tensor(np.ones(3)),
                                           lib.tensor(np.ones(3))), RuntimeError, "dimension"),
])
def test_errors_match_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(Framework("minigrad"))
    pytest.importorskip("torch")
    with pytest.raises(error):
        call(Framework("torch"))


# ---- layers ------------------------------------------------------------------------------------
LAYERS = [
    ("L1Loss", (), 2), ("SmoothL1Loss", {"beta": 0.5}, 2), ("HuberLoss", {"delta": 0.5}, 2),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, 2),
    ("PoissonNLLLoss", {"full": True}, 2), ("GaussianNLLLoss", {"full": True}, 3),
    ("SoftMarginLoss", {"reduction": "sum"}, 2), ("MultiLabelSoftMarginLoss", {}, 2),
    ("HingeEmbeddingLoss", {"margin": 0.5}, 2), ("CosineEmbeddingLoss", {"margin": 0.1}, 3),
    ("MarginRankingLoss", {"margin": 0.2}, 3), ("TripletMarginLoss", {"swap": True}, 3),
    ("TripletMarginWithDistanceLoss", {"swap": True}, 3),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, 1), ("MultiLabelMarginLoss", {}, 1),
]


@pytest.mark.parametrize("name, options, count", LAYERS)
def test_loss_layer_matches_torch(name, options, count):
    torch = pytest.importorskip("torch")
    options = dict(options) if isinstance(options, dict) else {}
    ours, theirs = getattr(nn, name)(**options), getattr(torch.nn, name)(**options)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    if count == 1:
        target = (np.array([0, 3, 1]) if name == "MultiMarginLoss"
                  else np.array([[0, 2, -1, 1], [3, -1, 0, 0], [-1, 1, 2, 3]]))
        others = [target]
    elif name in ("CosineEmbeddingLoss", "MarginRankingLoss"):
        shape = (3, 4) if name == "CosineEmbeddingLoss" else (3,)
        x = x if name == "CosineEmbeddingLoss" else x[:, 0].copy()
        others = [rng.standard_normal(shape).astype(np.float32),
                  np.array([1.0, -1.0, 1.0], np.float32)]
    elif name == "GaussianNLLLoss":
        others = [rng.standard_normal((3, 4)).astype(np.float32),
                  rng.uniform(0.2, 2, (3, 1)).astype(np.float32)]
    elif name in ("SoftMarginLoss", "HingeEmbeddingLoss"):
        others = [np.sign(rng.standard_normal((3, 4))).astype(np.float32)]
    else:
        others = [rng.uniform(0.1, 2.0, (3, 4)).astype(np.float32)]
        if count == 3:
            others.append(rng.standard_normal((3, 4)).astype(np.float32))
    mine_x, their_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine = ours(mine_x, *(mg.tensor(o) for o in others))
    reference = theirs(their_x, *(torch.tensor(o) for o in others))
    np.testing.assert_allclose(mine.item(), reference.item(), rtol=1e-5)
    mine.backward()
    reference.backward()
    np.testing.assert_allclose(mine_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-4,
                               atol=1e-6)


def test_weighted_loss_layers_keep_weight_as_buffer():
    torch = pytest.importorskip("torch")
    weight = np.array([1.0, 2.0, 0.5], np.float32)
    for name in ("MultiMarginLoss", "MultiLabelSoftMarginLoss"):
        ours = getattr(nn, name)(weight=mg.tensor(weight))
        theirs = getattr(torch.nn, name)(weight=torch.tensor(weight))
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.parametrize("name, args", [("PairwiseDistance", (1.0, 1e-3, True)),
                                        ("PairwiseDistance", ()),
                                        ("CosineSimilarity", (0, 1e-6))])
def test_distance_layers_match_torch(name, args):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(mg.tensor(a), mg.tensor(b)).numpy(),
                               theirs(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-5)
