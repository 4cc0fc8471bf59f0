"""Ready-made models: the seed notebook's LeNet-5 and SimpleCNN, and the famous CNNs of its
Problem 9 (AlexNet, VGG, ResNet) as torchvision defines them."""

from .lenet import LeNet5
from .simple_cnn import SimpleCNN

__all__ = ["LeNet5", "SimpleCNN"]

# the famous architectures of the seed's Problem 9, as torchvision defines them
from .alexnet import AlexNet, alexnet
from .resnet import BasicBlock, ResNet, ResNet18, ResNet34, resnet18, resnet34
from .vgg import VGG, VGG11, VGG16, vgg11, vgg11_bn, vgg16, vgg16_bn

__all__ += ["VGG", "VGG11", "VGG16", "AlexNet", "BasicBlock", "ResNet", "ResNet18", "ResNet34",
            "alexnet", "resnet18", "resnet34", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn"]
