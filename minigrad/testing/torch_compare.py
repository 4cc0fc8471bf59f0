"""Run the same call in minigrad and PyTorch and compare values, dtypes, shapes and input
gradients (PyTorch is imported only when this is called; tests importorskip it first)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Tensor

__all__ = ["compare_with_torch"]


def _outputs(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _outputs(part)]
    return [value]


def _tolerance(dtype: np.dtype) -> tuple[float, float]:
    return (1e-4, 1e-5) if dtype == np.float32 else (1e-7, 1e-9)


def compare_with_torch(ours: Callable[..., Any], theirs: Callable[..., Any],
                       arrays: Sequence[np.ndarray], *, grad: bool = True, seed: int = 0,
                       rtol: float | None = None, atol: float | None = None,
                       check_dtype: bool = True) -> list[Tensor]:
    """Call `ours(*tensors)` and `theirs(*torch_tensors)` on the same arrays (float arrays
    require grad when `grad`), assert equal outputs, then backpropagate the same random
    weighting of every float output in both and assert equal input gradients.

    Returns minigrad's outputs, flattened."""
    import torch

    float_inputs = [np.asarray(array).dtype.kind == "f" for array in arrays]
    ours_in = [Tensor._from_op(np.array(array)) for array in arrays]
    theirs_in = [torch.from_numpy(np.array(array)) for array in arrays]
    for needs, mine, other in zip(float_inputs, ours_in, theirs_in):
        if needs and grad:
            mine.requires_grad_(True)
            other.requires_grad_(True)
    got = _outputs(ours(*ours_in))
    want = _outputs(theirs(*theirs_in))
    if len(got) != len(want):
        raise AssertionError(f"{len(got)} outputs, PyTorch gives {len(want)}")
    rng = np.random.default_rng(seed)
    weights = []
    for position, (mine, other) in enumerate(zip(got, want)):
        if not isinstance(other, torch.Tensor):
            if mine != other:
                raise AssertionError(f"output {position}: {mine!r}, PyTorch {other!r}")
            weights.append(None)
            continue
        expected = other.detach().numpy()
        actual = mine.detach().numpy() if isinstance(mine, Tensor) else np.asarray(mine)
        if actual.shape != expected.shape:
            raise AssertionError(f"output {position}: shape {actual.shape}, PyTorch "
                                 f"{expected.shape}")
        if check_dtype and actual.dtype != expected.dtype:
            raise AssertionError(f"output {position}: dtype {actual.dtype}, PyTorch "
                                 f"{expected.dtype}")
        default_rtol, default_atol = _tolerance(expected.dtype)
        np.testing.assert_allclose(actual, expected, rtol=rtol or default_rtol,
                                   atol=atol or default_atol, equal_nan=True,
                                   err_msg=f"output {position}")
        differentiable = grad and other.requires_grad and expected.dtype.kind == "f"
        weights.append(rng.standard_normal(expected.shape).astype(expected.dtype)
                       if differentiable else None)
    if not grad or not any(weight is not None for weight in weights):
        return got
    ours_loss = sum((mine * Tensor._from_op(weight)).sum()
                    for mine, weight in zip(got, weights) if weight is not None)
    theirs_loss = sum((other * torch.from_numpy(weight)).sum()
                      for other, weight in zip(want, weights) if weight is not None)
    leaves = [(mine, other) for mine, other in zip(ours_in, theirs_in) if other.requires_grad]
    if ours_loss.requires_grad:
        ours_loss.backward()
    if theirs_loss.requires_grad:
        theirs_loss.backward()
    for position, (mine, other) in enumerate(leaves):
        expected = np.zeros(other.shape, dtype=other.dtype.__str__().removeprefix("torch.")) \
            if other.grad is None else other.grad.numpy()
        actual = np.zeros_like(expected) if mine.grad is None else mine.grad.numpy()
        if actual.dtype != expected.dtype:
            raise AssertionError(f"gradient {position}: dtype {actual.dtype}, PyTorch "
                                 f"{expected.dtype}")
        default_rtol, default_atol = _tolerance(expected.dtype)
        np.testing.assert_allclose(actual, expected, rtol=rtol or default_rtol,
                                   atol=atol or default_atol, err_msg=f"gradient {position}")
    return got
