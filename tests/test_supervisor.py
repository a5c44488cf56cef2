"""The process tree on its own, with small real programs as children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stoat.core import guardian
from stoat.core.supervisor import Child, Tree
from tests.serving import still_running
from tests.worker import wait_for


def python(code: str, name: str = "child") -> Child:
    return Child(name, [sys.executable, "-c", code])


SLEEPER = "import time; time.sleep(120)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"


def test_a_child_that_exits_ends_the_tree_and_says_which_and_how() -> None:
    tree = Tree([python(SLEEPER, "sleeper"), python("raise SystemExit(3)", "crasher")])

    ended = tree.run()

    assert ended is not None and ended.name == "crasher"
    assert tree.exit_code(ended) == 3
    assert all(process.returncode is not None for process in tree.processes)
    assert tree.processes[0].returncode == -signal.SIGTERM


def ignores_sigterm(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    tree = Tree([python(STUBBORN, "stubborn")], grace=1.0)
    tree.start()
    stubborn = tree.processes[0]
    wait_for(lambda: ignores_sigterm(stubborn.pid), 30, "the child to ignore SIGTERM")
    started = time.monotonic()

    tree.stop()

    assert stubborn.returncode == -signal.SIGKILL
    assert 1.0 <= time.monotonic() - started < 5
    assert still_running([p.pid for p in tree.processes]) == []


def test_children_share_one_process_group_that_is_not_the_callers() -> None:
    tree = Tree([python(SLEEPER), python(SLEEPER)])
    tree.start()
    try:
        groups = {os.getpgid(p.pid) for p in [tree.guardian, *tree.processes] if p}
        assert groups == {tree.group}
        assert tree.group != os.getpgrp()
    finally:
        tree.stop()
    assert still_running([p.pid for p in tree.processes]) == []


def test_the_guardian_stands_down_when_told_done() -> None:
    # "done" ends it before it would signal anyone (the pids here are not children of ours).
    guardian.guard(iter(["12345\n", "done\n", "67890\n"]), grace=0.0)


def test_a_zombie_counts_as_ended() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # Wait for it to exit without reaping it: a zombie, as orphans are until init reaps them.
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    assert Path(f"/proc/{child.pid}").exists()
    assert not guardian.alive(child.pid)
    child.wait()
    assert not guardian.alive(child.pid)
