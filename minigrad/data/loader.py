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
from .workers import WorkerPool

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

    `num_workers=N` reads batches in N worker processes (see `workers.py`): same batches in
    the same order as `num_workers=0`; `worker_init_fn(worker_id)`, `prefetch_factor`
    (batches in flight per worker, default 2), `persistent_workers` (keep the processes
    between epochs), `timeout` and `multiprocessing_context` as in PyTorch. `pin_memory`
    is accepted and does nothing: there is no GPU to pin memory for.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 seed: int | None = None, collate_fn: Callable | None = None,
                 num_workers: int = 0, pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "") -> None:
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
        _check_worker_options(num_workers, timeout, worker_init_fn, prefetch_factor,
                              persistent_workers)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.seed = seed
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)  # nothing to pin on a CPU: accepted, no effect
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) \
            if self.num_workers > 0 else None
        self.persistent_workers = bool(persistent_workers)
        self._seeded_generator = None if seed is None else np.random.default_rng(int(seed))
        self._pool: WorkerPool | None = None

    def __len__(self) -> int:
        samples = len(self.dataset)
        if self.drop_last:
            return samples // self.batch_size
        return (samples + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[Any]:
        order = self._epoch_order()
        stop = len(self) * self.batch_size
        batches = [order[start:start + self.batch_size]
                   for start in range(0, stop, self.batch_size)]
        if self.num_workers > 0:
            yield from self._iter_workers(batches)
            return
        fetch = _BatchFetcher(self.dataset, self.collate_fn)
        for batch_indices in batches:
            yield fetch(batch_indices)

    def _iter_workers(self, batches: list[np.ndarray]) -> Iterator[Any]:
        """The batches fetched by worker processes (started now, or kept if persistent)."""
        pool = self._pool
        if pool is None or pool.closed:
            pool = WorkerPool(_BatchFetcher(self.dataset, self.collate_fn), self.dataset,
                              self.num_workers, self._base_seed(), self.worker_init_fn,
                              self.multiprocessing_context, self.prefetch_factor,
                              self.timeout)
            if self.persistent_workers:
                self._pool = pool
        try:
            yield from pool.run_epoch(batches)
        finally:
            if not self.persistent_workers:
                pool.close()

    def _base_seed(self) -> int:
        """The seed worker k adds k to: drawn from the loader's generator, as PyTorch does."""
        if self.generator is not None:
            source = self.generator
        elif self._seeded_generator is not None:
            source = self._seeded_generator
        else:
            source = default_generator()
        return int(source.integers(0, 2**62))

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

    def __repr__(self) -> str:
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}{workers})")

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()


class _BatchFetcher:
    """Turns a batch's indices into the batch: one fancy index per tensor for a
    TensorDataset (or Subsets of one), else samples combined by `collate_fn`. A plain
    object, so worker processes can be handed it."""

    def __init__(self, dataset: Any, collate_fn: Callable | None) -> None:
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.arrays = None if collate_fn is not None else _tensor_arrays(dataset)

    def __call__(self, batch_indices: Any) -> Any:
        batch_indices = np.asarray(batch_indices, dtype=np.int64)
        if self.arrays is not None:
            columns, index_map = self.arrays
            rows = batch_indices if index_map is None else index_map[batch_indices]
            return [Tensor._from_op(column[rows]) for column in columns]
        indices = batch_indices.tolist()
        fetch_many = getattr(self.dataset, "__getitems__", None)
        if callable(fetch_many):
            samples = fetch_many(indices)
        else:
            samples = [self.dataset[index] for index in indices]
        collate = self.collate_fn or default_collate
        return collate(samples)


def _check_worker_options(num_workers: Any, timeout: Any, worker_init_fn: Any,
                          prefetch_factor: Any, persistent_workers: Any) -> None:
    """PyTorch's checks of the multiprocessing arguments, with its messages."""
    if not isinstance(num_workers, (int, np.integer)) or isinstance(num_workers, bool) \
            or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable, "
                        f"got {type(worker_init_fn).__name__}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and (not isinstance(prefetch_factor, (int, np.integer))
                                        or prefetch_factor <= 0):
        raise ValueError("prefetch_factor option should be a positive integer")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")


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
