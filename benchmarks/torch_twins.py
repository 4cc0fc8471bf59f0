"""PyTorch twins of minigrad's built-in models (same layers, same state_dict keys), used by the
benchmarks and tests to compare the two frameworks on identical weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchLeNet5(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28):
        super().__init__()
        padding = 0 if input_size >= 28 else 2
        side = input_size
        for _ in range(2):
            side = (side + 2 * padding - 5 + 1) // 2
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=padding)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        return self.fc3(self.relu4(self.fc2(x)))


class TorchSimpleCNN(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        side = input_size // 4
        self.fc1 = nn.Linear(64 * side * side, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


TWINS = {"LeNet5": TorchLeNet5, "SimpleCNN": TorchSimpleCNN}


def torch_twin(model, **kwargs) -> nn.Module:
    """A PyTorch module with `model`'s architecture and a copy of its weights."""
    twin = TWINS[type(model).__name__](**kwargs)
    state = {key: torch.from_numpy(np.array(value.data))
             for key, value in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin
