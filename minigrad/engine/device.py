"""`minigrad.device`: PyTorch's device object; minigrad computes on the CPU only.

`device("cuda")` can be built (as in PyTorch, which also builds it without a GPU), but every
factory, `Tensor.to` and layer that is asked to put data on a device other than the CPU
raises a RuntimeError naming that device.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEVICE_TYPES", "check_device", "device"]

# PyTorch's known device types (its parser's list); only "cpu" holds minigrad tensors.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class device:
    """A device: `device("cpu")`, `device("cuda:0")`, `device("cuda", 0)`.

    Compares equal to another device of the same type and index, and (unlike PyTorch, for
    convenience) to its string form: `x.device == "cpu"`.
    """

    __slots__ = ("_index", "_type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {type.__class__.__name__}")
        name, _, number = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise RuntimeError(f"Device index must not be negative (got {index!r})")
        self._type = name
        self._index = index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self) -> tuple:
        return device, (self._type, self._index)


CPU = device("cpu")


def check_device(value: Any, where: str) -> None:
    """Accept None, "cpu", "cpu:0" or a CPU device; a RuntimeError naming any other device
    (minigrad has no GPU backend) and a TypeError for something that is not a device."""
    if value is None:
        return
    if isinstance(value, int) and not isinstance(value, bool):
        raise RuntimeError(  # noqa: TRY004 - PyTorch: an ordinal names a CUDA device
            f"{where}: device {value} is a CUDA device ordinal; minigrad runs on "
            f"the CPU only")
    if not isinstance(value, (str, device)):
        raise TypeError(f"{where}: device must be a string or minigrad.device, got "
                        f"{type(value).__name__}")
    parsed = device(value)
    if parsed.type != "cpu":
        raise RuntimeError(f"{where}: minigrad runs on the CPU only, got device '{parsed}' "
                           f"(minigrad.cuda.is_available() is False)")
