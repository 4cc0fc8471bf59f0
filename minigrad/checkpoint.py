"""Whole training checkpoints: model, optimizer, scheduler, epoch, history and RNG state.

Stored with `minigrad.save` (safetensors, written atomically), so a crash mid-save leaves the
previous checkpoint intact and loading never runs code. Resuming restores the global RNG, so
the data order after resuming is the order an uninterrupted run would have used.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np

from .engine import Tensor, get_rng_state, set_rng_state
from .nn import Module
from .optim import Optimizer
from .serialization import load, save

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | Path, model: Module, optimizer: Any = None,
                    scheduler: Any = None, epoch: int = 0,
                    extra: dict | None = None) -> None:
    """Write everything needed to continue training exactly where it stopped."""
    _check_arguments("save_checkpoint", path, model, optimizer, scheduler)
    if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool):
        raise TypeError(f"save_checkpoint: epoch must be an int, got {type(epoch).__name__}")
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"save_checkpoint: extra must be a dict or None, "
                        f"got {type(extra).__name__}")
    state: dict[str, Any] = {"model": model.state_dict(), "epoch": int(epoch),
                             "rng_state": get_rng_state()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if extra:
        state["extra"] = extra
    save(state, path)


def load_checkpoint(path: str | Path, model: Module, optimizer: Any = None,
                    scheduler: Any = None) -> dict[str, Any]:
    """Restore model, optimizer, scheduler and RNG from `path`; return the whole state.

    All or nothing: if the file is not a checkpoint, or any part does not fit (a missing,
    extra or misshaped weight, a float weight stored with an integer or bool dtype, optimizer
    or scheduler state of another setup, a bad RNG state), it raises and the model,
    optimizer, scheduler and RNG are as they were.
    """
    _check_arguments("load_checkpoint", path, model, optimizer, scheduler)
    state = load(path)
    if not isinstance(state.get("model"), dict):
        raise ValueError(f"load_checkpoint: {path} is not a training checkpoint: it has no "
                         f"'model' state dict (top-level keys {sorted(map(str, state))})")
    _check_float_weights(path, model, state["model"])
    backup = {key: tensor.data.copy() for key, tensor in model.state_dict().items()}
    optimizer_backup = None if optimizer is None else copy.deepcopy(optimizer.state_dict())
    scheduler_backup = None if scheduler is None else copy.deepcopy(scheduler.state_dict())
    rng_backup = get_rng_state()
    model.load_state_dict(state["model"])  # checks everything before it writes anything
    try:
        if optimizer is not None and "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and "scheduler" in state:
            scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng_state"])
    except Exception:
        # leave everything as it was: the checkpoint did not fit as a whole
        model.load_state_dict({key: Tensor._from_op(array) for key, array in backup.items()})
        if optimizer is not None:
            optimizer.load_state_dict(optimizer_backup)
        if scheduler is not None:
            scheduler.load_state_dict(scheduler_backup)
        set_rng_state(rng_backup)
        raise
    return state


def _check_arguments(where: str, path: Any, model: Any, optimizer: Any, scheduler: Any) -> None:
    """TypeError, before any file is touched, for an argument of the wrong kind (most often
    path and model swapped)."""
    order = f"{where}(path, model, optimizer=None, scheduler=None, ...)"
    if not isinstance(path, (str, os.PathLike)):
        hint = " (path and model swapped?)" if isinstance(path, Module) else ""
        raise TypeError(f"{where}: path must be a str or os.PathLike, got "
                        f"{type(path).__name__}{hint}; the order is {order}")
    if not isinstance(model, Module):
        raise TypeError(f"{where}: model must be a minigrad.nn.Module, got "
                        f"{type(model).__name__}; the order is {order}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: optimizer must be a minigrad.optim.Optimizer or None, got "
                        f"{type(optimizer).__name__}; the order is {order}")
    if scheduler is not None and (isinstance(scheduler, (Module, Optimizer))
                                  or not callable(getattr(scheduler, "state_dict", None))
                                  or not callable(getattr(scheduler, "load_state_dict", None))):
        raise TypeError(f"{where}: scheduler must be an lr scheduler (with state_dict and "
                        f"load_state_dict) or None, got {type(scheduler).__name__}; the order "
                        f"is {order}")


def _check_float_weights(path: str | Path, model: Module, saved: dict) -> None:
    """TypeError when a float parameter or buffer is stored with an integer or bool dtype
    (a sign of a file of something else; float64 into float32 is a normal cast)."""
    for key, target in model.state_dict().items():
        source = saved.get(key)
        dtype = getattr(source, "dtype", None)
        if dtype is not None and target.dtype.kind == "f" and np.dtype(dtype).kind != "f":
            raise TypeError(f"load_checkpoint: {path}: 'model.{key}' has dtype {dtype}, but "
                            f"the model's {key} is {target.dtype} (shape {target.shape})")
