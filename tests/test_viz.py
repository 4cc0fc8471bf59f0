"""Graph pictures: rendered with the real `dot` to SVG and read back with xml.etree.

Every check looks at what a reader of the picture would see: node labels, edges (by their
"source->target" titles), cluster boxes and where nodes sit, fill colours.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.engine import Function, hooks
from minigrad.nn import functional as F
from minigrad.viz import draw_graph, record_grads, style

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[1]


# ---- tiny ops, so the first tests depend on the engine only ---------------------------------
class Scale(Function):
    """y = factor * x."""

    def forward(self, x, factor):
        self.factor = factor
        return x * np.asarray(factor, dtype=x.dtype)

    def backward(self, xp, grad):
        return grad * np.asarray(self.factor, dtype=grad.dtype)


class Product(Function):
    """y = a * b (same shapes)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, xp, grad):
        return grad * self.b, grad * self.a


class Add(Function):
    """y = a + b (same shapes)."""

    def forward(self, a, b):
        return a + b

    def backward(self, xp, grad):
        return grad.copy(), grad.copy()


class Total(Function):
    """y = sum(x)."""

    def forward(self, x):
        self.shape = x.shape
        return np.asarray(x.sum(), dtype=x.dtype)

    def backward(self, xp, grad):
        return np.broadcast_to(grad, self.shape).copy()


class Window(Function):
    """An op with tuple and string options, like a pooling layer."""

    def forward(self, x, kernel_size, stride, mode):
        return x.copy()

    def backward(self, xp, grad):
        return grad.copy()


class Poison(Function):
    """Identity forward; backward turns the gradient into NaN."""

    def forward(self, x):
        return x.copy()

    def backward(self, xp, grad):
        return np.full_like(grad, np.nan)


class Labelled(Function):
    """An op that names itself for pictures."""

    def forward(self, x, power):
        return x ** power

    def backward(self, xp, grad):
        return grad

    def label(self):
        return f"x^{self.options['power']}"


# ---- reading SVG --------------------------------------------------------------------------
def render(graph) -> ET.Element:
    return ET.fromstring(graph.pipe(format="svg"))


def _texts(group: ET.Element) -> list[str]:
    return ["".join(text.itertext()).strip() for text in group.iter(f"{SVG}text")]


def _fill(group: ET.Element) -> str | None:
    for element in group.iter():
        if element.tag in (f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path"):
            fill = element.get("fill")
            if fill and fill != "none":
                return fill
    return None


def _points(group: ET.Element) -> list[tuple[float, float]]:
    points = []
    for element in group.iter():
        if element.tag == f"{SVG}polygon":
            for pair in element.get("points").split():
                x, y = pair.split(",")
                points.append((float(x), float(y)))
        elif element.tag == f"{SVG}ellipse":
            cx, cy = float(element.get("cx")), float(element.get("cy"))
            rx, ry = float(element.get("rx")), float(element.get("ry"))
            points += [(cx - rx, cy - ry), (cx + rx, cy + ry)]
        elif element.tag == f"{SVG}path":
            numbers = [float(n) for n in re.findall(r"-?\d+\.?\d*", element.get("d"))]
            points += list(zip(numbers[0::2], numbers[1::2]))
    return points


def _box(group: ET.Element) -> tuple[float, float, float, float]:
    points = _points(group)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def groups(svg: ET.Element, kind: str) -> dict[str, ET.Element]:
    """SVG groups of class "node", "edge" or "cluster", by their <title> (node name)."""
    found = {}
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == kind:
            found[group.find(f"{SVG}title").text] = group
    return found


def labels(svg: ET.Element) -> dict[str, list[str]]:
    """Each node's label lines, by node name."""
    return {name: _texts(group) for name, group in groups(svg, "node").items()}


def node_named(svg: ET.Element, first_line: str) -> str:
    """The node whose label starts with `first_line` (exactly one)."""
    matches = [name for name, lines in labels(svg).items() if lines and lines[0] == first_line]
    assert len(matches) == 1, (first_line, matches)
    return matches[0]


def legend_range(svg: ET.Element) -> tuple[float, float]:
    """The ends of the colour scale, read from the legend's decade rows ("1e-03")."""
    exponents = [int(text[2:]) for text in labels(svg)["legend"]
                 if re.fullmatch(r"1e[+-]\d+", text)]
    return 10.0 ** min(exponents), 10.0 ** max(exponents)


def edges(svg: ET.Element) -> list[tuple[str, str]]:
    titles = [group.find(f"{SVG}title").text for group in svg.iter(f"{SVG}g")
              if group.get("class") == "edge"]
    return [tuple(title.split("->")) for title in titles]


def inside(svg: ET.Element, node: str, cluster: str) -> bool:
    """True when the drawn node lies within the drawn cluster box."""
    x0, y0, x1, y1 = _box(groups(svg, "cluster")[cluster])
    nx0, ny0, nx1, ny1 = _box(groups(svg, "node")[node])
    return x0 <= nx0 and nx1 <= x1 and y0 <= ny0 and ny1 <= y1


# ---- a small hand-built graph --------------------------------------------------------------
def small_graph():
    """x is used twice by one op (reuse), h feeds two ops (branch), c is made under no_grad."""
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        c = Scale.apply(x, factor=2.0)
    h = Product.apply(x, x)
    left = Scale.apply(h, factor=3.0)
    right = Product.apply(h, c)
    loss = Total.apply(Product.apply(Product.apply(left, right), w))
    return loss, {"x": x, "w": w, "c": c}


def test_small_graph_nodes_edges_and_labels():
    loss, tensors = small_graph()
    svg = render(draw_graph(loss, names=tensors))
    lines = labels(svg)
    ops = [name for name in lines if name.startswith("op")]
    assert len(ops) == 6
    assert sorted(lines[name][0] for name in ops) == [
        "product", "product", "product", "product", "scale factor=3", "total"]
    x, c = node_named(svg, "x"), node_named(svg, "c")
    assert lines[node_named(svg, "w")][0] == "w"
    assert lines[x] == ["x", "(3,) float32"]
    assert lines[c] == ["c", "(3,) float32"]
    output = node_named(svg, "output")
    assert lines[output] == ["output", "() float32"]
    arrows = edges(svg)
    square = [target for source, target in arrows if source == x]
    assert len(square) == 2 and square[0] == square[1]          # x * x: two arrows into one op
    h_consumers = [target for source, target in arrows if source == square[0]]
    assert len(h_consumers) == 2                                 # h branches into two ops
    assert {lines[target][0] for target in h_consumers} == {"product", "scale factor=3"}
    assert [lines[target][0] for source, target in arrows if source == c] == ["product"]
    assert [source for source, target in arrows if target == output] != []
    assert all(not source.startswith("out") for source, _ in arrows)  # data flows into outputs
    assert len(arrows) == 11


def test_constant_from_no_grad_is_a_dashed_leaf_and_absent_inputs_are_not_drawn():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        mask = Scale.apply(x, factor=0.0)
    y = Total.apply(Product.apply(x, mask))
    svg = render(draw_graph(y))
    constant = node_named(svg, "constant")
    shape = groups(svg, "node")[constant].find(f"{SVG}ellipse")
    assert shape.get("stroke-dasharray")                         # dashed outline
    assert [lines[0] for lines in labels(svg).values()].count("scale factor=0") == 0


def test_shapes_dtypes_and_show_shapes_off():
    x = mg.tensor(np.ones((2, 3)), dtype=mg.float64, requires_grad=True)
    y = Total.apply(Scale.apply(x, factor=2.0))
    lines = labels(render(draw_graph(y, names={"x": x})))
    assert ["x", "(2, 3) float64"] in lines.values()
    assert ["scale factor=2", "(2, 3) float64"] in lines.values()
    plain = labels(render(draw_graph(y, names={"x": x}, show_shapes=False)))
    assert sorted(plain.values()) == [["output"], ["scale factor=2"], ["total"], ["x"]]


def test_op_label_from_options_and_label_method():
    x = mg.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    y = Window.apply(x, kernel_size=(2, 3), stride=(2, 2), mode="max")
    z = Total.apply(Labelled.apply(y, power=3))
    lines = [label[0] for label in labels(render(draw_graph(z))).values()]
    assert "window kernel_size=(2, 3) stride=2 mode=max" in lines
    assert "x^3" in lines
    assert style.format_value(np.arange(100).reshape(10, 10)) == "array(10, 10)"
    assert style.format_value(slice(1, None)) == "1:"
    assert style.format_value((1.5, mg.float32, None)) == "(1.5, float32, None)"
    assert style.op_title(x[0, :, 1:].grad_fn) == "index key=(0, :, 1:)"  # slices: unhashable


def test_several_outputs_by_name():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = Scale.apply(x, factor=2.0)
    first, second = Total.apply(h), Total.apply(Product.apply(h, h))
    svg = render(draw_graph({"loss": first, "penalty": second}))
    lines = labels(svg)
    assert node_named(svg, "loss") and node_named(svg, "penalty")
    assert sum(1 for name in lines if name.startswith("op")) == 4   # the shared op drawn once


def test_max_depth_cuts_the_walk():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10):
        y = Scale.apply(y, factor=1.0)
    svg = render(draw_graph(y, max_depth=3))
    lines = labels(svg)
    assert sum(1 for name in lines if name.startswith("op")) == 3
    cut = [name for name in lines if name.startswith("cut")]
    assert len(cut) == 1 and lines[cut[0]] == ["… scale factor=1"]
    assert not any(name.startswith("leaf") for name in lines)    # x is beyond the cut
    assert len(labels(render(draw_graph(y, max_depth=None)))) == 12


def test_bad_arguments_raise():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="outputs"):
        draw_graph(3.0)
    with pytest.raises(TypeError, match="output 1"):
        draw_graph([x, np.ones(2)])
    with pytest.raises(ValueError, match="max_depth"):
        draw_graph(x, max_depth=-1)
    with pytest.raises(ValueError, match="collapse_modules"):
        draw_graph(x, collapse_modules=-2)
    with pytest.raises(TypeError, match="model"):
        draw_graph(x, model=object())
    with pytest.raises(TypeError, match="record_grads"):
        draw_graph(x, grads={})


def test_leaf_output_and_untracked_output():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = Scale.apply(x, factor=2.0)
    lines = labels(render(draw_graph([x, y])))
    assert sorted(lines.values()) == [["output 0", "(2,) float32"], ["output 1", "(2,) float32"]]


# ---- gradients -----------------------------------------------------------------------------
def test_record_grads_keeps_norms_only_and_removes_its_observer():
    x = mg.tensor([3.0, 4.0], requires_grad=True)
    h = Scale.apply(x, factor=2.0)
    loss = Total.apply(h)
    assert hooks.backward_observers == []
    with record_grads() as grads:
        assert len(hooks.backward_observers) == 1
        loss.backward()
    assert hooks.backward_observers == []
    assert grads.get(h.grad_fn) == pytest.approx(np.sqrt(2.0))   # d loss / d h = [1, 1]
    assert grads.get(loss.grad_fn) == pytest.approx(1.0)
    assert all(isinstance(value, float) for value in grads._norms.values())
    with pytest.raises(RuntimeError), record_grads():
        raise RuntimeError("boom")
    assert hooks.backward_observers == []


def test_norms_are_float64_safe():
    big = np.full(4, 1e30, dtype=np.float32)
    assert style.grad_norm(big) == pytest.approx(2e30, rel=1e-6)
    assert style.grad_info(float("nan")).status == "NaN"
    assert style.grad_info(float("inf")).status == "inf"
    assert style.grad_info(1e4).status == "exploding"
    assert style.grad_info(1e-6, value_norm=1.0).status == "ok"
    assert style.grad_info(1e-6, value_norm=100.0).status == "vanishing"   # relative
    assert style.grad_info(1e-8).status == "vanishing"                     # absolute
    assert style.grad_info(0.0, value_norm=0.0).status == "vanishing"


def test_show_grads_colours_large_and_vanishing_gradients_differently():
    big = mg.tensor([1.0, 1.0], requires_grad=True)
    small = mg.tensor([1.0, 1.0], requires_grad=True)
    loss = Add.apply(Total.apply(Scale.apply(big, factor=10.0)),
                     Total.apply(Scale.apply(small, factor=1e-12)))
    with record_grads() as grads:
        loss.backward()
    svg = render(draw_graph(loss, show_grads=True, grads=grads,
                            names={"big": big, "small": small},
                            grad_range=style.DEFAULT_GRAD_RANGE))
    nodes, lines = groups(svg, "node"), labels(svg)
    big_node, small_node = node_named(svg, "big"), node_named(svg, "small")
    assert "vanishing" in lines[small_node] and "vanishing" not in lines[big_node]
    assert _fill(nodes[small_node]) == style.STATUS_COLORS["vanishing"]
    assert lines[big_node][-1] == "grad 1.41e+01"
    assert _fill(nodes[big_node]) == style.scale_color(float(np.sqrt(2) * 10))
    assert _fill(nodes[big_node]) != _fill(nodes[small_node])
    # activations are coloured too, by the norm of their own gradient
    scaled = node_named(svg, "scale factor=10")
    assert lines[scaled][-1] == "grad 1.41e+00"
    assert _fill(nodes[scaled]) == style.scale_color(float(np.sqrt(2)))
    assert _fill(nodes[node_named(svg, "add")]) == style.scale_color(1.0)
    legend = nodes["legend"]
    legend_text = " ".join(_texts(legend))
    assert "gradient norm" in legend_text and "vanishing" in legend_text
    assert "NaN / inf" in legend_text
    assert "cluster_legend" in groups(svg, "cluster")
    legend_fills = {element.get("fill") for element in legend.iter(f"{SVG}polygon")}
    assert style.STATUS_COLORS["vanishing"] in legend_fills
    assert style.scale_color(1.0) in legend_fills


def test_nan_gradient_is_marked():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = Total.apply(Scale.apply(Poison.apply(x), factor=2.0))
    with record_grads() as grads:
        loss.backward()
    svg = render(draw_graph(loss, show_grads=True, grads=grads, names={"x": x}))
    nodes, lines = groups(svg, "node"), labels(svg)
    x_node = node_named(svg, "x")
    assert lines[x_node][-2:] == ["grad nan", "NaN"]
    assert _fill(nodes[x_node]) == style.STATUS_COLORS["NaN"]
    poison = node_named(svg, "poison")
    assert "NaN" not in lines[poison]   # its own output gradient is fine; its input's is not
    assert _fill(nodes[poison]) != style.STATUS_COLORS["NaN"]


def test_show_grads_without_recorder_colours_leaves_and_says_how_to_record():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = Total.apply(Scale.apply(x, factor=2.0))
    loss.backward()
    with pytest.warns(UserWarning, match="record_grads"):
        svg = render(draw_graph(loss, show_grads=True, names={"x": x}))
    nodes, lines = groups(svg, "node"), labels(svg)
    x_node = node_named(svg, "x")
    assert lines[x_node][-1] == "grad 2.83e+00"
    assert _fill(nodes[x_node]) == style.scale_color(2.83, (1.0, 10.0))  # scale fitted to x
    scale = node_named(svg, "scale factor=2")
    assert lines[scale] == ["scale factor=2", "(2,)"]                   # no "no grad" claim
    assert _fill(nodes[scale]) == style.KIND_COLORS["op"]
    legend = " ".join(lines["legend"])
    assert "1e+00" in legend and "1e+01" in legend and "1e-08" not in legend
    assert "activation gradients not recorded" in legend and "record_grads" in legend


# ---- a big graph ---------------------------------------------------------------------------
def test_chain_of_10000_ops_is_drawn_and_rendered(capsys):
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = Scale.apply(y, factor=1.0)
    start = time.perf_counter()
    graph = draw_graph(y)
    drawn = time.perf_counter()
    svg = render(graph)
    rendered = time.perf_counter()
    nodes = groups(svg, "node")
    assert sum(1 for name in nodes if name.startswith("op")) == 10_000
    assert len(nodes) == 10_002 and len(edges(svg)) == 10_001
    with capsys.disabled():  # measured, not asserted
        print(f"\n10,000-op chain: draw_graph {drawn - start:.2f} s, "
              f"dot -> svg {rendered - drawn:.2f} s")


# ---- modules -------------------------------------------------------------------------------


class SharedActivation(nn.Module):
    """One ReLU module called twice, a Sequential body, a Linear head."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
        self.act = nn.ReLU()
        self.hidden = nn.Linear(8, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.act(self.body(x))
        x = self.act(self.hidden(x))
        return self.head(x)


def test_module_clusters_nest_and_a_shared_module_gets_one_box_per_call():
    model = SharedActivation()
    out = model(mg.randn(2, 4))
    svg = render(draw_graph(out, model))
    clusters = {name: _texts(group) for name, group in groups(svg, "cluster").items()}
    assert clusters["cluster_body"] == ["body (Sequential)"]
    assert clusters["cluster_body.0"] == ["body.0 (Linear)"]
    assert clusters["cluster_act"] == ["act (ReLU)"]
    assert clusters["cluster_act@2"] == ["act (ReLU) #2"]
    assert "cluster_" not in clusters and len(clusters) == 7
    weight = node_named(svg, "body.0.weight")
    assert labels(svg)[weight] == ["body.0.weight", "(8, 4) float32"]
    assert inside(svg, weight, "cluster_body.0") and inside(svg, weight, "cluster_body")
    assert not inside(svg, weight, "cluster_head")
    relus = [name for name, lines in labels(svg).items() if lines[0] == "relu"]
    assert len(relus) == 2
    assert sorted(inside(svg, name, "cluster_act@2") for name in relus) == [False, True]


def test_without_model_clusters_use_class_names():
    model = SharedActivation()
    out = model(mg.randn(2, 4))
    svg = render(draw_graph(out))
    titles = {name: _texts(group)[0] for name, group in groups(svg, "cluster").items()}
    assert titles["cluster_SharedActivation"] == "SharedActivation"
    assert titles["cluster_SharedActivation.Sequential.Linear"] == "Linear"
    assert titles["cluster_SharedActivation.Linear_2"] == "Linear"
    # parameters are still named, relative to the outermost module that ran
    weight = node_named(svg, "body.0.weight")
    assert inside(svg, weight, "cluster_SharedActivation.Sequential.Linear")
    assert not inside(svg, node_named(svg, "input"), "cluster_SharedActivation")


def test_cluster_modules_off_draws_no_boxes():
    model = SharedActivation()
    svg = render(draw_graph(model(mg.randn(2, 4)), model, cluster_modules=False))
    assert groups(svg, "cluster") == {}
    assert node_named(svg, "head.weight")


def test_collapse_draws_one_node_per_child_module():
    model = SharedActivation()
    x = mg.randn(2, 4)
    out = model(x)
    svg = render(draw_graph(out, model, collapse_modules=True, names={"x": x}))
    lines = labels(svg)
    assert not any(name.startswith("op") for name in lines)          # every op is in a module
    assert not any(name.startswith("leaf") for name in lines)        # parameters folded in
    modules = sorted(label[0] for name, label in lines.items() if name.startswith("mod"))
    assert modules == ["act (ReLU)", "act (ReLU) #2", "body (Sequential)", "head (Linear)",
                       "hidden (Linear)"]
    assert lines[node_named(svg, "body (Sequential)")] == ["body (Sequential)", "(2, 8)",
                                                           "40 params"]
    assert lines[node_named(svg, "head (Linear)")] == ["head (Linear)", "(2, 3)", "27 params"]
    chain = {source: target for source, target in edges(svg)}
    order = [node_named(svg, "x")]
    while order[-1] in chain:
        order.append(chain[order[-1]])
    assert [lines[name][0] for name in order] == [
        "x", "body (Sequential)", "act (ReLU)", "hidden (Linear)", "act (ReLU) #2",
        "head (Linear)", "output"]
    assert groups(svg, "cluster") == {}


def test_collapse_deeper_keeps_parents_as_boxes():
    model = SharedActivation()
    svg = render(draw_graph(model(mg.randn(2, 4)), model, collapse_modules=2))
    lines = labels(svg)
    assert not any(name.startswith("op") for name in lines)
    inner = node_named(svg, "body.0 (Linear)")
    assert inside(svg, inner, "cluster_body")
    assert node_named(svg, "head (Linear)")                          # a leaf module at depth 1


def test_collapsed_module_names_a_parameter_with_a_bad_gradient():
    model = SharedActivation()
    loss = model(mg.randn(2, 4)).sum()
    with record_grads() as grads:
        loss.backward()
    model.head.weight.grad.data[0, 0] = np.nan
    svg = render(draw_graph(loss, model, collapse_modules=True, show_grads=True, grads=grads))
    lines = labels(svg)
    head = lines[node_named(svg, "head (Linear)")]
    assert head[:3] == ["head (Linear)", "(2, 3)", "27 params"]
    assert head[-1] == "head.weight: NaN"
    assert _fill(groups(svg, "node")[node_named(svg, "head (Linear)")]) == \
        style.STATUS_COLORS["NaN"]
    assert not any("NaN" in line for line in lines[node_named(svg, "hidden (Linear)")])


def test_frozen_parameters_and_buffers_are_named_constants():
    model = nn.Sequential(nn.Linear(3, 2))
    model[0].weight.requires_grad_(False)
    out = model(mg.randn(5, 3, requires_grad=True))
    svg = render(draw_graph(out, model))
    frozen = node_named(svg, "0.weight")
    assert groups(svg, "node")[frozen].find(f"{SVG}ellipse").get("stroke-dasharray")
    assert labels(svg)[frozen] == ["0.weight", "(2, 3) float32"]
    assert labels(svg)[node_named(svg, "input")] == ["input", "(5, 3) float32"]


# ---- the command line ----------------------------------------------------------------------
def run_cli(*args, cwd=ROOT):
    result = subprocess.run([sys.executable, "-m", "minigrad.viz", *args], cwd=cwd, check=False,
                            capture_output=True, text=True, timeout=300)
    return result


def test_cli_draws_a_user_model_from_module_attr(tmp_path):
    (tmp_path / "my_nets.py").write_text(textwrap.dedent("""
        import minigrad.nn as nn

        class Tiny(nn.Module):
            def __init__(self, in_channels=1):
                super().__init__()
                self.flatten = nn.Flatten()
                self.fc = nn.Linear(in_channels * 16, 5)

            def forward(self, x):
                return self.fc(self.flatten(x))

        def make_tiny():
            return Tiny(in_channels=3)

        tiny = Tiny(in_channels=2)
    """))
    for spec, channels in (("my_nets:Tiny", 3), ("my_nets:make_tiny", 3), ("my_nets:tiny", 2)):
        target = tmp_path / f"{spec.split(':')[1]}.svg"
        result = run_cli(spec, "--input-size", f"4,{channels},4,4", "-o", str(target),
                         "--grads", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        svg = ET.parse(target).getroot()
        lines = labels(svg)
        assert lines[node_named(svg, "fc.weight")][:2] == ["fc.weight",
                                                           f"(5, {channels * 16}) float32"]
        assert lines[node_named(svg, "loss")][0] == "loss"
        assert "cluster_fc" in groups(svg, "cluster") and "legend" in lines
    bad = run_cli("my_nets:nothing", cwd=tmp_path)
    assert bad.returncode == 2 and "nothing" in bad.stderr
    bad = run_cli("my_nets:Tiny", "-o", "x.jpg", cwd=tmp_path)
    assert bad.returncode == 2 and "format" in bad.stderr
    bad = run_cli("no_such_model", cwd=tmp_path)
    assert bad.returncode == 2 and "lenet5" in bad.stderr


# ---- LeNet-5 -------------------------------------------------------------------------------
LENET_CHILDREN = [("conv1", "Conv2d"), ("relu1", "ReLU"), ("pool1", "MaxPool2d"),
                  ("conv2", "Conv2d"), ("relu2", "ReLU"), ("pool2", "MaxPool2d"),
                  ("flatten", "Flatten"), ("fc1", "Linear"), ("relu3", "ReLU"),
                  ("fc2", "Linear"), ("relu4", "ReLU"), ("fc3", "Linear")]


def lenet_loss():
    from minigrad.models import LeNet5

    mg.manual_seed(0)
    model = LeNet5()
    images, labels_ = mg.randn(2, 1, 28, 28), mg.tensor([3, 7])
    with record_grads() as grads:
        loss = F.cross_entropy(model(images), labels_)
        loss.backward()
    return model, loss, grads, {"images": images, "labels": labels_}


def test_lenet5_clusters():
    model, loss, _, tensors = lenet_loss()
    svg = render(draw_graph(loss, model, names=tensors))
    clusters = {name: _texts(group) for name, group in groups(svg, "cluster").items()}
    assert clusters == {f"cluster_{name}": [f"{name} ({kind})"] for name, kind in LENET_CHILDREN}
    lines = labels(svg)
    convs = [name for name, label in lines.items() if label[0].startswith("conv2d")]
    assert len(convs) == 2
    first = [name for name in convs if inside(svg, name, "cluster_conv1")]
    assert len(first) == 1 and not inside(svg, first[0], "cluster_conv2")
    *title, shape = lines[first[0]]                                   # long titles wrap
    assert " ".join(title) == "conv2d stride=1 padding=0 dilation=1 groups=1"
    assert shape == "(2, 6, 24, 24)"
    weight = node_named(svg, "conv1.weight")
    assert lines[weight] == ["conv1.weight", "(6, 1, 5, 5) float32"]
    assert inside(svg, weight, "cluster_conv1")
    assert (weight, first[0]) in edges(svg) and (node_named(svg, "images"), first[0]) in edges(svg)
    assert not inside(svg, node_named(svg, "images"), "cluster_conv1")
    for name in ("fc1", "fc2", "fc3"):
        linear = [node for node, label in lines.items()
                  if label[0] == "linear" and inside(svg, node, f"cluster_{name}")]
        assert len(linear) == 1
    assert lines[node_named(svg, "output")] == ["output", "() float32"]


def test_lenet5_collapsed():
    model, loss, _, tensors = lenet_loss()
    svg = render(draw_graph(loss, model, collapse_modules=True, names=tensors))
    lines = labels(svg)
    modules = [label for name, label in lines.items() if name.startswith("mod")]
    assert sorted(label[0] for label in modules) == sorted(
        f"{name} ({kind})" for name, kind in LENET_CHILDREN)
    by_title = {label[0]: label for label in modules}
    assert by_title["conv1 (Conv2d)"] == ["conv1 (Conv2d)", "(2, 6, 24, 24)", "156 params"]
    assert by_title["fc3 (Linear)"] == ["fc3 (Linear)", "(2, 10)", "850 params"]
    assert by_title["pool2 (MaxPool2d)"] == ["pool2 (MaxPool2d)", "(2, 16, 4, 4)"]
    ops = [label[0] for name, label in lines.items() if name.startswith("op")]
    assert ops == ["crossentropy ignore_index=-100"]                  # the loss, outside model
    assert not any(name.startswith("leaf") for name in lines)        # parameters folded in
    assert groups(svg, "cluster") == {}


def test_lenet5_show_grads_colours_every_layer():
    model, loss, grads, tensors = lenet_loss()
    svg = render(draw_graph(loss, model, show_grads=True, grads=grads, names=tensors))
    nodes, lines = groups(svg, "node"), labels(svg)
    for name, parameter in model.named_parameters():
        node = node_named(svg, name)
        expected = style.grad_norm(parameter.grad.data)
        assert lines[node][2] == f"grad {expected:.2e}"
        assert _fill(nodes[node]) == style.scale_color(expected, legend_range(svg))
    ops = [name for name in lines if name.startswith("op")]
    assert all(lines[name][-1].startswith("grad ") for name in ops)   # every activation
    assert lines[node_named(svg, "images")] == ["images", "(2, 1, 28, 28) float32"]


def test_cli_lenet5_writes_a_readable_svg(tmp_path):
    target = tmp_path / "lenet.svg"
    result = run_cli("lenet5", "--input-size", "1,1,28,28", "-o", str(target), "--grads")
    assert result.returncode == 0, result.stderr
    svg = ET.parse(target).getroot()
    clusters = {name: _texts(group) for name, group in groups(svg, "cluster").items()}
    assert clusters["cluster_conv1"] == ["conv1 (Conv2d)"] and "cluster_legend" in clusters
    assert labels(svg)[node_named(svg, "conv1.weight")][:2] == ["conv1.weight",
                                                                "(6, 1, 5, 5) float32"]
    collapsed = tmp_path / "lenet_small.svg"
    result = run_cli("LeNet5", "--input-size", "2,1,8,8", "-o", str(collapsed), "--collapse")
    assert result.returncode == 0, result.stderr
    lines = labels(ET.parse(collapsed).getroot())
    modules = {label[0]: label for name, label in lines.items() if name.startswith("mod")}
    assert modules["fc3 (Linear)"][:2] == ["fc3 (Linear)", "(2, 10)"]
    assert modules["conv1 (Conv2d)"][:2] == ["conv1 (Conv2d)", "(2, 6, 8, 8)"]  # padding 2
    assert not any(name.startswith("op") for name in lines)


def test_example_why_the_seed_did_not_learn(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "why_the_seed_did_not_learn.py"),
         str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert "conv1.weight" in result.stdout and "Loss curves" in result.stdout
    assert (tmp_path / "loss_curves.png").read_bytes().startswith(b"\x89PNG")
    fills = {}
    for name in ("seed_init", "pytorch_init"):
        svg = ET.parse(tmp_path / f"{name}.svg").getroot()
        assert "legend" in groups(svg, "node")
        node = groups(svg, "node")[node_named(svg, "conv1.weight")]
        fills[name] = _fill(node)
    assert fills["seed_init"] != fills["pytorch_init"]


def test_digraph_renders_inline_and_saves_svg_png_pdf(tmp_path):
    loss, tensors = small_graph()
    graph = draw_graph(loss, names=tensors)
    bundle = graph._repr_mimebundle_()              # what Jupyter calls to show it inline
    assert "<svg" in bundle["image/svg+xml"]
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}
    for file_format, start in magic.items():
        path = graph.render(tmp_path / "small", format=file_format)
        assert Path(path).read_bytes().startswith(start)


# ---- readable pictures of real models -------------------------------------------------------
def conv_bn_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(144, 10))


def test_inputs_and_targets_are_named_by_default():
    model = conv_bn_net()
    images, targets = mg.randn(16, 1, 8, 8), mg.randint(0, 10, (16,))
    svg = render(draw_graph(F.cross_entropy(model(images), targets), model))
    lines = labels(svg)
    assert lines[node_named(svg, "input")] == ["input", "(16, 1, 8, 8) float32"]
    assert lines[node_named(svg, "target")] == ["target", "(16,) int64"]
    assert not any(label[0] == "constant" for label in lines.values())
    assert not any(inside(svg, node_named(svg, name), f"cluster_{index}")
                   for name in ("input", "target") for index in range(5))
    # a user's name still wins
    named = labels(render(draw_graph(model(images), model, names={"images": images})))
    assert ["images", "(16, 1, 8, 8) float32"] in named.values()
    assert not any(label[0] == "input" for label in named.values())


def test_python_numbers_are_folded_into_their_op():
    x = mg.randn(3, 4, requires_grad=True)
    y = ((1 - x * 2.0 + 1) / 3).sum()
    lines = labels(render(draw_graph(y, names={"x": x})))
    titles = sorted(label[0] for name, label in lines.items() if name.startswith("op"))
    assert titles == ["add other=1", "div other=3", "mul other=2", "sub input=1",
                      "sum dim=(0, 1) keepdim=False"]
    assert "out0" in lines and len(lines) == 7                          # x, 5 ops, output


@pytest.mark.parametrize("training", [False, True])
def test_batchnorm_is_one_node_with_its_buffers_named_in_its_box(training):
    model = conv_bn_net().train(training)
    images = mg.randn(16, 1, 8, 8)
    svg = render(draw_graph(model(images), model))
    lines = labels(svg)
    in_box = [name for name in lines if inside(svg, name, "cluster_1")]
    mode = "train" if training else "eval"
    assert sorted(lines[name][0] for name in in_box) == [
        "1.bias", "1.running_mean", "1.running_var", "1.weight", f"batchnorm2d ({mode})"]
    batchnorm = node_named(svg, f"batchnorm2d ({mode})")
    assert lines[batchnorm] == [f"batchnorm2d ({mode})", "(16, 4, 6, 6)"]
    assert not any(label[0] == "constant" for label in lines.values())
    arrows = edges(svg)
    for buffer in ("1.running_mean", "1.running_var"):
        node = node_named(svg, buffer)
        expected = (batchnorm, node) if training else (node, batchnorm)  # updated / read
        assert expected in arrows
    if training:
        updates = [group for group in groups(svg, "edge").values() if "update" in _texts(group)]
        assert len(updates) == 2
    unfused = labels(render(draw_graph(model(images), model, fuse_layers=False)))
    if training:  # one fused op (BatchNormTrain), drawn without the layer's buffers
        assert any(label[0].startswith("batchnormtrain") for label in unfused.values())
        assert not any(label[0].startswith("1.running") for label in unfused.values())
    else:
        assert len(unfused) > len(lines) + 5                               # the raw ops


@pytest.mark.parametrize("training", [False, True])
def test_resnet18_collapsed_to_its_children_stays_small(training):
    from minigrad.models import ResNet18

    mg.manual_seed(0)
    model = ResNet18(num_classes=10).train(training)
    images = mg.randn(2, 3, 32, 32)
    svg = render(draw_graph(model(images), model, collapse_modules=True))
    lines = labels(svg)
    assert len(lines) < 30
    assert not any(label[0] == "constant" for label in lines.values())
    assert lines[node_named(svg, "bn1 (BatchNorm2d)")] == ["bn1 (BatchNorm2d)",
                                                           "(2, 64, 16, 16)", "128 params"]
    assert lines[node_named(svg, "input")] == ["input", "(2, 3, 32, 32) float32"]
    expanded = labels(render(draw_graph(model(images), model)))
    assert not any(label[0] == "constant" for label in expanded.values())
    assert sum(1 for label in expanded.values() if label[0] == "bn1.running_var") == 1


def test_a_big_graph_is_collapsed_by_default_and_says_how_to_expand():
    layers = []
    for _ in range(80):
        layers += [nn.Linear(4, 4), nn.ReLU()]
    model = nn.Sequential(*layers)
    out = model(mg.randn(2, 4))
    svg = render(draw_graph(out, model))
    lines = labels(svg)
    assert len(lines) == 162                                       # input, 160 modules, output
    assert lines[node_named(svg, "0 (Linear)")] == ["0 (Linear)", "(2, 4)", "20 params"]
    title = " ".join(text for text in _texts(svg) if "collapse" in text)
    assert "collapse_modules=False" in title and "--collapse 0" in title
    expanded = labels(render(draw_graph(out, model, collapse_modules=False)))
    assert len(expanded) == 80 * 4 + 2
    small = render(draw_graph(model[:4](mg.randn(2, 4)), model))
    assert not any("collapse" in text for text in _texts(small))


def test_colour_scale_is_fitted_to_the_gradients_present():
    model = nn.Sequential(nn.Linear(4, 3))
    loss = model(mg.randn(8, 4)).sum() * 3e-4
    with record_grads() as grads:
        loss.backward()
    svg = render(draw_graph(loss, model, show_grads=True, grads=grads))
    norms = [style.grad_norm(parameter.grad.data) for parameter in model.parameters()]
    norms += [1.0, 3e-4, 3e-4 * np.sqrt(24)]                       # loss, sum, linear
    low, high = legend_range(svg)
    assert low == 10.0 ** np.floor(np.log10(min(norms)))
    assert high == 10.0 ** np.ceil(np.log10(max(norms)))
    assert high / low <= 1e6                                       # not the 1e-8..1e2 default
    weight = groups(svg, "node")[node_named(svg, "0.weight")]
    assert _fill(weight) == style.scale_color(norms[0], (low, high))
    fills = {_fill(group) for name, group in groups(svg, "node").items() if name != "legend"}
    assert len(fills) >= 3                                         # not everything one green


def test_collapsed_module_is_coloured_by_its_parameters_gradient_norm():
    model = SharedActivation()
    loss = model(mg.randn(2, 4)).sum()
    loss.backward()
    with pytest.warns(UserWarning, match="record_grads"):
        svg = render(draw_graph(loss, model, collapse_modules=True, show_grads=True))
    head = model.head
    expected = float(np.sqrt(style.grad_norm(head.weight.grad.data) ** 2
                             + style.grad_norm(head.bias.grad.data) ** 2))
    node = node_named(svg, "head (Linear)")
    assert labels(svg)[node][-1] == f"params grad {expected:.2e}"
    assert _fill(groups(svg, "node")[node]) == style.scale_color(expected, legend_range(svg))
    relu = labels(svg)[node_named(svg, "act (ReLU)")]
    assert relu == ["act (ReLU)", "(2, 8)"]                        # no params, no activations


def test_labels_have_room_inside_their_borders():
    model = conv_bn_net()
    svg = render(draw_graph(model(mg.randn(2, 1, 8, 8)), model))
    for name, group in groups(svg, "node").items():
        x0, y0, x1, y1 = _box(group)
        ys = [float(text.get("y")) for text in group.iter(f"{SVG}text")]
        assert min(ys) - y0 >= 12 and y1 - max(ys) >= 4, name       # text baselines inside
        assert x1 - x0 >= 50, name


@pytest.mark.parametrize("spec", ["lenet5:1,1,28,28", "simplecnn:1,1,28,28",
                                  "resnet18:1,3,32,32", "vgg11:1,3,32,32",
                                  "alexnet:1,3,64,64"])
def test_cli_draws_every_builtin_model_at_batch_1_in_eval_mode(tmp_path, spec):
    name, size = spec.split(":")
    target = tmp_path / f"{name}.svg"
    result = run_cli(name, "--input-size", size, "-o", str(target), "--grads")
    assert result.returncode == 0, result.stderr
    svg = ET.parse(target).getroot()
    lines = labels(svg)
    assert lines[node_named(svg, "input")][1] == f"({size.replace(',', ', ')}) float32"
    assert not any(label[0] == "constant" for label in lines.values())
    if name == "resnet18":
        assert "batchnorm2d (eval)" in [label[0] for label in lines.values()]


def test_cli_train_mode_and_bad_collapse(tmp_path):
    target = tmp_path / "r.svg"
    result = run_cli("resnet18", "--input-size", "2,3,32,32", "-o", str(target), "--train",
                     "--collapse", "2")
    assert result.returncode == 0, result.stderr
    assert "batchnorm2d (train)" not in target.read_text()         # collapsed at depth 2
    assert "layer1.0 (BasicBlock)" in target.read_text()
    single = run_cli("resnet18", "--input-size", "1,3,32,32", "-o", str(target), "--train")
    assert single.returncode == 2 and "value per channel" in single.stderr
    assert "Traceback" not in single.stderr
    bad = run_cli("lenet5", "--collapse", "-1", "-o", str(target))
    assert bad.returncode == 2 and "--collapse" in bad.stderr


class MaskedScores(nn.Module):
    """A user module that reads a buffer (a causal mask) as a constant."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.register_buffer("mask", mg.tensor(np.tril(np.ones((4, 4), dtype=np.float32))))

    def forward(self, x):
        return self.proj(x) * self.mask[:2]


def test_a_modules_buffer_is_drawn_by_name_in_its_box_or_hidden_when_collapsed():
    model = nn.Sequential(MaskedScores(), nn.ReLU())
    out = model(mg.randn(2, 4))
    svg = render(draw_graph(out, model))
    mask = node_named(svg, "0.mask")
    assert labels(svg)[mask] == ["0.mask", "(4, 4) float32"]         # a slice keeps the name
    assert inside(svg, mask, "cluster_0") and not inside(svg, mask, "cluster_0.proj")
    collapsed = labels(render(draw_graph(out, model, collapse_modules=True)))
    assert sorted(label[0] for label in collapsed.values()) == [
        "0 (MaskedScores)", "1 (ReLU)", "input", "output"]
