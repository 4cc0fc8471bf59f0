"""torch.func's transforms on minigrad's tape: `grad`, `grad_and_value`, `vjp`, `jvp`,
`jacrev`, `jacfwd`, `hessian` and `functional_call`.

Each transform runs the function with the graph recorded and differentiates it with
`create_graph=True`, so transforms nest (`grad(grad(f))`, `jacfwd(jacrev(f))`) and their
results stay differentiable by ordinary `backward()` too (including with respect to parameters
a function closes over, as in a physics-informed loss); call `.detach()` on a result to use it
as plain numbers.
"""

from .functional_call import functional_call
from .transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp"]
