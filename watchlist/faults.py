"""Fault injection for the crash tests: ``crash_point(name)`` SIGKILLs the process on demand.

A process whose ``WATCHLIST_CRASH_AT`` names a point dies there, the way a power cut
or ``kill -9`` would; the tests then restart it and check that nothing was lost or
repeated beyond what docs/delivery.md allows. Imports nothing from watchlist.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "WATCHLIST_CRASH_AT"


def crash_point(name: str) -> None:
    """SIGKILL this process if ``WATCHLIST_CRASH_AT`` names ``name`` (fault-injection tests)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
