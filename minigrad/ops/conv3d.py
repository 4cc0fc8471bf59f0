"""Convolution over NCDHW volumes: conv3d, conv_transpose3d and the weight-gradient correlation.

The same closed family as the 2-D one in `conv`, one dimension up:

    conv3d(x, w)            d/dx = conv_transpose3d(g, w)    d/dw = conv3d_weight(x, g)
    conv_transpose3d(y, w)  d/dy = conv3d(g, w)              d/dw = conv3d_weight(g, y)
    conv3d_weight(x, y)     d/dx = conv_transpose3d(y, g)    d/dy = conv3d(x, g)

Each kernel loops over the kernel's kD depth offsets only: for offset i, the depth slices that
offset sees (every output depth at once, one strided view) form a batch of N * D_out planes,
and the 2-D kernels of `conv` do the rest (one batched GEMM per offset). All take an
unbatched (C, D, H, W) input too, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, Tensor
from ._windows import _is_int
from .conv import conv2d_array, conv2d_weight_array, conv_transpose2d_array

__all__ = ["conv3d", "conv_transpose3d"]

Triple = tuple[int, int, int]
Padding6 = tuple[int, int, int, int, int, int]  # (front, back, top, bottom, left, right)


def triple(where: str, name: str, value: Any) -> Triple:
    """An int or a 1- or 3-sequence of ints as (depth, height, width)."""
    if _is_int(value):
        return int(value), int(value), int(value)
    if isinstance(value, (tuple, list)):
        if not all(_is_int(item) for item in value):
            raise TypeError(f"{where}: {name} must be an int or a tuple of three ints, "
                            f"got {value!r}")
        if len(value) == 1:
            return int(value[0]), int(value[0]), int(value[0])
        if len(value) == 3:
            return int(value[0]), int(value[1]), int(value[2])
        raise RuntimeError(f"{where}: {name} must be a single int or a tuple of three ints, "
                           f"got {value!r}")
    raise TypeError(f"{where}: {name} must be an int or a tuple of three ints, "
                    f"got {type(value).__name__} {value!r}")


def conv3d_output_size(in_size: Triple, kernel: Triple, stride: Triple, padding: Padding6,
                       dilation: Triple) -> Triple:
    """(Do, Ho, Wo) of a conv over a (D, H, W) volume."""
    return tuple((n + padding[2 * a] + padding[2 * a + 1] - dilation[a] * (kernel[a] - 1) - 1)
                 // stride[a] + 1 for a, n in enumerate(in_size))


# ---- NumPy kernels ----------------------------------------------------------------------
def _as_batch(array: np.ndarray) -> np.ndarray:
    return array[None] if array.ndim == 4 else array


def _depth_major(x: np.ndarray, front: int, back: int) -> np.ndarray:
    """(N, C, D, H, W) as a contiguous (N, front + D + back, C, H, W) with zero depth
    padding: one depth slice is then a batch of (C, H, W) images."""
    count, channels, depth, height, width = x.shape
    planes = np.zeros((count, front + depth + back, channels, height, width), dtype=x.dtype)
    planes[:, front:front + depth] = x.transpose(0, 2, 1, 3, 4)
    return planes


def _depth_slice(planes: np.ndarray, offset: int, out_depth: int, stride: int,
                 dilation: int) -> np.ndarray:
    """The depth slices kernel depth offset `offset` sees, as a batch of images:
    (N * Do, C, H, W)."""
    start = offset * dilation
    chosen = planes[:, start:start + stride * (out_depth - 1) + 1:stride]
    return chosen.reshape(-1, *planes.shape[2:])


def _plane_batch(grad: np.ndarray) -> np.ndarray:
    """(N, O, Do, Ho, Wo) as a batch of images (N * Do, O, Ho, Wo)."""
    channels, height, width = grad.shape[1], grad.shape[3], grad.shape[4]
    return np.ascontiguousarray(grad.transpose(0, 2, 1, 3, 4)).reshape(-1, channels, height,
                                                                       width)


def conv3d_array(x: np.ndarray, weight: np.ndarray, stride: Triple, padding: Padding6,
                 dilation: Triple, groups: int) -> np.ndarray:
    """Cross-correlation of (N, C, D, H, W) or (C, D, H, W) with weight (O, C/G, kD, kH, kW),
    no bias: a sum over the kD depth offsets of 2-D convolutions of depth slices."""
    batch = _as_batch(x)
    count = batch.shape[0]
    out_channels = weight.shape[0]
    out_size = conv3d_output_size(batch.shape[2:], weight.shape[2:], stride, padding, dilation)
    planes = _depth_major(batch, padding[0], padding[1])
    total = None
    for offset in range(weight.shape[2]):
        images = _depth_slice(planes, offset, out_size[0], stride[0], dilation[0])
        part = conv2d_array(images, weight[:, :, offset], None, stride[1:], padding[2:],
                            dilation[1:], groups)[0]
        if total is None:
            total = part
        else:
            total += part
    # (N * Do, O, Ho, Wo) -> (N, O, Do, Ho, Wo)
    out = total.reshape(count, out_size[0], out_channels, *out_size[1:]).transpose(0, 2, 1, 3, 4)
    out = np.ascontiguousarray(out)
    return out[0] if x.ndim == 4 else out


def conv_transpose3d_array(grad: np.ndarray, weight: np.ndarray, input_size: Triple,
                           stride: Triple, padding: Padding6, dilation: Triple,
                           groups: int) -> np.ndarray:
    """The input gradient of conv3d, a transposed convolution: grad (N, O, Do, Ho, Wo) and
    weight (O, C/G, kD, kH, kW) -> (N, C, D, H, W) with (D, H, W) = `input_size`. Each depth
    offset's 2-D transposed convolution is added back onto the depth slices it came from."""
    batch_grad = _as_batch(grad)
    count, _, out_depth = batch_grad.shape[:3]
    depth, height, width = input_size
    channels = weight.shape[1] * groups
    front, back = padding[:2]
    images = _plane_batch(batch_grad)
    # (N, Dp, C, H, W): the gradient of the depth-padded, depth-major input
    planes = np.zeros((count, front + depth + back, channels, height, width), dtype=grad.dtype)
    for offset in range(weight.shape[2]):
        part = conv_transpose2d_array(images, weight[:, :, offset], (height, width),
                                      stride[1:], padding[2:], dilation[1:], groups)
        start = offset * dilation[0]
        target = planes[:, start:start + stride[0] * (out_depth - 1) + 1:stride[0]]
        target += part.reshape(count, out_depth, channels, height, width)
    out = np.ascontiguousarray(planes[:, front:front + depth].transpose(0, 2, 1, 3, 4))
    return out[0] if grad.ndim == 4 else out


def conv3d_weight_array(x: np.ndarray, grad: np.ndarray, kernel_size: Triple, stride: Triple,
                        padding: Padding6, dilation: Triple, groups: int) -> np.ndarray:
    """The weight gradient of conv3d, a correlation of x (N, C, D, H, W) with the output
    gradient (N, O, Do, Ho, Wo): (O, C/G, kD, kH, kW), one 2-D correlation per depth
    offset."""
    batch, batch_grad = _as_batch(x), _as_batch(grad)
    out_depth = batch_grad.shape[2]
    planes = _depth_major(batch, padding[0], padding[1])
    images_grad = _plane_batch(batch_grad)
    parts = []
    for offset in range(kernel_size[0]):
        images = _depth_slice(planes, offset, out_depth, stride[0], dilation[0])
        parts.append(conv2d_weight_array(images, images_grad, kernel_size[1:], stride[1:],
                                         padding[2:], dilation[1:], groups))
    return np.stack(parts, axis=2)


# ---- the three ops ----------------------------------------------------------------------
def _bias_axes(array: Any) -> tuple[int, ...]:
    """The axes a per-channel bias is broadcast over: N, D, H, W (or D, H, W unbatched)."""
    return (1, 2, 3) if array.ndim == 4 else (0, 2, 3, 4)


class Conv3d(Function):
    """Cross-correlation of (N, C, D, H, W) with weight (O, C // G, kD, kH, kW), plus a bias.

    Backward: d/dx = conv_transpose3d(g, weight), d/dweight = conv3d_weight(x, g),
    d/dbias = the sum of g over N, D, H, W.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                stride: Triple, padding: Padding6, dilation: Triple,
                groups: int) -> np.ndarray:
        out = conv3d_array(x, weight, stride, padding, dilation, groups)
        if bias is not None:
            out += bias.reshape(-1, 1, 1, 1)  # out is fresh memory of its own
        self.input_size = x.shape[-3:]
        self.kernel_size = weight.shape[2:]
        self.save(x if self.needs_input_grad[1] else None,
                  weight if self.needs_input_grad[0] else None)
        return out

    def backward(self, xp: Any, grad: Any, x: Any, weight: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_input = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_input = xp.conv_transpose3d(grad, weight, self.input_size, stride, padding,
                                             dilation, groups)
        if self.needs_input_grad[1]:
            grad_weight = xp.conv3d_weight(x, grad, self.kernel_size, stride, padding,
                                           dilation, groups)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum(grad, axis=_bias_axes(grad))
        return grad_input, grad_weight, grad_bias


class ConvTranspose3d(Function):
    """The transposed convolution: y (N, O, Do, Ho, Wo) and weight (O, C/G, kD, kH, kW) ->
    (N, C, D, H, W) with (D, H, W) = `input_size`, plus a bias (C,).

    Backward: d/dy = conv3d(g, weight), d/dweight = conv3d_weight(g, y), d/dbias = the sum
    of g over N, D, H, W.
    """

    def forward(self, y: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                input_size: Triple, stride: Triple, padding: Padding6, dilation: Triple,
                groups: int) -> np.ndarray:
        out = conv_transpose3d_array(y, weight, input_size, stride, padding, dilation, groups)
        if bias is not None:
            out += bias.reshape(-1, 1, 1, 1)
        self.kernel_size = weight.shape[2:]
        self.save(y if self.needs_input_grad[1] else None,
                  weight if self.needs_input_grad[0] else None)
        return out

    def backward(self, xp: Any, grad: Any, y: Any, weight: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_y = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_y = xp.conv3d(grad, weight, stride, padding, dilation, groups)
        if self.needs_input_grad[1]:
            grad_weight = xp.conv3d_weight(grad, y, self.kernel_size, stride, padding,
                                           dilation, groups)
        if self.needs_input_grad[2]:
            grad_bias = xp.sum(grad, axis=_bias_axes(grad))
        return grad_y, grad_weight, grad_bias


class Conv3dWeight(Function):
    """conv3d's weight gradient as an op: the correlation of x (N, C, D, H, W) with y
    (N, O, Do, Ho, Wo) -> (O, C/G, kD, kH, kW), bilinear in x and y.

    Backward: d/dx = conv_transpose3d(y, g), d/dy = conv3d(x, g).
    """

    def forward(self, x: np.ndarray, y: np.ndarray, kernel_size: Triple, stride: Triple,
                padding: Padding6, dilation: Triple, groups: int) -> np.ndarray:
        self.input_size = x.shape[-3:]
        self.save(x if self.needs_input_grad[1] else None,
                  y if self.needs_input_grad[0] else None)
        return conv3d_weight_array(x, y, kernel_size, stride, padding, dilation, groups)

    def backward(self, xp: Any, grad: Any, x: Any, y: Any) -> tuple:
        stride, padding = self.options["stride"], self.options["padding"]
        dilation, groups = self.options["dilation"], self.options["groups"]
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = xp.conv_transpose3d(y, grad, self.input_size, stride, padding, dilation,
                                         groups)
        if self.needs_input_grad[1]:
            grad_y = xp.conv3d(x, grad, stride, padding, dilation, groups)
        return grad_x, grad_y


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(np.asarray(value))


def _conv3d_graph(x: Any, weight: Any, stride: Triple, padding: Padding6, dilation: Triple,
                  groups: int) -> Tensor:
    return Conv3d.apply(_as_tensor(x), _as_tensor(weight), None, stride=stride,
                        padding=padding, dilation=dilation, groups=groups)


def _conv_transpose3d_graph(y: Any, weight: Any, input_size: Triple, stride: Triple,
                            padding: Padding6, dilation: Triple, groups: int) -> Tensor:
    return ConvTranspose3d.apply(_as_tensor(y), _as_tensor(weight), None,
                                 input_size=tuple(input_size), stride=stride, padding=padding,
                                 dilation=dilation, groups=groups)


def _conv3d_weight_graph(x: Any, y: Any, kernel_size: Triple, stride: Triple,
                         padding: Padding6, dilation: Triple, groups: int) -> Tensor:
    return Conv3dWeight.apply(_as_tensor(x), _as_tensor(y), kernel_size=tuple(kernel_size),
                              stride=stride, padding=padding, dilation=dilation, groups=groups)


NUMPY_XP = {
    "conv3d": conv3d_array,
    "conv_transpose3d": conv_transpose3d_array,
    "conv3d_weight": conv3d_weight_array,
}
GRAPH_XP = {
    "conv3d": _conv3d_graph,
    "conv_transpose3d": _conv_transpose3d_graph,
    "conv3d_weight": _conv3d_weight_graph,
}


# ---- public functions -------------------------------------------------------------------
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation, as `torch.nn.functional.conv3d`.

    Shape: input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_out, C_in // groups, kD, kH, kW), bias (C_out,) -> (N, C_out, D_out, H_out, W_out),
    with D_out = floor((D + 2 * padding - dilation * (kD - 1) - 1) / stride) + 1 (H, W alike).
    padding: an int, a triple, "valid" or "same" (stride 1; an odd total puts the extra
    slice at the end, as PyTorch does).
    """
    where = "conv3d"
    _check_tensors(where, input, weight, bias)
    stride, dilation, groups = _check_numbers(where, stride, dilation, groups)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"conv3d: invalid padding string {padding!r} "
                               f"(expected 'same' or 'valid')")
        if padding == "same" and stride != (1, 1, 1):
            raise RuntimeError(f"conv3d: padding='same' is not supported for strided "
                               f"convolutions (stride={stride})")
        totals = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
        pads = tuple(p for t in totals for p in (t // 2, t - t // 2))
    else:
        pad = triple(where, "padding", padding)
        if min(pad) < 0:
            raise RuntimeError(f"conv3d: padding must be non-negative, got padding={padding!r}")
        pads = tuple(p for p in pad for _ in range(2))
    out_channels = weight.shape[0]
    if out_channels == 0 or out_channels % groups:
        raise RuntimeError(f"conv3d: weight's out_channels {out_channels} must be a positive "
                           f"multiple of groups={groups} (weight {weight.shape})")
    expected = weight.shape[1] * groups
    if input.shape[-4] != expected:
        raise RuntimeError(f"conv3d: input has {input.shape[-4]} channels, weight expects "
                           f"{expected} (input {input.shape}, weight {weight.shape}, "
                           f"groups={groups})")
    _check_bias(where, bias, out_channels, weight)
    padded = tuple(n + pads[2 * a] + pads[2 * a + 1] for a, n in enumerate(input.shape[-3:]))
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < s for p, s in zip(padded, spans)):
        raise RuntimeError(f"conv3d: kernel size {tuple(kernel)} (dilated to {spans}) is larger "
                           f"than the padded input size {padded} (input {input.shape}, "
                           f"padding {pads})")
    return Conv3d.apply(input, weight, bias, stride=stride, padding=pads, dilation=dilation,
                        groups=groups)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """3-D transposed convolution, as `torch.nn.functional.conv_transpose3d`: the gradient
    of `conv3d` with respect to its input.

    Shape: input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_in, C_out // groups, kD, kH, kW), bias (C_out,) -> (N, C_out, D_out, H_out, W_out),
    D_out = (D - 1) * stride - 2 * padding + dilation * (kD - 1) + output_padding + 1.
    """
    where = "conv_transpose3d"
    _check_tensors(where, input, weight, bias)
    stride, dilation, groups = _check_numbers(where, stride, dilation, groups)
    pad = triple(where, "padding", padding)
    extra = triple(where, "output_padding", output_padding)
    if min(pad) < 0 or min(extra) < 0:
        raise RuntimeError(f"conv_transpose3d: negative padding is not supported (padding="
                           f"{pad}, output_padding={extra})")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"conv_transpose3d: output padding must be smaller than either "
                           f"stride or dilation, but got output_padding={extra}, "
                           f"stride={stride}, dilation={dilation}")
    in_channels = weight.shape[0]
    if in_channels == 0 or in_channels % groups:
        raise RuntimeError(f"conv_transpose3d: weight's in_channels {in_channels} must be a "
                           f"positive multiple of groups={groups} (weight {weight.shape})")
    if input.shape[-4] != in_channels:
        raise RuntimeError(f"conv_transpose3d: input has {input.shape[-4]} channels, weight "
                           f"expects {in_channels} (input {input.shape}, weight "
                           f"{weight.shape})")
    _check_bias(where, bias, weight.shape[1] * groups, weight)
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in zip(
        input.shape[-3:], stride, pad, dilation, kernel, extra))
    if min(size) < 1:
        raise RuntimeError(f"conv_transpose3d: given input size per channel "
                           f"{tuple(input.shape[-3:])}, calculated output size {size} is too "
                           f"small")
    pads = tuple(p for p in pad for _ in range(2))
    # with output_padding >= stride (allowed under dilation), conv3d of that size gives
    # more positions than the input has: the missing ones are zeros
    covered = conv3d_output_size(size, kernel, stride, pads, dilation)
    missing = tuple(c - n for c, n in zip(covered, input.shape[-3:]))
    if missing != (0, 0, 0):
        from .movement import pad as pad_op

        input = pad_op(input, (0, missing[2], 0, missing[1], 0, missing[0]))
    return ConvTranspose3d.apply(input, weight, bias, input_size=size, stride=stride,
                                 padding=pads, dilation=dilation, groups=groups)


# ---- argument checks --------------------------------------------------------------------
def _check_tensors(where: str, input: Any, weight: Any, bias: Any) -> None:
    for name, value in (("input", input), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(value).__name__}")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{where}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) "
                           f"input, got input of shape {input.shape}")
    if weight.ndim != 5:
        raise RuntimeError(f"{where}: expected a 5-D weight, got weight of shape "
                           f"{weight.shape}")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"{where}: not implemented for bool input")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != input.dtype:
            raise RuntimeError(f"{where}: input dtype {input.dtype} and {name} dtype "
                               f"{value.dtype} should be the same")


def _check_numbers(where: str, stride: Any, dilation: Any,
                   groups: Any) -> tuple[Triple, Triple, int]:
    stride = triple(where, "stride", stride)
    dilation = triple(where, "dilation", dilation)
    if not _is_int(groups):
        raise TypeError(f"{where}: groups must be an int, got {type(groups).__name__}")
    if min(stride) <= 0:
        raise RuntimeError(f"{where}: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{where}: dilation must be positive, got dilation={dilation}")
    if groups <= 0:
        raise RuntimeError(f"{where}: groups must be positive, got groups={groups}")
    return stride, dilation, int(groups)


def _check_bias(where: str, bias: Tensor | None, out_channels: int, weight: Tensor) -> None:
    if bias is not None and bias.shape != (out_channels,):
        raise RuntimeError(f"{where}: bias must have shape ({out_channels},), one value per "
                           f"output channel, got bias {bias.shape} (weight {weight.shape})")


TENSOR_METHODS: dict = {}
FUNCTIONAL = {"conv3d": conv3d, "conv_transpose3d": conv_transpose3d}
TOPLEVEL = {"conv3d": conv3d, "conv_transpose3d": conv_transpose3d}
