"""The autograd engine: Tensor, Function, the backward walk, grad mode, dtypes, randomness.

Imports nothing else from minigrad and knows no op by name.
"""

from . import dtypes, hooks
from .context import current_module, module_scope
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "manual_seed", "default_generator", "get_rng_state", "set_rng_state", "dtypes", "hooks",
    "module_scope", "current_module",
]
