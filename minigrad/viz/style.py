"""How a graph picture looks: node labels, node colours, the gradient colour scale, the legend.

Everything here turns plain values (an op, its options, a shape, a gradient norm) into text and
colours; nothing walks a graph or talks to graphviz.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_GRAD_RANGE",
    "EXPLODING_NORM",
    "VANISHING_RATIO",
    "GradInfo",
    "fit_grad_range",
    "format_options",
    "format_shape",
    "format_value",
    "grad_colors",
    "grad_info",
    "grad_lines",
    "grad_norm",
    "legend_label",
    "node_style",
    "op_title",
    "tensor_lines",
]

# ---- gradient thresholds -------------------------------------------------------------------
VANISHING_RATIO = 1e-7   # below this many times the tensor's own norm an SGD step changes nothing
EXPLODING_NORM = 1e3     # absolute norm above which a gradient is called exploding
DEFAULT_GRAD_RANGE = (1e-8, 1e2)  # norms mapped onto the colour scale, log spaced

# ---- colours -------------------------------------------------------------------------------
# viridis anchors, blue (tiny norm) -> teal -> green -> yellow (large norm)
_SCALE_STOPS = ("#3b528b", "#2c728e", "#21918c", "#5ec962", "#fde725")
STATUS_COLORS = {
    "vanishing": "#f781bf",   # pink: off the blue-to-yellow scale on purpose
    "exploding": "#ff7f00",   # orange
    "NaN": "#e41a1c",         # red
    "inf": "#e41a1c",
}
NO_GRAD_COLOR = "#ffffff"
KIND_COLORS = {
    "op": "#eeeeee",
    "param": "#cfe2f3",
    "input": "#e6e6e6",
    "constant": "#ffffff",
    "output": "#d9ead3",
    "module": "#fff2cc",
    "cut": "#ffffff",
}

_MAX_VALUE_CHARS = 32
_MAX_SEQUENCE_ITEMS = 6
_LINE_WIDTH = 44


@dataclass(frozen=True)
class GradInfo:
    """A gradient's norm and what it says: "ok", "vanishing", "exploding", "NaN" or "inf"."""

    norm: float
    status: str


def grad_norm(grad: np.ndarray) -> float:
    """The L2 norm of a gradient, accumulated in float64 so float32 squares cannot overflow."""
    flat = np.asarray(grad).ravel()
    if flat.dtype.kind != "f" or flat.dtype.itemsize < 8:
        flat = flat.astype(np.float64)
    return float(np.sqrt(np.dot(flat, flat)))


def grad_info(norm: float, value_norm: float | None = None) -> GradInfo:
    """Classify a gradient norm.

    With the tensor's own norm (`value_norm`, leaves), vanishing means below VANISHING_RATIO
    times it; without (activations, whose values are not kept) or for an all-zero tensor the
    same number is an absolute threshold. A zero gradient is vanishing.
    """
    if math.isnan(norm):
        return GradInfo(norm, "NaN")
    if math.isinf(norm):
        return GradInfo(norm, "inf")
    if norm > EXPLODING_NORM:
        return GradInfo(norm, "exploding")
    scale = value_norm if value_norm else 1.0
    if not math.isfinite(scale):
        scale = 1.0
    if norm < VANISHING_RATIO * scale:
        return GradInfo(norm, "vanishing")
    return GradInfo(norm, "ok")


def scale_color(norm: float, grad_range: tuple[float, float] = DEFAULT_GRAD_RANGE) -> str:
    """The colour of a finite norm on the log scale over `grad_range` (clipped at both ends)."""
    low, high = grad_range
    if norm <= low:
        position = 0.0
    elif norm >= high:
        position = 1.0
    else:
        position = (math.log10(norm) - math.log10(low)) / (math.log10(high) - math.log10(low))
    segments = len(_SCALE_STOPS) - 1
    index = min(int(position * segments), segments - 1)
    fraction = position * segments - index
    start, end = _rgb(_SCALE_STOPS[index]), _rgb(_SCALE_STOPS[index + 1])
    mixed = tuple(round(a + (b - a) * fraction) for a, b in zip(start, end))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def grad_colors(info: GradInfo | None,
                grad_range: tuple[float, float] = DEFAULT_GRAD_RANGE) -> tuple[str, str]:
    """(fill colour, font colour) for a node with this gradient (None: no gradient known)."""
    if info is None:
        return NO_GRAD_COLOR, "black"
    fill = STATUS_COLORS.get(info.status) or scale_color(info.norm, grad_range)
    return fill, _font_color(fill)


def node_style(kind: str, info: GradInfo | None, show_grads: bool,
               grad_range: tuple[float, float] = DEFAULT_GRAD_RANGE) -> dict[str, str]:
    """graphviz node attributes for a node of `kind` ("op", "param", "module", ...)."""
    shapes = {"op": "box", "module": "box3d", "cut": "plaintext"}
    attributes = {"shape": shapes.get(kind, "ellipse")}
    styles = ["filled"]
    if kind == "op":
        styles.insert(0, "rounded")
    if kind == "constant":
        styles.insert(0, "dashed")
    if show_grads and kind in ("op", "param", "input", "output", "module"):
        fill, font = grad_colors(info, grad_range)
    else:
        fill, font = KIND_COLORS[kind], "black"
    attributes["fillcolor"] = fill
    attributes["fontcolor"] = font
    if show_grads and info is not None and info.status != "ok":
        attributes["penwidth"] = "3"
        attributes["color"] = "#e41a1c" if info.status in ("NaN", "inf") else "black"
    attributes["style"] = ",".join(styles)
    return attributes


# ---- labels --------------------------------------------------------------------------------
def op_title(function: Any) -> str:
    """The first label line of an op: its `label` (attribute or method) if it has one, else the
    lower-cased class name followed by its options, e.g. "conv2d stride=1 padding=2"."""
    label = getattr(function, "label", None)
    if label is not None:
        return str(label() if callable(label) else label)
    name = type(function).__name__.lower()
    options = format_options(getattr(function, "options", None) or {})
    return f"{name} {options}" if options else name


def format_options(options: dict) -> str:
    """`key=value` pairs separated by spaces, each value kept short; a tuple of equal numbers
    shows as one (stride=(1, 1) -> stride=1), as PyTorch accepts it."""
    pairs = []
    for key, value in options.items():
        if (isinstance(value, tuple) and len(value) > 1
                and all(isinstance(item, (int, float, np.number)) and not isinstance(item, bool)
                        for item in value)
                and len(set(value)) == 1):  # (slices and arrays are not hashable)
            value = value[0]
        pairs.append(f"{key}={format_value(value)}")
    return " ".join(pairs)


def format_value(value: Any) -> str:
    """A short, printable form of an option value (numbers, tuples, dtypes, slices, arrays)."""
    text = _format(value, depth=0)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS - 1] + "…"
    return text


def _format(value: Any, depth: int) -> str:
    if value is None or isinstance(value, (bool, int, str)):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.generic):
        return _format(value.item(), depth)
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, type):
        return value.__name__
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        parts = ["" if part is None else _format(part, depth)
                 for part in (value.start, value.stop, value.step)]
        return ":".join(parts if value.step is not None else parts[:2])
    if isinstance(value, np.ndarray):
        if value.size <= _MAX_SEQUENCE_ITEMS and value.ndim <= 1:
            return _format(value.tolist(), depth)
        return f"array{format_shape(value.shape)}"
    if isinstance(value, (tuple, list)) and depth < 3:
        items = [_format(item, depth + 1) for item in value[:_MAX_SEQUENCE_ITEMS]]
        if len(value) > _MAX_SEQUENCE_ITEMS:
            items.append("…")
        body = ", ".join(items)
        if isinstance(value, list):
            return f"[{body}]"
        return f"({body},)" if len(value) == 1 else f"({body})"
    if isinstance(value, dict) and depth < 3:
        return "{" + ", ".join(f"{key}={_format(item, depth + 1)}"
                               for key, item in value.items()) + "}"
    return type(value).__name__


def format_shape(shape: tuple) -> str:
    """(8, 6, 24, 24) like a Python tuple: (3,) and () for a scalar."""
    return str(tuple(int(length) for length in shape))


def wrap(text: str) -> list[str]:
    """Break a long label line at spaces so nodes stay narrow."""
    return textwrap.wrap(text, _LINE_WIDTH, break_long_words=False) or [text]


def tensor_lines(name: str, shape: tuple | None, dtype: Any, show_shapes: bool) -> list[str]:
    """Label of a tensor node: its name, then its shape and dtype."""
    lines = [name]
    if show_shapes and shape is not None:
        lines.append(f"{format_shape(shape)} {dtype}")
    return lines


def grad_lines(info: GradInfo | None) -> list[str]:
    """The label lines a gradient adds: its norm, and its status when not "ok"."""
    if info is None:
        return ["no grad"]
    lines = [f"grad {info.norm:.2e}"]
    if info.status != "ok":
        lines.append(info.status)
    return lines


def fit_grad_range(norms: list[float]) -> tuple[float, float]:
    """A colour scale over the norms present: from the decade below the smallest to the decade
    above the largest (at least one decade wide); DEFAULT_GRAD_RANGE when there are none."""
    finite = [norm for norm in norms if math.isfinite(norm) and norm > 0]
    if not finite:
        return DEFAULT_GRAD_RANGE
    low = math.floor(math.log10(min(finite)))
    high = math.ceil(math.log10(max(finite)))
    if high <= low:
        high = low + 1
    return 10.0 ** low, 10.0 ** high


def legend_label(grad_range: tuple[float, float] = DEFAULT_GRAD_RANGE,
                 activations: bool = True) -> str:
    """An HTML-like graphviz label: the colour scale (at most six steps over `grad_range`),
    then the markers; without `activations` it says that ops carry no colour and why."""
    low, high = (math.log10(bound) for bound in grad_range)
    first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
    step = max(1, math.ceil((last - first) / 5))
    decades = list(range(first, last + 1, step))
    if decades and decades[-1] != last:
        decades.append(last)
    rows = ['<tr><td colspan="2"><b>gradient norm</b></td></tr>']
    for exponent in decades:
        fill = scale_color(10.0 ** exponent, grad_range)
        rows.append(_legend_row(fill, f"1e{exponent:+03d}"))
    rows.append(_legend_row(STATUS_COLORS["vanishing"],
                            f"vanishing (&lt; {VANISHING_RATIO:g} x tensor norm)"))
    rows.append(_legend_row(STATUS_COLORS["exploding"], f"exploding (&gt; {EXPLODING_NORM:g})"))
    rows.append(_legend_row(STATUS_COLORS["NaN"], "NaN / inf"))
    rows.append(_legend_row(NO_GRAD_COLOR, "no grad"))
    if not activations:
        rows.append('<tr><td colspan="2" align="left">ops uncoloured: activation gradients '
                    'not recorded<br align="left"/>(use minigrad.viz.record_grads)</td></tr>')
    table = "".join(rows)
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">{table}</table>>'


def _legend_row(fill: str, text: str) -> str:
    return f'<tr><td bgcolor="{fill}" width="24"> </td><td align="left">{text}</td></tr>'


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _font_color(fill: str) -> str:
    """White text on dark fills, black on light ones (relative luminance)."""
    red, green, blue = (channel / 255 for channel in _rgb(fill))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "white" if luminance < 0.45 else "black"
