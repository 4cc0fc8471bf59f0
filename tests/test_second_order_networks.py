"""Second derivatives of whole networks equal PyTorch's: Hessian-vector products and gradient
penalties of an MLP, a CNN (conv, pool, BatchNorm, linear) and an attention-style block, with
the same weights in both frameworks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, nn

torch = pytest.importorskip("torch")


def _copy_weights(model, twin):
    twin.load_state_dict({key: torch.from_numpy(np.array(value.detach().numpy()))
                          for key, value in model.state_dict().items()})


def _hvp(loss_fn, params, vector, grad_module):
    grads = grad_module.grad(loss_fn(), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector))
    return grad_module.grad(dot, params)


def _compare_hvp(model, twin, loss, torch_loss, rtol, atol):
    params = list(model.parameters())
    twin_params = list(twin.parameters())
    rng = np.random.default_rng(1)
    vector = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
    ours = _hvp(loss, params, [mg.tensor(v) for v in vector], autograd)
    theirs = _hvp(torch_loss, twin_params, [torch.from_numpy(v) for v in vector],
                  torch.autograd)
    for (name, _), a, b in zip(model.named_parameters(), ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", [mg.float64, mg.float32])
def test_mlp_hessian_vector_product(dtype):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3)).to(dtype)
    twin = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                               torch.nn.ReLU(), torch.nn.Linear(16, 3))
    twin = twin.to(torch.float64 if dtype == mg.float64 else torch.float32)
    _copy_weights(model, twin)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(np.dtype(dtype))
    y = rng.integers(0, 3, 8)
    tol = 1e-9 if dtype == mg.float64 else 2e-4
    _compare_hvp(model, twin, lambda: F.cross_entropy(model(mg.tensor(x)), mg.tensor(y)),
                 lambda: torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)),
                                                           torch.from_numpy(y)),
                 rtol=tol, atol=tol)


class SmallCNN(nn.Module):
    def __init__(self, module=nn):
        super().__init__()
        self.conv1 = module.Conv2d(1, 4, 3, padding=1)
        self.bn1 = module.BatchNorm2d(4)
        self.conv2 = module.Conv2d(4, 6, 3, stride=2)
        self.fc = module.Linear(6 * 3 * 3, 5)

    def forward(self, x, functional=F):
        x = functional.max_pool2d(functional.relu(self.bn1(self.conv1(x))), 2)
        x = functional.avg_pool2d(functional.elu(self.conv2(x)), 1)
        return self.fc(x.reshape(x.shape[0], -1))


class TorchSmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, stride=2)
        self.fc = torch.nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        functional = torch.nn.functional
        x = functional.max_pool2d(functional.relu(self.bn1(self.conv1(x))), 2)
        x = functional.avg_pool2d(functional.elu(self.conv2(x)), 1)
        return self.fc(x.reshape(x.shape[0], -1))


def test_cnn_hessian_vector_product_and_input_gradient_penalty():
    mg.manual_seed(0)
    model = SmallCNN().to(mg.float64)
    twin = TorchSmallCNN().double()
    _copy_weights(model, twin)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 14, 14))
    y = rng.integers(0, 5, 4)
    _compare_hvp(model, twin,
                 lambda: F.cross_entropy(model(mg.tensor(x)), mg.tensor(y)),
                 lambda: torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)),
                                                           torch.from_numpy(y)),
                 rtol=1e-8, atol=1e-10)
    # WGAN-GP style: d/dw of (||d out / d x|| - 1)^2
    xs = mg.tensor(x, requires_grad=True)
    (gx,) = autograd.grad(model(xs).sum(), xs, create_graph=True)
    penalty = ((gx.reshape(4, -1) ** 2).sum(dim=1).sqrt() - 1) ** 2
    # the last layer's bias does not move d out / d x: unused in both frameworks
    ours = autograd.grad(penalty.mean(), list(model.parameters()), allow_unused=True)
    xt = torch.tensor(x, requires_grad=True)
    (gxt,) = torch.autograd.grad(twin(xt).sum(), xt, create_graph=True)
    penalty_t = ((gxt.reshape(4, -1) ** 2).sum(dim=1).sqrt() - 1) ** 2
    theirs = torch.autograd.grad(penalty_t.mean(), list(twin.parameters()), allow_unused=True)
    for (name, _), a, b in zip(model.named_parameters(), ours, theirs):
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10,
                                       err_msg=name)


def _attention(q_w, k_w, v_w, x, module):
    """Single-head self-attention with a residual and a mean-square normalisation."""
    q, k, v = x @ q_w, x @ k_w, x @ v_w
    scores = (q @ k.transpose(-2, -1)) / np.sqrt(q.shape[-1])
    out = module.softmax(scores, dim=-1) @ v + x
    return out / ((out * out).mean(dim=-1, keepdim=True) + 1e-5).sqrt()


def test_attention_block_hessian_vector_product():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((6, 6)) * 0.5 for _ in range(3)]
    x = rng.standard_normal((2, 4, 6))
    target = rng.standard_normal((2, 4, 6))
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    twin = [torch.tensor(a, requires_grad=True) for a in arrays]
    vector = [rng.standard_normal((6, 6)) for _ in range(3)]

    def loss():
        return ((_attention(*params, mg.tensor(x), mg) - mg.tensor(target)) ** 2).mean()

    def torch_loss():
        return ((_attention(*twin, torch.from_numpy(x), torch) - torch.from_numpy(target))
                ** 2).mean()

    ours = _hvp(loss, params, [mg.tensor(v) for v in vector], autograd)
    theirs = _hvp(torch_loss, twin, [torch.from_numpy(v) for v in vector], torch.autograd)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_third_derivative_of_an_mlp_in_its_input():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).to(mg.float64)
    twin = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, 1)).double()
    _copy_weights(model, twin)
    x = np.linspace(-1, 1, 5).reshape(-1, 1)

    def derivatives(net, tensor, grad_module, ones_like):
        u = net(tensor)
        values = []
        for _ in range(3):
            (u,) = grad_module.grad(u, tensor, grad_outputs=ones_like(u), create_graph=True)
            values.append(u)
        return values

    ours = derivatives(model, mg.tensor(x, requires_grad=True), autograd, mg.ones_like)
    theirs = derivatives(twin, torch.tensor(x, requires_grad=True), torch.autograd,
                         torch.ones_like)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
