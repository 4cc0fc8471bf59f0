"""`minigrad.distributions`: PyTorch's basic distributions (Normal, Uniform, Bernoulli,
Categorical, OneHotCategorical) with sample/rsample/log_prob/entropy/mean/variance."""

from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "OneHotCategorical", "Uniform"]
