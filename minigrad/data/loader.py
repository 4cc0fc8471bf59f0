"""`DataLoader`: batches of Tensors from a dataset, optionally shuffled each epoch.

Shuffling and reproducibility: every pass over a loader (every `for batch in loader`) draws a
fresh permutation, from
  - `generator` (a `numpy.random.Generator`) when given, else
  - a private generator made once from `seed` when given (so epoch k has the same order on
    every run, whatever else draws random numbers), else
  - minigrad's global generator (`minigrad.engine.random.default_generator()`), looked up at
    the start of each epoch, so `minigrad.manual_seed(s)` before training makes runs repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..engine import Tensor, default_generator
from .dataset import Dataset, Subset, TensorDataset, _check_generator

__all__ = ["DataLoader", "default_collate"]


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size` samples stacked along dim 0.

    A `TensorDataset` (or a `Subset` of one, at any depth) yields `[x_batch, y_batch]` lists
    of Tensors cut with one fancy index per tensor, without a Python loop over samples. Other
    datasets are read sample by sample and combined by `collate_fn` (default:
    `default_collate`, PyTorch's rules). Dtypes are kept: int64 labels stay int64, float32
    images stay float32. Batches are copies, never views of the dataset.

    `len(loader)` is the number of batches per epoch: `ceil(N / batch_size)`, or
    `floor(N / batch_size)` with `drop_last=True` (the short last batch is skipped).
    See the module docstring for where shuffling draws its randomness.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 seed: int | None = None, collate_fn: Callable | None = None) -> None:
        if (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size}")
        _check_generator(generator, "DataLoader")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator or seed, not both")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise TypeError(f"DataLoader: seed must be an int, got {type(seed).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, "
                            f"got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.seed = seed
        self.collate_fn = collate_fn
        self._seeded_generator = None if seed is None else np.random.default_rng(int(seed))

    def __len__(self) -> int:
        samples = len(self.dataset)
        if self.drop_last:
            return samples // self.batch_size
        return (samples + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[Any]:
        order = self._epoch_order()
        stop = len(self) * self.batch_size
        arrays = None if self.collate_fn is not None else _tensor_arrays(self.dataset)
        for start in range(0, stop, self.batch_size):
            batch_indices = order[start:start + self.batch_size]
            if arrays is not None:
                columns, index_map = arrays
                rows = batch_indices if index_map is None else index_map[batch_indices]
                yield [Tensor._from_op(column[rows]) for column in columns]
            else:
                yield self._collate_samples(batch_indices)

    def _epoch_order(self) -> np.ndarray:
        """The sample indices of one epoch, shuffled with a fresh permutation if asked."""
        samples = len(self.dataset)
        if not self.shuffle:
            return np.arange(samples)
        if self.generator is not None:
            return self.generator.permutation(samples)
        if self._seeded_generator is not None:
            return self._seeded_generator.permutation(samples)
        return default_generator().permutation(samples)  # looked up now: manual_seed swaps it

    def _collate_samples(self, batch_indices: np.ndarray) -> Any:
        indices = batch_indices.tolist()
        fetch_many = getattr(self.dataset, "__getitems__", None)
        if callable(fetch_many):
            samples = fetch_many(indices)
        else:
            samples = [self.dataset[index] for index in indices]
        collate = self.collate_fn or default_collate
        return collate(samples)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def _tensor_arrays(dataset: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """The arrays behind a TensorDataset, possibly wrapped in Subsets, and the index map from
    the loader's positions to their rows (None: identity). None for any other dataset."""
    index_map = None
    while type(dataset) is Subset:
        indices = np.asarray(dataset.indices, dtype=np.int64)
        index_map = indices if index_map is None else indices[index_map]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or type(dataset).__getitem__ is not \
            TensorDataset.__getitem__:
        return None
    return tuple(tensor.data for tensor in dataset.tensors), index_map


def default_collate(samples: list) -> Any:
    """Stack a list of samples into a batch, by PyTorch's rules.

    Tensors and NumPy arrays are stacked along a new dim 0 (dtype kept); Python ints give an
    int64 Tensor, floats a float64 Tensor, bools a bool Tensor, NumPy scalars keep their
    dtype; strings stay a list; dicts are collated per key; tuples and lists are collated
    position by position into a list.
    """
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor._from_op(_stack([sample.data for sample in samples]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor._from_op(_stack([np.asarray(sample) for sample in samples]))
    if isinstance(first, bool):
        return Tensor._from_op(np.array(samples, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor._from_op(np.array(samples, dtype=np.int64))
    if isinstance(first, float):
        return Tensor._from_op(np.array(samples, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(column)) for column in zip(*samples)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first)}")


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    for position, array in enumerate(arrays):
        if array.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(array.shape)} "
                               f"at entry {position}")
    return np.stack(arrays)
