"""`Module`: the base class of every layer and model, with PyTorch's API.

A Module registers the Parameters, buffers and submodules assigned to it, walks them
(`named_parameters`, `named_modules`, `state_dict`, ...), switches train/eval mode and converts
dtypes. It has no gradient code: gradients come from the ops its `forward` calls.
`__call__` runs `forward` inside `engine.module_scope(self)`, so every recorded op knows which
module made it, and names the module (`features.0 (Conv2d): ...`) in errors from its forward.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..engine import Tensor, current_module, dtypes, module_scope, no_grad
from .backward_hooks import call_with_backward_hooks
from .parameter import Parameter

__all__ = ["IncompatibleKeys", "Module"]

# Errors a forward may raise for a user mistake; these get the module's path in front.
_LOCATED_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)
_LOCATED_MARK = "_minigrad_module_path"


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns: keys the model expected but did not get, and the rest."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


class RemovableHandle:
    """Returned by `register_forward_hook`; `.remove()` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class Module:
    """Base class for layers and models: subclasses set attributes in `__init__` and
    write `forward`."""

    training: bool

    def __init__(self) -> None:
        set_internal = super().__setattr__
        set_internal("training", True)
        set_internal("_parameters", OrderedDict())
        set_internal("_buffers", OrderedDict())
        set_internal("_non_persistent_buffers_set", set())
        set_internal("_modules", OrderedDict())
        set_internal("_forward_pre_hooks", OrderedDict())
        set_internal("_forward_hooks", OrderedDict())
        set_internal("_backward_pre_hooks", OrderedDict())
        set_internal("_backward_hooks", OrderedDict())

    # ---- calling ----------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the hooks and `forward` with this module marked as the source of its ops."""
        enclosing = current_module()
        with module_scope(self):
            try:
                return self._call_with_hooks(args, kwargs)
            except _LOCATED_ERRORS as error:
                if hasattr(error, _LOCATED_MARK):
                    raise
                root = enclosing[0] if enclosing else self
                located = _locate_error(error, self, root)
                if located is error:
                    raise
                raise located from error

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        if self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks"):
            output = call_with_backward_hooks(self, self.forward, args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, args)` before forward; a returned value replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, args, output)` after forward; a returned value replaces output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_pre_hook(self, hook: Callable,
                                        prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_output)` when the output's gradient is computed; a returned
        tuple replaces grad_output (same size and dtype). See `nn.backward_hooks`."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable,
                                    prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` when the input's gradient is computed;
        a returned tuple replaces grad_input (same size and dtype). See `nn.backward_hooks`."""
        return _add_hook(self._backward_hooks, hook, prepend)

    # ---- registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, self.__dict__, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                f"(minigrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            modules = self.__dict__.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, self.__dict__, self._parameters, self._buffers)
            modules[name] = value
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                f"(minigrad.nn.Module or None expected)")
            self._modules[name] = value
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                f"(minigrad.Tensor or None expected)")
            self._buffers[name] = value
        else:
            super().__setattr__(name, value)

    def _forget(self, name: str, *places: dict) -> None:
        for place in places:
            place.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails; guard so copy/pickle cannot recurse
        state = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in state and name in state[table]:
                return state[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        super().__delattr__(name)

    def __dir__(self) -> list:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _check_new_name(self, kind: str, name: Any, table: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in table:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter (or None, a declared-but-absent one such as `bias=False`)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(minigrad.nn.Parameter or None required)")
        if param is not None and not param.is_leaf:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly; use detach() first.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None,
                        persistent: bool = True) -> None:
        """Add a tensor that is state but not learned (BatchNorm's running_mean).

        Persistent buffers are saved in `state_dict`; `to(dtype)` converts float buffers.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(minigrad.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or None) under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path such as "features.0" ("" is this module)."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")  # noqa: TRY004 - as torch
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at a dotted path such as "features.0.weight"."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path such as "features.1.running_mean"."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    # ---- walking ----------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once (by identity)."""
        memo = set() if memo is None else memo
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, member in getattr(module, table).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield module_prefix + ("." if module_prefix else "") + name, member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs; a shared Parameter appears once, first name wins."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, persistent or not."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """What `state_dict` holds, in PyTorch's order: each module's parameters, then its
        persistent buffers, depth first. Shared modules appear under every name, as in torch."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            module_prefix, module = stack.pop()
            for name, param in module._parameters.items():
                if param is not None:
                    yield module_prefix + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers_set:
                    yield module_prefix + name, buffer
            children = [(module_prefix + name + ".", child)
                        for name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    # ---- modes and state --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every submodule (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004 - as torch
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (or fill it with zeros, in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0
                param.grad._version[0] += 1

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every submodule (children first), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert float parameters and buffers to a float dtype, in place; device "cpu" ok.

        `to(mg.float64)`, `to("cpu")`, `to("cpu", mg.float64)`, `to(dtype=...)`, `to(tensor)`.
        Integer buffers (BatchNorm's num_batches_tracked) keep their dtype, as in PyTorch.
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        from ..engine.device import check_device
        from ..engine.device import device as device_type

        for arg in args:
            if isinstance(arg, (str, device_type)):
                device = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        check_device(device, "to")
        if dtype is None:
            return self
        dtype = dtypes.to_dtype(dtype)
        if not dtypes.is_floating(dtype):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        return self._convert_floats(dtype)

    def _convert_floats(self, dtype: np.dtype) -> Module:
        converted: set = set()
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            if id(tensor) in converted or not dtypes.is_floating(tensor.dtype):
                continue
            converted.add(id(tensor))
            tensor.data = tensor.data.astype(dtype)
            if tensor.grad is not None:
                tensor.grad.data = tensor.grad.data.astype(dtype)
        return self

    def float(self) -> Module:
        return self._convert_floats(dtypes.float32)

    def double(self) -> Module:
        return self._convert_floats(dtypes.float64)

    def half(self) -> Module:
        return self._convert_floats(dtypes.float16)

    def cuda(self, device: Any = None) -> Module:
        """Refused: minigrad runs on the CPU only (a RuntimeError naming the device)."""
        from ..engine.device import check_device

        check_device("cuda" if device is None else device, "cuda")
        return self

    def cpu(self) -> Module:
        return self

    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, detached (sharing data)."""
        result = OrderedDict() if destination is None else destination
        for key, tensor in self._state_entries(prefix):
            result[key] = tensor if keep_vars else tensor.detach()
        return result

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy tensors from `state_dict` into this model's parameters and buffers.

        Everything is checked first: with strict=True, missing and unexpected keys are
        errors; a shape mismatch always is. All problems are reported in one RuntimeError and
        then nothing has changed. Values are cast to the model's dtypes, copied in place.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        targets = OrderedDict(self._state_entries())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        errors: list[str] = []
        copies: list[tuple[Tensor, np.ndarray]] = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            source = _as_array(state_dict[key])
            if source is None:
                errors.append(f'While copying the parameter named "{key}", expected a Tensor '
                              f"or array from checkpoint but received {type(state_dict[key])}")
                continue
            if target.ndim == 0 and source.shape == (1,):
                source = source.reshape(())
            if source.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{source.shape} from checkpoint, the shape in current model is "
                              f"{target.shape}.")
                continue
            copies.append((target, source))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{key}"' for key in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{key}"' for key in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for target, source in copies:
                np.copyto(target.data, source, casting="unsafe")
                target._version[0] += 1
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside `Name(...)`; layers override it (positional args first)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _add_indent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line but the first (how PyTorch nests child reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    rest = [(" " * spaces + line) if line.strip() else "" for line in lines[1:]]
    return "\n".join([lines[0]] + rest)


def _typename(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"minigrad.{type(value).__name__}"
    return type(value).__name__


def _as_array(value: Any) -> np.ndarray | None:
    """A checkpoint value as an array (Tensor, ndarray or array-like tensor), else None."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        array = value
    elif hasattr(value, "shape") and hasattr(value, "__array__"):
        detach = getattr(value, "detach", None)
        try:
            array = np.asarray(detach() if callable(detach) else value)
        except (TypeError, ValueError, RuntimeError):
            return None
    else:
        return None
    return array if array.dtype.kind in "biuf" else None


def _locate_error(error: BaseException, module: Module, root: Module) -> BaseException:
    """The same kind of error with "path (Class): " in front, marked so that enclosing
    modules pass it on unchanged. Falls back to a note when the type cannot be rebuilt."""
    path = _module_path(module, root)
    where = f"{path} ({module._get_name()})" if path else module._get_name()
    message = f"{where}: {error}"
    try:
        located = type(error)(message)
        if str(located) != message:
            raise TypeError("exception type formats its message itself")
    except Exception:  # noqa: BLE001 - any constructor failure means: keep the original
        if hasattr(error, "add_note"):
            error.add_note(f"(raised in {where})")
        located = error
    setattr(located, _LOCATED_MARK, path)
    return located


def _module_path(module: Module, root: Module) -> str:
    """`module`'s dotted name inside `root` ("" for the root itself or an unregistered one)."""
    if module is root:
        return ""
    for name, candidate in root.named_modules():
        if candidate is module:
            return name
    return ""
