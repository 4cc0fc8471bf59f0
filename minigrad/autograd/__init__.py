"""PyTorch's `torch.autograd` pieces: `grad`, `backward`, custom `Function`s, anomaly
detection and the `functional` helpers (jacobian, hessian, hvp, ...)."""

from . import functional
from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable
from .grad import backward, grad

__all__ = ["Function", "FunctionCtx", "backward", "detect_anomaly", "functional", "grad",
           "is_anomaly_enabled", "once_differentiable"]
