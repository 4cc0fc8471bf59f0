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
                       rand_like,
                       randint,
                       randint_like,
                       randn,
                       randn_like,
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
from .engine.device import device
from .engine.dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .legacy import (
                       BoolTensor,
                       ByteTensor,
                       CharTensor,
                       DoubleTensor,
                       FloatTensor,
                       HalfTensor,
                       IntTensor,
                       LongTensor,
                       ShortTensor,
)

globals().update(_ops.TOPLEVEL)

from . import (
                       autograd,
                       cuda,
                       data,
                       distributions,
                       func,
                       linalg,
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
half = float16
long = int64
int = int32
short = int16

# PyTorch dtypes minigrad cannot hold: a clear error instead of a bare AttributeError
_UNSUPPORTED_DTYPES = ("cfloat", "cdouble", "chalf", "complex32", "complex64", "complex128",
                       "bfloat16", "uint16", "uint32", "uint64", "qint8", "quint8", "qint32")


def __getattr__(name: str) -> object:
    if name in _UNSUPPORTED_DTYPES:
        raise AttributeError(f"minigrad has no dtype {name!r}: it supports bool, uint8, int8, "
                             f"int16, int32, int64, float16, float32 and float64")
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


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
# factories, dtypes and devices with PyTorch's names (issue 13)
__all__ += [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor", "cuda", "device", "distributions", "half", "int",
    "linalg",
    "rand_like",
    "randint_like", "randn_like", "short",
]
__all__ += sorted(set(_ops.TOPLEVEL) - set(__all__))  # noqa: PLE0605 - op names
