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


class TorchBasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TorchResNet18(nn.Module):
    """torchvision's ResNet-18; small_input=True: 3x3 stride-1 stem, no max-pool."""

    def __init__(self, num_classes: int = 1000, small_input: bool = False):
        super().__init__()
        if small_input:
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for index, (planes, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2))):
            layer = nn.Sequential(TorchBasicBlock(inplanes, planes, stride),
                                  TorchBasicBlock(planes, planes))
            setattr(self, f"layer{index + 1}", layer)
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


class TorchVGG11(nn.Module):
    """torchvision's VGG-11 (batch_norm as vgg11_bn); small_input=True: 1x1 pool, 512 wide."""

    def __init__(self, num_classes: int = 1000, batch_norm: bool = False,
                 small_input: bool = False):
        super().__init__()
        layers, channels = [], 3
        for value in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
            if value == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(channels, value, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(value))
            layers.append(nn.ReLU(inplace=True))
            channels = value
        self.features = nn.Sequential(*layers)
        side, width = (1, 512) if small_input else (7, 4096)
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = nn.Sequential(
            nn.Linear(512 * side * side, width), nn.ReLU(True), nn.Dropout(0.5),
            nn.Linear(width, width), nn.ReLU(True), nn.Dropout(0.5),
            nn.Linear(width, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


TWINS = {"LeNet5": TorchLeNet5, "SimpleCNN": TorchSimpleCNN, "ResNet18": TorchResNet18,
         "VGG11": TorchVGG11}


def torch_twin(model, **kwargs) -> nn.Module:
    """A PyTorch module with `model`'s architecture and a copy of its weights."""
    twin = TWINS[type(model).__name__](**kwargs)
    state = {key: torch.from_numpy(np.array(value.data))
             for key, value in model.state_dict().items()}
    twin.load_state_dict(state)  # strict: a key or shape mismatch fails here
    return twin
