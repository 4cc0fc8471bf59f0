"""minigrad.distributions against torch.distributions: log_prob, entropy, mean, variance,
stddev and their parameter gradients (both parametrisations), batch and event shapes,
sampling shapes, dtypes, statistics and reproducibility under manual_seed, rsample's path,
validate_args errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import distributions as D
from minigrad.testing.torch_compare import compare_with_torch

torch = pytest.importorskip("torch")
TD = torch.distributions


def data(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def summary(dist, value):
    """Everything a distribution computes from its parameters, as one tuple."""
    return (dist.log_prob(value), dist.entropy(), dist.mean, dist.variance, dist.stddev)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_normal_matches_torch(dtype, shape):
    loc, scale, value = data(shape, 0, dtype), np.exp(data(shape, 1, dtype)), data(shape, 2, dtype)
    compare_with_torch(lambda m, s, v: summary(D.Normal(m, s), v),
                       lambda m, s, v: summary(TD.Normal(m, s), v), [loc, scale, value])
    compare_with_torch(lambda m, s, v: D.Normal(m, s).cdf(v),
                       lambda m, s, v: TD.Normal(m, s).cdf(v), [loc, scale, value])
    dist = D.Normal(mg.tensor(loc), 1.0)
    assert dist.batch_shape == shape and dist.event_shape == ()
    assert dist.sample((4, 2)).shape == (4, 2) + shape and dist.sample().dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_matches_torch(dtype):
    low = data((3,), 0, dtype)
    high = low + np.exp(data((3,), 1, dtype))
    value = (low + high) / 2
    compare_with_torch(lambda a, b, v: summary(D.Uniform(a, b), v),
                       lambda a, b, v: summary(TD.Uniform(a, b), v), [low, high, value])
    compare_with_torch(lambda a, b, v: D.Uniform(a, b).cdf(v),
                       lambda a, b, v: TD.Uniform(a, b).cdf(v), [low, high, value])


@pytest.mark.parametrize("parametrisation", ["probs", "logits"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_matches_torch(parametrisation, dtype):
    raw = data((2, 3), 0, dtype)
    param = 1 / (1 + np.exp(-raw)) if parametrisation == "probs" else raw
    value = (data((2, 3), 1) > 0).astype(dtype)
    compare_with_torch(lambda p, v: summary(D.Bernoulli(**{parametrisation: p}), v),
                       lambda p, v: summary(TD.Bernoulli(**{parametrisation: p}), v),
                       [param, value], rtol=1e-4 if dtype == np.float32 else None)
    compare_with_torch(lambda p: (D.Bernoulli(**{parametrisation: p}).probs,
                                  D.Bernoulli(**{parametrisation: p}).logits),
                       lambda p: (TD.Bernoulli(**{parametrisation: p}).probs,
                                  TD.Bernoulli(**{parametrisation: p}).logits), [param],
                       rtol=1e-4 if dtype == np.float32 else None)


def test_bernoulli_at_the_edges_matches_torch():
    compare_with_torch(lambda p: (D.Bernoulli(p).logits, D.Bernoulli(p).entropy()),
                       lambda p: (TD.Bernoulli(p).logits, TD.Bernoulli(p).entropy()),
                       [np.array([0.0, 1.0, 0.5], dtype=np.float32)])


@pytest.mark.parametrize("parametrisation", ["probs", "logits"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)])
def test_categorical_matches_torch(parametrisation, dtype, shape):
    raw = data(shape, 0, dtype)
    param = np.exp(raw) if parametrisation == "probs" else raw  # probs need not sum to 1
    value = np.random.default_rng(1).integers(0, shape[-1], shape[:-1])
    tolerance = {"rtol": 1e-4, "atol": 1e-6} if dtype == np.float32 else {}
    compare_with_torch(lambda p, v: (D.Categorical(**{parametrisation: p}).log_prob(v),
                                     D.Categorical(**{parametrisation: p}).entropy(),
                                     D.Categorical(**{parametrisation: p}).probs,
                                     D.Categorical(**{parametrisation: p}).logits,
                                     D.Categorical(**{parametrisation: p}).mean),
                       lambda p, v: (TD.Categorical(**{parametrisation: p}).log_prob(v),
                                     TD.Categorical(**{parametrisation: p}).entropy(),
                                     TD.Categorical(**{parametrisation: p}).probs,
                                     TD.Categorical(**{parametrisation: p}).logits,
                                     TD.Categorical(**{parametrisation: p}).mean),
                       [param, value], **tolerance)
    ours = D.Categorical(**{parametrisation: mg.tensor(param)})
    theirs = TD.Categorical(**{parametrisation: torch.tensor(param)})
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == ()
    assert ours.param_shape == tuple(theirs.param_shape)
    assert ours.sample((5,)).shape == tuple(theirs.sample((5,)).shape)
    assert ours.sample().dtype == mg.int64
    assert ours.enumerate_support().shape == tuple(theirs.enumerate_support().shape)
    # log_prob broadcasts a value against the batch shape
    compare_with_torch(lambda p: D.Categorical(p).log_prob(mg.tensor([[1], [0]])),
                       lambda p: TD.Categorical(p).log_prob(torch.tensor([[1], [0]])),
                       [np.exp(data((3, 4)))])


def test_categorical_with_zero_probabilities_matches_torch():
    compare_with_torch(lambda p: (D.Categorical(p).entropy(), D.Categorical(p).logits,
                                  D.Categorical(p).log_prob(mg.tensor(1))),
                       lambda p: (TD.Categorical(p).entropy(), TD.Categorical(p).logits,
                                  TD.Categorical(p).log_prob(torch.tensor(1))),
                       [np.array([0.0, 1.0, 0.0], dtype=np.float32)])


@pytest.mark.parametrize("parametrisation", ["probs", "logits"])
def test_one_hot_categorical_matches_torch(parametrisation):
    raw = data((2, 3))
    param = np.exp(raw) if parametrisation == "probs" else raw
    value = np.eye(3)[[2, 0]]
    compare_with_torch(lambda p, v: summary(D.OneHotCategorical(**{parametrisation: p}), v),
                       lambda p, v: summary(TD.OneHotCategorical(**{parametrisation: p}), v),
                       [param, value])
    ours = D.OneHotCategorical(**{parametrisation: mg.tensor(param)})
    assert ours.batch_shape == (2,) and ours.event_shape == (3,)
    draws = ours.sample((5,))
    assert draws.shape == (5, 2, 3) and draws.dtype == mg.float64
    assert (draws.numpy().sum(-1) == 1).all()
    assert ours.enumerate_support().shape == tuple(
        TD.OneHotCategorical(**{parametrisation: torch.tensor(param)}).enumerate_support().shape)


def test_sampling_follows_the_seed_and_the_law():
    dists = [D.Normal(mg.tensor([0.0, 5.0]), mg.tensor([1.0, 2.0])),
             D.Uniform(mg.tensor(-1.0), mg.tensor(3.0)),
             D.Bernoulli(mg.tensor([0.2, 0.9])),
             D.Categorical(mg.tensor([0.1, 0.2, 0.7])),
             D.OneHotCategorical(mg.tensor([0.5, 0.5]))]
    for dist in dists:
        mg.manual_seed(3)
        first = dist.sample((20000,)).numpy()
        mg.manual_seed(3)
        np.testing.assert_array_equal(first, dist.sample((20000,)).numpy())
    normal = dists[0].sample((20000,)).numpy()
    np.testing.assert_allclose(normal.mean(0), [0, 5], atol=0.06)
    np.testing.assert_allclose(normal.std(0), [1, 2], rtol=0.03)
    uniform = dists[1].sample((20000,)).numpy()
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.05
    bernoulli = dists[2].sample((20000,)).numpy()
    np.testing.assert_allclose(bernoulli.mean(0), [0.2, 0.9], atol=0.015)
    categorical = dists[3].sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(categorical, minlength=3) / 20000, [0.1, 0.2, 0.7],
                               atol=0.015)


def test_rsample_keeps_the_path_to_the_parameters():
    loc = mg.tensor([1.0, -2.0], requires_grad=True)
    scale = mg.tensor([0.5, 3.0], requires_grad=True)
    mg.manual_seed(0)
    draw = D.Normal(loc, scale).rsample((1000,))
    draw.sum().backward()
    assert loc.grad.tolist() == [1000.0, 1000.0]
    np.testing.assert_allclose(scale.grad.numpy(), ((draw.detach().numpy() - [1, -2])
                                                    / [0.5, 3.0]).sum(0), rtol=1e-5)
    assert not D.Normal(loc, scale).sample().requires_grad
    low = mg.tensor(0.0, requires_grad=True)
    D.Uniform(low, 2.0).rsample((10,)).sum().backward()
    assert low.grad.item() != 0
    for dist in (D.Bernoulli(mg.tensor(0.5)), D.Categorical(mg.tensor([0.5, 0.5]))):
        with pytest.raises(NotImplementedError):
            TD.Bernoulli(torch.tensor(0.5)).rsample()
        with pytest.raises(NotImplementedError):
            dist.rsample()
        assert not dist.has_rsample


def test_validate_args_errors_match_torch():
    cases = [
        lambda m, d: d.Normal(m.tensor([0.0]), m.tensor([-1.0])),
        lambda m, d: d.Normal(0.0, 1.0).log_prob(m.tensor(float("nan"))),
        lambda m, d: d.Bernoulli(probs=m.tensor(0.5)).log_prob(m.tensor(0.3)),
        lambda m, d: d.Bernoulli(probs=m.tensor(1.5)),
        lambda m, d: d.Bernoulli(probs=0.5, logits=0.0),
        lambda m, d: d.Bernoulli(),
        lambda m, d: d.Uniform(1.0, 0.0),
        lambda m, d: d.Uniform(0.0, 1.0).log_prob(m.tensor(2.0)),
        lambda m, d: d.Categorical(m.tensor([0.5, -0.5])),
        lambda m, d: d.Categorical(m.tensor([0.5, 0.5])).log_prob(m.tensor(2)),
        lambda m, d: d.OneHotCategorical(m.tensor([0.5, 0.5])).log_prob(m.tensor([1.0, 1.0])),
        lambda m, d: d.Categorical(m.tensor([[0.5, 0.5]] * 2)).log_prob(m.tensor([0, 1, 1])),
    ]
    for case in cases:
        with pytest.raises(ValueError):
            case(torch, TD)
        with pytest.raises(ValueError):
            case(mg, D)
    with pytest.raises(ValueError, match="scale.*GreaterThan"):
        D.Normal(mg.tensor([0.0]), mg.tensor([-1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Uniform(0.0, 1.0).log_prob(mg.tensor(2.0))
    # validate_args=False skips the checks, as in PyTorch
    assert np.isnan(D.Normal(0.0, -1.0, validate_args=False).log_prob(mg.tensor(0.0)).item())


def test_repr_like_torch():
    assert repr(D.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0))
    assert repr(D.Uniform(0.0, 1.0)) == repr(TD.Uniform(0.0, 1.0))
    assert repr(D.Categorical(logits=mg.zeros(3, 2))) == "Categorical(logits: (3, 2))"
