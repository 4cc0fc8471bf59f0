"""Whole training checkpoints: model, optimizer, scheduler, epoch, history and RNG state.

Stored with `minigrad.save` (safetensors, written atomically), so a crash mid-save leaves the
previous checkpoint intact and loading never runs code. Resuming restores the global RNG, so
the data order after resuming is the order an uninterrupted run would have used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from .engine import Tensor, get_rng_state, set_rng_state
from .nn import Module
from .serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: Union[str, Path], model: Module, optimizer: Any = None,
                    scheduler: Any = None, epoch: int = 0,
                    extra: Optional[dict] = None) -> None:
    """Write everything needed to continue training exactly where it stopped."""
    state: dict[str, Any] = {"model": model.state_dict(), "epoch": int(epoch),
                             "rng_state": get_rng_state()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if extra:
        state["extra"] = extra
    save(state, path)


def load_checkpoint(path: Union[str, Path], model: Module, optimizer: Any = None,
                    scheduler: Any = None) -> dict[str, Any]:
    """Restore model, optimizer, scheduler and RNG from `path`; return the whole state."""
    state = load(path)
    backup = {key: tensor.data.copy() for key, tensor in model.state_dict().items()}
    model.load_state_dict(state["model"])
    try:
        if optimizer is not None and "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and "scheduler" in state:
            scheduler.load_state_dict(state["scheduler"])
    except Exception:
        # leave the model as it was: the checkpoint did not fit as a whole
        model.load_state_dict({key: Tensor._from_op(array) for key, array in backup.items()})
        raise
    set_rng_state(state["rng_state"])
    return state
