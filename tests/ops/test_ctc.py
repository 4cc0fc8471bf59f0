"""ctc_loss and CTCLoss against PyTorch: drawn batches, lengths, target layouts (padded,
concatenated, unbatched), blank index, repeated labels, reductions, zero_infinity; gradcheck
through log_softmax; the gradient of the gradient raises (once_differentiable).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, nn
from minigrad.testing import gradcheck


@st.composite
def ctc_problems(draw):
    """(logits (T, N, C), targets, input_lengths, target_lengths, options)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    steps, batch, classes = draw(st.integers(1, 7)), draw(st.integers(1, 3)), \
        draw(st.integers(2, 5))
    blank = draw(st.sampled_from([0, classes - 1]))
    labels = [c for c in range(classes) if c != blank]
    input_lengths = rng.integers(1, steps + 1, batch)
    input_lengths[0] = steps
    # a few targets longer than possible: infinite loss (zero_infinity decides)
    target_lengths = rng.integers(0, min(steps, 4) + 1, batch)
    layout = draw(st.sampled_from(["padded", "concatenated"] + ["unbatched"] * (batch == 1)))
    width = int(target_lengths.max()) + draw(st.integers(0, 1))
    padded = rng.choice(labels, (batch, max(width, 1)))
    if draw(st.booleans()) and padded.shape[1] > 1:
        padded[:, 1] = padded[:, 0]  # repeated labels need a blank in between
    if layout == "concatenated":
        targets = np.concatenate([padded[n, :target_lengths[n]] for n in range(batch)])
    elif layout == "unbatched":
        targets = padded[0, :target_lengths[0]]
    else:
        targets = padded
    options = {"blank": blank, "reduction": draw(st.sampled_from(["none", "mean", "sum"])),
               "zero_infinity": draw(st.booleans())}
    logits = rng.standard_normal((steps, batch, classes)) * 2
    if layout == "unbatched":
        logits = logits[:, 0]
        input_lengths, target_lengths = input_lengths[:1], target_lengths[:1]
    return logits, targets.astype(np.int64), input_lengths, target_lengths, options


def _finite_problem(problem):
    logits, targets, input_lengths, target_lengths, options = problem
    options = dict(options, zero_infinity=True)
    return logits, targets, input_lengths, target_lengths, options


def _run(lib_f, lib_tensor, logits, targets, input_lengths, target_lengths, options, dtype):
    x = lib_tensor(logits.astype(dtype), True)
    loss = lib_f.ctc_loss(lib_f.log_softmax(x, -1), lib_tensor(targets, False),
                          lib_tensor(input_lengths, False), lib_tensor(target_lengths, False),
                          **options)
    weight = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)).astype(dtype)
    (loss * lib_tensor(weight, False)).sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=25, deadline=None)
@given(problem=ctc_problems())
def test_ctc_matches_torch(problem, dtype):
    torch = pytest.importorskip("torch")
    logits, targets, input_lengths, target_lengths, options = problem
    if options["zero_infinity"] is False:
        # compare only what PyTorch defines: an impossible alignment's gradient is not
        # finite in either framework
        problem = _finite_problem(problem)
        options = problem[-1]
    ours = _run(F, lambda a, g: mg.tensor(a, requires_grad=g), logits, targets, input_lengths,
                target_lengths, options, dtype)
    theirs = _run(torch.nn.functional, lambda a, g: torch.tensor(a, requires_grad=g), logits,
                  targets, input_lengths, target_lengths, options, dtype)
    tolerance = 1e-9 if dtype == np.float64 else 1e-4
    assert ours[0].dtype == dtype and ours[1].dtype == dtype
    np.testing.assert_allclose(ours[0], theirs[0], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=tolerance, atol=tolerance)


def test_infinite_loss_without_zero_infinity_matches_torch():
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(0).standard_normal((2, 1, 3))
    args = (np.array([[1, 2, 1]]), np.array([2]), np.array([3]))
    ours = F.ctc_loss(F.log_softmax(mg.tensor(logits), 2), *map(mg.tensor, args),
                      reduction="none")
    theirs = torch.nn.functional.ctc_loss(torch.tensor(logits).log_softmax(2),
                                          *map(torch.tensor, args), reduction="none")
    assert np.isinf(ours.numpy()).all() and np.isinf(theirs.numpy()).all()


@settings(max_examples=6, deadline=None)
@given(problem=ctc_problems())
def test_ctc_gradcheck_through_log_softmax(problem):
    logits, targets, input_lengths, target_lengths, options = _finite_problem(problem)
    constants = [mg.tensor(a) for a in (targets, input_lengths, target_lengths)]
    assert gradcheck(lambda x: F.ctc_loss(F.log_softmax(x, -1), *constants, **options),
                     [mg.tensor(logits)])


def test_ctc_gradient_of_gradient_raises():
    logits = mg.tensor(np.random.default_rng(0).standard_normal((4, 1, 3)), requires_grad=True)
    loss = F.ctc_loss(F.log_softmax(logits, 2), mg.tensor([[1, 2]]), mg.tensor([4]),
                      mg.tensor([2]))
    (grad,) = autograd.grad(loss, [logits], create_graph=True)
    with pytest.raises(RuntimeError, match="CTCLoss"):
        autograd.grad(grad.sum(), [logits])


def test_ctc_layer_and_errors():
    torch = pytest.importorskip("torch")
    assert repr(nn.CTCLoss(blank=2, zero_infinity=True)) == repr(
        torch.nn.CTCLoss(blank=2, zero_infinity=True))
    log_probs = F.log_softmax(mg.randn(5, 2, 4), 2)
    targets, lengths = mg.tensor([[1, 2], [3, 3]]), mg.tensor([2, 2])
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(log_probs, targets, mg.tensor([5, 5]), lengths, blank=4)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(log_probs, targets, mg.tensor([6, 5]), lengths)
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(log_probs, targets, mg.tensor([5, 5]), lengths, reduction="avg")
    value = nn.CTCLoss()(log_probs, targets, mg.tensor([5, 4]), lengths)
    reference = torch.nn.CTCLoss()(torch.tensor(log_probs.numpy()), torch.tensor([[1, 2], [3, 3]]),
                                   torch.tensor([5, 4]), torch.tensor([2, 2]))
    assert value.item() == pytest.approx(reference.item(), rel=1e-5)
