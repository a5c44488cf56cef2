"""Worker and reader processes keep the memory a decoder frees for the next file."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from django_q.signals import post_spawn

from stoat.library import allocator

GLIBC = platform.libc_ver()[0] == "glibc"

# Frees a block the size of a 2160p frame's planes, then reports how much stays resident.
FREE_A_FRAME = """
import ctypes, sys
from stoat.library.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 24 << 20
block = libc.malloc(size)
ctypes.memset(block, 1, size)
libc.free(block)
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")))
"""


def resident_kib_after_freeing_a_frame(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", FREE_A_FRAME, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_freed_frame_memory_stays_for_the_next_file_instead_of_going_back_to_the_kernel() -> None:
    given_back = resident_kib_after_freeing_a_frame("default")
    kept = resident_kib_after_freeing_a_frame("keep")
    # Given back, the next file's frames would fault in and zero 24 MiB of fresh pages again.
    assert kept - given_back >= 20 * 1024


@pytest.mark.django_db
def test_a_worker_process_that_starts_keeps_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def keep() -> bool:
        calls.append("kept")
        return True

    monkeypatch.setattr(allocator, "keep_freed_memory", keep)

    post_spawn.send(sender=test_a_worker_process_that_starts_keeps_freed_memory, proc_name="w")

    assert calls == ["kept"]
