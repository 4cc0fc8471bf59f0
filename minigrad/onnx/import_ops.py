"""The import table: each ONNX op type -> a function running it with minigrad ops.

A handler is `run(module, attrs, inputs) -> output` (or a tuple for several outputs):
`module` is the `OnnxModule` (for `training` and BatchNorm's running statistics), `attrs`
the node's attributes as Python values, `inputs` the input values (None when absent).
Values are Tensors, or NumPy arrays for what ONNX computes about shapes (Shape, Constant,
the int64 inputs of Reshape...); an op on NumPy arrays only stays in NumPy, so shape
arithmetic never enters the autograd graph.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import helper, numpy_helper

import minigrad as mg

from ..engine import Tensor, no_grad
from ..nn import functional as F
from ..ops.resample import AxisMap
from .import_recurrent import gru, lstm, recurrent_limits, rnn
from .resize_maps import resize_map

__all__ = ["ATTRIBUTE_LIMITS", "IMPORT_OPS", "Handler"]

Handler = Callable[[Any, dict, list], Any]
Value = Any  # a Tensor or a NumPy array


def _tensor(value: Value) -> Tensor:
    return value if isinstance(value, Tensor) else mg.tensor(np.asarray(value))


def _array(value: Value) -> np.ndarray:
    """A static value (shape, axes, pads) as a NumPy array."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _ints(value: Value) -> list[int]:
    return [int(item) for item in _array(value).reshape(-1)]


def _scalar(value: Value) -> float:
    """A one-element value (a pad value, a clip bound) as a float."""
    return float(_array(value).reshape(-1)[0])


def _is_static(values: list) -> bool:
    return all(value is None or not isinstance(value, Tensor) for value in values)


def _pads(attrs: dict, x: Value, kernel: list[int], where: str) -> list[int]:
    """ONNX's [top, left, bottom, right], from `pads` or from auto_pad (SAME_UPPER puts an
    odd extra row or column at the end, SAME_LOWER at the start)."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        return list(attrs.get("pads", [0, 0, 0, 0]))
    if auto_pad == "VALID":
        return [0, 0, 0, 0]
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise NotImplementedError(f"load_model: {where} with auto_pad={auto_pad}")
    strides = attrs.get("strides", [1, 1])
    dilations = attrs.get("dilations", [1, 1])
    begins, ends = [], []
    for size, k, stride, dilation in zip(x.shape[-2:], kernel, strides, dilations):
        total = max(0, (-(-size // stride) - 1) * stride + (k - 1) * dilation + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins + ends


def _symmetric(x: Tensor, pads: list[int], fill: float) -> tuple[Tensor, tuple[int, int]]:
    """x and (pad_h, pad_w) for an op that pads both sides alike: asymmetric pads are
    applied first with F.pad (filled with `fill`) and the op gets none."""
    top, left, bottom, right = pads
    if (top, left) == (bottom, right):
        return x, (top, left)
    return F.pad(x, (left, right, top, bottom), value=fill), (0, 0)


# ---- layers ----------------------------------------------------------------------------------
def _conv(module: Any, attrs: dict, ins: list) -> Tensor:
    x, weight, bias = (ins + [None])[:3]
    if weight.ndim != 4:
        raise NotImplementedError(f"load_model: only 2-D Conv is supported, got a weight of "
                                  f"shape {tuple(weight.shape)}")
    kernel = list(weight.shape[2:])
    x, padding = _symmetric(_tensor(x), _pads(attrs, x, kernel, "Conv"), 0.0)
    return F.conv2d(x, _tensor(weight), None if bias is None else _tensor(bias),
                    stride=tuple(attrs.get("strides", [1, 1])), padding=padding,
                    dilation=tuple(attrs.get("dilations", [1, 1])), groups=attrs.get("group", 1))


def _conv_transpose(module: Any, attrs: dict, ins: list) -> Tensor:
    """2-D ConvTranspose with explicit pads (symmetric per axis) and output_padding;
    output_shape and auto_pad are refused at load time (ATTRIBUTE_LIMITS)."""
    x, weight, bias = (ins + [None])[:3]
    if weight.ndim != 4:
        raise NotImplementedError(f"load_model: only 2-D ConvTranspose is supported, got a "
                                  f"weight of shape {tuple(weight.shape)}")
    top, left, bottom, right = attrs.get("pads", [0, 0, 0, 0])
    if (top, left) != (bottom, right):
        raise NotImplementedError(f"load_model: ConvTranspose with asymmetric pads "
                                  f"{attrs['pads']}")
    return F.conv_transpose2d(_tensor(x), _tensor(weight),
                              None if bias is None else _tensor(bias),
                              stride=tuple(attrs.get("strides", [1, 1])), padding=(top, left),
                              output_padding=tuple(attrs.get("output_padding", [0, 0])),
                              groups=attrs.get("group", 1),
                              dilation=tuple(attrs.get("dilations", [1, 1])))


def _gemm(module: Any, attrs: dict, ins: list) -> Tensor:
    a, b, c = (ins + [None])[:3]
    a, b = _tensor(a), _tensor(b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if attrs.get("transA", 0):
        a = a.t()
    if attrs.get("transB", 0) and alpha == 1.0 and beta == 1.0:
        return F.linear(a, b, None if c is None else _tensor(c))
    if attrs.get("transB", 0):
        b = b.t()
    out = a @ b
    if alpha != 1.0:
        out = out * alpha
    if c is not None:
        out = out + (_tensor(c) * beta if beta != 1.0 else _tensor(c))
    return out


def _max_pool(module: Any, attrs: dict, ins: list) -> Tensor:
    if attrs.get("storage_order", 0):
        raise NotImplementedError("load_model: MaxPool with storage_order=1")
    kernel = list(attrs["kernel_shape"])
    x, padding = _symmetric(_tensor(ins[0]), _pads(attrs, ins[0], kernel, "MaxPool"),
                            -np.inf)
    return F.max_pool2d(x, tuple(kernel), tuple(attrs.get("strides", [1, 1])), padding,
                        tuple(attrs.get("dilations", [1, 1])),
                        ceil_mode=bool(attrs.get("ceil_mode", 0)))


def _average_pool(module: Any, attrs: dict, ins: list) -> Tensor:
    kernel = list(attrs["kernel_shape"])
    pads = _pads(attrs, ins[0], kernel, "AveragePool")
    count_include_pad = bool(attrs.get("count_include_pad", 0))
    if pads[:2] != pads[2:] and not count_include_pad:
        raise NotImplementedError(f"load_model: AveragePool with asymmetric pads {pads} and "
                                  f"count_include_pad=0")
    x, padding = _symmetric(_tensor(ins[0]), pads, 0.0)
    return F.avg_pool2d(x, tuple(kernel), tuple(attrs.get("strides", [1, 1])), padding,
                        ceil_mode=bool(attrs.get("ceil_mode", 0)),
                        count_include_pad=count_include_pad)


def _resize(module: Any, attrs: dict, ins: list) -> Tensor:
    """Resize (nearest, linear, cubic; any of ONNX's coordinate transforms but
    tf_crop_and_resize) as one `AxisMap` op per resized axis, each the map ONNX defines
    (`resize_maps`), so nearest, bilinear and bicubic files from torch.onnx load exactly."""
    x = _tensor(ins[0])
    scales = ins[2] if len(ins) > 2 and ins[2] is not None and _array(ins[2]).size else None
    if scales is not None:
        factors = [float(value) for value in _array(scales).reshape(-1)]
        # onnxruntime's length: floor(in * scale) in float32
        sizes = [int(np.floor(np.float32(size) * np.float32(factor)))
                 for size, factor in zip(x.shape, factors)]
    else:
        sizes = _ints(ins[3])
        factors = [out / size for out, size in zip(sizes, x.shape)]
    mode = attrs.get("mode", "nearest")
    transform = attrs.get("coordinate_transformation_mode", "half_pixel")
    nearest_mode = attrs.get("nearest_mode", "round_prefer_floor")
    cubic_a = attrs.get("cubic_coeff_a", -0.75)
    output = x
    for axis, (size, out, factor) in enumerate(zip(x.shape, sizes, factors)):
        if out == size and factor == 1.0:
            continue
        map = resize_map(mode, transform, nearest_mode, size, factor, out, cubic_a)
        output = AxisMap.apply(output, map=map, axis=axis)
    return output if output is not x else x * 1


def _global_average_pool(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.adaptive_avg_pool2d(_tensor(ins[0]), 1)


def _global_max_pool(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.adaptive_max_pool2d(_tensor(ins[0]), 1)


def _batch_norm(module: Any, attrs: dict, ins: list) -> Tensor:
    """Running statistics in eval mode; in training mode the batch's, and the running
    buffers move toward them (ONNX momentum keeps that much of the old estimate)."""
    x, scale, bias, mean, var = (_tensor(value) for value in ins[:5])
    eps = attrs.get("epsilon", 1e-5)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if module.training:
        dims = (0,) + tuple(range(2, x.ndim))
        batch_mean = x.mean(dims, keepdim=True)
        centered = x - batch_mean
        batch_var = (centered * centered).mean(dims, keepdim=True)
        _update_running(mean, var, batch_mean, batch_var, x.data.size // x.shape[1],
                        attrs.get("momentum", 0.9))
        normalized = centered / (batch_var + eps).sqrt()
    else:
        normalized = (x - mean.reshape(shape)) / (var.reshape(shape) + eps).sqrt()
    return normalized * scale.reshape(shape) + bias.reshape(shape)


def _update_running(mean: Tensor, var: Tensor, batch_mean: Tensor, batch_var: Tensor,
                    count: int, momentum: float) -> None:
    with no_grad():
        unbiased = batch_var.data.reshape(-1) * (count / max(count - 1, 1))
        for running, batch in ((mean, batch_mean.data.reshape(-1)), (var, unbiased)):
            if running.requires_grad:
                continue  # not a buffer (a weight torch shared because values were equal)
            running.data[...] = momentum * running.data + (1 - momentum) * batch
            running._version[0] += 1


def _layer_norm(module: Any, attrs: dict, ins: list) -> Tensor:
    """(x - mean) / sqrt(var + eps) * scale + bias over the dims from `axis` on."""
    x, scale = _tensor(ins[0]), _tensor(ins[1])
    start = attrs.get("axis", -1) % x.ndim
    dims = tuple(range(start, x.ndim))
    centered = x - x.mean(dims, keepdim=True)
    variance = (centered * centered).mean(dims, keepdim=True)
    out = centered / (variance + attrs.get("epsilon", 1e-5)).sqrt() * scale
    return out + _tensor(ins[2]) if len(ins) > 2 and ins[2] is not None else out


def _dropout(module: Any, attrs: dict, ins: list) -> Any:
    ratio = _scalar(ins[1]) if len(ins) > 1 and ins[1] is not None else attrs.get(
        "ratio", 0.5)
    return F.dropout(_tensor(ins[0]), ratio, training=module.training)


# ---- elementwise -----------------------------------------------------------------------------
def _binary(numpy_op: Callable, tensor_op: Callable) -> Handler:
    def run(module: Any, attrs: dict, ins: list) -> Value:
        if _is_static(ins):
            return np.asarray(numpy_op(_array(ins[0]), _array(ins[1])))
        return tensor_op(_operand(ins[0], ins[1]), _operand(ins[1], ins[0]))
    return run


def _operand(value: Value, other: Value) -> Tensor:
    """A NumPy constant beside a Tensor becomes a Tensor of the Tensor's float dtype."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if isinstance(other, Tensor) and array.dtype.kind == "f":
        array = array.astype(other.dtype)
    return mg.tensor(array)


def _variadic(tensor_op: Callable) -> Handler:
    def run(module: Any, attrs: dict, ins: list) -> Tensor:
        result = _tensor(ins[0])
        for value in ins[1:]:
            result = tensor_op(result, _operand(value, result))
        return result
    return run


def _unary(name: str) -> Handler:
    def run(module: Any, attrs: dict, ins: list) -> Tensor:
        return getattr(mg, name)(_tensor(ins[0]))
    return run


def _prelu(module: Any, attrs: dict, ins: list) -> Tensor:
    x, slope = _tensor(ins[0]), _tensor(ins[1])
    return F.relu(x) - slope * F.relu(-x)


def _softplus(module: Any, attrs: dict, ins: list) -> Tensor:
    x = _tensor(ins[0])
    return F.relu(x) + mg.log1p(mg.exp(-x.abs()))  # log(1 + e^x) without overflow


def _hard_sigmoid(module: Any, attrs: dict, ins: list) -> Tensor:
    x = _tensor(ins[0])
    return mg.clamp(x * attrs.get("alpha", 0.2) + attrs.get("beta", 0.5), 0.0, 1.0)


def _relu(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.relu(_tensor(ins[0]))


def _leaky_relu(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.leaky_relu(_tensor(ins[0]), attrs.get("alpha", 0.01))


def _elu(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.elu(_tensor(ins[0]), attrs.get("alpha", 1.0))


def _gelu(module: Any, attrs: dict, ins: list) -> Tensor:
    return F.gelu(_tensor(ins[0]), approximate=attrs.get("approximate", "none"))


def _softmax(function: Callable) -> Handler:
    def run(module: Any, attrs: dict, ins: list) -> Tensor:
        return function(_tensor(ins[0]), attrs.get("axis", -1))
    return run


def _clip(module: Any, attrs: dict, ins: list) -> Tensor:
    x = _tensor(ins[0])
    low = ins[1] if len(ins) > 1 else attrs.get("min")
    high = ins[2] if len(ins) > 2 else attrs.get("max")
    bounds = [None if bound is None else _scalar(bound) for bound in (low, high)]
    return mg.clamp(x, *bounds)


def _where(module: Any, attrs: dict, ins: list) -> Value:
    condition, a, b = ins
    if _is_static(ins):
        return np.where(_array(condition), _array(a), _array(b))
    return mg.where(_tensor(condition), _operand(a, b), _operand(b, a))


def _identity(module: Any, attrs: dict, ins: list) -> Value:
    return ins[0]


def _cast(module: Any, attrs: dict, ins: list) -> Value:
    dtype = helper.tensor_dtype_to_np_dtype(attrs["to"])
    if not isinstance(ins[0], Tensor):
        return _array(ins[0]).astype(dtype)
    return ins[0].to(dtype)


def _constant(module: Any, attrs: dict, ins: list) -> np.ndarray:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            value = attrs[key]
            if key == "value":
                return numpy_helper.to_array(value)
            dtype = np.float32 if "float" in key else np.int64
            return np.asarray(value, dtype=dtype)
    raise NotImplementedError(f"load_model: Constant with attributes {sorted(attrs)}")


# ---- shapes ----------------------------------------------------------------------------------
def _shape(module: Any, attrs: dict, ins: list) -> np.ndarray:
    shape = np.asarray(ins[0].shape, dtype=np.int64)
    return shape[attrs.get("start", 0):attrs.get("end", len(shape))]


def _reshape(module: Any, attrs: dict, ins: list) -> Value:
    x, requested = ins[0], _ints(ins[1])
    if not attrs.get("allowzero", 0):
        requested = [x.shape[axis] if size == 0 else size for axis, size in enumerate(requested)]
    if not isinstance(x, Tensor):
        return _array(x).reshape(requested)
    return x.reshape(*requested)


def _flatten(module: Any, attrs: dict, ins: list) -> Value:
    x = ins[0]
    axis = attrs.get("axis", 1) % (len(x.shape) + 1) if len(x.shape) else 0
    rows = int(np.prod(x.shape[:axis], dtype=np.int64))
    if not isinstance(x, Tensor):
        return _array(x).reshape(rows, -1)
    return x.reshape(rows, int(np.prod(x.shape[axis:], dtype=np.int64)))


def _transpose(module: Any, attrs: dict, ins: list) -> Value:
    perm = attrs.get("perm", list(reversed(range(len(ins[0].shape)))))
    if not isinstance(ins[0], Tensor):
        return np.transpose(_array(ins[0]), perm)
    return ins[0].permute(*perm)


def _axes(attrs: dict, ins: list, position: int) -> list[int] | None:
    if len(ins) > position and ins[position] is not None:
        return _ints(ins[position])
    return attrs.get("axes")


def _unsqueeze(module: Any, attrs: dict, ins: list) -> Value:
    x = ins[0]
    shape = list(x.shape)
    rank = len(shape) + len(_axes(attrs, ins, 1))
    for axis in sorted(axis % rank for axis in _axes(attrs, ins, 1)):
        shape.insert(axis, 1)
    return _array(x).reshape(shape) if not isinstance(x, Tensor) else x.reshape(*shape)


def _squeeze(module: Any, attrs: dict, ins: list) -> Value:
    x = ins[0]
    axes = _axes(attrs, ins, 1)
    rank = len(x.shape)
    dropped = {axis % rank for axis in axes} if axes else {
        axis for axis, size in enumerate(x.shape) if size == 1}
    shape = [size for axis, size in enumerate(x.shape) if axis not in dropped]
    return _array(x).reshape(shape) if not isinstance(x, Tensor) else x.reshape(*shape)


def _concat(module: Any, attrs: dict, ins: list) -> Value:
    if _is_static(ins):
        return np.concatenate([_array(value) for value in ins], axis=attrs["axis"])
    tensors = [_operand(value, next(v for v in ins if isinstance(v, Tensor))) for value in ins]
    return mg.cat(tensors, dim=attrs["axis"])


def _gather(module: Any, attrs: dict, ins: list) -> Value:
    data, indices = ins
    axis = attrs.get("axis", 0)
    if _is_static(ins):
        return np.take(_array(data), _array(indices), axis=axis)
    index = _array(indices).astype(np.int64)
    lead = (slice(None),) * (axis % data.ndim)
    if index.ndim == 0:
        return data[lead + (int(index),)]
    return data[lead + (mg.tensor(index),)]


def _slice(module: Any, attrs: dict, ins: list) -> Value:
    x = ins[0]
    starts, ends = _ints(ins[1]), _ints(ins[2])
    axes = _axes(attrs, ins, 3) or list(range(len(starts)))
    steps = _ints(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    key = [slice(None)] * len(x.shape)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = axis % len(x.shape)
        key[axis] = _onnx_slice(start, end, step, x.shape[axis])
        if step < 0 and isinstance(x, Tensor):
            # Tensors take no negative steps (as in PyTorch): flip, then step forwards
            x = x.flip(axis)
            key[axis] = _flipped(key[axis], x.shape[axis])
    return _array(x)[tuple(key)] if not isinstance(x, Tensor) else x[tuple(key)]


def _flipped(backwards: slice, size: int) -> slice:
    """The slice of the flipped axis that picks what `backwards` picked, in order."""
    picked = range(size)[backwards]
    if not picked:
        return slice(0, 0)
    return slice(size - 1 - picked.start, size - 1 - picked[-1] + 1, -picked.step)


def _onnx_slice(start: int, end: int, step: int, size: int) -> slice:
    """ONNX Slice bounds (negative counts from the end, then clamped) as a Python slice."""
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    if step > 0:
        return slice(min(max(start, 0), size), min(max(end, 0), size), step)
    start, end = min(max(start, 0), size - 1), min(max(end, -1), size - 1)
    return slice(start, None if end < 0 else end, step)


def _constant_of_shape(module: Any, attrs: dict, ins: list) -> np.ndarray:
    fill = attrs.get("value")
    value = numpy_helper.to_array(fill).reshape(-1) if fill is not None else np.zeros(
        1, np.float32)
    return np.full(_ints(ins[0]), value[0], dtype=value.dtype)


def _expand(module: Any, attrs: dict, ins: list) -> Value:
    shape = np.broadcast_shapes(tuple(ins[0].shape), tuple(_ints(ins[1])))
    if not isinstance(ins[0], Tensor):
        return np.broadcast_to(_array(ins[0]), shape).copy()
    return ins[0].expand(*shape)


def _split(module: Any, attrs: dict, ins: list) -> tuple:
    x = ins[0]
    axis = attrs.get("axis", 0) % len(x.shape)
    if len(ins) > 1 and ins[1] is not None:
        sizes = _ints(ins[1])
    else:
        parts = attrs["num_outputs"]
        sizes = [-(-x.shape[axis] // parts)] * parts
        sizes[-1] = x.shape[axis] - sum(sizes[:-1])
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * axis
    if not isinstance(x, Tensor):
        x = _array(x)
    return tuple(x[lead + (slice(int(start), int(end)),)]
                 for start, end in itertools.pairwise(bounds))


def _tile(module: Any, attrs: dict, ins: list) -> Value:
    repeats = _ints(ins[1])
    if not isinstance(ins[0], Tensor):
        return np.tile(_array(ins[0]), repeats)
    return ins[0].repeat(*repeats)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
              "wrap": "circular"}


def _pad(module: Any, attrs: dict, ins: list) -> Tensor:
    x = _tensor(ins[0])
    pads = _ints(ins[1]) if len(ins) > 1 else attrs["pads"]
    value = _scalar(ins[2]) if len(ins) > 2 and ins[2] is not None else 0.0
    axes = _axes(attrs, ins, 3) or list(range(x.ndim))
    half = len(pads) // 2
    begins, ends = dict(zip(axes, pads[:half])), dict(zip(axes, pads[half:]))
    torch_pads: list[int] = []
    for axis in reversed(range(x.ndim)):
        torch_pads += [begins.get(axis, 0), ends.get(axis, 0)]
    while torch_pads[-2:] == [0, 0] and len(torch_pads) > 2:
        torch_pads = torch_pads[:-2]
    mode = _PAD_MODES[attrs.get("mode", "constant")]
    if mode == "constant":
        return F.pad(x, tuple(torch_pads), value=value)
    return F.pad(x, tuple(torch_pads), mode=mode)


def _reduce(method: str, numpy_op: Callable) -> Handler:
    def run(module: Any, attrs: dict, ins: list) -> Value:
        x = ins[0]
        axes = _axes(attrs, ins, 1)
        keepdims = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(len(x.shape)))
        if not isinstance(x, Tensor):
            return numpy_op(_array(x), axis=tuple(axes), keepdims=keepdims)
        return getattr(x, method)(tuple(axes), keepdim=keepdims)
    return run


def _resize_limits(attrs: dict) -> str | None:
    problems = []
    if attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
        problems.append("coordinate_transformation_mode=tf_crop_and_resize")
    for name in ("exclude_outside", "antialias"):
        if attrs.get(name, 0):
            problems.append(f"{name}={attrs[name]}")
    if "axes" in attrs:
        problems.append("axes")
    if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        problems.append(f"keep_aspect_ratio_policy={attrs['keep_aspect_ratio_policy']}")
    return f"Resize {', '.join(problems)}" if problems else None


def _conv_transpose_limits(attrs: dict) -> str | None:
    if "output_shape" in attrs:
        return "ConvTranspose with output_shape"
    if attrs.get("auto_pad", "NOTSET") != "NOTSET":
        return f"ConvTranspose with auto_pad={attrs['auto_pad']}"
    return None


# what a handler cannot do, known from the attributes alone: checked when a model loads
ATTRIBUTE_LIMITS: dict[str, Callable[[dict], str | None]] = {
    "Resize": _resize_limits,
    "ConvTranspose": _conv_transpose_limits,
    "LSTM": recurrent_limits("LSTM"),
    "GRU": recurrent_limits("GRU"),
    "RNN": recurrent_limits("RNN"),
}

IMPORT_OPS: dict[str, Handler] = {
    # layers
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "LSTM": lstm,
    "GRU": gru,
    "RNN": rnn,
    "Gemm": _gemm,
    "MatMul": _binary(np.matmul, mg.matmul),
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": _global_average_pool,
    "GlobalMaxPool": _global_max_pool,
    "Resize": _resize,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Dropout": _dropout,
    # activations
    "Relu": _relu,
    "PRelu": _prelu,
    "Softplus": _softplus,
    "HardSigmoid": _hard_sigmoid,
    "LeakyRelu": _leaky_relu,
    "Elu": _elu,
    "Gelu": _gelu,
    "Sigmoid": _unary("sigmoid"),
    "Tanh": _unary("tanh"),
    "Softmax": _softmax(F.softmax),
    "LogSoftmax": _softmax(F.log_softmax),
    # elementwise
    "Add": _binary(np.add, mg.add),
    "Sub": _binary(np.subtract, mg.sub),
    "Mul": _binary(np.multiply, mg.mul),
    "Div": _binary(np.divide, mg.div),
    "Pow": _binary(np.power, mg.pow),
    "Max": _variadic(mg.maximum),
    "Min": _variadic(mg.minimum),
    "Neg": _unary("neg"),
    "Exp": _unary("exp"),
    "Log": _unary("log"),
    "Sqrt": _unary("sqrt"),
    "Reciprocal": _unary("reciprocal"),
    "Abs": _unary("abs"),
    "Sin": _unary("sin"),
    "Cos": _unary("cos"),
    "Clip": _clip,
    "Where": _where,
    "Identity": _identity,
    "Cast": _cast,
    "Constant": _constant,
    # shapes
    "Shape": _shape,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Gather": _gather,
    "Slice": _slice,
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
    "Tile": _tile,
    "Split": _split,
    "Pad": _pad,
    # reductions
    "ReduceMean": _reduce("mean", np.mean),
    "ReduceSum": _reduce("sum", np.sum),
    "ReduceMax": _reduce("amax", np.max),
    "ReduceMin": _reduce("amin", np.min),
    "ReduceLogSumExp": _reduce("logsumexp", lambda a, axis, keepdims: np.log(
        np.sum(np.exp(a), axis=axis, keepdims=keepdims))),
}
