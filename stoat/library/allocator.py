"""Keep the memory a decoder frees for the next file, instead of giving it back to the kernel.

Each file gets a decoder of its own, whose frames (12 MB each at 2160p) are freed when the file
closes. glibc gives such large blocks back to the kernel when they are freed, and the next file's
frames then fault in and zero fresh pages: about 6 % of the CPU a file takes on the camera-like
set, for the same peak memory. Knows glibc, nothing else; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
from typing import Any

# mallopt(3) parameters.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Frames up to this size come from the heaps, whose freed memory is kept up to TRIM_BYTES. 32 MiB
# is the most glibc takes (a 2160p frame and its planes fit); the pages kept count in the RSS.
MMAP_BYTES = 32 * 1024 * 1024
TRIM_BYTES = 128 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed decoder memory for reuse; False where that is not glibc."""
    try:
        # The symbols this process already has: glibc's on Linux, no mallopt elsewhere.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) and mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))


def keep_freed_memory_in_worker(sender: Any = None, **kwargs: Any) -> None:
    """django-q2's `post_spawn`: a scan worker reads file after file."""
    keep_freed_memory()
