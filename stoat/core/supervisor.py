"""One process tree that starts together and stops together.

The children share one process group, led by a guardian process that stops them if the
supervisor dies without doing so itself (stoat/core/guardian.py). The group is not the
terminal's, so Ctrl-C reaches only the supervisor, which stops the children in order; it is in
the same session, so the scan workers' lower CPU priority counts against the web server's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, Any

# SIGTERM first, SIGKILL after this many seconds: all is over within 10 s.
STOP_GRACE = 8.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Child:
    """One long-running process of the tree: what it is called in messages, and its command."""

    name: str
    command: list[str]
    env: dict[str, str] | None = None


def in_group(pgid: int) -> dict[str, Any]:
    """Popen arguments that start the process in group `pgid` (0: a new group of its own)."""
    if sys.version_info >= (3, 11):
        return {"process_group": pgid}
    return {"preexec_fn": lambda: os.setpgid(0, pgid)}  # pragma: no cover - Python 3.10


@dataclass
class Tree:
    children: Sequence[Child]
    grace: float = STOP_GRACE
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    guardian: subprocess.Popen[bytes] | None = None
    stop_signal: int | None = None

    @property
    def group(self) -> int:
        assert self.guardian is not None
        return self.guardian.pid

    def start(self) -> None:
        self.guardian = subprocess.Popen(
            [sys.executable, "-m", "stoat.core.guardian", str(self.grace)],
            stdin=subprocess.PIPE,
            **in_group(0),
        )
        for child in self.children:
            process = subprocess.Popen(
                child.command, stdin=subprocess.DEVNULL, env=child.env, **in_group(self.group)
            )
            self.processes.append(process)
            self.tell_guardian(f"{process.pid}\n")

    def tell_guardian(self, line: str) -> None:
        assert self.guardian is not None
        stdin: IO[bytes] | None = self.guardian.stdin
        if stdin is not None:
            with suppress(BrokenPipeError):
                stdin.write(line.encode())
                stdin.flush()

    def run(self) -> Child | None:
        """Run until SIGINT or SIGTERM (None) or until a child exits (that child); then stop all."""

        def asked_to_stop(signum: int, frame: FrameType | None) -> None:
            self.stop_signal = signum

        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, asked_to_stop) for sig in handled}
        try:
            if self.stop_signal is None and not self.processes:
                self.start()
            ended = self.wait_for_an_end()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return ended

    def wait_for_an_end(self) -> Child | None:
        assert self.guardian is not None
        while self.stop_signal is None:
            for child, process in zip(self.children, self.processes, strict=False):
                if process.poll() is not None:
                    return child
            if self.guardian.poll() is not None:
                return Child("guardian", self.guardian.args)  # type: ignore[arg-type]
            time.sleep(POLL_SECONDS)
        return None

    def exit_code(self, child: Child) -> int | None:
        for candidate, process in zip(self.children, self.processes, strict=False):
            if candidate is child:
                return process.returncode
        return self.guardian.returncode if self.guardian is not None else None

    def stop(self) -> None:
        """SIGTERM to each child, SIGKILL to the whole group after the grace period."""
        for process in self.processes:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    process.terminate()
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.poll() is None for p in self.processes):
            time.sleep(POLL_SECONDS)
        if self.guardian is None:
            return
        self.tell_guardian("done\n")
        # Whatever is left: a child that would not stop, or one's own orphaned children. The
        # guardian is not reaped yet, so the group's id cannot have been reused.
        with suppress(ProcessLookupError):
            os.killpg(self.group, signal.SIGKILL)
        for process in [*self.processes, self.guardian]:
            process.wait()
        if self.guardian.stdin is not None:
            with suppress(BrokenPipeError):
                self.guardian.stdin.close()
