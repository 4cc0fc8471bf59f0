"""WGAN-GP on 2-D data: the gradient penalty holds the critic's gradient norm near 1.

A generator maps noise to points, a critic scores points; the critic is trained to separate
real points (eight Gaussians on a ring) from generated ones, with the penalty
lambda * (||grad_x critic(x_hat)|| - 1)^2 at random interpolates x_hat between real and fake
points (Gulrajani et al., 2017). The penalty's gradient with respect to the critic's weights
is a second derivative: `autograd.grad(..., create_graph=True)` then `backward()`.

The script prints, as training goes, the critic's mean gradient norm at the interpolates
(held near 1 by the penalty) and the distance of generated points from the ring.

    python examples/gradient_penalty.py           # 1500 generator steps
    python examples/gradient_penalty.py --quick   # 300 (the test runs this)
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
from minigrad import autograd, nn

PENALTY_WEIGHT = 10.0
CRITIC_STEPS = 5


def real_batch(rng: np.random.Generator, size: int) -> mg.Tensor:
    """Points from eight Gaussians (std 0.05) evenly spaced on the circle of radius 2."""
    angles = rng.integers(0, 8, size) * (np.pi / 4)
    centres = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return mg.tensor((centres + 0.05 * rng.standard_normal((size, 2))).astype(np.float32))


def mlp(inputs: int, outputs: int) -> nn.Module:
    return nn.Sequential(nn.Linear(inputs, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, outputs))


def gradient_norms(critic: nn.Module, real: mg.Tensor, fake: mg.Tensor,
                   rng: np.random.Generator) -> mg.Tensor:
    """||d critic / d x|| at random points between real and fake ones, differentiable."""
    mix = mg.tensor(rng.random((real.shape[0], 1)).astype(np.float32))
    between = (mix * real + (1 - mix) * fake).detach().requires_grad_(True)
    scores = critic(between)
    (grad,) = autograd.grad(scores, between, grad_outputs=mg.ones_like(scores),
                            create_graph=True)
    return (grad * grad).sum(dim=1).sqrt()


def train(generator_steps: int, batch: int = 128, seed: int = 0) -> list[float]:
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator, critic = mlp(2, 2), mlp(2, 1)
    g_opt = mg.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))
    c_opt = mg.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    history = []
    for step in range(1, generator_steps + 1):
        for _ in range(CRITIC_STEPS):
            real = real_batch(rng, batch)
            with mg.no_grad():
                fake = generator(mg.randn(batch, 2))
            norms = gradient_norms(critic, real, fake, rng)
            penalty = PENALTY_WEIGHT * ((norms - 1) ** 2).mean()
            loss = critic(fake).mean() - critic(real).mean() + penalty
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
        fake = generator(mg.randn(batch, 2))
        g_loss = -critic(fake).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        history.append(float(norms.mean().item()))
        if step % 100 == 0 or step == generator_steps:
            radius = np.linalg.norm(fake.detach().numpy(), axis=1)
            print(f"step {step:5d}  critic gradient norm {np.mean(history[-100:]):.3f}  "
                  f"generated radius {radius.mean():.2f} +- {radius.std():.2f} (ring: 2)")
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="generator steps")
    parser.add_argument("--quick", action="store_true", help="300 generator steps")
    args = parser.parse_args()
    history = train(300 if args.quick else args.steps)
    print(f"mean critic gradient norm over the last 100 steps: {np.mean(history[-100:]):.3f}")


if __name__ == "__main__":
    main()
