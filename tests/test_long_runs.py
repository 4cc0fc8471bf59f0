"""Deep and long: a 100,000-op chain backpropagates; 1,000 training steps keep memory flat.

Times and memory growth are printed (run with -s to see them); nothing asserts on time.
"""

import gc
import time
import tracemalloc

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import models, optim

CHAIN_LENGTH = 100_000
STEPS = 1_000
MEMORY_LIMIT = 20 * 2**20  # bytes of growth allowed between step 100 and step 1,000


def test_backward_through_a_chain_of_100000_ops():
    x = mg.tensor([0.5, -2.0, 3.0], requires_grad=True)
    started = time.perf_counter()
    y = x
    for _ in range(CHAIN_LENGTH):
        y = -y  # an even number of negations: y equals x, dy/dx = 1
    built = time.perf_counter()
    y.sum().backward()
    finished = time.perf_counter()
    print(f"\n{CHAIN_LENGTH:,}-op chain: forward {built - started:.2f} s, "
          f"backward {finished - built:.2f} s")
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    assert y.grad_fn.released  # the chain's saved state was freed on the way


def test_chain_of_in_place_ops_on_one_tensor():
    """In-place ops recorded one after another make a deep graph too (10,000 here)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    for _ in range(10_000):
        h.add_(1)
    h.sum().backward()
    np.testing.assert_array_equal(h.detach().numpy(), [10_001.0, 10_002.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def _train_steps(model, optimizer, images, labels, steps, hook_calls):
    for _ in range(steps):
        optimizer.zero_grad()
        logits = model(images)
        logits.register_hook(lambda grad: hook_calls.append(1))  # a hook on a non-leaf
        hidden = logits * 1
        hidden.retain_grad()
        loss = F.cross_entropy(hidden, labels)
        loss.backward()
        optimizer.step()
    return float(loss)


def test_1000_lenet5_steps_keep_memory_flat():
    mg.manual_seed(0)
    model = models.LeNet5(input_size=8)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    images = mg.randn(4, 1, 8, 8)
    labels = mg.tensor([0, 1, 2, 3])
    leaf_hook_calls = []
    model.fc3.weight.register_hook(lambda grad: leaf_hook_calls.append(1))  # a leaf hook
    hook_calls: list = []
    started = time.perf_counter()
    first_loss = _train_steps(model, optimizer, images, labels, 100, hook_calls)
    gc.collect()
    # trace from step 100 on: what is still allocated at step 1,000 is the growth
    tracemalloc.start()
    try:
        after_100 = tracemalloc.get_traced_memory()[0]
        with mg.profile() as profiler:  # a few steps under the profiler too
            _train_steps(model, optimizer, images, labels, 10, hook_calls)
        last_loss = _train_steps(model, optimizer, images, labels, STEPS - 110, hook_calls)
        gc.collect()
        after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - started
    growth = after_1000 - after_100
    print(f"\n{STEPS:,} LeNet-5 steps (batch 4 of 8x8) in {seconds:.1f} s with tracemalloc; "
          f"memory growth from step 100 to step 1,000: {growth / 2**20:.3f} MB")
    assert growth < MEMORY_LIMIT
    assert len(hook_calls) == len(leaf_hook_calls) == STEPS  # hooks ran every step
    assert profiler.stats and sum(entry.calls for entry in profiler.stats.values()) > 0
    assert last_loss < first_loss / 10  # it trained: the fixed batch is memorised


def test_gradients_hold_no_graph():
    mg.manual_seed(0)
    model = models.LeNet5(input_size=8)
    F.cross_entropy(model(mg.randn(2, 1, 8, 8)), mg.tensor([0, 1])).backward()
    for param in model.parameters():
        assert param.grad.grad_fn is None and not param.grad.requires_grad
