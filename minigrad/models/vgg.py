"""VGG as torchvision defines it: `cfgs`, `make_layers`, the VGG class and its init.

ReLUs say inplace=True as torchvision's do (so the reprs match); minigrad ignores it and
returns a new tensor.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..engine import Tensor

__all__ = ["VGG", "VGG11", "VGG16", "cfgs", "make_layers", "vgg11", "vgg11_bn", "vgg16",
           "vgg16_bn"]

# Simonyan and Zisserman (2014), table 1: output channels of each 3x3 conv, "M" a 2x2 max-pool.
# A is VGG11, B VGG13, D VGG16, E VGG19.
cfgs: dict[str, list[str | int]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg: list[str | int], batch_norm: bool = False) -> nn.Sequential:
    """The convolutional body: per number a 3x3 conv (padding 1), [BatchNorm2d,] ReLU; per "M"
    a 2x2 max-pool. Indices in the Sequential, hence state_dict keys, are torchvision's."""
    layers: list[nn.Module] = []
    in_channels = 3
    for value in cfg:
        if value == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, value, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(value))
        layers.append(nn.ReLU(inplace=True))
        in_channels = value
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG body (`features`), an adaptive average pool to 7x7 and the classifier Linear
    25088 -> 4096, ReLU, Dropout, Linear 4096 -> 4096, ReLU, Dropout, Linear 4096 ->
    num_classes.

    init_weights=True applies torchvision's init: convs Kaiming-normal (fan_out, relu) with
    zero biases, BatchNorm weight 1 and bias 0, linears N(0, 0.01^2) with zero biases.

    small_input=True is the CIFAR-style variant for 32x32 images: the body ends at 1x1, so
    the pool is to 1x1 and the classifier is 512 wide (512 -> 512 -> 512 -> num_classes,
    same layers and state_dict keys, 1/8 of the width).

    Shape: (N, 3, H, W) -> (N, num_classes), H and W at least 32 (five 2x2 pools).
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5, small_input: bool = False) -> None:
        super().__init__()
        self.features = features
        side, width = (1, 512) if small_input else (7, 4096)
        self.avgpool = nn.AdaptiveAvgPool2d((side, side))
        self.classifier = nn.Sequential(
            nn.Linear(512 * side * side, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(width, width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(width, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


class VGG11(VGG):
    """VGG configuration A: 8 convs and 3 linears. 132,863,336 parameters with
    num_classes=1000 (batch_norm=True adds 2 * 2,752 = 5,504 BatchNorm parameters)."""

    def __init__(self, num_classes: int = 1000, batch_norm: bool = False,
                 init_weights: bool = True, dropout: float = 0.5,
                 small_input: bool = False) -> None:
        super().__init__(make_layers(cfgs["A"], batch_norm), num_classes=num_classes,
                         init_weights=init_weights, dropout=dropout, small_input=small_input)


class VGG16(VGG):
    """VGG configuration D: 13 convs and 3 linears. 138,357,544 parameters with
    num_classes=1000 (batch_norm=True adds 2 * 4,224 = 8,448 BatchNorm parameters)."""

    def __init__(self, num_classes: int = 1000, batch_norm: bool = False,
                 init_weights: bool = True, dropout: float = 0.5,
                 small_input: bool = False) -> None:
        super().__init__(make_layers(cfgs["D"], batch_norm), num_classes=num_classes,
                         init_weights=init_weights, dropout=dropout, small_input=small_input)


def vgg11(**kwargs: Any) -> VGG11:
    """torchvision's factory name; no pretrained weights (minigrad downloads nothing)."""
    return VGG11(**kwargs)


def vgg11_bn(**kwargs: Any) -> VGG11:
    return VGG11(batch_norm=True, **kwargs)


def vgg16(**kwargs: Any) -> VGG16:
    """torchvision's factory name; no pretrained weights (minigrad downloads nothing)."""
    return VGG16(**kwargs)


def vgg16_bn(**kwargs: Any) -> VGG16:
    return VGG16(batch_norm=True, **kwargs)
