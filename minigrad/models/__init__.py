"""Ready-made models: the seed notebook's LeNet-5 and SimpleCNN."""

from .lenet import LeNet5
from .simple_cnn import SimpleCNN

__all__ = ["LeNet5", "SimpleCNN"]
