"""Pictures of the compute graph: `draw_graph` (graphviz) and `record_grads` for gradient colours.

    import minigrad.viz as viz
    with viz.record_grads() as grads:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    viz.draw_graph(loss, model, show_grads=True, grads=grads).render("lenet", format="svg")

From a shell: `python -m minigrad.viz lenet5 --input-size 1,1,28,28 -o lenet.svg --grads`.
"""

from .grads import GradNorms, record_grads
from .graph import draw_graph

__all__ = ["GradNorms", "draw_graph", "record_grads"]
