"""AlexNet as torchvision defines it: same layers, same order, same state_dict keys.

ReLUs say inplace=True as torchvision's do (so the reprs match); minigrad ignores it and
returns a new tensor.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..engine import Tensor

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """Krizhevsky et al. (2012), in torchvision's single-GPU form: five convs (64, 192, 384,
    256, 256 channels), three 3x3 stride-2 max-pools, an adaptive average pool to 6x6 and a
    classifier of Dropout, Linear 9216 -> 4096, ReLU, Dropout, Linear 4096 -> 4096, ReLU,
    Linear 4096 -> num_classes. Every layer keeps PyTorch's default init, as in torchvision.

    61,100,840 parameters with num_classes=1000.

    Shape: (N, 3, H, W) -> (N, num_classes), H and W at least 63 (the three pools need a
    feature map of at least 1x1).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def alexnet(**kwargs: Any) -> AlexNet:
    """torchvision's factory name; no pretrained weights (minigrad downloads nothing)."""
    return AlexNet(**kwargs)
