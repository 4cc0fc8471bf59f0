"""Fashion-MNIST (Zalando's clothing images) from the IDX files Debian installs."""

from __future__ import annotations

from typing import ClassVar

from .idx import PathLike
from .mnist import MNIST, idx_file_names

__all__ = ["FashionMNIST"]


class FashionMNIST(MNIST):
    """Fashion-MNIST as a TensorDataset of (N, 1, 28, 28) float32 images in [0, 1] and int64
    labels: 60,000 training or 10,000 test samples, 10 classes.

    Reads the same IDX file names as MNIST from `root`, default
    `/usr/share/datasets/fashion-mnist`, where Debian's package puts them
    (`apt-get install dataset-fashion-mnist`). Nothing is downloaded.
    `.data`, `.targets`, `.classes` as in torchvision.
    """

    classes: ClassVar[list[str]] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    default_root = "/usr/share/datasets/fashion-mnist"

    def __init__(self, root: PathLike | None = None, train: bool = True) -> None:
        super().__init__(root, train, download=False)

    def _get_missing(self, missing: list[str], download: bool) -> None:
        raise FileNotFoundError(
            f"FashionMNIST: missing {', '.join(missing)} in {self.root}. Install Debian's "
            f"package (apt-get install dataset-fashion-mnist, which fills "
            f"{self.default_root}), or download the four files "
            f"({', '.join(idx_file_names(True) + idx_file_names(False))}) from "
            f"https://github.com/zalandoresearch/fashion-mnist and pass root=")
