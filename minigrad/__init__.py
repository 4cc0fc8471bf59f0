"""minigrad: a small autograd framework on NumPy with PyTorch's API."""

from . import ops as _ops
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, ones, ones_like, rand, randint, randn, tensor, zeros,
                       zeros_like)
from .engine import (Function, Tensor, enable_grad, get_rng_state, is_grad_enabled,
                     manual_seed, no_grad, set_grad_enabled, set_rng_state)
from .engine.dtypes import (bool_, float16, float32, float64, int8, int16, int32, int64,
                            uint8)

globals().update(_ops.TOPLEVEL)

from . import autograd, data, nn, optim  # noqa: E402 - need the ops attached first
from . import models  # noqa: E402
from .profiler import profile  # noqa: E402
from .serialization import load, save  # noqa: E402
from .summary import summary  # noqa: E402

bool = bool_  # noqa: A001 - PyTorch's name, as mg.bool
float = float32  # noqa: A001 - torch.float is float32
double = float64
long = int64

__version__ = "0.1.0"
