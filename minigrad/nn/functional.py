"""PyTorch's `torch.nn.functional` names: conv2d, max_pool2d, relu, cross_entropy, ...

The functions live with their gradients in `minigrad.ops`, one file per family; this module
only gathers them under PyTorch's names.
"""

from ..ops.activation import (
    dropout,
    dropout2d,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    one_hot,
    relu,
    silu,
    softmax,
)
from ..ops.attention import (
    scaled_dot_product_attention,
)
from ..ops.conv import (
    conv2d,
    conv_transpose2d,
)
from ..ops.elementwise import (
    sigmoid,
    tanh,
)
from ..ops.embedding import (
    embedding,
)
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from ..ops.matmul import (
    linear,
)
from ..ops.movement import (
    pad,
)
from ..ops.normalization import (
    layer_norm,
)
from ..ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "cross_entropy", "dropout",
    "dropout2d", "elu", "embedding", "gelu", "layer_norm", "leaky_relu", "linear", "log_softmax",
    "max_pool2d", "mse_loss", "nll_loss", "one_hot", "pad", "relu", "scaled_dot_product_attention",
    "sigmoid", "silu", "softmax", "tanh",
]
