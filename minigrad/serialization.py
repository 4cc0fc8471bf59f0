"""`save` and `load`: checkpoints in the safetensors format, with no pickle anywhere.

A checkpoint is a dict, possibly nested, whose leaves are Tensors, NumPy arrays, or plain
JSON values (int, float, str, bool, None, and lists, tuples and dicts of those and of tensors).

File layout:
  - every tensor is a safetensors tensor named by its path of keys joined with dots, so a
    model state_dict saved alone has exactly PyTorch's names (`conv1.weight`) and loads with
    `safetensors.torch.load_file` followed by `load_state_dict`; nested dicts give names such
    as `model.conv1.weight` or `optimizer.state.0.exp_avg`;
  - everything else lives in the safetensors metadata under the key "minigrad" as JSON: a
    tagged tree that rebuilds the exact structure (int dict keys stay ints, tuples stay
    tuples, big ints stay exact, floats round-trip exactly, inf included; NaN comes back
    as NaN, though not with its sign bit or payload).
A dict of tensors with str keys (a plain state_dict) is written with no metadata at all, as
`safetensors.torch.save_file` would, and loads back as a flat dict sorted by name.

`load` returns minigrad Tensors with the saved dtypes and shapes (float16 and bfloat16, common
in downloaded weights, arrive as float32 unless `half_dtype` says otherwise) (NumPy arrays come back as
Tensors too, NumPy scalars as Python numbers), none requiring grad. Files written by other
safetensors writers load as a flat dict of Tensors.

Writes are atomic: the bytes go to a temporary file in the same directory, which is flushed,
fsynced and then renamed over `path`; if anything fails midway the previous file is intact
and the temporary file is removed (one left by a killed process goes at the next save). A
symlink stays a link (its target is written), a device or FIFO is written through, a
directory is refused (see `minigrad._files`).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import numpy as np
import safetensors
import safetensors.numpy

from ._files import write_atomically
from .engine import Tensor
from .engine.dtypes import float32, to_dtype

__all__ = ["load", "save"]

PathLike = Union[str, "os.PathLike[str]"]

METADATA_KEY = "minigrad"
FORMAT_VERSION = 1
_SUPPORTED_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32",
                     "uint64", "float16", "float32", "float64")


def save(obj: Mapping, path: PathLike) -> None:
    """Write the dict `obj` to `path` as a safetensors checkpoint, atomically.

    Raises TypeError (before touching the disk) for a non-dict `obj`, dict keys that are not
    str or int, leaves that are neither tensors nor JSON values, and unsupported dtypes;
    ValueError when two tensors would get the same dotted name (e.g. keys "a.b" and
    "a" -> "b"); RuntimeError (PyTorch's) when the parent directory does not exist.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a dict (e.g. a state_dict), got {type(obj).__name__}")
    tensors: dict[str, np.ndarray] = {}
    tree = _encode(obj, (), tensors)
    path = Path(path)
    if not path.parent.is_dir():
        raise RuntimeError(f"Parent directory {path.parent} does not exist.")
    metadata = None
    if not _is_plain_state_dict(obj):
        metadata = {METADATA_KEY: json.dumps({"version": FORMAT_VERSION, "tree": tree})}
    payload = safetensors.numpy.save(tensors, metadata=metadata)
    write_atomically(path, payload)


def load(path: PathLike, half_dtype: Any = float32) -> dict:
    """Read a checkpoint written by `save` (or any safetensors file) back into its structure.

    float16 and bfloat16 tensors (common in downloaded weights) arrive as `half_dtype`,
    float32 by default; `half_dtype=None` keeps float16 as float16 (bfloat16, which NumPy
    lacks, still arrives as float32). Raises FileNotFoundError for a missing file and
    ValueError "<path> is not a valid safetensors checkpoint: ..." for an empty, truncated or
    corrupt one, or one holding a dtype minigrad cannot represent (such as float8).
    """
    path = Path(path)
    target = None if half_dtype is None else to_dtype(half_dtype)
    if target is not None and target.kind != "f":
        raise TypeError(f"load: half_dtype must be a float dtype or None, got {target}")
    payload = path.read_bytes()
    header = _read_header(payload, path)
    metadata = header.get("__metadata__") or {}
    payload, bfloat16_names = _bfloat16_as_uint16(payload, header, path)
    try:
        arrays = safetensors.numpy.load(payload)
    except (safetensors.SafetensorError, ValueError, TypeError) as error:
        raise _invalid(path, str(error)) from None
    for name in bfloat16_names:
        arrays[name] = _bfloat16_to_float32(arrays[name]).astype(target or float32, copy=False)
    tensors = {name: Tensor._from_op(_widened(_writable(array), target))
               for name, array in arrays.items()}
    if METADATA_KEY not in metadata:
        return {name: tensors[name] for name in sorted(tensors)}
    try:
        document = json.loads(metadata[METADATA_KEY])
        if document.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported format version {document.get('version')!r}")
        used: set[str] = set()
        result = _decode(document["tree"], tensors, used)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        raise _invalid(path, f"corrupt minigrad metadata ({error})") from None
    if used != set(tensors):
        raise _invalid(path, f"tensors {sorted(set(tensors) - used)} are not in the "
                             f"minigrad metadata")
    return result


# ---- structure <-> tagged JSON tree ----------------------------------------------------------
# node := {"tensor": name} | {"dict": [[key, node], ...]} | {"list": [node, ...]}
#       | {"tuple": [node, ...]} | {"value": int | float | str | bool | None}

def _encode(value: Any, keys: tuple, tensors: dict[str, np.ndarray]) -> dict:
    """The JSON node for `value`; tensors found on the way are added to `tensors`."""
    if isinstance(value, (Tensor, np.ndarray)):
        name = ".".join(str(key) for key in keys)
        if name == "__metadata__":
            raise ValueError("save: '__metadata__' is reserved by safetensors; rename the key")
        if name in tensors:
            raise ValueError(f"save: two tensors would both be stored as {name!r}; rename a "
                             f"key (dotted names must be unique)")
        tensors[name] = _to_storable(value, name)
        return {"tensor": name}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if isinstance(key, np.integer):
                key = int(key)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} "
                                f"({type(key).__name__}) at {_where(keys)}")
            items.append([key, _encode(item, (*keys, key), tensors)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        nodes = [_encode(item, (*keys, position), tensors) for position, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": nodes}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"save: cannot store {type(value).__name__} at {_where(keys)}; leaves must "
                    f"be Tensors, NumPy arrays, or int, float, str, bool, None (in lists, "
                    f"tuples and dicts)")


def _decode(node: dict, tensors: dict[str, Tensor], used: set[str]) -> Any:
    (tag, content), = node.items()
    if tag == "tensor":
        used.add(content)
        return tensors[content]
    if tag == "dict":
        return {key: _decode(item, tensors, used) for key, item in content}
    if tag == "list":
        return [_decode(item, tensors, used) for item in content]
    if tag == "tuple":
        return tuple(_decode(item, tensors, used) for item in content)
    if tag == "value":
        return content
    raise ValueError(f"unknown node {tag!r}")


def _is_plain_state_dict(obj: Mapping) -> bool:
    return all(isinstance(key, str) and isinstance(value, (Tensor, np.ndarray))
               for key, value in obj.items())


def _to_storable(value: Tensor | np.ndarray, name: str) -> np.ndarray:
    """The array as C-contiguous little-endian (a copy only if needed), dtype checked.

    (np.asarray, not np.ascontiguousarray: the latter turns 0-d arrays into 1-d.)
    """
    array = value.data if isinstance(value, Tensor) else value
    if array.dtype.name not in _SUPPORTED_DTYPES:
        raise TypeError(f"save: tensor {name!r} has dtype {array.dtype}, which safetensors "
                        f"cannot store (supported: {', '.join(_SUPPORTED_DTYPES)})")
    return np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")


def _writable(array: np.ndarray) -> np.ndarray:
    return array if array.flags.writeable else array.copy()


def _where(keys: tuple) -> str:
    return "the top level" if not keys else "key " + ".".join(str(key) for key in keys)


# ---- file handling ----------------------------------------------------------------------------

def _read_header(payload: bytes, path: Path) -> dict:
    """The header (tensor entries and `__metadata__`), after checking it is well-formed."""
    if len(payload) < 8:
        raise _invalid(path, f"{len(payload)} bytes is too short for the 8-byte header size")
    (header_size,) = struct.unpack("<Q", payload[:8])
    if header_size > len(payload) - 8:
        raise _invalid(path, f"header size {header_size} exceeds the {len(payload) - 8} bytes "
                             f"after it (truncated, or not a safetensors file)")
    try:
        header = json.loads(payload[8:8 + header_size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _invalid(path, f"corrupt header ({error})") from None
    if not isinstance(header, dict):
        raise _invalid(path, "corrupt header (not a JSON object)")
    data_size = len(payload) - 8 - header_size
    needed = max((entry["data_offsets"][1] for name, entry in header.items()
                  if name != "__metadata__" and isinstance(entry, dict)
                  and isinstance(entry.get("data_offsets"), list)
                  and len(entry["data_offsets"]) == 2
                  and isinstance(entry["data_offsets"][1], int)), default=0)
    if needed > data_size:
        raise _invalid(path, f"truncated: the header describes {needed} bytes of tensor data, "
                             f"the file holds {data_size}")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise _invalid(path, "corrupt header (__metadata__ is not an object)")
    for name, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if name != "__metadata__" and dtype not in _READABLE_DTYPES:
            raise _invalid(path, f"tensor {name!r} has dtype {dtype!r}, which minigrad cannot "
                                 f"represent (readable: {', '.join(sorted(_READABLE_DTYPES))})")
    return header


# safetensors dtype names NumPy can hold, plus BF16 (widened to float32 on load)
_READABLE_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "U16", "U32", "U64", "F16", "F32",
                    "F64", "BF16"}


def _bfloat16_as_uint16(payload: bytes, header: dict, path: Path) -> tuple[bytes, list[str]]:
    """The payload with BF16 tensors relabelled U16 (same bytes), so the safetensors reader
    accepts it, and the relabelled names. NumPy has no bfloat16."""
    names = [name for name, entry in header.items()
             if name != "__metadata__" and entry.get("dtype") == "BF16"]
    if not names:
        return payload, []
    (header_size,) = struct.unpack("<Q", payload[:8])
    relabelled = {name: (dict(entry, dtype="U16") if name in names else entry)
                  for name, entry in header.items()}
    text = json.dumps(relabelled, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned, as writers do
    return struct.pack("<Q", len(text)) + text + payload[8 + header_size:], names


def _bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 values (as their uint16 bit patterns) as float32: the high half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _widened(array: np.ndarray, half_dtype: np.dtype | None) -> np.ndarray:
    """A float16 array as `half_dtype` (unchanged when None)."""
    if half_dtype is not None and array.dtype == np.float16:
        return array.astype(half_dtype)
    return array


def _invalid(path: Path, reason: str) -> ValueError:
    return ValueError(f"{path} is not a valid safetensors checkpoint: {reason}")


