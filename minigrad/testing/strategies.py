"""Hypothesis strategies for minigrad tensors and op arguments, for our tests and yours.

Values are drawn away from kinks and ties where a gradient is undefined: `tensors` keeps
elements apart by a minimum gap when `distinct=True` and away from zero with `avoid_zero`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..engine import Tensor

__all__ = ["arrays", "broadcastable_shapes", "shapes", "tensors"]


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
           max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes small enough for a numerical gradient."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def arrays(draw: Any, shape: Any, dtype: Any = np.float64, low: float = -3.0,
           high: float = 3.0, distinct: bool = False, avoid_zero: float = 0.0) -> np.ndarray:
    """A float array of `shape` (a tuple or a strategy) with values in [low, high].

    distinct: elements pairwise at least 1e-2 apart (no ties for max, sort, pooling).
    avoid_zero: |x| >= avoid_zero (keeps log, division, abs and relu off their kinks).
    """
    if not isinstance(shape, tuple):
        shape = draw(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if distinct:
        grid = np.linspace(low, high, max(size * 4, 2))
        picks = draw(st.permutations(range(grid.size)))[:size]
        values = grid[list(picks)]
    else:
        values = np.array(draw(st.lists(st.floats(low, high, allow_nan=False, width=64),
                                        min_size=size, max_size=size)), dtype=np.float64)
    if avoid_zero:
        values = np.where(np.abs(values) < avoid_zero,
                          np.where(values < 0, -avoid_zero, avoid_zero), values)
    return values.reshape(shape).astype(dtype)


@st.composite
def tensors(draw: Any, shape: Any = None, dtype: Any = np.float64, elements: dict | None = None,
            requires_grad: bool = False) -> Tensor:
    """A Tensor of `shape` (tuple or strategy; default any small shape) and `dtype`.

    elements: keyword arguments for `arrays` (low, high, distinct, avoid_zero).
    """
    if shape is None:
        shape = shapes()
    array = draw(arrays(shape, dtype=dtype, **(elements or {})))
    return Tensor(array, requires_grad=requires_grad)


@st.composite
def broadcastable_shapes(draw: Any, count: int = 2, min_dims: int = 0, max_dims: int = 4,
                         max_side: int = 4) -> tuple[tuple[int, ...], ...]:
    """`count` shapes that broadcast together, with size-1 axes and missing leading axes."""
    result = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, max_side=max_side))
    return tuple(result.input_shapes)


# ---- conv and pooling arguments ---------------------------------------------------------
__all__ += ["ConvArgs", "PoolArgs", "conv2d_args", "pool2d_args"]


class ConvArgs(dict):
    """Keyword arguments for `F.conv2d` plus the shapes they fit.

    The dict holds stride, padding, dilation and groups, so `F.conv2d(x, w, b, **args)`
    works; the attributes input_shape, weight_shape and bias_shape say what to draw.
    """

    def __init__(self, input_shape: tuple[int, ...], weight_shape: tuple[int, ...],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_shape = input_shape
        self.weight_shape = weight_shape
        self.bias_shape = (weight_shape[0],)

    def __repr__(self) -> str:
        return (f"ConvArgs(input_shape={self.input_shape}, weight_shape={self.weight_shape}, "
                f"{dict.__repr__(self)})")


class PoolArgs(dict):
    """Keyword arguments for `F.max_pool2d` or `F.avg_pool2d` plus `input_shape`."""

    def __init__(self, input_shape: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_shape = input_shape

    def __repr__(self) -> str:
        return f"PoolArgs(input_shape={self.input_shape}, {dict.__repr__(self)})"


def _int_or_pair(draw: Any, values: tuple[int, int]) -> Any:
    """`values` as PyTorch accepts it: an int when both agree (sometimes), else a tuple."""
    if values[0] == values[1] and draw(st.booleans()):
        return values[0]
    return values


def _image_shape(draw: Any, batch: int, channels: int, height: int, width: int,
                 allow_unbatched: bool) -> tuple[int, ...]:
    if allow_unbatched and draw(st.integers(0, 3)) == 0:
        return (channels, height, width)
    return (batch, channels, height, width)


@st.composite
def conv2d_args(draw: Any, max_batch: int = 2, max_groups: int = 2,
                max_channels_per_group: int = 2, max_kernel: int = 3, max_stride: int = 2,
                max_dilation: int = 2, max_padding: int = 2, max_extra: int = 2,
                allow_unbatched: bool = True) -> ConvArgs:
    """Valid `conv2d` arguments and shapes, tiny enough for a numerical gradient.

    Draws groups (dividing both channel counts by construction), kernel (kH, kW), stride,
    dilation and padding as an int, a pair, "valid", or "same" (only when the stride is
    1). The input is just large enough for one output pixel plus up to `max_extra` rows
    and columns; sometimes unbatched (C, H, W). Use as
    `F.conv2d(x, w, b, **args)` with x of `args.input_shape`, w of `args.weight_shape`,
    b of `args.bias_shape`.
    """
    groups = draw(st.integers(1, max_groups))
    in_channels = groups * draw(st.integers(1, max_channels_per_group))
    out_channels = groups * draw(st.integers(1, max_channels_per_group))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    forms = ["int", "pair", "valid"] + (["same"] if stride == (1, 1) else [])
    form = draw(st.sampled_from(forms))
    if form == "int":
        padding: Any = draw(st.integers(0, max_padding))
        totals = (2 * padding, 2 * padding)
    elif form == "pair":
        padding = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
        totals = (2 * padding[0], 2 * padding[1])
    elif form == "valid":
        padding, totals = "valid", (0, 0)
    else:
        padding = "same"
        totals = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
    height, width = (max(1, d * (k - 1) + 1 - total) + draw(st.integers(0, max_extra))
                     for d, k, total in zip(dilation, kernel, totals))
    input_shape = _image_shape(draw, draw(st.integers(1, max_batch)), in_channels, height,
                               width, allow_unbatched)
    return ConvArgs(input_shape, (out_channels, in_channels // groups, *kernel),
                    stride=_int_or_pair(draw, stride), padding=padding,
                    dilation=_int_or_pair(draw, dilation), groups=groups)


@st.composite
def pool2d_args(draw: Any, kind: str = "max", max_batch: int = 2, max_channels: int = 2,
                max_kernel: int = 3, max_stride: int = 3, max_dilation: int = 2,
                max_extra: int = 3, allow_unbatched: bool = True) -> PoolArgs:
    """Valid `max_pool2d` (kind="max") or `avg_pool2d` (kind="avg") arguments and shape.

    Draws kernel_size, stride (None, meaning kernel_size, or its own), padding at most
    kernel // 2, ceil_mode, and dilation (max) or count_include_pad and divisor_override
    (avg). The input leaves at least one output pixel plus up to `max_extra` rows and
    columns, and every window sees at least one input pixel; sometimes unbatched
    (C, H, W). Use as `F.max_pool2d(x, **args)` with x of `args.input_shape`.
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"pool2d_args: kind must be 'max' or 'avg', got {kind!r}")
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = None
    if draw(st.booleans()):
        stride = _int_or_pair(draw, (draw(st.integers(1, max_stride)),
                                     draw(st.integers(1, max_stride))))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (1, 1)
    options: dict = {"kernel_size": _int_or_pair(draw, kernel), "stride": stride,
                     "padding": _int_or_pair(draw, padding), "ceil_mode": draw(st.booleans())}
    if kind == "max":
        dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
        options["dilation"] = _int_or_pair(draw, dilation)
    else:
        options["count_include_pad"] = draw(st.booleans())
        options["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 5)))
    # at least `dilation` pixels, so no dilated window can straddle the input and see only
    # padding (its output would be -inf)
    height, width = (max(1, d * (k - 1) + 1 - 2 * p, d) + draw(st.integers(0, max_extra))
                     for d, k, p in zip(dilation, kernel, padding))
    input_shape = _image_shape(draw, draw(st.integers(1, max_batch)),
                               draw(st.integers(1, max_channels)), height, width,
                               allow_unbatched)
    return PoolArgs(input_shape, **options)
