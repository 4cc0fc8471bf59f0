"""scikit-learn's 8x8 handwritten digits: a small data set that ships with scikit-learn."""

from __future__ import annotations

import numpy as np

from ..engine import Tensor
from .dataset import TensorDataset

__all__ = ["load_digits"]


def load_digits() -> TensorDataset:
    """The 1797 digits as a TensorDataset of (1797, 1, 8, 8) float32 images in [0, 1]
    (pixel counts / 16) and int64 labels 0 to 9.

    No download: the data ships with scikit-learn. Split it with `random_split`, e.g.
    `train, test = random_split(load_digits(), [0.8, 0.2])`.
    """
    from sklearn.datasets import load_digits as load_sklearn_digits  # slow import: only here

    bunch = load_sklearn_digits()
    images = bunch.images.astype(np.float32)[:, None]  # (1797, 1, 8, 8), counts 0..16
    images /= np.float32(16)
    labels = bunch.target.astype(np.int64)
    return TensorDataset(Tensor._from_op(images), Tensor._from_op(labels))
