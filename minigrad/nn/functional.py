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
from ..ops.activation_extra import (
    celu,
    celu_,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from ..ops.conv import (
    conv2d,
    conv_transpose2d,
)
from ..ops.ctc import (
    ctc_loss,
)
from ..ops.distance import (
    bilinear,
    cosine_similarity,
    normalize,
    pairwise_distance,
)
from ..ops.elementwise import (
    sigmoid,
    tanh,
)
from ..ops.embedding import (
    embedding,
    embedding_bag,
)
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from ..ops.loss_extra import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ..ops.matmul import (
    linear,
)
from ..ops.movement import (
    pad,
)
from ..ops.pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "cross_entropy",
    "dropout", "dropout2d", "elu", "gelu", "leaky_relu", "linear", "log_softmax", "max_pool2d",
    "mse_loss", "nll_loss", "one_hot", "pad", "relu", "sigmoid", "silu", "softmax", "tanh",
]
__all__ += [  # activations (issue 14 part C)
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish",
    "prelu", "relu6", "rrelu", "selu", "softmin", "softplus", "softshrink", "softsign",
    "tanhshrink", "threshold",
]
__all__ += [  # distances and losses (issue 14 part C)
    "bilinear", "cosine_embedding_loss", "cosine_similarity", "ctc_loss", "gaussian_nll_loss",
    "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss",
    "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "normalize",
    "pairwise_distance", "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss",
]
__all__ += ["embedding", "embedding_bag"]
__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_", "threshold_"]
