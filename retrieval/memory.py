"""Give freed heap memory back to the operating system (glibc keeps it otherwise)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def trim() -> None:
    """Return free heap pages to the OS after a big, short-lived allocation.

    Loading the ONNX model allocates about 60 MB that is freed at once but kept by glibc's
    allocator, so without this a serving process carries it for its whole life.
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
