"""Built-in models and mg.summary: shapes, parameter counts, keys, PyTorch agreement."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn


@pytest.mark.parametrize("input_size", [28, 8])
@pytest.mark.parametrize("model_class", [models.LeNet5, models.SimpleCNN])
def test_models_map_images_to_logits_and_backprop(model_class, input_size):
    mg.manual_seed(0)
    model = model_class(in_channels=1, num_classes=10, input_size=input_size)
    x = mg.randn(3, 1, input_size, input_size)
    logits = model(x)
    assert logits.shape == (3, 10) and logits.dtype == mg.float32
    nn.functional.cross_entropy(logits, mg.tensor([0, 1, 2])).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.dtype == mg.float32 and parameter.grad.shape == parameter.shape


def test_parameter_counts_follow_the_seed_architectures():
    # LeNet-5 on 28x28: 156 + 2,416 + (256*120+120) + (120*84+84) + (84*10+10)
    assert sum(p.numel() for p in models.LeNet5().parameters()) == 44_426
    # SimpleCNN: 320 + 18,496 + (3136*128+128) + (128*10+10)
    assert sum(p.numel() for p in models.SimpleCNN().parameters()) == 421_642


def test_models_take_other_channel_and_class_counts():
    model = models.LeNet5(in_channels=3, num_classes=7, input_size=32)
    assert model(mg.randn(2, 3, 32, 32)).shape == (2, 7)
    with pytest.raises(ValueError, match="divisible by 4"):
        models.SimpleCNN(input_size=10)


@pytest.mark.parametrize("model_class", [models.LeNet5, models.SimpleCNN])
def test_models_equal_their_pytorch_twin(model_class):
    torch = pytest.importorskip("torch")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from torch_twins import torch_twin

    mg.manual_seed(1)
    model = model_class()
    twin = torch_twin(model)
    assert list(model.state_dict()) == list(twin.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    labels = np.array([1, 2, 3, 4])
    loss = nn.functional.cross_entropy(model(mg.tensor(x)), mg.tensor(labels))
    loss.backward()
    torch_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)),
                                                   torch.from_numpy(labels))
    torch_loss.backward()
    np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-5)
    for (name, parameter), torch_parameter in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(parameter.grad.numpy(), torch_parameter.grad.numpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("layer, input_size, output_shape, parameters", [
    (lambda: nn.Conv2d(3, 6, 3), (1, 3, 144, 144), (1, 6, 142, 142), 168),
    (lambda: nn.Conv2d(24, 48, 3), (1, 24, 60, 60), (1, 48, 58, 58), 10_416),
    (lambda: nn.Conv2d(10, 20, 3, stride=2), (1, 10, 20, 20), (1, 20, 9, 9), 1_820),
])
def test_summary_gives_the_seeds_problem_10(layer, input_size, output_shape, parameters):
    result = mg.summary(layer(), input_size)
    assert result.total_params == parameters
    assert result.rows[0].output_shape == output_shape
    assert f"{parameters:,}" in str(result)


def test_summary_lists_every_layer_with_shapes_and_counts():
    result = mg.summary(models.LeNet5(), (2, 1, 28, 28))
    by_name = {row.name: row for row in result.rows}
    assert by_name["conv1"].output_shape == (2, 6, 24, 24)
    assert by_name["pool2"].output_shape == (2, 16, 4, 4)
    assert by_name["fc1"].num_params == 256 * 120 + 120
    assert result.total_params == result.trainable_params == 44_426
    text = str(result)
    assert "Conv2d: conv1" in text and "Total params: 44,426" in text


def test_summary_with_grads_reports_gradient_norms_and_update_ratios():
    mg.manual_seed(0)
    result = mg.summary(models.LeNet5(), (4, 1, 28, 28), grads=True, lr=0.1)
    conv1 = next(row for row in result.rows if row.name == "conv1")
    relu1 = next(row for row in result.rows if row.name == "relu1")
    assert conv1.grad_norm > 0 and 0 < conv1.update_ratio < 1
    assert relu1.grad_norm is None
    assert "Grad norm" in str(result)


def test_conv2d_output_shape_matches_the_seed():
    assert nn.utils.conv2d_output_shape((28, 28), 3) == (26, 26)


def test_lenet5_checkpoint_moves_to_pytorch_and_back_with_equal_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from torch_twins import TorchLeNet5

    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    mg.manual_seed(5)
    model = models.LeNet5()
    mg.save(model.state_dict(), tmp_path / "ours.safetensors")
    twin = TorchLeNet5()
    twin.load_state_dict(safetensors_torch.load_file(tmp_path / "ours.safetensors"), strict=True)
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(x)).numpy(),
                                   model(mg.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)

    torch.manual_seed(1)
    trained = TorchLeNet5()                     # other weights, written by PyTorch
    safetensors_torch.save_file(trained.state_dict(), tmp_path / "theirs.safetensors")
    model.load_state_dict(mg.load(tmp_path / "theirs.safetensors"))
    with torch.no_grad():
        np.testing.assert_allclose(model(mg.tensor(x)).detach().numpy(),
                                   trained(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
