"""PyTorch's `torch.nn.functional` names: conv2d, max_pool2d, relu, cross_entropy, ...

The functions live with their gradients in `minigrad.ops`; this module only gathers them.
"""

from ..ops import FUNCTIONAL as _FUNCTIONAL

globals().update(_FUNCTIONAL)
__all__ = sorted(_FUNCTIONAL)
