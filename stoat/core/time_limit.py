"""Run one blocking step (a probe, a thumbnail) with a time limit the caller can rely on.

A read stuck in the kernel (a stalled network mount, a file held by a lease) cannot be interrupted
from Python, so the step runs in a daemon thread and the caller stops waiting for it at the limit.
The abandoned thread ends its step on its own when the read returns, or with the process. A thread
whose step ended in time waits for the next step: starting a thread per step cost about a tenth of
a millisecond, twice per file.
"""

from __future__ import annotations

import os
import queue
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
    """One call run by a step thread, with its result or exception kept for the waiting caller."""

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.finished = False  # set under the pool's lock, with `abandoned`
        self.abandoned = False


class Runner:
    """A daemon thread that runs the steps handed to it, one at a time."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Step[object]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self.loop, name=f"{THREAD_PREFIX}-{id(self)}")
        self.thread.daemon = True
        self.thread.start()

    def loop(self) -> None:
        while True:
            step = self.inbox.get()
            try:
                step.result = step.work()
            except BaseException as error:  # handed to the waiting caller, which re-raises it
                step.error = error
            with _pool.lock:
                step.finished = True
                if step.abandoned:
                    _pool.abandoned -= 1
                # Idle again before the caller wakes, so its next step finds this thread.
                _pool.idle.append(self)
            step.done.set()
            del step  # what it returned (an open file) is the caller's alone to keep or drop


class Pool:
    """The step threads of this process that wait for work, and the steps left hanging."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[Runner] = []
        self.abandoned = 0

    def take(self) -> Runner:
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return Runner()

    def abandon(self, step: Step[T]) -> None:
        with self.lock:
            if not step.finished:
                step.abandoned = True
                self.abandoned += 1


_pool = Pool()


def _forget_threads_after_fork() -> None:
    # A forked child has only the thread that forked: the parent's step threads are not in it.
    global _pool
    _pool = Pool()


os.register_at_fork(after_in_child=_forget_threads_after_fork)


def abandoned_steps() -> int:
    """How many timed-out steps are still blocked in this process."""
    return _pool.abandoned


def call_with_time_limit(
    work: Callable[[], T], limit: float, *, tick: Tick | None = None, tick_every: float = 1.0
) -> T:
    """`work()`'s result, or TimedOut once `limit` seconds pass; `tick` runs while waiting.

    The tick (a heartbeat) lets a caller prove it is alive while one slow step runs; an exception
    it raises stops the wait at once.
    """
    step: Step[T] = Step(work)
    pool = _pool
    pool.take().inbox.put(step)  # type: ignore[arg-type]
    end = time.monotonic() + limit
    try:
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimedOut(limit)
            if step.done.wait(min(remaining, tick_every) if tick is not None else remaining):
                break
            if tick is not None and time.monotonic() < end:
                tick()
    except BaseException:
        pool.abandon(step)
        raise
    if step.error is not None:
        raise step.error
    return step.result  # type: ignore[return-value]
