"""Helper processes that end with the daemon: the matching workers and the send children.

Both are spawned children of the daemon, and neither may outlive it, even when it is
SIGKILLed and never gets to stop them. ``follow_parent(owner)``, called first thing in
such a child, starts a thread that exits the child within half a second of its parent
no longer being ``owner`` (the daemon's pid, passed in when the child was started).
"""

from __future__ import annotations

import os
import sys
import threading
import time


def follow_parent(owner: int) -> None:
    """Exit this process soon after the process ``owner`` stops being its parent."""
    threading.Thread(target=_watch, args=(owner,), name="watch-daemon", daemon=True).start()


def _watch(owner: int) -> None:
    while os.getppid() == owner:
        time.sleep(0.5)
    sys.stderr.flush()
    os._exit(0)
