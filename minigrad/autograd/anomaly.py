"""`detect_anomaly()`: fail at the first op whose forward or backward makes NaN or inf.

Like PyTorch's anomaly mode it names the op and where in the user's code it was created. It
is off by default; when off the engine only tests a module attribute for None.
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from ..engine import hooks

__all__ = ["detect_anomaly", "is_anomaly_enabled"]


def _where(function: Any) -> str:
    frames = getattr(function, "created_at", None)
    if not frames:
        return ""
    return "\nForward call that created it (most recent call last):\n" + "".join(
        traceback.format_list(frames))


def _bad_values(array: Any) -> str:
    """'nan' or 'inf' when a float array holds them, else ''."""
    if array is None or getattr(array, "dtype", None) is None or array.dtype.kind != "f":
        return ""
    if np.isfinite(array).all():
        return ""
    return "nan" if np.isnan(array).any() else "inf"


class _AnomalyChecker:
    def check_forward(self, function: Any, output: np.ndarray) -> None:
        # keep the user's frames (drop minigrad's own) to say where the op was created
        frames = [frame for frame in traceback.extract_stack()[:-1]
                  if "/minigrad/" not in frame.filename.replace("\\", "/")]
        function.created_at = frames[-8:]
        bad = _bad_values(output)
        if bad:
            raise RuntimeError(f"Function '{function.name}' returned {bad} values in its "
                               f"forward output.{_where(function)}")

    def check_backward(self, function: Any, grads: tuple) -> None:
        for index, grad in enumerate(grads):
            bad = _bad_values(grad)
            if bad:
                raise RuntimeError(f"Function '{function.name}Backward' returned {bad} values "
                                   f"in its {index}th output.{_where(function)}")


class detect_anomaly:
    """Context manager: raise at the first NaN/inf produced by an op's forward or backward."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._previous: Any = None

    def __enter__(self) -> None:
        self._previous = hooks.anomaly_checker
        hooks.anomaly_checker = _AnomalyChecker() if self.check_nan else None

    def __exit__(self, *exc_info: object) -> None:
        hooks.anomaly_checker = self._previous


def is_anomaly_enabled() -> bool:
    return hooks.anomaly_checker is not None
