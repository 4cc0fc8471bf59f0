"""Read and write IDX files, the format of MNIST and Fashion-MNIST (optionally gzipped).

An IDX file is a 4-byte magic number `0x00 0x00 <dtype code> <ndim>`, then `ndim` big-endian
uint32 sizes, then the values in C order, big-endian. Files whose name ends in `.gz` are
gzip-compressed. See http://yann.lecun.com/exdb/mnist/ (section "FILE FORMATS").
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Union

import numpy as np

from .._files import write_atomically

__all__ = ["read_idx", "read_images_labels", "write_idx"]

PathLike = Union[str, "os.PathLike[str]"]

# IDX dtype code -> big-endian NumPy dtype
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: PathLike) -> np.ndarray:
    """The array stored in the IDX file at `path` (gunzipped if it is gzip data).

    Returns a writable native-endian array (uint8, int8, int16, int32, float32 or float64).
    Raises FileNotFoundError if the file is missing and ValueError naming the file when it is
    not valid IDX: bad gzip data, bad magic number, unknown dtype code, or a data length that
    does not match the header's sizes (truncated or padded).
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path} is not a valid IDX file: bad gzip data ({error})") from None
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4:
        raise ValueError(f"{path} is not a valid IDX file: {len(raw)} bytes is too short "
                         f"for the 4-byte magic number")
    zero_a, zero_b, code, ndim = raw[:4]
    if zero_a != 0 or zero_b != 0:
        raise ValueError(f"{path} is not a valid IDX file: bad magic number "
                         f"0x{raw[:4].hex()} (must start with 0x0000)")
    if code not in _CODE_TO_DTYPE:
        raise ValueError(f"{path} is not a valid IDX file: unknown dtype code 0x{code:02x} "
                         f"(known: {', '.join(f'0x{known:02x}' for known in _CODE_TO_DTYPE)})")
    if ndim == 0:
        raise ValueError(f"{path} is not a valid IDX file: header declares 0 dimensions")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path} is not a valid IDX file: truncated header ({len(raw)} bytes, "
                         f"{ndim} dimensions need {header_size})")
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _CODE_TO_DTYPE[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "trailing bytes"
        raise ValueError(f"{path} is not a valid IDX file: {problem}: shape {shape} of "
                         f"{dtype.newbyteorder('=')} needs {expected} bytes of data, "
                         f"found {found}")
    values = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write `array` to `path` as IDX, gzip-compressed if the name ends in `.gz`.

    The write is atomic (a temporary file in the same directory, then `os.replace`), so a
    reader never sees half a file. Supported dtypes: uint8, int8, int16, int32, float32,
    float64.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _dtype_code(array.dtype)
    if code is None:
        supported = ", ".join(str(dtype.newbyteorder("=")) for dtype in _CODE_TO_DTYPE.values())
        raise TypeError(f"write_idx: dtype {array.dtype} cannot be stored in IDX "
                        f"(supported: {supported})")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX stores 1 to 255 dimensions, got shape {array.shape}")
    if any(size >= 2**32 for size in array.shape):
        raise ValueError(f"write_idx: sizes must fit in uint32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    write_atomically(path, payload)


def read_images_labels(images_path: PathLike, labels_path: PathLike,
                       num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """An image/label IDX pair as (N, 1, H, W) float32 in [0, 1] and (N,) int64 labels.

    Checks what MNIST-style files promise: uint8 images of rank 3, uint8 labels of rank 1,
    the same N, and labels below `num_classes`; raises ValueError naming the file otherwise.
    """
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{images_path} does not hold images: expected uint8 of shape "
                         f"(N, H, W), got {images.dtype} of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{labels_path} does not hold labels: expected uint8 of shape (N,), "
                         f"got {labels.dtype} of shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                         f"{len(labels)} labels")
    if len(labels) and labels.max() >= num_classes:
        raise ValueError(f"{labels_path} holds label {labels.max()}, expected labels "
                         f"0 to {num_classes - 1}")
    pixels = images[:, None].astype(np.float32)
    pixels /= np.float32(255)
    return pixels, labels.astype(np.int64)


def _dtype_code(dtype: np.dtype) -> int | None:
    for code, idx_dtype in _CODE_TO_DTYPE.items():
        if dtype.newbyteorder("=") == idx_dtype.newbyteorder("="):
            return code
    return None


