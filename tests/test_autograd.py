"""PyTorch-style custom Functions, anomaly detection and the profiler."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, models
from minigrad.engine import hooks
from minigrad.testing import gradcheck


class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * ctx.scale, None   # deliberately wrong


def test_custom_function_records_and_backpropagates():
    x = mg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2)
    assert x.grad.dtype == mg.float32


def test_custom_function_passes_gradcheck_and_a_wrong_one_fails():
    x = mg.tensor(np.array([0.3, -1.2, 2.0]))
    assert gradcheck(lambda t: Cube.apply(t, 1.5), [x])
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: WrongCube.apply(t, 1.5), [x])


def test_needs_input_grad_and_wrong_gradient_count():
    seen = {}

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = mg.tensor([1.0], requires_grad=True)
    out = Probe.apply(a, mg.tensor([2.0]))
    assert seen["needs"] == (True, False)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        out.backward()


def test_detect_anomaly_names_the_op_that_made_nan_in_forward():
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Sqrt.*nan|nan.*Sqrt"):
            x.sqrt()
    assert hooks.anomaly_checker is None
    assert np.isnan(x.sqrt().detach().numpy()[0])       # off again: no error


def test_detect_anomaly_names_the_backward_that_made_nan_and_where_it_was_created():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.sqrt()                # forward fine (0 and 1), backward divides by 0
        with pytest.raises(RuntimeError, match="SqrtBackward") as error:
            (y * 0.0).sum().backward()
    assert "test_autograd.py" in str(error.value)


def test_profiler_counts_ops_and_costs_nothing_when_off():
    mg.manual_seed(0)
    model = models.LeNet5()
    x, y = mg.randn(4, 1, 28, 28), mg.tensor([0, 1, 2, 3])
    with mg.profile() as prof:
        F.cross_entropy(model(x), y).backward()
    stats = {entry.name: entry for entry in prof.key_averages()}
    conv = next(entry for name, entry in stats.items() if "onv" in name)
    assert conv.calls == 2 and conv.backward_calls == 2
    assert conv.forward_seconds > 0 and conv.backward_seconds > 0
    table = prof.table()
    assert table.splitlines()[1].split()[0] == "Name" and "Self CPU time total" in table
    totals = [entry.total_seconds for entry in prof.key_averages()]
    assert totals == sorted(totals, reverse=True)
    assert hooks.active_profiler is None
