"""Sends in flight on one channel: at most ``limit`` at once, on daemon threads.

``InFlight(limit, guard)`` is the window the worker keeps per channel: ``start``
hands one send to its daemon threads (as many as sends in flight, kept for the
run and ended by ``close``; an abandoned send never keeps the process alive),
``collect`` waits until at least one finished and hands back every
finished one, so their results are committed together, in one transaction. A
send's slot frees only when the worker has committed its result, so at most
``limit`` messages are ever sent and not yet recorded: that is all a crash can
repeat. The window opens slowly: one send at first, twice as many after each batch
that all went through, back to one after a failure; so a dead server gets one try
per run, as before, and a healthy one soon has ``limit`` in flight. Once the
guard's stop flag is set while sends are in flight, ``collect`` returns what
finished and ``abandon`` hands back the rest.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Generic, TypeVar

from watchlist.delivery.runguard import POLL, RunGuard

LINGER = 0.003  # seconds collect waits, after the first finished send, for others to finish

K = TypeVar("K")
R = TypeVar("R")


class InFlight(Generic[K, R]):
    """Up to ``limit`` running sends, keyed by what the worker needs to record them."""

    def __init__(self, limit: int, guard: RunGuard) -> None:
        self.limit = max(1, limit)
        self.width = 1  # sends allowed in flight now (grows to limit)
        self._guard = guard
        self._running: dict[Future[R], K] = {}
        self._jobs: queue.SimpleQueue[tuple[Future[R], Callable[[], R]] | None]
        self._jobs = queue.SimpleQueue()
        self._threads = 0

    def __len__(self) -> int:
        return len(self._running)

    def free(self) -> int:
        """How many more sends may start now."""
        return max(0, min(self.limit, self.width) - len(self._running))

    def went(self, ok: bool) -> None:
        """A batch was recorded: widen the window if all went through, else back to one."""
        self.width = min(self.limit, self.width * 2) if ok else 1

    def start(self, key: K, fn: Callable[[], R]) -> None:
        """Run ``fn()`` on a daemon thread; its result comes back from ``collect`` with ``key``."""
        future: Future[R] = Future()
        self._running[future] = key
        self._jobs.put((future, fn))
        if self._threads < len(self._running):  # a thread for every send in flight
            self._threads += 1
            threading.Thread(target=self._work, name="watchlist-send", daemon=True).start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn = job
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed back to the worker's thread
                future.set_exception(exc)

    def close(self) -> None:
        """End the threads once they are idle (one still in an abandoned send ends after it)."""
        for _ in range(self._threads):
            self._jobs.put(None)
        self._threads = 0

    def collect(self) -> list[tuple[K, R]]:
        """Every finished send (at least one, unless told to stop first), in start order.

        An exception raised by a send is raised here, after the others are handed back
        to nobody: their rows stay claimed and the next run recovers them.
        """
        while True:
            done, rest = wait(list(self._running), timeout=POLL, return_when=FIRST_COMPLETED)
            if done or self._guard.should_stop():
                break
        # linger a moment for more of the window, so one commit records several results
        # (their slots stay taken meanwhile: the in-flight bound does not move)
        until = time.monotonic() + LINGER
        while rest and len(done) * 2 < len(self._running):
            left = until - time.monotonic()
            if left <= 0:
                break
            more, rest = wait(rest, timeout=left, return_when=FIRST_COMPLETED)
            done |= more
        finished = [(f, k) for f, k in self._running.items() if f in done]
        for f, _ in finished:
            del self._running[f]
        for f, _ in finished:
            f.result()  # raises a send's exception
        return [(k, f.result()) for f, k in finished]

    def abandon(self) -> list[K]:
        """The sends still running (the run is stopping); they are forgotten here."""
        keys = list(self._running.values())
        self._running.clear()
        return keys
