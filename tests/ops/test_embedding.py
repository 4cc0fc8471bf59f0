"""embedding family: F.embedding (padding_idx, max_norm, scale_grad_by_freq), F.embedding_bag
(sum / mean / max, offsets, include_last_offset, per_sample_weights, padding_idx) and the
Embedding, EmbeddingBag and Bilinear layers, against PyTorch.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck

sys.path.insert(0, str(Path(__file__).parent))
from torch_compare import assert_matches_torch

FEW = settings(max_examples=10, deadline=None)


@st.composite
def bag_problems(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    rows, dim = draw(st.integers(2, 6)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    padding_idx = draw(st.sampled_from([None, 0, -1]))
    two_d = draw(st.booleans())
    options = {"mode": mode, "padding_idx": padding_idx}
    if two_d:
        indices = rng.integers(0, rows, (draw(st.integers(1, 3)), draw(st.integers(1, 4))))
        offsets = None
    else:
        indices = rng.integers(0, rows, draw(st.integers(0, 8)))
        cuts = np.sort(rng.integers(0, indices.size + 1, draw(st.integers(0, 3))))
        offsets = np.concatenate([[0], cuts]).astype(np.int64)
        if draw(st.booleans()):
            offsets = np.append(offsets, indices.size)
            options["include_last_offset"] = True
    weights = None
    if mode == "sum" and draw(st.booleans()):
        weights = rng.uniform(-1, 1, indices.shape)
    # distinct weight values: no ties for max
    weight = rng.permutation(np.linspace(-2, 2, rows * dim)).reshape(rows, dim)
    return weight, indices, offsets, weights, options


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@FEW
@given(problem=bag_problems())
def test_embedding_bag_matches_torch(problem, dtype):
    weight, indices, offsets, weights, options = problem

    def call(lib, w, *per_sample):
        return lib.F.embedding_bag(lib.tensor(indices), w,
                                   None if offsets is None else lib.tensor(offsets),
                                   per_sample_weights=per_sample[0] if per_sample else None,
                                   **options)

    arrays_in = [weight.astype(dtype)] + ([] if weights is None else [weights.astype(dtype)])
    # PyTorch's embedding_bag backward is not differentiable again: compare first order
    assert_matches_torch(call, arrays_in, second=False)


@FEW
@given(problem=bag_problems())
def test_embedding_bag_gradcheck_and_gradgradcheck(problem):
    weight, indices, offsets, weights, options = problem

    def call(w, *per_sample):
        return F.embedding_bag(mg.tensor(indices), w,
                               None if offsets is None else mg.tensor(offsets),
                               per_sample_weights=per_sample[0] if per_sample else None,
                               **options)

    inputs = [mg.tensor(weight)] + ([] if weights is None else [mg.tensor(weights)])
    assert gradcheck(call, inputs)
    assert gradgradcheck(call, inputs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                     {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_matches_torch(options, dtype):
    rng = np.random.default_rng(0)
    indices = rng.integers(0, 5, (3, 4))
    weight = rng.standard_normal((5, 3)).astype(dtype)
    assert_matches_torch(lambda lib, w: lib.F.embedding(lib.tensor(indices), w, **options),
                         [weight], second=False)
    assert gradgradcheck(lambda w: F.embedding(mg.tensor(indices), w, **options),
                         [mg.tensor(weight.astype(np.float64))])


def test_embedding_max_norm_renormalizes_in_place_like_torch():
    torch = pytest.importorskip("torch")
    weight = np.random.default_rng(1).standard_normal((6, 4)) * 3
    indices = np.array([[0, 2], [2, 5]])
    ours, theirs = mg.tensor(weight.copy()), torch.tensor(weight.copy())
    out = F.embedding(mg.tensor(indices), ours, max_norm=1.5, norm_type=1.0)
    reference = torch.nn.functional.embedding(torch.tensor(indices), theirs, max_norm=1.5,
                                              norm_type=1.0)
    np.testing.assert_allclose(out.numpy(), reference.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_embedding_bag_errors_match_torch():
    torch = pytest.importorskip("torch")
    weight = np.ones((4, 2))
    cases = [
        ({"input": np.array([[0, 1]]), "offsets": np.array([0])}, ValueError),
        ({"input": np.array([0, 1]), "offsets": None}, ValueError),
        ({"input": np.array([0, 1]), "offsets": np.array([0]), "mode": "mean",
              "per_sample_weights": np.ones(2)}, NotImplementedError),
        ({"input": np.array([0, 1]), "offsets": np.array([0]), "mode": "avg"}, ValueError),
    ]
    for case, error in cases:
        for lib_f, tensor in ((F, mg.tensor), (torch.nn.functional, torch.tensor)):
            arguments = {k: (tensor(v) if isinstance(v, np.ndarray) else v)
                         for k, v in case.items()}
            with pytest.raises(error):
                lib_f.embedding_bag(weight=tensor(weight), **arguments)


# ---- layers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"mode": "sum", "padding_idx": 2},
                                     {"mode": "max", "include_last_offset": True}])
def test_embedding_bag_layer_matches_torch(options):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.EmbeddingBag(7, 3, **options), torch.nn.EmbeddingBag(7, 3, **options)
    assert repr(ours) == repr(theirs)
    if "padding_idx" in options:
        assert not ours.weight.detach().numpy()[2].any()
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    indices, offsets = np.array([1, 2, 6, 2, 0, 5]), np.array([0, 2, 2, 6])
    out = ours(mg.tensor(indices), mg.tensor(offsets))
    reference = theirs(torch.tensor(indices), torch.tensor(offsets))
    np.testing.assert_allclose(out.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    reference.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_layer_matches_torch_both_ways(bias):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Bilinear(3, 2, 4, bias=bias), torch.nn.Bilinear(3, 2, 4, bias=bias)
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(3)
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(
        (5, 2)).astype(np.float32)
    out = ours(mg.tensor(a), mg.tensor(b))
    reference = theirs(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(out.detach().numpy(), reference.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    out.sum().backward()
    reference.sum().backward()
    for (name, mine), (_, their) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), their.grad.numpy(), rtol=1e-5,
                                   atol=1e-5, err_msg=name)
    # and the other direction: minigrad's weights into PyTorch's layer
    fresh = torch.nn.Bilinear(3, 2, 4, bias=bias)
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(fresh(torch.tensor(a), torch.tensor(b)).detach().numpy(),
                               out.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_layer_scale_grad_by_freq_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Embedding(5, 2, scale_grad_by_freq=True)
    theirs = torch.nn.Embedding(5, 2, scale_grad_by_freq=True)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    indices = np.array([[1, 1, 3], [1, 0, 3]])
    ours(mg.tensor(indices)).sum().backward()
    theirs(torch.tensor(indices)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.EmbeddingBag(6, 3, mode="sum", padding_idx=1),
    lambda lib: lib.nn.Bilinear(3, 2, 4),
    lambda lib: lib.nn.PReLU(5, 0.1),
    lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(4)),
])
def test_state_dicts_round_trip_through_safetensors(make, tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ours, theirs = make(mg), make(torch)
    mg.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(theirs.state_dict()[key].detach().numpy(),
                                      value.detach().numpy(), err_msg=key)
    with torch.no_grad():
        for value in theirs.state_dict().values():
            value.add_(0.5)
    safetensors_torch.save_file({k: v.contiguous() for k, v in theirs.state_dict().items()},
                                str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(mg.load(tmp_path / "theirs.safetensors"))
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].detach().numpy(),
                                      value.detach().numpy(), err_msg=key)
