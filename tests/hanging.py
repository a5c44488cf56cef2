"""A regular file whose open() really blocks in the kernel: the test double for a stalled mount.

A helper process takes a Linux write lease on the file (fcntl F_SETLEASE) and ignores the SIGIO
that asks it to give the lease up. Any other open() of the file then sleeps in the kernel until the
lease is released (when the context ends) or the kernel breaks it (/proc/sys/fs/lease-break-time,
45 s by default). stat() is not blocked, so the file passes every check a scanner makes before
reading; only the read itself hangs, exactly as on a stalled network share.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLDER = """
import fcntl, os, signal, sys
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def hanging_file(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Make every open() of `path` block until the context ends; yields the lease holder."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        release(holder)


def release(holder: subprocess.Popen[str]) -> None:
    """Give the lease up: the blocked opens go on."""
    if holder.poll() is None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
