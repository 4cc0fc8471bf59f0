"""A physics-informed network: solve -u''(x) = pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0.

The loss is the equation itself: u'' comes from differentiating the network twice with
respect to its input (`autograd.grad(..., create_graph=True)`), and training differentiates
that once more with respect to the weights. The exact solution is sin(pi x); the script
prints the relative L2 error of the trained network against it.

The boundary conditions are built in: u(x) = x (1 - x) N(x) is zero at both ends for any
network N, so the loss has only the equation's residual.

    python examples/pinn.py            # about 3000 Adam steps
    python examples/pinn.py --quick    # fewer steps (the test runs this)
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import minigrad as mg
from minigrad import autograd, nn


def solution(net: nn.Module, x: mg.Tensor) -> mg.Tensor:
    """u(x) = x (1 - x) N(x): the network, shaped to meet u(0) = u(1) = 0."""
    return x * (1 - x) * net(x)


def residual(net: nn.Module, x: mg.Tensor) -> mg.Tensor:
    """-u''(x) - f(x) at the points x (N, 1), as a recorded graph (x requires grad)."""
    u = solution(net, x)
    ones = mg.ones_like(u)
    (du,) = autograd.grad(u, x, grad_outputs=ones, create_graph=True)
    (d2u,) = autograd.grad(du, x, grad_outputs=ones, create_graph=True)
    forcing = math.pi ** 2 * mg.sin(math.pi * x)
    return -d2u - forcing


def relative_error(net: nn.Module, points: int = 1001) -> float:
    """||u - sin(pi x)|| / ||sin(pi x)|| on an even grid of [0, 1]."""
    x = mg.tensor(np.linspace(0, 1, points, dtype=np.float32).reshape(-1, 1))
    with mg.no_grad():
        u = solution(net, x).numpy().ravel()
    exact = np.sin(np.pi * x.numpy().ravel())
    return float(np.linalg.norm(u - exact) / np.linalg.norm(exact))


def train(steps: int, seed: int = 0, log_every: int = 500) -> float:
    mg.manual_seed(seed)
    net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                        nn.Linear(32, 1))
    optimizer = mg.optim.Adam(net.parameters(), lr=3e-3)
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    x = mg.tensor(np.linspace(0, 1, 64, dtype=np.float32).reshape(-1, 1), requires_grad=True)
    for step in range(1, steps + 1):
        loss = (residual(net, x) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % log_every == 0 or step == steps:
            print(f"step {step:5d}  residual loss {loss.item():.3e}  "
                  f"relative L2 error {relative_error(net):.2e}")
    return relative_error(net)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="Adam steps (default 3000)")
    parser.add_argument("--quick", action="store_true", help="800 steps")
    args = parser.parse_args()
    steps = 800 if args.quick else args.steps
    error = train(steps)
    print(f"relative L2 error against sin(pi x): {error:.2e}")


if __name__ == "__main__":
    main()
