"""Keeping the archive to ``archive:``: delete older article text in small batches.

``prune_archive(store, keep, now, stop)`` deletes every archived article seen before
``now - keep`` (all of them when ``keep`` is None: ``archive: off``), one short
transaction of ``PRUNE_BATCH`` rows at a time, pausing between batches so intake's
transactions get the store in between; it stops early when ``stop`` is set. The
daemon runs it every ``PRUNE_EVERY`` and once per ``run --once``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from watchlist.store import Store
from watchlist.store.archive import PRUNE_BATCH

log = logging.getLogger("watchlist.daemon")

PRUNE_EVERY = timedelta(minutes=10)
PAUSE = 0.01  # seconds between batches


def prune_archive(
    store: Store,
    keep: timedelta | None,
    now: datetime,
    stop: threading.Event | None = None,
    *,
    batch: int = PRUNE_BATCH,
) -> int:
    """Delete archived articles seen before ``now - keep`` (all if ``keep`` is None); how many."""
    before = now if keep is None else now - keep
    pause = stop or threading.Event()
    total = 0
    while True:
        n = store.prune_archive(before, batch)
        total += n
        if n < batch or pause.wait(PAUSE):
            break
    if total:
        log.info("archive: pruned %d articles seen before %s", total, before.isoformat())
    return total
