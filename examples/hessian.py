"""The sharpest direction of a trained LeNet-5's loss: the top Hessian eigenvalue.

Power iteration needs only Hessian-vector products, and each is two passes of reverse mode:
g = d loss / d w with `create_graph=True`, then d (g . v) / d w = H v. The script trains
LeNet-5 (in its 8x8-input form) briefly on scikit-learn's digits, then iterates
v <- H v / ||H v||; the Rayleigh quotient v . H v converges to the eigenvalue of largest
magnitude.

    python examples/hessian.py            # 3 epochs, 20 power iterations
    python examples/hessian.py --quick    # 1 epoch, 10 iterations (the test runs this)
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, models


def digits_batch(count: int = 256) -> tuple[mg.Tensor, mg.Tensor]:
    """The first `count` digits as (N, 1, 8, 8) float32 in [0, 1] and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images[:count].astype(np.float32) / 16.0
    images = images[:, None]
    return mg.tensor(images), mg.tensor(digits.target[:count].astype(np.int64))


def loss_of(model: mg.nn.Module, images: mg.Tensor, labels: mg.Tensor) -> mg.Tensor:
    return F.cross_entropy(model(images), labels)


def hessian_vector_product(model: mg.nn.Module, images: mg.Tensor, labels: mg.Tensor,
                           vector: list[mg.Tensor]) -> list[mg.Tensor]:
    """H v for the loss at the model's weights; `vector` has one tensor per parameter."""
    params = list(model.parameters())
    grads = autograd.grad(loss_of(model, images, labels), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector))
    return list(autograd.grad(dot, params))


def top_eigenvalue(model: mg.nn.Module, images: mg.Tensor, labels: mg.Tensor,
                   iterations: int, seed: int = 0) -> float:
    """Power iteration on Hessian-vector products from a fixed random start."""
    rng = np.random.default_rng(seed)
    vector = [mg.tensor(rng.standard_normal(p.shape).astype(np.float32))
              for p in model.parameters()]
    eigenvalue = 0.0
    for iteration in range(1, iterations + 1):
        norm = np.sqrt(sum(float((v * v).sum().item()) for v in vector))
        vector = [v / norm for v in vector]
        product = hessian_vector_product(model, images, labels, vector)
        eigenvalue = sum(float((h * v).sum().item()) for h, v in zip(product, vector))
        vector = product
        print(f"iteration {iteration:3d}  Rayleigh quotient {eigenvalue:.5f}")
    return eigenvalue


def train(model: mg.nn.Module, images: mg.Tensor, labels: mg.Tensor, epochs: int) -> None:
    optimizer = mg.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for start in range(0, images.shape[0], 32):
            loss = loss_of(model, images[start:start + 32], labels[start:start + 32])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch, 10 iterations")
    args = parser.parse_args()
    mg.manual_seed(0)
    images, labels = digits_batch()
    model = models.LeNet5(input_size=8)
    train(model, images, labels, epochs=1 if args.quick else 3)
    print(f"loss after training: {loss_of(model, images, labels).item():.4f}")
    value = top_eigenvalue(model, images, labels, iterations=10 if args.quick else 20)
    print(f"top Hessian eigenvalue of the loss: {value:.5f}")


if __name__ == "__main__":
    main()
