"""A custom op the PyTorch way, tested with one line.

Softplus, log(1 + e^x), a smooth ReLU, written as a `minigrad.autograd.Function` exactly as
one writes a `torch.autograd.Function`: static `forward(ctx, ...)` and `backward(ctx, grad)`,
`ctx.save_for_backward` / `ctx.saved_tensors`, called through `.apply`. Then
`minigrad.testing.check_op` builds a hypothesis test of it against NumPy: the forward, the
gradient (exact, by the complex step on the NumPy formula), broadcasting of the second
input, dtypes, no mutation and no aliasing.

    python examples/custom_op.py           # runs the checks and a small demo
    python -m pytest examples/custom_op.py # the same checks as pytest tests
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import autograd
from minigrad.testing import check_op, gradcheck, strategies


class Softplus(autograd.Function):
    """softplus(x, beta) = log(1 + exp(beta * x)) / beta; the derivative is sigmoid(beta * x)."""

    @staticmethod
    def forward(ctx, x: mg.Tensor, beta: mg.Tensor) -> mg.Tensor:
        scaled = x * beta
        ctx.save_for_backward(x, beta, scaled)
        # log(1 + e^s) = max(s, 0) + log(1 + e^-|s|): e^-|s| <= 1, so nothing overflows
        return (scaled.relu() + (-scaled.abs()).exp().log1p()) / beta

    @staticmethod
    def backward(ctx, grad: mg.Tensor) -> tuple:
        x, beta, scaled = ctx.saved_tensors
        slope = scaled.sigmoid()
        # x and beta broadcast together: sum each gradient back down to its input's shape
        grad_x = (grad * slope).sum_to_size(x.shape) if ctx.needs_input_grad[0] else None
        grad_beta = None
        if ctx.needs_input_grad[1]:
            # d/dbeta of log(1 + e^(beta x)) / beta = (x * slope - softplus) / beta
            value = (scaled.relu() + (-scaled.abs()).exp().log1p()) / beta
            grad_beta = (grad * (x * slope - value) / beta).sum_to_size(beta.shape)
        return grad_x, grad_beta


def softplus(x: mg.Tensor, beta: mg.Tensor) -> mg.Tensor:
    return Softplus.apply(x, beta)


def numpy_softplus(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The reference: plain NumPy, and valid on complex arrays (so the complex step works)."""
    return np.log(1 + np.exp(beta * x)) / beta


# Two pytest tests, one line each: float64 (exact gradients) and float32 (float32 in, float32
# out and float32 grads, compared with float64 arithmetic).
test_softplus = check_op(Softplus.apply, numpy_softplus, shapes="broadcastable",
                         elements=[{}, {"low": 0.5, "high": 2.0}])
test_softplus_float32 = check_op(softplus, numpy_softplus, shapes="broadcastable",
                                 dtype=np.float32, elements=[{}, {"low": 0.5, "high": 2.0}])


# A decorated test gets each drawn example to add its own assertions.
@check_op(softplus, numpy_softplus, shapes=strategies.broadcastable_shapes(count=2),
          elements=[{"low": 0.1}, {"low": 0.5, "high": 2.0}])
def test_softplus_is_above_relu(case):
    x, _beta = case.arrays
    assert (case.output >= np.maximum(x, 0)).all()


def main() -> None:
    tests = {"test_softplus": test_softplus, "test_softplus_float32": test_softplus_float32,
             "test_softplus_is_above_relu": test_softplus_is_above_relu}
    for name, test in tests.items():
        test()
        print(f"{name}: passed")
    x = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = softplus(x, mg.tensor(1.0))
    print("softplus", y)
    y.sum().backward()
    print("grad (sigmoid)", x.grad)
    result = gradcheck(lambda t: softplus(t, mg.tensor(2.0, dtype=mg.float64)),
                       [mg.tensor([-1.0, 0.0, 2.5])])
    print("gradcheck:", result)


if __name__ == "__main__":
    main()
