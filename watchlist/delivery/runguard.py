"""The limits of one outbox run: a time budget, a stop flag, and channels that stopped answering.

``deliver_due`` asks a ``RunGuard`` before every send whether it may go on: not
once the run's budget (seconds of real time) is spent, not once the stop flag is
set (SIGTERM), and not to a channel that already timed out or refused the
connection in this run (its other rows wait, so one dead server cannot hold up
every other channel). ``call`` runs one send in a helper thread while watching
the stop flag, so a shutdown does not wait for a server that never answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")
Stop = Callable[[], bool]

POLL = 0.05  # seconds between looks at the stop flag while a send is in flight


def as_stop(flag: threading.Event | Stop | None) -> Stop | None:
    """A callable for a stop flag given as an Event, a callable, or None (never stop)."""
    if isinstance(flag, threading.Event):
        return flag.is_set
    return flag


@dataclass(slots=True)
class RunGuard:
    """What one run may still do; ``down`` maps a channel that did not answer to its next try."""

    deadline: float | None = None  # time.monotonic() value; None: no budget
    stop: Stop | None = None
    down: dict[str, datetime] = field(default_factory=dict)
    stopped: bool = False  # the stop flag was seen

    @classmethod
    def start(cls, budget: float | None, stop: threading.Event | Stop | None) -> RunGuard:
        """A guard for a run starting now with ``budget`` seconds (None: unlimited)."""
        deadline = None if budget is None else time.monotonic() + max(0.0, budget)
        return cls(deadline=deadline, stop=as_stop(stop))

    def should_stop(self) -> bool:
        """True when the stop flag is set (remembered once seen)."""
        if not self.stopped and self.stop is not None and self.stop():
            self.stopped = True
        return self.stopped

    def may_send(self, channel: str) -> bool:
        """True when a new send may start now on ``channel``."""
        if self.should_stop() or channel in self.down:
            return False
        return self.deadline is None or time.monotonic() < self.deadline

    def call(self, fn: Callable[[], T]) -> T | None:
        """``fn()``'s result, or None if the stop flag was set while it ran (it is abandoned).

        Without a stop flag ``fn`` runs in this thread. With one, it runs in a daemon
        thread, so an abandoned send never keeps the process alive.
        """
        if self.stop is None:
            return fn()
        box: list[T] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                box.append(fn())
            except BaseException as exc:  # handed back to the caller's thread
                errors.append(exc)

        worker = threading.Thread(target=work, name="watchlist-send", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(POLL)
            if worker.is_alive() and self.should_stop():
                return None
        if errors:
            raise errors[0]
        return box[0]
