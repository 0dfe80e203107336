"""One daemon's part in a cluster on one PostgreSQL: heartbeats and source leases.

With ``state: postgresql://...`` the sources are not polled by one interval job
each (as with SQLite) but through lease rows (``store.cluster``): every ``tick``
this daemon claims the due sources no one holds (``FOR UPDATE SKIP LOCKED``), at
most its fair share (sources / daemons alive) and no more than it has free
workers, and polls them in its own pool; a finished poll sets the source due
again one interval after that poll began, so the cluster polls each source once
per interval. A heartbeat thread says this daemon is alive every ``LEASE / 3`` and
keeps the leases of its running polls; a daemon killed mid-poll leaves leases
that run out within ``LEASE``, and then any other daemon takes those sources.
Conditional-GET state and backoff are the source's saved state, shared by all.
Stopping cleanly frees the leases at once.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from watchlist import __version__
from watchlist.daemon.intake import Intake
from watchlist.delivery.worker import claimer_id
from watchlist.models import Config, SourceConfig
from watchlist.store import Store
from watchlist.store.cluster import LEASE

log = logging.getLogger("watchlist.daemon")

FORGET_AFTER = timedelta(days=1)  # rows of daemons silent this long are dropped


def tick_seconds(config: Config) -> float:
    """How often to look for due sources: a quarter of the shortest interval, 0.1 s to 1 s."""
    everys = [s.every.total_seconds() for s in polled(config)]
    return min(1.0, max(0.1, min(everys, default=4.0) / 4))


def polled(config: Config) -> list[SourceConfig]:
    """The sources that are polled (every enabled one but the http ingest)."""
    return [s for s in config.sources if s.enabled and s.type != "http"]


class Cluster:
    """Heartbeat and source leases of this daemon; see the module docstring."""

    def __init__(
        self,
        store: Store,
        intake: Intake,
        *,
        clock: Callable[[], datetime],
        workers: int,
        lease: timedelta = LEASE,
        ident: str | None = None,
    ) -> None:
        self.store = store
        self.intake = intake
        self.clock = clock
        self.workers = workers
        self.lease = lease
        self.id = ident or claimer_id()  # as the outbox claims name it: pid@host
        self.started = clock()
        self._sources: dict[str, SourceConfig] = {}
        self._inflight: set[str] = set()
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="watchlist-poll")
        self._beat: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._tick = 1.0
        self._down = False  # the database did not answer the last call
        self._unregistered = False  # lease rows not made yet (the database was down)

    # ------------------------------------------------------------------ life

    def start(self, config: Config, *, poll: bool = True) -> None:
        """Register this daemon, free what an earlier process of the same id left, beat;
        and with ``poll``, claim and poll due sources every ``tick_seconds`` from now on."""
        now = self.clock()
        self.beat(now)
        mine = [
            (r.id, self.id) for r in self.store.outbox_rows("sending") if r.claimed_by == self.id
        ]
        if mine:  # our pid@host, an earlier process: it is gone, we are alive
            self.store.requeue(mine, now, "interrupted while sending (the process stopped); "
                               "sent again, so it may arrive twice")  # fmt: skip
        self.configure(config)
        self._beat = threading.Thread(
            target=self._beat_loop, name="watchlist-heartbeat", daemon=True
        )
        self._beat.start()
        if poll:
            self._ticker = threading.Thread(
                target=self._tick_loop, name="watchlist-leases", daemon=True
            )
            self._ticker.start()
        log.info("cluster: daemon %s joined (lease %ss)", self.id, self.lease.total_seconds())

    def configure(self, config: Config) -> None:
        """The sources of ``config`` are the ones this daemon may claim (also on reload)."""
        with self._lock:
            self._sources = {s.name: s for s in polled(config)}
            self._tick = tick_seconds(config)
        try:
            self.store.add_sources(list(self._sources))
            self._answered()
        except Exception as exc:  # the next tick tries again (claim_sources needs the rows)
            self._failed("adding the sources' lease rows", exc)
            self._unregistered = True

    def stop(self, grace: float) -> None:
        """Stop claiming, let running polls finish (up to ``grace`` s), free the leases, leave."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:  # polls claimed but never started: nothing to wait for
            for name, fut in list(self._futures.items()):
                if fut.cancelled():
                    self._inflight.discard(name)
        for thread in (self._beat, self._ticker):
            if thread is not None:
                thread.join(timeout=grace)
        waited = threading.Event()
        deadline = self.clock() + timedelta(seconds=grace)
        while self._inflight and self.clock() < deadline:
            waited.wait(0.05)
        try:
            self.store.leave(self.id, self.clock())
        except Exception:
            log.exception("cluster: could not leave cleanly; leases run out within the lease")

    # ------------------------------------------------------------------ work

    def beat(self, now: datetime) -> None:
        """Say this daemon is alive; keep the leases of the polls still running."""
        host = socket.gethostname()
        self.store.heartbeat(self.id, host, os.getpid(), self.started, __version__, now)
        with self._lock:
            running = sorted(self._inflight)
        self.store.renew_leases(running, self.id, now, self.lease)

    def _beat_loop(self) -> None:
        period = max(self.lease.total_seconds() / 3, 0.05)
        forgotten = self.clock()
        while not self._stop.wait(period):
            try:
                now = self.clock()
                self.beat(now)
                if now - forgotten > timedelta(hours=1):
                    self.store.forget_daemons(now - FORGET_AFTER)
                    forgotten = now
                self._answered()
            except Exception as exc:
                self._failed("the heartbeat", exc)

    def _tick_loop(self) -> None:
        self.tick()
        while not self._stop.wait(self._tick):
            self.tick()

    def _failed(self, what: str, exc: Exception) -> None:
        """Log a database failure once per outage (the loops keep trying)."""
        if not self._down:
            self._down = True
            log.warning(
                "cluster: %s failed (%s: %s); retrying until the database answers",
                what, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "",
            )  # fmt: skip

    def _answered(self) -> None:
        if self._down:
            self._down = False
            log.info("cluster: the database answers again")

    def tick(self) -> list[str]:
        """Claim the due sources this daemon may take and start polling them; their names."""
        if self._stop.is_set():
            return []
        try:
            now = self.clock()
            if self._unregistered:
                self.store.add_sources(list(self._sources))
                self._unregistered = False
            alive = len(self.store.claimers_alive(now) or ()) or 1
            with self._lock:
                free = self.workers - len(self._inflight)
                names = [n for n in self._sources if n not in self._inflight]
                share = math.ceil(len(self._sources) / alive) - len(self._inflight)
            limit = min(free, max(share, 1))
            taken = self.store.claim_sources(names, self.id, now, self.lease, limit)
            for name in taken:
                with self._lock:
                    self._inflight.add(name)
                self._futures[name] = self._pool.submit(self._poll, name)
            self._answered()
            return taken
        except RuntimeError:  # the pool is shut down: stopping
            return []
        except Exception as exc:
            self._failed("claiming sources", exc)
            return []

    def _poll(self, name: str) -> None:
        started = self.clock()  # due again one interval after this poll began
        try:
            self.intake.poll(name)  # logs its own errors
        finally:
            with self._lock:
                source = self._sources.get(name)
            every = source.every if source is not None else timedelta(minutes=1)
            try:
                self.store.finish_source(name, self.id, started + every, self.clock())
            except Exception as exc:  # its lease runs out; then it is polled again
                self._failed(f"recording the poll of {name}", exc)
            finally:
                with self._lock:
                    self._inflight.discard(name)
                    self._futures.pop(name, None)

    def holding(self) -> list[str]:
        """The sources this daemon is polling now."""
        with self._lock:
            return sorted(self._inflight)


__all__ = ["Cluster", "polled", "tick_seconds"]
