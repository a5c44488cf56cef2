"""The guardian: stops serve's children when serve itself is gone (even after a SIGKILL).

    python -m stoat.core.guardian GRACE_SECONDS

serve starts it first, in a new process group that every other child then joins, and writes
each child's pid to its standard input. "done" on a line of its own means serve stopped the
children itself. End of input without it means serve died: the guardian sends SIGTERM to the
children it was told about, waits up to GRACE_SECONDS, then kills the whole group (their own
children, and itself, included). Plain Python, so that it starts in milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether `pid` still runs; a zombie waiting for its new parent to reap it does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_orphans(pids: list[int], grace: float) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    # Grandchildren (web and scan worker processes) are in this group too.
    os.killpg(os.getpgrp(), signal.SIGKILL)


def guard(lines: Iterable[str], grace: float) -> None:
    pids: list[int] = []
    for line in lines:
        word = line.strip()
        if word == "done":
            return
        if word.isdigit():
            pids.append(int(word))
    print("stoat: serve is gone; stopping the processes it started", file=sys.stderr, flush=True)
    stop_orphans(pids, grace)


def main(argv: list[str]) -> None:
    # The terminal's Ctrl-C and a service manager's SIGTERM are for serve, which tells us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    guard(sys.stdin, float(argv[1]))


if __name__ == "__main__":
    main(sys.argv)
