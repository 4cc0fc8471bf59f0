"""Map-style datasets with PyTorch's names: Dataset, TensorDataset, Subset, random_split."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Tensor, default_generator

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A collection of samples read by index: subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension: `(x[i], y[i])`.

    NumPy arrays are accepted too and wrapped as Tensors (sharing memory). The tensors are
    treated as data: samples are cut from `.data`, so they never carry autograd history.
    `DataLoader` reads a whole batch from these arrays with one fancy index.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        wrapped = tuple(_as_tensor(tensor, position) for position, tensor in enumerate(tensors))
        shapes = [tuple(tensor.shape) for tensor in wrapped]
        if any(len(shape) == 0 for shape in shapes):
            raise ValueError(f"TensorDataset: tensors need a first dimension to index, "
                             f"got shapes {', '.join(map(str, shapes))}")
        sizes = [shape[0] for shape in shapes]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"are {', '.join(map(str, sizes))} "
                             f"(shapes {', '.join(map(str, shapes))})")
        self.tensors: tuple[Tensor, ...] = wrapped

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor._from_op(tensor.data[index]) for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[position] for position in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths.

    `lengths` are sizes that sum to `len(dataset)`, or fractions that sum to 1: as in PyTorch,
    each split then gets `floor(fraction * len(dataset))` and the remainder is dealt out one
    by one from the first split on. The permutation comes from `generator` if given, else from
    minigrad's global generator (so `minigrad.manual_seed` makes splits repeat).
    """
    total = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, total)
    for position, length in enumerate(lengths):
        if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 0:
            raise ValueError(f"random_split: length at index {position} must be a "
                             f"non-negative int (or all lengths fractions summing to 1), "
                             f"got {length!r}")
    if sum(lengths) != total:
        raise ValueError(f"Sum of input lengths does not equal the length of the input "
                         f"dataset! (lengths {lengths} sum to {sum(lengths)}, dataset has "
                         f"{total} samples)")
    rng = _check_generator(generator, "random_split") or default_generator()
    order = rng.permutation(total).tolist()
    splits = []
    start = 0
    for length in lengths:
        splits.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return splits


def _lengths_from_fractions(fractions: list[float], total: int) -> list[int]:
    lengths = []
    for position, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {position} is not between 0 and 1")
        lengths.append(math.floor(total * fraction))
    for step in range(total - sum(lengths)):
        lengths[step % len(lengths)] += 1
    for position, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"Length of split at index {position} is 0. "
                          f"This might result in an empty dataset.", stacklevel=3)
    return lengths


def _check_generator(generator: Any, where: str) -> np.random.Generator | None:
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{where}: generator must be a numpy.random.Generator, "
                        f"got {type(generator).__name__}")
    return generator


def _as_tensor(value: Any, position: int) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._from_op(value)
    raise TypeError(f"TensorDataset: argument {position} must be a Tensor or a NumPy array, "
                    f"got {type(value).__name__}")
