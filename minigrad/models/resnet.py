"""ResNet-18 and ResNet-34 as torchvision defines them: BasicBlock, ResNet and their init.

ReLUs say inplace=True as torchvision's do (so the reprs match); minigrad ignores it and
returns a new tensor.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..engine import Tensor

__all__ = ["BasicBlock", "ResNet", "ResNet18", "ResNet34", "conv1x1", "conv3x3", "resnet18",
           "resnet34"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution with no bias: the shortcut's projection when the shape changes."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BatchNorm pairs and a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)),
    where s is the identity, or `downsample` (1x1 conv + BatchNorm) when the stride or the
    channel count changes.

    Shape: (N, inplanes, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """He et al. (2015): a 7x7 stride-2 stem conv, BatchNorm, ReLU, a 3x3 stride-2 max-pool,
    four stages of `layers[i]` blocks with 64, 128, 256, 512 channels (stages 2 to 4 start
    with stride 2), a global average pool and `fc`.

    Init as torchvision: convs Kaiming-normal (fan_out, relu), BatchNorm weight 1 and bias 0,
    fc PyTorch's Linear default. zero_init_residual=True starts each block's bn2 weight at 0,
    so every block begins as the identity.

    small_input=True is the CIFAR-style variant for 32x32 images (He et al., section 4.2):
    a 3x3 stride-1 stem conv and no max-pool (`maxpool` is an Identity), so the feature map
    shrinks by 8. The state_dict keys are the same; only conv1.weight's shape differs.

    Shape: (N, 3, H, W) -> (N, num_classes); the feature map shrinks by 32 (at least 1x1),
    by 8 with small_input=True.
    """

    def __init__(self, block: type[BasicBlock], layers: list[int], num_classes: int = 1000,
                 zero_init_residual: bool = False, small_input: bool = False) -> None:
        super().__init__()
        self.inplanes = 64
        if small_input:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1,
                                   bias=False)
        else:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3,
                                   bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = (nn.Identity() if small_input
                        else nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    nn.init.constant_(module.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock], planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.fc(x)


class ResNet18(ResNet):
    """ResNet with [2, 2, 2, 2] BasicBlocks. 11,689,512 parameters with num_classes=1000."""

    def __init__(self, num_classes: int = 1000, zero_init_residual: bool = False,
                 small_input: bool = False) -> None:
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes,
                         zero_init_residual=zero_init_residual, small_input=small_input)


class ResNet34(ResNet):
    """ResNet with [3, 4, 6, 3] BasicBlocks. 21,797,672 parameters with num_classes=1000."""

    def __init__(self, num_classes: int = 1000, zero_init_residual: bool = False,
                 small_input: bool = False) -> None:
        super().__init__(BasicBlock, [3, 4, 6, 3], num_classes=num_classes,
                         zero_init_residual=zero_init_residual, small_input=small_input)


def resnet18(**kwargs: Any) -> ResNet18:
    """torchvision's factory name; no pretrained weights (minigrad downloads nothing)."""
    return ResNet18(**kwargs)


def resnet34(**kwargs: Any) -> ResNet34:
    """torchvision's factory name; no pretrained weights (minigrad downloads nothing)."""
    return ResNet34(**kwargs)
