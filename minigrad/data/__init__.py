"""Datasets and loaders with PyTorch's names (`torch.utils.data`, torchvision's MNIST).

    from minigrad.data import DataLoader, random_split, load_digits
    train, test = random_split(load_digits(), [0.8, 0.2])
    for images, labels in DataLoader(train, batch_size=64, shuffle=True):
        ...  # images (64, 1, 8, 8) float32, labels (64,) int64

`minigrad.utils.data` is this module under PyTorch's path. Shuffling draws from minigrad's global generator unless the loader gets `generator=` or
`seed=`, so `minigrad.manual_seed(0)` makes a whole run repeat (see `loader.py`).
"""

from .dataset import Dataset, Subset, TensorDataset, random_split
from .digits import load_digits
from .fashion_mnist import FashionMNIST
from .idx import read_idx, write_idx
from .loader import DataLoader, default_collate
from .mnist import MNIST
from .workers import WorkerInfo, get_worker_info

__all__ = ["MNIST", "DataLoader", "Dataset", "FashionMNIST", "Subset", "TensorDataset",
           "WorkerInfo", "default_collate", "get_worker_info", "load_digits", "random_split",
           "read_idx", "write_idx"]
