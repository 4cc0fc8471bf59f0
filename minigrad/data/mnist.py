"""MNIST handwritten digits from IDX files, fetched once from OpenML into a local cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..engine import Tensor
from .dataset import TensorDataset
from .idx import PathLike, read_images_labels, write_idx

__all__ = ["MNIST", "idx_file_names"]

TEST_SIZE = 10_000  # OpenML's mnist_784 lists the 60,000 training images first, then the test


def idx_file_names(train: bool) -> tuple[str, str]:
    """The standard (images, labels) file names of the training or the test split."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


class MNIST(TensorDataset):
    """MNIST as a TensorDataset of (N, 1, 28, 28) float32 images in [0, 1] and int64 labels.

    Reads `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz` (60,000 samples) or the
    `t10k-*` pair (10,000 samples) from `root`, default `~/.cache/minigrad/mnist`. If a file
    is missing and `download` is true, fetches `mnist_784` once with scikit-learn's
    `fetch_openml` (first 60,000 rows train, last 10,000 test, as torchvision) and writes the
    four IDX files into `root`.

    Like torchvision: `.data` (images), `.targets` (labels), `.classes`, `.train`, `.root`.
    Unlike torchvision, `.data` is already the float32 NCHW tensor a model takes.
    """

    classes: ClassVar[list[str]] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
                                    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    default_root = "~/.cache/minigrad/mnist"

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 download: bool = True) -> None:
        self.root = Path(os.path.expanduser(root if root is not None else self.default_root))
        self.train = bool(train)
        images_path, labels_path = (self.root / name for name in idx_file_names(self.train))
        missing = [path.name for path in (images_path, labels_path) if not path.exists()]
        if missing:
            self._get_missing(missing, download)
        images, labels = read_images_labels(images_path, labels_path, len(self.classes))
        super().__init__(Tensor._from_op(images), Tensor._from_op(labels))

    @property
    def data(self) -> Tensor:
        return self.tensors[0]

    @property
    def targets(self) -> Tensor:
        return self.tensors[1]

    def _get_missing(self, missing: list[str], download: bool) -> None:
        """Download the files, or raise FileNotFoundError saying how to get them."""
        if not download:
            raise FileNotFoundError(
                f"{type(self).__name__}: missing {', '.join(missing)} in {self.root}; pass "
                f"download=True to fetch MNIST from OpenML, or copy the four IDX files "
                f"({', '.join(idx_file_names(True) + idx_file_names(False))}) there")
        download_mnist(self.root)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


def download_mnist(root: PathLike) -> None:
    """Fetch mnist_784 from OpenML and write the four IDX .gz files into `root`."""
    root = Path(root)
    names = idx_file_names(True) + idx_file_names(False)
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="liac-arff")
    except Exception as error:  # no network, proxy, OpenML down: all end the same way
        raise RuntimeError(
            f"MNIST: the IDX files ({', '.join(names)}) are not in {root} and downloading "
            f"mnist_784 from OpenML failed ({type(error).__name__}: {error}). Copy the four "
            f"files into {root} (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/), "
            f"or retry with network access") from error
    images, labels = _check_openml_arrays(np.asarray(bunch.data), np.asarray(bunch.target))
    root.mkdir(parents=True, exist_ok=True)
    splits = {True: slice(0, len(images) - TEST_SIZE), False: slice(len(images) - TEST_SIZE,
                                                                     None)}
    for train, rows in splits.items():
        images_name, labels_name = idx_file_names(train)
        write_idx(root / images_name, images[rows])
        write_idx(root / labels_name, labels[rows])


def _check_openml_arrays(pixels: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OpenML's (N, 784) pixels and string labels as uint8 (N, 28, 28) images and labels."""
    if pixels.ndim != 2 or pixels.shape[1] != 28 * 28 or len(pixels) <= TEST_SIZE:
        raise RuntimeError(f"MNIST: OpenML returned pixels of shape {pixels.shape}, expected "
                           f"(70000, 784)")
    if len(target) != len(pixels):
        raise RuntimeError(f"MNIST: OpenML returned {len(pixels)} images but {len(target)} "
                           f"labels")
    if pixels.min() < 0 or pixels.max() > 255:
        raise RuntimeError("MNIST: OpenML returned pixel values outside 0..255")
    labels = target.astype(np.int64)
    if labels.min() < 0 or labels.max() > 9:
        raise RuntimeError("MNIST: OpenML returned labels outside 0..9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)
