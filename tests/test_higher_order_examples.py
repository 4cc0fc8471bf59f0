"""The higher-order examples meet their targets in quick runs: the PINN's error against the
exact solution, WGAN-GP's critic gradient norm near 1, and LeNet-5's top Hessian eigenvalue
equal to PyTorch's on the same weights."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinn_solves_the_boundary_value_problem(capsys):
    error = _example("pinn").train(steps=800, log_every=400)
    assert error < 1e-3   # relative L2 error against sin(pi x)
    assert "relative L2 error" in capsys.readouterr().out


def test_gradient_penalty_holds_the_critic_gradient_norm_near_one():
    history = _example("gradient_penalty").train(generator_steps=60, batch=64)
    assert abs(np.mean(history[-30:]) - 1.0) < 0.3


def test_hessian_top_eigenvalue_matches_pytorch():
    torch = pytest.importorskip("torch")
    example = _example("hessian")
    mg.manual_seed(0)
    images, labels = example.digits_batch(128)
    model = mg.models.LeNet5(input_size=8)
    example.train(model, images, labels, epochs=1)
    ours = example.top_eigenvalue(model, images, labels, iterations=6)

    tnn = torch.nn
    twin = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(6, 16, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Linear(16 * 2 * 2, 120), tnn.ReLU(),
                          tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    weights = [torch.from_numpy(np.array(p.detach().numpy())) for p in model.parameters()]
    with torch.no_grad():
        for target, value in zip(twin.parameters(), weights):
            target.copy_(value)
    x = torch.from_numpy(images.numpy())
    y = torch.from_numpy(labels.numpy())
    params = list(twin.parameters())
    rng = np.random.default_rng(0)   # the example's start vector
    vector = [torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32))
              for p in model.parameters()]
    theirs = 0.0
    for _ in range(6):
        norm = torch.sqrt(sum((v * v).sum() for v in vector))
        vector = [v / norm for v in vector]
        loss = torch.nn.functional.cross_entropy(twin(x), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        product = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vector)), params)
        theirs = float(sum((h * v).sum() for h, v in zip(product, vector)))
        vector = list(product)
    assert ours == pytest.approx(theirs, rel=1e-3)
