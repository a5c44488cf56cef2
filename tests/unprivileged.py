"""File permissions that bind root too: the calling thread gives up its override capabilities.

Root reads every file and lists every folder because of CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
Linux keeps capabilities per thread, so lowering them in the effective set of this thread alone
makes a `chmod 0` file or folder really unreadable to the code under test (the same errno a
non-root user gets), and raising them again (they stay permitted) restores root for the rest.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager

CAPABILITY_VERSION_3 = 0x20080522
OVERRIDES = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class Sets(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def set_effective(libc: ctypes.CDLL, change: int, keep: bool) -> int:
    header = Header(CAPABILITY_VERSION_3, 0)
    sets = (Sets * 2)()
    if libc.capget(ctypes.byref(header), sets) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    before = int(sets[0].effective)
    sets[0].effective = (before | change) if keep else (before & ~change)
    if libc.capset(ctypes.byref(header), sets) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    return before & change


@contextmanager
def permissions_enforced() -> Iterator[None]:
    """Within this block, in this thread, file modes bind as they would for any user."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    held = set_effective(libc, OVERRIDES, keep=False)
    try:
        yield
    finally:
        set_effective(libc, held, keep=True)
