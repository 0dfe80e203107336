"""What ``watchlist status`` shows: a frozen ``StatusSnapshot`` and its collection.

``collect_snapshot(config, store, now)`` reads the store (sources, outbox,
recent alerts), the persisted last reload and the lock file (is a daemon
running?). Rendering it, pure, is in ``watchlist.commands.status``. Channel URLs
are stored masked (``logs.mask``), so a snapshot never holds a secret URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watchlist.lock import lock_path, read_pid
from watchlist.logs import mask
from watchlist.models import Config
from watchlist.reloadstatus import ReloadStatus, read_reload_status


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source: its config and what its saved state says."""

    name: str
    type: str
    every: timedelta
    enabled: bool = True
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    failures: int = 0  # consecutive
    next_poll: datetime | None = None
    articles: int = 0


@dataclass(frozen=True, slots=True)
class OutboxLine:
    """One undelivered outbox row and why it waits."""

    id: int
    channel: str
    rule: str
    title: str
    status: str
    attempts: int
    why: str


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """Outbox counts per status, and the rows not yet delivered."""

    counts: Mapping[str, int]  # pending, held, sending, sent, failed, dropped, alerts, seen
    next_attempt: datetime | None = None
    rows: tuple[OutboxLine, ...] = ()

    @property
    def pending(self) -> int:
        """Rows waiting to be sent (held ones included)."""
        return self.counts.get("pending", 0) + self.counts.get("held", 0)

    @property
    def failed(self) -> int:
        """Rows failed for good, until a user retries or drops them."""
        return self.counts.get("failed", 0)


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One recent alert."""

    id: int
    rule: str
    title: str
    url: str
    source: str
    created: datetime | None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything ``watchlist status`` shows, at ``now``."""

    now: datetime
    config_path: str
    state_path: str
    daemon_pid: int | None = None  # the running daemon's PID, None when none runs
    sources: tuple[SourceStatus, ...] = ()
    outbox: OutboxStatus | None = None  # None: no state file yet
    recent_alerts: tuple[AlertLine, ...] = ()
    last_reload: ReloadStatus | None = None
    channels: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, masked URLs)


# ----------------------------------------------------------------------------- collection


def running_pid(state_path: str | Path) -> int | None:
    """The PID of a live daemon on this state (from its lock file), without touching the lock."""
    pid = read_pid(lock_path(state_path))
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, but another user's
        return pid
    return pid


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def collect_snapshot(
    config: Config, store: Any | None, now: datetime, *, recent: int = 10
) -> StatusSnapshot:
    """Read the snapshot from the store (``watchlist.store.Store``; None: no state yet)."""
    from watchlist.outbox import outbox_status  # the outbox module owns the row words

    sources = []
    for s in config.sources:
        st = store.load_source_state(s.name) if store is not None else None
        sources.append(
            SourceStatus(
                name=s.name,
                type=s.type,
                every=s.every,
                enabled=s.enabled,
                last_poll=st.last_poll if st else None,
                last_success=st.last_success if st else None,
                last_error=st.last_error if st else "",
                last_error_at=st.last_error_at if st else None,
                failures=st.failures if st else 0,
                next_poll=st.next_poll if st else None,
                articles=st.articles if st else 0,
            )
        )
    outbox = None
    alerts: list[AlertLine] = []
    if store is not None:
        info = outbox_status(store, now)
        outbox = OutboxStatus(
            counts=dict(info["counts"]),
            next_attempt=info.get("next_attempt"),
            rows=tuple(
                OutboxLine(
                    r["id"],
                    r["channel"],
                    r["rule"],
                    r["title"],
                    r["status"],
                    r["attempts"],
                    r["why"],
                )
                for r in info["undelivered"]
            ),
        )
        for a in store.recent_alerts(recent):
            alerts.append(
                AlertLine(
                    a["id"], a["rule"], a["title"], a["url"], a["source"], _aware(a["created"])
                )
            )
    return StatusSnapshot(
        now=now,
        config_path=config.path,
        state_path=config.state,
        daemon_pid=running_pid(config.state),
        sources=tuple(sources),
        outbox=outbox,
        recent_alerts=tuple(alerts),
        last_reload=read_reload_status(config.state),
        channels=tuple((c.name, tuple(mask(u) for u in c.urls)) for c in config.channels),
    )
