"""Cluster queries of the state: daemon heartbeats, source leases, the outbox per daemon.

Mixed into ``watchlist.store.sqlite.Store``. Several daemons on one PostgreSQL share
the work through these rows and the database's own locks (the daemon side is
``watchlist.daemon.cluster``):

- ``daemons``: each daemon upserts its row every ``LEASE / 3``; one whose heartbeat
  is older than ``LEASE`` is gone, and the outbox rows it left 'sending' are due again.
- ``source_leases``: a row per source. ``claim_sources`` takes due rows whose lease
  has run out with ``FOR UPDATE SKIP LOCKED`` (two daemons never take the same one)
  and sets the lease; ``finish_source`` records the poll, sets when it is due next
  (one poll per interval across the cluster) and frees the lease. A daemon killed
  mid-poll leaves a lease that runs out within ``LEASE``; then another takes the
  source. ``renew_leases`` keeps a long poll's lease alive.

On SQLite (one daemon) the same queries run unchanged; ``claimers_alive`` answers
None there, so delivery keeps judging claims by process id.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from watchlist.store.backend import Backend
from watchlist.store.outbox import parse_ts, ts

LEASE = timedelta(seconds=float(os.environ.get("WATCHLIST_LEASE_SECONDS", "30")))


class ClusterQueries:
    """Heartbeats, source leases and the cluster view; needs ``tx()``, ``query()``, ``backend``."""

    backend: Backend

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    # ------------------------------------------------------------------ daemons

    def heartbeat(
        self, daemon: str, host: str, pid: int, started: datetime, version: str, now: datetime
    ) -> None:
        """Say daemon ``daemon`` is alive at ``now`` (its row is made on the first beat)."""
        with self.tx() as db:
            db.execute(
                "INSERT INTO daemons (id, host, pid, started, heartbeat, version)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " heartbeat = excluded.heartbeat, started = excluded.started,"
                " version = excluded.version",
                (daemon, host, pid, ts(started), ts(now), version),
            )

    def leave(self, daemon: str, now: datetime) -> None:
        """A daemon stopping cleanly: its row goes, and the leases it holds are free now."""
        with self.tx() as db:
            db.execute("DELETE FROM daemons WHERE id = ?", (daemon,))
            db.execute(
                "UPDATE source_leases SET expires = ? WHERE holder = ? AND expires > ?",
                (ts(now), daemon, ts(now)),
            )

    def claimers_alive(self, now: datetime) -> set[str] | None:
        """The daemons whose heartbeat is within ``LEASE`` of ``now`` (None on SQLite)."""
        if self.backend.name == "sqlite":
            return None
        rows = self.query("SELECT id FROM daemons WHERE heartbeat > ?", (ts(now - LEASE),))
        return {r[0] for r in rows}

    def forget_daemons(self, before: datetime) -> None:
        """Drop the rows of daemons silent since before ``before`` (a day, say)."""
        with self.tx() as db:
            db.execute("DELETE FROM daemons WHERE heartbeat < ?", (ts(before),))

    # ------------------------------------------------------------------ sources

    def add_sources(self, names: Sequence[str]) -> None:
        """Make a lease row (due at once, no holder) for every source that has none."""
        with self.tx() as db:
            for name in sorted(set(names)):
                db.execute(
                    "INSERT INTO source_leases (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
                    (name,),
                )

    def claim_sources(
        self, names: Sequence[str], daemon: str, now: datetime, lease: timedelta, limit: int
    ) -> list[str]:
        """Take up to ``limit`` of ``names`` that are due and free, leased until now + lease."""
        if not names or limit <= 0:
            return []
        marks = ",".join("?" * len(names))
        with self.tx() as db:
            rows = db.execute(
                f"SELECT name FROM source_leases WHERE name IN ({marks}) AND due <= ?"
                f" AND expires <= ? ORDER BY due, name LIMIT ?{self.backend.skip_locked}",
                [*names, ts(now), ts(now), limit],
            ).fetchall()
            taken = [str(r[0]) for r in rows]
            for name in taken:
                db.execute(
                    "UPDATE source_leases SET holder = ?, expires = ? WHERE name = ?",
                    (daemon, ts(now + lease), name),
                )
        return taken

    def renew_leases(
        self, names: Sequence[str], daemon: str, now: datetime, lease: timedelta
    ) -> None:
        """Keep the leases ``daemon`` holds on ``names`` (polls still running) until now+lease."""
        if not names:
            return
        marks = ",".join("?" * len(names))
        with self.tx() as db:
            db.execute(
                f"UPDATE source_leases SET expires = ? WHERE holder = ? AND name IN ({marks})"
                " AND expires > ?",
                [ts(now + lease), daemon, *names, ts(now)],
            )

    def finish_source(self, name: str, daemon: str, due: datetime, now: datetime) -> None:
        """``daemon`` polled ``name``: next due at ``due``; the lease is free (holder kept)."""
        with self.tx() as db:
            db.execute(
                "UPDATE source_leases SET expires = ?, due = ?, polled = ?, polls = polls + 1"
                " WHERE name = ? AND holder = ?",
                (ts(now), ts(due), ts(now), name, daemon),
            )

    # ------------------------------------------------------------------ channels

    def channel_lock(self, channel: str) -> AbstractContextManager[bool]:
        """Try to be the one daemon delivering ``channel`` for the block (rate limits)."""
        return self.backend.session_lock(f"channel:{channel}")

    # ------------------------------------------------------------------ view

    def cluster_view(self, now: datetime) -> dict[str, Any]:
        """Daemons (alive or not), who holds which source, and the outbox per daemon."""
        daemons = [
            {
                "id": r["id"],
                "host": r["host"],
                "pid": r["pid"],
                "version": r["version"],
                "started": parse_ts(r["started"]),
                "heartbeat": parse_ts(r["heartbeat"]),
                "alive": (parse_ts(r["heartbeat"]) or now) > now - LEASE,
            }
            for r in self.query("SELECT * FROM daemons ORDER BY id")
        ]
        leases = [
            {
                "source": r["name"],
                "holder": r["holder"],
                "polling": bool(r["expires"]) and (parse_ts(r["expires"]) or now) > now,
                "expires": parse_ts(r["expires"]),
                "due": parse_ts(r["due"]),
                "polled": parse_ts(r["polled"]),
                "polls": r["polls"],
            }
            for r in self.query("SELECT * FROM source_leases ORDER BY name")
        ]
        outbox: dict[str, dict[str, int]] = {}
        for who, status, n in self.query(
            "SELECT claimed_by, status, count(*) FROM outbox WHERE status = 'sending'"
            " GROUP BY claimed_by, status UNION ALL SELECT sent_by, status, count(*) FROM outbox"
            " WHERE status = 'sent' GROUP BY sent_by, status"
        ):
            outbox.setdefault(who or "-", {"sending": 0, "sent": 0})[status] = int(n)
        return {"daemons": daemons, "leases": leases, "outbox": outbox, "lease": LEASE}


__all__ = ["LEASE", "ClusterQueries"]
