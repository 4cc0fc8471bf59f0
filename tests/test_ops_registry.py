"""Every op family is registered: its Tensor methods, functions and backward-namespace names
reach minigrad (a family left out of `ops.FAMILIES` would silently lose its names)."""

import importlib
import pkgutil

import minigrad as mg
import minigrad.ops as ops
from minigrad.engine import namespace


def _modules():
    for info in pkgutil.iter_modules(ops.__path__):
        yield info.name, importlib.import_module(f"minigrad.ops.{info.name}")


def test_every_module_with_op_tables_is_a_registered_family():
    families = set(ops.FAMILIES)
    for name, module in _modules():
        if hasattr(module, "TENSOR_METHODS") or hasattr(module, "TOPLEVEL"):
            assert module in families, f"minigrad/ops/{name}.py is not in ops.FAMILIES"


def test_every_backward_namespace_name_is_installed_on_both_sides():
    for name, module in _modules():
        for table, space in ((getattr(module, "NUMPY_XP", {}), namespace.arrays),
                             (getattr(module, "GRAPH_XP", {}), namespace.graph)):
            for key in table:
                assert hasattr(space, key), f"xp.{key} of minigrad/ops/{name}.py is missing"


def test_toplevel_names_reach_minigrad():
    for module in ops.FAMILIES:
        for key in module.TOPLEVEL:
            assert hasattr(mg, key), f"mg.{key} ({module.__name__}) is missing"
