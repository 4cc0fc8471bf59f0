"""Debugging aids (issue 8, item 4): the graph-leak warning, module paths in errors, and
mg.summary with gradient columns."""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import models, nn, optim
from minigrad.engine import hooks
from minigrad.optim.graph_leak import STEPS_TO_WARN, GraphLeakWarning


def make_problem(seed=0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = mg.randn(16, 4)
    y = mg.tensor(np.arange(16) % 3)
    return model, optim.SGD(model.parameters(), lr=0.1), x, y


def train(steps, accumulate, optimizer_class=None):
    """A training loop that adds each loss to `total` with `accumulate(total, loss)`."""
    model, optimizer, x, y = make_problem()
    if optimizer_class is not None:
        optimizer = optimizer_class(model.parameters())
    total = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total = accumulate(total, loss)
    return [warning for warning in caught if issubclass(warning.category, GraphLeakWarning)]


# ---- (a) graph leaks --------------------------------------------------------------------
def test_total_loss_plus_equals_loss_warns_within_ten_steps_naming_tensor_op_and_fix():
    model, optimizer, x, y = make_problem()
    total_loss = 0
    first = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(10):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total_loss += loss
            if first is None and caught:
                first = step
    leaks = [warning for warning in caught if issubclass(warning.category, GraphLeakWarning)]
    assert len(leaks) == 1 and first is not None and first < 10
    message = str(leaks[0].message)
    assert "shape ()" in message and "grad_fn=<AddBackward>" in message
    assert ".item()" in message and ".detach()" in message
    assert "total_loss += loss" in message
    assert leaks[0].filename == __file__  # points at the user's optimizer.step() line


def test_correct_loops_never_warn():
    assert train(30, lambda total, loss: total + loss.item()) == []
    assert train(30, lambda total, loss: total + loss.detach()) == []
    assert train(30, lambda total, loss: loss) == []               # keeps only the last graph


@pytest.mark.parametrize("optimizer_class", [optim.Adam, optim.RMSprop, optim.Adagrad])
def test_every_optimizer_watches(optimizer_class):
    assert len(train(12, lambda total, loss: total + loss, optimizer_class)) == 1


def test_it_warns_once_per_optimizer():
    assert len(train(40, lambda total, loss: total + loss)) == 1


def test_accumulating_before_the_step_warns_too():
    model, optimizer, x, y = make_problem()
    total = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(STEPS_TO_WARN + 3):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            total = total + loss
            loss.backward()
            optimizer.step()
    assert [str(warning.message).count("AddBackward") for warning in caught] == [1]


def test_a_graph_carried_over_one_step_does_not_warn():
    """Two optimizers on one graph (a GAN's pattern): each step reuses a graph made one step
    earlier, but the graph does not keep growing back in time."""
    mg.manual_seed(0)
    generator, critic = nn.Linear(3, 3), nn.Linear(3, 1)
    generator_optimizer = optim.SGD(generator.parameters(), lr=0.01)
    critic_optimizer = optim.SGD(critic.parameters(), lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphLeakWarning)
        for _ in range(20):
            fake = generator(mg.randn(4, 3))
            critic_optimizer.zero_grad()
            critic(fake.detach()).mean().backward()
            critic_optimizer.step()
            generator_optimizer.zero_grad()
            (-critic(fake).mean()).backward()   # fake was made before the critic's step
            generator_optimizer.step()


def test_a_fixed_old_graph_used_every_step_does_not_warn():
    """Each step's loss reuses a graph made before training (kept with retain_graph): every
    step reaches far back, but each step's graph dies when the next one replaces it."""
    model, optimizer, x, y = make_problem()
    prior = mg.randn(3, requires_grad=True)   # not optimized, so its graph stays valid
    anchor = (prior * prior).sum()            # made once, before any step
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphLeakWarning)
        for _ in range(20):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y) + 0.0 * anchor
            loss.backward(retain_graph=True)
            optimizer.step()


def test_a_running_average_of_the_loss_warns():
    assert len(train(12, lambda total, loss: 0.9 * total + 0.1 * loss)) == 1


def test_nodes_record_the_oldest_step_they_reach():
    x = mg.tensor([1.0], requires_grad=True)
    start = hooks.optimizer_steps
    early = x * 2
    assert early.grad_fn.oldest_step == start
    optimizer = optim.SGD([x], lr=0.1)
    x.grad = mg.zeros(1)
    optimizer.step()
    made = hooks.graphs_across_steps
    late = early + x * 3
    assert late.grad_fn.oldest_step == start
    assert hooks.graphs_across_steps == made + 1 and hooks.graph_across_steps() is late.grad_fn
    fresh = x * 4
    assert fresh.grad_fn.oldest_step == start + 1 and hooks.graphs_across_steps == made + 1


# ---- (b) module paths in errors ---------------------------------------------------------
class Features(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(6 * 12 * 12, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def test_shape_error_names_the_module_path_and_class():
    with pytest.raises(RuntimeError) as error:
        Features()(mg.randn(8, 3, 28, 28))
    assert str(error.value) == ("features.0 (Conv2d): conv2d: input has 3 channels, weight "
                                "expects 1 (input (8, 3, 28, 28), weight (6, 1, 5, 5))")


def test_error_in_a_later_layer_names_that_layer():
    with pytest.raises(RuntimeError, match=r"^classifier \(Linear\): "):
        Features()(mg.randn(2, 1, 32, 32))


# ---- (c) summary with gradients ----------------------------------------------------------
def test_summary_with_grads_gives_norms_and_update_ratios_without_training():
    mg.manual_seed(0)
    model = models.LeNet5()
    before = {name: param.detach().numpy().copy() for name, param in model.named_parameters()}
    result = mg.summary(model, (4, 1, 28, 28), grads=True, lr=0.1)
    for row in result.rows:
        if row.num_params == 0:
            assert row.grad_norm is None and row.update_ratio is None
            continue
        own = [param for name, param in model.named_parameters()
               if name.rpartition(".")[0] == row.name]
        param_norm = np.sqrt(sum(float((param.detach().numpy().astype(np.float64) ** 2).sum())
                                 for param in own))
        assert row.grad_norm > 0
        assert row.update_ratio == pytest.approx(0.1 * row.grad_norm / param_norm)
    text = str(result)
    assert "Grad norm" in text and "Update/param" in text
    for name, param in model.named_parameters():
        np.testing.assert_array_equal(param.detach().numpy(), before[name])
