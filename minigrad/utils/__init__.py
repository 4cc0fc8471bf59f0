"""PyTorch's `torch.utils` paths: `minigrad.utils.data` is `minigrad.data` (the same module),
and `minigrad.utils.tensorboard` has `SummaryWriter` (needs the `tensorboard` extra).

    from minigrad.utils.data import DataLoader, TensorDataset   # as from torch.utils.data
"""

import sys

from .. import data

# `import minigrad.utils.data` and `from minigrad.utils.data import X` find the same module
sys.modules[__name__ + ".data"] = data

__all__ = ["data"]
