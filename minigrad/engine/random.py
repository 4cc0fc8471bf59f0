"""The global random generator behind `randn`, `rand`, init and shuffling; `manual_seed`."""

from __future__ import annotations

import numpy as np

__all__ = ["default_generator", "get_rng_state", "manual_seed", "set_rng_state"]

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed minigrad's global generator so runs repeat exactly."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator every random factory and init function draws from."""
    return _generator


def get_rng_state() -> dict:
    """The global generator's state, a JSON-able dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state taken by `get_rng_state`."""
    _generator.bit_generator.state = state
