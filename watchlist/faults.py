"""Fault injection for the crash tests: ``crash_point(name)`` SIGKILLs the process on demand.

A process whose ``WATCHLIST_CRASH_AT`` names a point dies there, the way a power cut
or ``kill -9`` would; the tests then restart it and check that nothing was lost or
repeated beyond what docs/delivery.md allows. ``name:N`` dies on the N-th time the
point is reached (``before-record:3``: with the third batch of results in hand).
Imports nothing from watchlist.
"""

from __future__ import annotations

import os
import signal
import threading

CRASH_ENV = "WATCHLIST_CRASH_AT"

_reached: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """SIGKILL this process if ``WATCHLIST_CRASH_AT`` names ``name`` (fault-injection tests)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _reached[name] = count = _reached.get(name, 0) + 1
    if count >= (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
