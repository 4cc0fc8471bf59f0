"""The autograd engine: Tensor, Function, the backward walk, grad mode, dtypes, randomness.

Imports nothing else from minigrad and knows no op by name.
"""

from . import dtypes, hooks
from .context import current_module, module_scope
from .function import Function
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, normalize_dim

__all__ = [
    "Function",
    "Tensor",
    "current_module",
    "default_generator",
    "dtypes",
    "enable_grad",
    "get_rng_state",
    "hooks",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "manual_seed",
    "module_scope",
    "no_grad",
    "normalize_dim",
    "set_grad_enabled",
    "set_rng_state",
]
