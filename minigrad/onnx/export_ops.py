"""The export table: each minigrad op (by its Function's name) -> the ONNX nodes it becomes.

An emitter is `emit(builder, op, inputs, output)`: `op` is the `RecordedOp` (options, input
and output tensors with their shapes), `inputs` the ONNX value names of its inputs (None for
an absent optional one), `output` the name its result must get. Shapes that hold the batch
size are written so the batch axis can change (0 = "copy this dim" in Reshape, 1 = "keep"
in Expand).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from onnx import helper

from .builder import GraphBuilder
from .export_resample import emit_axis_map
from .trace import RecordedOp

__all__ = ["EXPORT_OPS", "Emitter"]

Emitter = Callable[[GraphBuilder, RecordedOp, list, str], None]

# how an Index op's key marks the place of an index tensor (minigrad.ops.movement)
_ARRAY_SLOT = "tensor"
# an `ends` value past any axis, for Slice with a negative step that runs to the start
_BEFORE_START = -(2**63) + 1


def _same(onnx_op: str) -> Emitter:
    """An op whose ONNX twin takes the same inputs in the same order."""
    def emit(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
        b.node(onnx_op, ins, out)
    return emit


def _scalar_like(b: GraphBuilder, op: RecordedOp, value: float) -> str:
    return b.constant(np.asarray(value, dtype=op.output.dtype), "scalar")


# ---- layers ------------------------------------------------------------------------------
def _conv(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    top, bottom, left, right = op.options["padding"]
    if op.inputs[0].ndim != 4:
        raise NotImplementedError("onnx.export: conv2d of an unbatched (C, H, W) input")
    kernel = list(op.inputs[1].shape[2:])
    b.node("Conv", ins, out, kernel_shape=kernel, strides=list(op.options["stride"]),
           pads=[top, left, bottom, right], dilations=list(op.options["dilation"]),
           group=op.options["groups"])


def _conv_transpose(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    """ConvTranspose (2-D and 3-D; conv_transpose1d runs as 2-D between reshapes). The op's
    padding holds (begin, end) per spatial axis; output_padding is what the op's output size
    adds to the size ONNX computes from the input, kernel, stride, dilation and pads."""
    x, weight = op.inputs[0], op.inputs[1]
    spatial = weight.ndim - 2
    if x.ndim != spatial + 2:
        raise NotImplementedError(f"onnx.export: conv_transpose of an unbatched input of "
                                  f"shape {tuple(x.shape)}")
    kernel = list(weight.shape[2:])
    stride, dilation = list(op.options["stride"]), list(op.options["dilation"])
    padding = list(op.options["padding"])
    begins, ends = padding[0::2], padding[1::2]
    extra = [size - (s * (n - 1) + d * (k - 1) + 1 - p0 - p1) for size, n, s, d, k, p0, p1
             in zip(op.options["input_size"], x.shape[2:], stride, dilation, kernel,
                    begins, ends)]
    if min(extra) < 0:
        raise NotImplementedError(f"onnx.export: conv_transpose output size "
                                  f"{op.options['input_size']} is below ONNX's")
    b.node("ConvTranspose", ins, out, kernel_shape=kernel, strides=stride, dilations=dilation,
           pads=begins + ends, output_padding=extra, group=op.options["groups"])


def _linear(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    if op.inputs[0].ndim == 2:
        b.node("Gemm", ins, out, transB=1)
        return
    weight_t = b.node("Transpose", [ins[1]], perm=[1, 0])
    if ins[2] is None:
        b.node("MatMul", [ins[0], weight_t], out)
        return
    b.node("Add", [b.node("MatMul", [ins[0], weight_t]), ins[2]], out)


def _max_pool(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    pad_h, pad_w = op.options["padding"]
    b.node("MaxPool", ins, out, kernel_shape=list(op.options["kernel_size"]),
           strides=list(op.options["stride"]), pads=[pad_h, pad_w, pad_h, pad_w],
           dilations=list(op.options["dilation"]), ceil_mode=int(op.options["ceil_mode"]))


def _avg_pool(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    if op.options["divisor_override"] is not None:
        raise NotImplementedError("onnx.export: avg_pool2d with divisor_override has no ONNX "
                                  "equivalent")
    pad_h, pad_w = op.options["padding"]
    b.node("AveragePool", ins, out, kernel_shape=list(op.options["kernel_size"]),
           strides=list(op.options["stride"]), pads=[pad_h, pad_w, pad_h, pad_w],
           ceil_mode=int(op.options["ceil_mode"]),
           count_include_pad=int(op.options["count_include_pad"]))


def _adaptive_windows(size: int, out: int) -> np.ndarray:
    """PyTorch's adaptive windows as an (out, size) 0/1 matrix."""
    index = np.arange(out)
    starts, ends = (index * size) // out, -((-(index + 1) * size) // out)
    pixels = np.arange(size)
    return (pixels >= starts[:, None]) & (pixels < ends[:, None])


def _adaptive_pool(global_op: str, window_op: str) -> Emitter:
    """Global pooling for a 1x1 output, a plain pool when the windows tile the input;
    for averages the general case is rows @ x @ cols^T with normalised window matrices."""
    def emit(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
        height, width = op.inputs[0].shape[-2:]
        out_h, out_w = op.options["output_size"]
        if (out_h, out_w) == (1, 1) and op.inputs[0].ndim == 4:
            b.node(global_op, ins, out)
        elif height % out_h == 0 and width % out_w == 0 and op.inputs[0].ndim == 4:
            kernel = [height // out_h, width // out_w]
            b.node(window_op, ins, out, kernel_shape=kernel, strides=kernel)
        elif window_op == "AveragePool":
            dtype = op.output.dtype
            rows = _adaptive_windows(height, out_h).astype(dtype)
            cols = _adaptive_windows(width, out_w).astype(dtype)
            rows /= rows.sum(axis=1, keepdims=True)
            cols /= cols.sum(axis=1, keepdims=True)
            by_cols = b.node("MatMul", [ins[0], b.constant(cols.T, "adaptive_cols")])
            b.node("MatMul", [b.constant(rows, "adaptive_rows"), by_cols], out)
        else:
            raise NotImplementedError(
                f"onnx.export: adaptive_max_pool2d from {height}x{width} to {out_h}x{out_w} "
                f"(windows that do not tile the input) has no ONNX equivalent")
    return emit


def _layer_norm(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    """LayerNormalization over the trailing axes; Scale is required in ONNX (ones if the
    module has no weight), Bias is optional."""
    ndim = op.inputs[0].ndim
    axes = sorted(axis % ndim for axis in op.options["axes"])
    if axes != list(range(ndim - len(axes), ndim)):
        raise NotImplementedError(f"onnx.export: layer_norm over axes {tuple(axes)} (ONNX "
                                  f"LayerNormalization normalizes trailing axes only)")
    scale = ins[1]
    if scale is None:
        shape = op.inputs[0].shape[axes[0]:]
        scale = b.constant(np.ones(shape, dtype=op.output.dtype), "layer_norm_scale")
    b.node("LayerNormalization", [ins[0], scale, ins[2]], out, axis=axes[0],
           epsilon=float(op.options["eps"]))


def _softmax(onnx_op: str) -> Emitter:
    def emit(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
        dim = op.options["dim"]
        b.node(onnx_op, ins, out, axis=-1 if dim is None else dim)
    return emit


# ---- activations written with other ops --------------------------------------------------
def _gelu(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    """Gelu from opset 20; before, x * (1 + erf(x / sqrt 2)) * 0.5 in the node order
    torch.onnx writes (which `load_model` recognises and runs as one gelu)."""
    approximate = op.options["approximate"]
    if b.opset >= 20:
        b.node("Gelu", ins, out, approximate=approximate)
        return
    x = ins[0]
    if approximate == "tanh":
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [cube, _scalar_like(b, op, 0.044715)])])
        scaled = b.node("Mul", [inner, _scalar_like(b, op, math.sqrt(2 / math.pi))])
        curve = b.node("Tanh", [scaled])
    else:
        curve = b.node("Erf", [b.node("Div", [x, _scalar_like(b, op, math.sqrt(2))])])
    scaled_x = b.node("Mul", [x, b.node("Add", [curve, _scalar_like(b, op, 1.0)])])
    b.node("Mul", [scaled_x, _scalar_like(b, op, 0.5)], out)


def _silu(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Mul", [ins[0], b.node("Sigmoid", ins)], out)


def _with_alpha(onnx_op: str, option: str) -> Emitter:
    def emit(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
        b.node(onnx_op, ins, out, alpha=float(op.options[option]))
    return emit


def _rsqrt(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Reciprocal", [b.node("Sqrt", ins)], out)


def _square(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Mul", [ins[0], ins[0]], out)


def _expm1(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Sub", [b.node("Exp", ins), _scalar_like(b, op, 1.0)], out)


def _log1p(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Log", [b.node("Add", [ins[0], _scalar_like(b, op, 1.0)])], out)


def _clamp(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    current = ins[0]
    steps = [(ins[1] if len(ins) > 1 else None, "Max"), (ins[2] if len(ins) > 2 else None, "Min")]
    steps = [(bound, name) for bound, name in steps if bound is not None]
    if not steps:
        b.node("Identity", [current], out)
    for index, (bound, name) in enumerate(steps):
        current = b.node(name, [current, bound], out if index == len(steps) - 1 else None)


def _masked_fill(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Where", [ins[1], ins[2], ins[0]], out)


# ---- shapes --------------------------------------------------------------------------------
def _target_shape(b: GraphBuilder, op: RecordedOp, ins: list) -> list[int]:
    """The output shape for Reshape: dims copied from the input (a leading run) become 0,
    so a changing batch size carries through; with no such run, the first dim is -1."""
    target = list(op.output.shape)
    if not b.is_dynamic(ins[0]):
        return target
    source = op.inputs[0].shape
    copied = 0
    while copied < min(len(source), len(target)) and source[copied] == target[copied]:
        copied += 1
    if copied:
        return [0] * copied + target[copied:]
    return [-1] + target[1:] if target else target


def _reshape(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    source, target = op.inputs[0].shape, op.output.shape
    if (len(target) == 2 and len(source) >= 2 and source[0] == target[0]
            and b.is_dynamic(ins[0])):
        b.node("Flatten", ins, out, axis=1)
        return
    b.node("Reshape", [ins[0], b.ints(_target_shape(b, op, ins), "shape")], out)


def _permute(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Transpose", ins, out, perm=list(op.options["dims"]))


def _expand(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    # ONNX Expand broadcasts both ways: a 1 keeps the input's dim, whatever its size
    source = (1,) * (op.output.ndim - op.inputs[0].ndim) + tuple(op.inputs[0].shape)
    shape = [1 if have == want else want for have, want in zip(source, op.output.shape)]
    b.node("Expand", [ins[0], b.ints(shape, "shape")], out)


def _flip(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    dims = list(op.options["dims"])
    b.node("Slice", [ins[0], b.ints([-1] * len(dims), "starts"),
                     b.ints([_BEFORE_START] * len(dims), "ends"), b.ints(dims, "axes"),
                     b.ints([-1] * len(dims), "steps")], out)


def _repeat(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    repeats = list(op.options["repeats"])
    source = ins[0]
    extra = len(repeats) - op.inputs[0].ndim
    if extra:  # new leading dims of size 1 first, as np.tile does
        source = b.node("Unsqueeze", [source, b.ints(list(range(extra)), "axes")])
    b.node("Tile", [source, b.ints(repeats, "repeats")], out)


def _cat(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Concat", ins, out, axis=op.options["dim"])


def _stack(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    axes = b.ints([op.options["dim"]], "axes")
    b.node("Concat", [b.node("Unsqueeze", [name, axes]) for name in ins], out,
           axis=op.options["dim"])


def _onnx_pads(ndim: int, pad: tuple[int, ...]) -> list[int]:
    """PyTorch's (last_left, last_right, prev_left, ...) as ONNX's all-begins, all-ends."""
    begins, ends = [0] * ndim, [0] * ndim
    for pair in range(len(pad) // 2):
        axis = ndim - 1 - pair
        begins[axis], ends[axis] = pad[2 * pair], pad[2 * pair + 1]
    return begins + ends


def _constant_pad(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    pads = b.ints(_onnx_pads(op.inputs[0].ndim, op.options["pad"]), "pads")
    fill = np.asarray(op.options["value"], dtype=op.output.dtype).reshape(())  # a scalar
    value = b.constant(fill, "pad_value")
    b.node("Pad", [ins[0], pads, value], out, mode="constant")


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _index_pad(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    mode = _PAD_MODES[op.options["mode"]]
    if mode == "wrap" and b.opset < 19:
        raise NotImplementedError("onnx.export: circular padding needs opset_version >= 19")
    pads = b.ints(_onnx_pads(op.inputs[0].ndim, op.options["pad"]), "pads")
    b.node("Pad", [ins[0], pads], out, mode=mode)


def _index(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    """Basic indexing (ints, slices, None, ...) as one Slice and a Reshape."""
    key = list(op.options["key"])
    if _ARRAY_SLOT in key:
        _gather(b, op, ins, out, key)
        return
    if any(not (item is None or item is Ellipsis or isinstance(item, (int, slice)))
           for item in key):
        raise NotImplementedError(f"onnx.export: indexing with key {tuple(key)} has no mapping")
    shape = op.inputs[0].shape
    used = sum(1 for item in key if item is not None and item is not Ellipsis)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key[at:at + 1] = [slice(None)] * (len(shape) - used)
    else:
        key += [slice(None)] * (len(shape) - used)
    bounds = []  # (axis, start, end, step) of each axis that is cut
    for axis, item in enumerate(item for item in key if item is not None):
        if isinstance(item, int):
            start = item % shape[axis]
            bounds.append((axis, start, start + 1, 1))
        elif item != slice(None):
            start, stop, step = item.indices(shape[axis])
            bounds.append((axis, start, _BEFORE_START if step < 0 and stop < 0 else stop, step))
    current = ins[0]
    if bounds:
        axes, starts, ends, steps = (list(column) for column in zip(*bounds))
        current = b.node("Slice", [current, b.ints(starts, "starts"), b.ints(ends, "ends"),
                                   b.ints(axes, "axes"), b.ints(steps, "steps")])
    b.node("Reshape", [current, b.ints(_target_shape(b, op, [current]), "shape")], out)


def _gather(b: GraphBuilder, op: RecordedOp, ins: list, out: str, key: list) -> None:
    """x[:, ..., indices] with one integer index tensor after full slices: Gather (an
    embedding lookup is weight[indices])."""
    position = key.index(_ARRAY_SLOT)
    if (key.count(_ARRAY_SLOT) != 1 or any(item != slice(None) for item in key[:position])
            or op.inputs[1].dtype.kind not in "iu"):
        raise NotImplementedError(f"onnx.export: advanced indexing with key {tuple(key)} "
                                  f"(only x[:, ..., int_tensor] maps to Gather)")
    b.node("Gather", ins[:2], out, axis=position)


def _embedding_lookup(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    """weight[indices] as Gather; the indices must be a graph input or an op's output
    (export adds them as the op's second input), int64 as the lookup used them."""
    if len(ins) < 2:
        raise NotImplementedError("onnx.export: embedding indices that are not an int64 graph "
                                  "input or op output cannot be traced")
    b.node("Gather", ins[:2], out, axis=0)


def _identity(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Identity", ins[:1], out)


def _cast(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Cast", ins, out, to=helper.np_dtype_to_tensor_dtype(np.dtype(op.output.dtype)))


# ---- reductions ----------------------------------------------------------------------------
# the opset from which each reduction takes `axes` as an input rather than an attribute
_AXES_INPUT_FROM = {"ReduceSum": 13, "ReduceMean": 18, "ReduceMax": 18, "ReduceMin": 18,
                    "ReduceLogSumExp": 18}


def _reduce_node(b: GraphBuilder, onnx_op: str, x: str, axes: list[int], keepdims: bool,
                 out: str | None = None) -> str:
    if b.opset >= _AXES_INPUT_FROM[onnx_op]:
        return b.node(onnx_op, [x, b.ints(axes, "axes")], out, keepdims=int(keepdims))
    return b.node(onnx_op, [x], out, axes=axes, keepdims=int(keepdims))


def _reduce(onnx_op: str) -> Emitter:
    def emit(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
        _reduce_node(b, onnx_op, ins[0], list(op.options["dim"]), op.options["keepdim"], out)
    return emit


def _variance(b: GraphBuilder, op: RecordedOp, ins: list, out: str | None) -> str:
    """mean((x - mean(x))^2) times n / (n - correction)."""
    axes, correction = list(op.options["dim"]), op.options["correction"]
    shape = op.inputs[0].shape
    if correction and 0 in axes and b.is_dynamic(ins[0]) and b.dynamic_batch:
        raise NotImplementedError("onnx.export: var/std with a correction over the batch axis "
                                  "needs a fixed batch size (dynamic_axes={})")
    centered = b.node("Sub", [ins[0], _reduce_node(b, "ReduceMean", ins[0], axes, True)])
    squared = b.node("Mul", [centered, centered])
    if not correction:
        return _reduce_node(b, "ReduceMean", squared, axes, op.options["keepdim"], out)
    count = int(np.prod([shape[axis] for axis in axes]))
    mean = _reduce_node(b, "ReduceMean", squared, axes, op.options["keepdim"])
    scale = count / max(count - correction, 0) if count > correction else np.inf
    return b.node("Mul", [mean, _scalar_like(b, op, scale)], out)


def _var(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    _variance(b, op, ins, out)


def _std(b: GraphBuilder, op: RecordedOp, ins: list, out: str) -> None:
    b.node("Sqrt", [_variance(b, op, ins, None)], out)


EXPORT_OPS: dict[str, Emitter] = {
    # layers
    "Conv2d": _conv,
    "Conv2dReference": _conv,
    "ConvTranspose2d": _conv_transpose,
    "ConvTranspose3d": _conv_transpose,
    "Linear": _linear,
    "MatMul": _same("MatMul"),
    "Mm": _same("MatMul"),
    "Bmm": _same("MatMul"),
    "MaxPool2d": _max_pool,
    "MaxPool2dReference": _max_pool,
    "AvgPool2d": _avg_pool,
    "AvgPool2dReference": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive_pool("GlobalAveragePool", "AveragePool"),
    "AdaptiveMaxPool2d": _adaptive_pool("GlobalMaxPool", "MaxPool"),
    "LayerNorm": _layer_norm,
    "AxisMap": emit_axis_map,  # interpolate, one op per resized axis
    # activations
    "ReLU": _same("Relu"),
    "LeakyReLU": _with_alpha("LeakyRelu", "negative_slope"),
    "ELU": _with_alpha("Elu", "alpha"),
    "GELU": _gelu,
    "SiLU": _silu,
    "Sigmoid": _same("Sigmoid"),
    "Tanh": _same("Tanh"),
    "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"),
    # elementwise arithmetic
    "Add": _same("Add"),
    "Sub": _same("Sub"),
    "Mul": _same("Mul"),
    "Div": _same("Div"),
    "Pow": _same("Pow"),
    "Neg": _same("Neg"),
    "Exp": _same("Exp"),
    "Expm1": _expm1,
    "Log": _same("Log"),
    "Log1p": _log1p,
    "Sqrt": _same("Sqrt"),
    "Rsqrt": _rsqrt,
    "Reciprocal": _same("Reciprocal"),
    "Square": _square,
    "Abs": _same("Abs"),
    "Sin": _same("Sin"),
    "Cos": _same("Cos"),
    "Maximum": _same("Max"),
    "Minimum": _same("Min"),
    "Clamp": _clamp,
    "Where": _same("Where"),
    "MaskedFill": _masked_fill,
    "Cast": _cast,
    # shapes
    "Reshape": _reshape,
    "View": _reshape,
    "Flatten": _reshape,
    "Unflatten": _reshape,
    "Squeeze": _reshape,
    "Unsqueeze": _reshape,
    "Permute": _permute,
    "Transpose": _permute,
    "Expand": _expand,
    "Contiguous": _identity,
    "Clone": _identity,
    "Flip": _flip,
    "Repeat": _repeat,
    "Cat": _cat,
    "Stack": _stack,
    "ConstantPad": _constant_pad,
    "IndexPad": _index_pad,
    "Index": _index,
    "EmbeddingLookup": _embedding_lookup,
    # reductions
    "Sum": _reduce("ReduceSum"),
    "Mean": _reduce("ReduceMean"),
    "Amax": _reduce("ReduceMax"),
    "Amin": _reduce("ReduceMin"),
    "LogSumExp": _reduce("ReduceLogSumExp"),
    "Var": _var,
    "Std": _std,
}
