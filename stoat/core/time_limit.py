"""Run one blocking step (a probe, a thumbnail) with a time limit the caller can rely on.

A read stuck in the kernel (a stalled network mount, a file held by a lease) cannot be interrupted
from Python, so the step runs in a daemon thread and the caller stops waiting for it at the limit.
The abandoned thread ends on its own when the read returns, or with the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
THREAD_PREFIX = "stoat-step"
Tick = Callable[[], None]


class TimedOut(Exception):
    """The step did not end within its limit; it was left behind and its result is discarded."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class Step(Generic[T]):
    """One call in its own thread, with its result or exception kept for the waiting caller."""

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as error:  # handed to the waiting caller, which re-raises it
            self.error = error
        finally:
            self.done.set()


def abandoned_steps() -> int:
    """How many timed-out steps are still blocked in this process."""
    return sum(1 for thread in threading.enumerate() if thread.name.startswith(THREAD_PREFIX))


def call_with_time_limit(
    work: Callable[[], T], limit: float, *, tick: Tick | None = None, tick_every: float = 1.0
) -> T:
    """`work()`'s result, or TimedOut once `limit` seconds pass; `tick` runs while waiting.

    The tick (a heartbeat) lets a caller prove it is alive while one slow step runs; an exception
    it raises stops the wait at once.
    """
    step: Step[T] = Step(work)
    thread = threading.Thread(target=step.run, name=f"{THREAD_PREFIX}-{id(step)}", daemon=True)
    thread.start()
    end = time.monotonic() + limit
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise TimedOut(limit)
        if step.done.wait(min(remaining, tick_every) if tick is not None else remaining):
            break
        if tick is not None and time.monotonic() < end:
            tick()
    thread.join()
    if step.error is not None:
        raise step.error
    return step.result  # type: ignore[return-value]
