"""The seed notebook's Scratch2dCNNClassifier, PyTorch-style and with no backward code."""

from __future__ import annotations

from .. import nn
from ..engine import Tensor

__all__ = ["SimpleCNN"]


class SimpleCNN(nn.Module):
    """conv 32@3x3 pad 1, ReLU, max-pool 2, conv 64@3x3 pad 1, ReLU, max-pool 2, fc 128, ReLU,
    fc num_classes — the seed's layer list (its fc1 takes 7*7*64 features after two pools on
    28x28).

    Shape: (N, in_channels, input_size, input_size) -> (N, num_classes); input_size divisible by 4.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        super().__init__()
        if input_size % 4:
            raise ValueError(f"SimpleCNN: input_size must be divisible by 4 (two 2x2 pools), "
                             f"got {input_size}")
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        side = input_size // 4
        self.fc1 = nn.Linear(64 * side * side, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        return self.fc2(x)
