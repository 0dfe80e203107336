"""What ``watchlist status`` shows: a frozen ``StatusSnapshot`` and its collection.

``collect_snapshot(config, store, now)`` reads the store (sources, outbox,
recent alerts), the persisted last reload and the lock file (is a daemon
running?). Rendering it, pure, is in ``watchlist.commands.status``. Channel URLs
are stored masked (``logs.mask``), so a snapshot never holds a secret URL.

When config or rules do not load, ``salvage_config`` reads what it can of
config.yaml (``state:``, sources, channels) so status still shows the state the
daemon keeps running on, and ``failed_reload`` turns the load errors into the
failed reload that status reports.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watchlist.config.durations import positive_duration
from watchlist.config.yamlsafe import YMap, parse_yaml
from watchlist.daemon.lock import lock_path, read_pid
from watchlist.daemon.logs import mask
from watchlist.daemon.reload_status import ReloadStatus, read_reload_status
from watchlist.models import ChannelConfig, Config, SourceConfig
from watchlist.store import display_state, is_postgres

_STATE_LINE = re.compile(r"^state:[ \t]*(['\"]?)([^'\"#\r\n]*?)\1[ \t]*(?:#.*)?$", re.M)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
    failed_files: int = 0  # folder: files moved to failed/


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
    muted: int | None = None  # the mute that silenced it: recorded, never sent
    article: str = ""


@dataclass(frozen=True, slots=True)
class MergeLine:
    """One recent match folded into an earlier alert of its rule (the same story)."""

    alert_id: int
    rule: str
    source: str
    title: str
    url: str
    how: str  # "same id" | "same url" | "same title"
    at: datetime | None


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
    merges: tuple[MergeLine, ...] = ()  # newest first
    state_problem: str = ""  # why the daemon cannot write the state now ("" when it can)
    unset_vars: tuple[str, ...] = ()  # ${VAR}s this shell lacks (the daemon may have them)
    # errors this shell reads in the files though the daemon's later reload worked
    local_errors: tuple[str, ...] = ()
    cluster: Mapping[str, Any] | None = None  # PostgreSQL state: store.cluster_view(now)


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


LOW_DISK = 1024 * 1024  # bytes free below which the state cannot be relied on to grow


def state_problem(state_path: str) -> str:
    """Why the state file cannot be written now (a full disk, no write permission), or ""."""
    path = Path(state_path)
    if state_path == ":memory:" or "://" in state_path or not path.exists():
        return ""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return ""
    if free < LOW_DISK:
        return f"the disk is full ({free} bytes free): nothing new can be recorded"
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return "the state file or its folder is read-only: nothing new can be recorded"
    return ""


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
    """Read the snapshot from the store (``watchlist.store.sqlite.Store``; None: no state yet)."""
    from watchlist.delivery.worker import outbox_status  # the outbox module owns the row words

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
                failed_files=st.failed_files if st else 0,
            )
        )
    outbox = None
    alerts: list[AlertLine] = []
    merges: list[MergeLine] = []
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
                    a["id"],
                    a["rule"],
                    a["title"],
                    a["url"],
                    a["source"],
                    _aware(a["created"]),
                    a.get("muted"),
                    a.get("article_id", ""),
                )
            )
        for m in store.recent_merges(recent):
            at = _aware(m["at"])
            line = (m["alert_id"], m["rule"], m["source"], m["title"], m["url"], m["how"], at)
            merges.append(MergeLine(*line))
    return StatusSnapshot(
        now=now,
        config_path=config.path,
        state_path=display_state(config.state),
        daemon_pid=None if is_postgres(config.state) else running_pid(config.state),
        sources=tuple(sources),
        outbox=outbox,
        recent_alerts=tuple(alerts),
        last_reload=read_reload_status(config.state),
        channels=tuple((c.name, tuple(mask(u) for u in c.urls)) for c in config.channels),
        merges=tuple(merges),
        state_problem=state_problem(config.state),
        unset_vars=config.unset_vars,
        cluster=store.cluster_view(now)
        if store is not None and is_postgres(config.state)
        else None,
    )


# ----------------------------------------------------------------------------- broken config


def _expand(text: str) -> str | None:
    """``text`` with ${VAR} (and ${VAR:-default}) from the environment; None if one is unset."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        value = os.environ.get(m.group(1), m.group(2))
        missing = missing or value is None
        return value or ""

    out = _VAR.sub(one, text)
    return None if missing or "${" in out else out


def _salvage_sources(doc: YMap) -> tuple[SourceConfig, ...]:
    out = []
    for item in doc.get("sources") or ():
        if not isinstance(item, YMap):
            continue
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not isinstance(kind, str):
            continue
        try:
            every = positive_duration(item.get("every", "15m"))
        except ValueError:
            every = timedelta(minutes=15)
        out.append(SourceConfig(name=name, type=kind, every=every))
    return tuple(out)


def _salvage_channels(doc: YMap) -> tuple[ChannelConfig, ...]:
    channels = doc.get("channels")
    out = []
    for name, value in channels.items() if isinstance(channels, YMap) else ():
        if isinstance(value, YMap):
            value = value.get("urls", value.get("url"))
        urls = [value] if isinstance(value, str) else value
        if isinstance(urls, list) and all(isinstance(u, str) for u in urls):
            out.append(ChannelConfig(name=str(name), urls=tuple(urls)))
    return tuple(out)


def salvage_config(path: Path) -> Config:
    """What can be read of a config that does not load: its ``state:``, sources and channels.

    When the YAML does not parse, a top-level ``state: PATH`` line still names the state;
    without one (or when it is unusable) the default is ``watchlist.db`` beside
    config.yaml. No rules are read.
    """
    path = Path(path).expanduser().resolve()
    given: Any = None
    sources: tuple[SourceConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    try:
        doc = parse_yaml(data, str(path))
    except Exception:  # malformed: read the state: line alone
        doc = None
        line = _STATE_LINE.search(data.decode("utf-8", "replace"))
        given = line.group(2).strip() if line else None
    if isinstance(doc, YMap):
        given = doc.get("state")
        sources = _salvage_sources(doc)
        channels = _salvage_channels(doc)
    expanded = _expand(given) if isinstance(given, str) and given else None
    state = expanded if expanded and "://" not in expanded else "watchlist.db"
    return Config(
        path=str(path),
        state=str((path.parent / Path(state).expanduser()).resolve()),
        sources=sources,
        channels=channels,
    )


def daemon_read_them(errors: Sequence[Any], recorded: ReloadStatus | None) -> bool:
    """True when the daemon's last reload worked and came after every file named in ``errors``
    last changed: the errors are this shell's (its environment, its permissions), not the
    daemon's, and the daemon's record is the reload state to report."""
    if recorded is None or not recorded.ok:
        return False
    for e in errors:
        where = str(getattr(e, "path", ""))
        try:
            changed = Path(where).stat().st_mtime if where else None
        except OSError:
            continue
        if changed is not None and changed > recorded.at.timestamp():
            return False
    return True


def failed_reload(
    errors: Sequence[Any], recorded: ReloadStatus | None, now: datetime
) -> ReloadStatus:
    """The load ``errors`` as a failed reload: the daemon's own record if it failed too.

    Its time is the daemon's failed attempt, else the latest change to a file named in
    an error; the rule count is the one the daemon last recorded (still in force).
    """
    if recorded is not None and not recorded.ok:
        at = recorded.at
    else:
        times: list[float | None] = []
        for e in errors:
            where = str(getattr(e, "path", ""))
            try:
                times.append(Path(where).stat().st_mtime if where else None)
            except OSError:
                continue
        found = [t for t in times if t is not None]
        at = datetime.fromtimestamp(max(found), UTC) if found else now
    rules = recorded.rules if recorded is not None else 0
    return ReloadStatus(at, False, tuple(mask(str(e)) for e in errors), rules)
