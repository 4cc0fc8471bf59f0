"""PyTorch's `torch.autograd` pieces: custom `Function`s and anomaly detection."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx

__all__ = ["Function", "FunctionCtx", "detect_anomaly", "is_anomaly_enabled"]
