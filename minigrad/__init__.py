"""minigrad: a small autograd framework on NumPy with PyTorch's API."""

from . import ops as _ops
from .creation import (
                       arange,
                       as_tensor,
                       empty,
                       empty_like,
                       eye,
                       from_numpy,
                       full,
                       full_like,
                       linspace,
                       ones,
                       ones_like,
                       rand,
                       randint,
                       randn,
                       tensor,
                       zeros,
                       zeros_like,
)
from .engine import (
                       Function,
                       Tensor,
                       enable_grad,
                       get_rng_state,
                       inference_mode,
                       is_grad_enabled,
                       is_inference_mode_enabled,
                       manual_seed,
                       no_grad,
                       set_grad_enabled,
                       set_rng_state,
)
from .engine.dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8

globals().update(_ops.TOPLEVEL)

from . import (
                       autograd,
                       data,
                       func,
                       models,
                       nn,
                       optim,
                       special,
                       utils,
)
from .profiler import profile
from .serialization import load, save
from .summary import summary

bool = bool_
float = float32
double = float64
long = int64

__version__ = "0.1.0"

__all__ = [
    "Function", "Tensor", "arange", "as_tensor", "autograd", "bool", "bool_", "data", "double",
    "empty", "empty_like", "enable_grad", "eye", "float", "float16", "float32", "float64",
    "from_numpy", "func", "full", "full_like", "get_rng_state", "inference_mode", "int8",
    "int16", "int32", "int64", "is_grad_enabled", "is_inference_mode_enabled", "linspace",
    "load", "long", "manual_seed", "models", "nn", "no_grad",
    "ones", "ones_like", "optim", "profile", "rand", "randint", "randn", "save",
    "set_grad_enabled", "set_rng_state", "special", "summary", "tensor", "uint8", "utils", "zeros",
    "zeros_like",
]
__all__ += sorted(set(_ops.TOPLEVEL) - set(__all__))  # noqa: PLE0605 - op names
