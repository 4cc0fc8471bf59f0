"""Engine-wide observers that are off (None) unless a tool switches them on.

`Function.apply` and `backward()` test these for None and do nothing else, so a profiler or
anomaly checker costs nothing when not in use. The tools themselves live outside the engine.
"""

from __future__ import annotations

from typing import Any

active_profiler: Any = None   # has time_forward(function, arrays, options), time_backward(function, run)
anomaly_checker: Any = None   # has check_forward(function, output), check_backward(function, grads)
backward_observers: list = []  # callables (function, grad) called as each node's grad is ready
op_recorder: Any = None  # has record(function, inputs, output) and created(tensor): every op

# Graph-leak watch (see minigrad/optim/graph_leak.py): optimizers count their steps here;
# `Function._link` notes in each node the oldest step its graph reaches back to and, for a
# node reaching before the current step, keeps a weak reference to that node here.
optimizer_steps: int = 0
graph_across_steps: Any = None  # weakref to the newest node whose graph spans steps
graphs_across_steps: int = 0    # how many such nodes were made
