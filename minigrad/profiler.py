"""`mg.profile()`: per-op counts and forward/backward times, printed like torch.profiler's table.

While a profile is active the engine routes every op's forward and backward through it;
outside one the engine only tests a module attribute for None, so profiling costs nothing
when off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import hooks

__all__ = ["OpStats", "profile"]


@dataclass
class OpStats:
    """What one op name accumulated: calls and seconds spent in forward and backward."""

    name: str
    calls: int = 0
    backward_calls: int = 0
    forward_seconds: float = 0.0
    backward_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.forward_seconds + self.backward_seconds


class profile:
    """Record each op's count and time inside a `with` block.

    >>> with mg.profile() as prof:
    ...     loss = model(x).sum(); loss.backward()
    >>> print(prof.table())
    """

    def __init__(self) -> None:
        self.stats: dict[str, OpStats] = {}
        self._previous: Any = None

    def __enter__(self) -> profile:
        self._previous = hooks.active_profiler
        hooks.active_profiler = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        hooks.active_profiler = self._previous

    def _entry(self, function: Any) -> OpStats:
        name = function.name
        entry = self.stats.get(name)
        if entry is None:
            entry = self.stats[name] = OpStats(name)
        return entry

    # the engine calls these two while the profile is active
    def time_forward(self, function: Any, arrays: list, options: dict) -> np.ndarray:
        start = time.perf_counter()
        output = function.forward(*arrays, **options)
        entry = self._entry(function)
        entry.calls += 1
        entry.forward_seconds += time.perf_counter() - start
        return output

    def time_backward(self, function: Any, run: Any) -> Any:
        start = time.perf_counter()
        result = run()
        entry = self._entry(function)
        entry.backward_calls += 1
        entry.backward_seconds += time.perf_counter() - start
        return result

    def key_averages(self) -> list[OpStats]:
        """One entry per op name, slowest first."""
        return sorted(self.stats.values(), key=lambda entry: entry.total_seconds, reverse=True)

    def table(self, row_limit: int | None = None) -> str:
        """A text table sorted by total time: op, calls, forward, backward, total, share."""
        rows = self.key_averages()[:row_limit]
        grand_total = sum(entry.total_seconds for entry in self.stats.values()) or 1.0
        header = (f"{'Name':<20}{'Calls':>8}{'Forward ms':>13}{'Backward ms':>13}"
                  f"{'Total ms':>11}{'Total %':>9}")
        rule = "-" * len(header)
        lines = [rule, header, rule]
        for entry in rows:
            lines.append(
                f"{entry.name:<20}{entry.calls:>8}{entry.forward_seconds * 1e3:>13.3f}"
                f"{entry.backward_seconds * 1e3:>13.3f}{entry.total_seconds * 1e3:>11.3f}"
                f"{100 * entry.total_seconds / grand_total:>8.1f}%")
        lines.append(rule)
        lines.append(f"Self CPU time total: {grand_total * 1e3:.3f} ms")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
