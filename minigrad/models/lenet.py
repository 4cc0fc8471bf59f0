"""LeNet-5 as the seed notebook built it, PyTorch-style and with no backward code."""

from __future__ import annotations

from .. import nn
from ..engine import Tensor
from ..nn.utils import conv2d_output_shape

__all__ = ["LeNet5"]


class LeNet5(nn.Module):
    """conv 6@5x5, ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, fc 120, fc 84, fc num_classes.

    On 28x28 inputs (the seed's MNIST) the convs use no padding: 28 -> 24 -> 12 -> 8 -> 4, so
    fc1 takes 16*4*4 = 256 features. Inputs smaller than 28 (8x8 digits) use padding 2 in both
    convs, which keeps each conv's output the size of its input (8 -> 4 -> 2).

    Shape: (N, in_channels, input_size, input_size) -> (N, num_classes)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> None:
        super().__init__()
        padding = 0 if input_size >= 28 else 2
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5, padding=padding)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        side = input_size
        for _ in range(2):
            side = conv2d_output_shape((side, side), 5, padding=padding)[0] // 2
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)
