"""Worker processes for `DataLoader(num_workers=N)`, as PyTorch runs them.

The main process keeps the sampler: it draws each epoch's order and sends the index list of
each batch to a worker, round robin (batch i to worker i % N), keeping `prefetch_factor`
batches per worker in flight. A worker reads and collates its batch and sends it back; the
main process yields batches in order.

Seeding, as in PyTorch: a `base_seed` is drawn from the loader's generator (or minigrad's
global one) each time the workers start, and worker k seeds minigrad's global generator and
Python's `random` with `base_seed + k` before `worker_init_fn(k)` runs, so random
augmentations differ across workers and repeat across runs. NumPy's own global generator is not
reseeded (PyTorch does not either): seed it in `worker_init_fn` from `get_worker_info().seed`
if a dataset uses it. Inside a worker, `get_worker_info()` says which one it is.

Workers start per epoch, or once with `persistent_workers=True`. An exception in a worker is
raised again in the main process, with the worker's traceback in the message.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import random as engine_random

__all__ = ["WorkerInfo", "get_worker_info"]

# how long the main process waits for a batch before checking its workers are alive
_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (PyTorch's `torch.utils.data.get_worker_info()`)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process: its WorkerInfo; in the main process: None."""
    return _worker_info


class _WorkerError:
    """An exception raised in a worker, carried back with its traceback as text."""

    def __init__(self, worker_id: int, error: BaseException) -> None:
        self.kind = type(error)
        self.text = "".join(traceback.format_exception(error))
        self.worker_id = worker_id

    def reraise(self) -> None:
        message = (f"Caught {self.kind.__name__} in DataLoader worker process "
                   f"{self.worker_id}.\nOriginal {self.text}")
        try:
            error = self.kind(message)
        except Exception:  # noqa: BLE001 - an exception type that needs other arguments
            error = RuntimeError(message)
        raise error


def _worker_loop(fetch: Callable[[list], Any], index_queue: Any, result_queue: Any,
                 worker_id: int, num_workers: int, seed: int, dataset: Any,
                 worker_init_fn: Callable[[int], None] | None) -> None:
    """One worker: seed, run worker_init_fn, then fetch batches until told to stop (None)."""
    global _worker_info
    engine_random.manual_seed(seed % 2**63)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as error:  # noqa: BLE001 - reported to the main process
            init_error = _WorkerError(worker_id, error)
    while True:
        task = index_queue.get()
        if task is None:
            break
        key, indices = task
        if init_error is not None:
            result_queue.put((key, init_error))
            continue
        try:
            batch = fetch(indices)
        except Exception as error:  # noqa: BLE001 - reported to the main process
            result_queue.put((key, _WorkerError(worker_id, error)))
        else:
            result_queue.put((key, batch))


class WorkerPool:
    """`num_workers` processes fetching batches; started once, used for one or more epochs."""

    def __init__(self, fetch: Callable[[list], Any], dataset: Any, num_workers: int,
                 base_seed: int, worker_init_fn: Callable[[int], None] | None,
                 context: Any, prefetch_factor: int, timeout: float) -> None:
        if context is None or isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.prefetch_factor = prefetch_factor
        self.timeout = timeout
        self.result_queue = context.Queue()
        self.index_queues = [context.Queue() for _ in range(num_workers)]
        self.workers = []
        for worker_id, index_queue in enumerate(self.index_queues):
            process = context.Process(
                target=_worker_loop, daemon=True,
                args=(fetch, index_queue, self.result_queue, worker_id, num_workers,
                      base_seed + worker_id, dataset, worker_init_fn))
            process.start()
            self.workers.append(process)
        self.epoch = 0
        self.closed = False

    def run_epoch(self, batches: list[np.ndarray]) -> Iterator[Any]:
        """Yield the batches of one epoch, in order, fetched by the workers."""
        self.epoch += 1
        epoch = self.epoch
        in_flight = self.prefetch_factor * len(self.workers)
        sent = 0
        waiting: dict[int, Any] = {}
        for _ in range(min(in_flight, len(batches))):
            self._send(epoch, sent, batches[sent])
            sent += 1
        for number in range(len(batches)):
            while number not in waiting:
                key, batch = self._receive()
                if key[0] == epoch:  # results of an abandoned earlier epoch are dropped
                    waiting[key[1]] = batch
            batch = waiting.pop(number)
            if sent < len(batches):
                self._send(epoch, sent, batches[sent])
                sent += 1
            if isinstance(batch, _WorkerError):
                batch.reraise()
            yield batch

    def _send(self, epoch: int, number: int, indices: np.ndarray) -> None:
        self.index_queues[number % len(self.workers)].put(((epoch, number), indices.tolist()))

    def _receive(self) -> tuple:
        waited = 0.0
        while True:
            try:
                return self.result_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                waited += _POLL_SECONDS
            dead = [process for process in self.workers if not process.is_alive()]
            if dead:
                self.close()
                pids = ", ".join(str(process.pid) for process in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly "
                                   f"(exit code {dead[0].exitcode})")
            if self.timeout and waited >= self.timeout:
                self.close()
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self.closed:
            return
        self.closed = True
        for index_queue in self.index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        # read what workers still send, so none blocks flushing its queue on the way out
        deadline = time.monotonic() + 5.0
        while any(process.is_alive() for process in self.workers) and \
                time.monotonic() < deadline:
            try:
                self.result_queue.get(timeout=0.05)
            except queue.Empty:
                pass
            except (OSError, EOFError, ValueError):
                break
        for process in self.workers:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
        for each in [*self.index_queues, self.result_queue]:
            each.cancel_join_thread()
            each.close()

    def __del__(self) -> None:
        self.close()
