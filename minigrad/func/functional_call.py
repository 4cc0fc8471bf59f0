"""`functional_call`: run a module with some of its parameters and buffers replaced."""

from __future__ import annotations

from typing import Any

from ..engine import Tensor

__all__ = ["functional_call"]


def _owner(module: Any, name: str) -> tuple[Any, str]:
    """The submodule holding dotted `name` and the attribute's own name."""
    *path, attribute = name.split(".")
    for part in path:
        children = module.__dict__.get("_modules", {})
        if part not in children:
            raise AttributeError(f"functional_call: {type(module).__name__} has no submodule "
                                 f"{part!r} (in {name!r})")
        module = children[part]
    return module, attribute


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """`module(*args, **kwargs)` with the named tensors standing in for the module's own
    parameters and buffers (dotted state_dict names); the module is restored afterwards,
    even if forward raises. Gradients flow to the given tensors, not to the parameters.

    `parameter_and_buffer_dicts` is a dict or a tuple of dicts; `args` a tuple or a single
    argument; `strict=True` requires every parameter and buffer to be given.
    """
    dicts = (parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list))
             else (parameter_and_buffer_dicts,))
    replacements: dict[str, Tensor] = {}
    for mapping in dicts:
        for name, value in mapping.items():
            if name in replacements:
                raise ValueError(f"functional_call: {name!r} appeared in multiple dictionaries")
            if not isinstance(value, Tensor):
                raise TypeError(f"functional_call: {name!r} must be a Tensor, got "
                                f"{type(value).__name__}")
            replacements[name] = value
    known = dict(module.named_parameters(remove_duplicate=False))
    known.update(dict(module.named_buffers(remove_duplicate=False)))
    unknown = sorted(set(replacements) - set(known))
    if unknown:
        raise RuntimeError(f"functional_call: Unexpected key(s): {', '.join(map(repr, unknown))}.")
    if strict:
        missing = sorted(set(known) - set(replacements))
        if missing:
            raise RuntimeError(f"functional_call: Missing key(s): "
                               f"{', '.join(map(repr, missing))}.")
    if tie_weights:  # a tied parameter given under one name stands in for all its names
        by_identity: dict[int, list[str]] = {}
        for name, tensor in known.items():
            by_identity.setdefault(id(tensor), []).append(name)
        for names in by_identity.values():
            given = [name for name in names if name in replacements]
            for name in names:
                if given and name not in replacements:
                    replacements[name] = replacements[given[0]]
    saved = []
    try:
        for name, value in replacements.items():
            owner, attribute = _owner(module, name)
            table = "_parameters" if attribute in owner._parameters else "_buffers"
            saved.append((owner, table, attribute, getattr(owner, table)[attribute]))
            getattr(owner, table)[attribute] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, table, attribute, original in reversed(saved):
            getattr(owner, table)[attribute] = original
