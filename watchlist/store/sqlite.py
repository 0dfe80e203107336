"""The state: one SQLite file holding seen articles, alerts, the outbox and source state.

``record`` is the one transaction that marks articles seen and turns each new match
into an alert plus one outbox row per channel, so nothing is matched twice or lost.
SQLite runs in WAL mode with ``synchronous=FULL``: a commit survives a power cut,
not only a process crash, because the outbox is the promise that nothing is lost
and the write rate is low (one commit per poll). One connection, one lock; every
method is safe to call from any thread.

The same class runs on PostgreSQL (``state: postgresql://...``): its SQL is written
in the portable subset and the backend (``store.backend``) supplies the connection,
the transaction and the locks; ``record`` holds a cluster-wide advisory lock so that
several daemons decide duplicates, cooldowns and digests one at a time.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchlist.decide import decide, find_mute, zone
from watchlist.faults import crash_point
from watchlist.models import Article, Config, Match, OutboxRow, Rule, SourceState, StateError
from watchlist.store.archive import ArchiveQueries, archive_article
from watchlist.store.backend import Backend, make_backend
from watchlist.store.cluster import ClusterQueries
from watchlist.store.mutes import MuteQueries, active_mutes
from watchlist.store.outbox import OutboxQueries, parse_ts, ts
from watchlist.store.schema import SCHEMA, SCHEMA_VERSION
from watchlist.store.stories import (
    STORY_WINDOW,
    backfill_keys,
    find_story,
    merges_query,
    record_merge,
    shared_id,
    story_key,
)
from watchlist.store.views import ViewQueries


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What one ``record`` call did."""

    seen: int = 0  # articles newly marked seen
    alerts: int = 0  # new alerts written
    duplicates: int = 0  # matches folded into an existing alert (same story)
    held: int = 0  # new alerts held by digest, cooldown or quiet hours
    outbox: int = 0  # outbox rows written
    muted: int = 0  # of the new alerts, those a mute silenced (recorded, never sent)


def title_key(title: str) -> str:
    """A title reduced to lower-case letters and digits, for near-duplicate checks."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.findall(r"\w+", text))


class Store(OutboxQueries, ArchiveQueries, MuteQueries, ViewQueries, ClusterQueries):
    """The state (an SQLite file, or PostgreSQL); see the module docstring."""

    def __init__(self, path: str | Path) -> None:
        # the plumbing (connection, transactions, locks) is the backend's: one SQLite
        # file, or PostgreSQL for a postgresql:// state (store.backend, store.postgres)
        try:
            self.backend: Backend = make_backend(path)
        except sqlite3.DatabaseError as exc:
            raise StateError(state_problem(str(path), exc)) from None
        self.path = self.backend.display  # never holds a password
        try:
            self._migrate()
            with self.tx() as db:
                backfill_keys(db)
        except sqlite3.DatabaseError as exc:
            self.backend.close()
            raise StateError(state_problem(self.path, exc)) from None

    # ------------------------------------------------------------------ plumbing

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (SQLite: BEGIN IMMEDIATE ... COMMIT), rolled back on error."""
        return self.backend.tx()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read query."""
        return self.backend.query(sql, params)

    def _migrate(self) -> None:
        with self.tx() as db:
            self.backend.lock(db, "migrate")  # daemons starting at once migrate one by one
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            have = row[0] or 0
            if have > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: state file has schema version {have}, newer than this "
                    f"watchlist understands ({SCHEMA_VERSION}); upgrade watchlist"
                )
            for version, statements in SCHEMA:
                if version > have:
                    for sql in statements:
                        db.execute(sql)
                    db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    @property
    def _conn(self) -> Any:
        """The SQLite connection (tests count its work); PostgreSQL has a pool instead."""
        return getattr(self.backend, "_conn", None)

    def close(self) -> None:
        """Close the database."""
        self.backend.close()

    # ------------------------------------------------------------------ articles

    def filter_unseen(self, articles: Sequence[Article]) -> list[Article]:
        """The articles never recorded from their source, in the order given, without repeats.

        Seen is keyed on (source, id): a guid names an item only within its own feed, and
        a copy from another source must reach ``record`` to be noted on the alerts it raised.
        """
        by_source: dict[str, list[str]] = {}
        for a in articles:
            by_source.setdefault(a.source, []).append(a.id)
        seen: set[tuple[str, str]] = set()
        for source, all_ids in by_source.items():
            ids = list(dict.fromkeys(all_ids))
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = self.query(
                    f"SELECT article_id FROM seen WHERE source = ? AND article_id IN ({marks})",
                    [source, *chunk],
                )
                seen.update((source, r[0]) for r in rows)
        out: list[Article] = []
        for a in articles:
            if (a.source, a.id) not in seen:
                seen.add((a.source, a.id))
                out.append(a)
        return out

    def record(
        self, articles: Sequence[Article], matches: Sequence[Match], config: Config, now: datetime
    ) -> RecordResult:
        """Mark ``articles`` seen and turn new matches into alerts and outbox rows, atomically."""
        by_key = {(a.source, a.id): a for a in articles}
        tz = zone(config.timezone)
        counts = {"seen": 0, "alerts": 0, "duplicates": 0, "held": 0, "outbox": 0, "muted": 0}
        with self.tx() as db:
            # one record at a time cluster-wide: story duplicates, cooldowns and digests are
            # decided against every alert committed before (SQLite: BEGIN IMMEDIATE did it)
            self.backend.lock(db, "record")
            mutes = active_mutes(db, now)
            fresh: dict[str, list[Article]] = {}
            inserted = _insert_seen(db, list(by_key), now)  # one statement per 300 articles
            for a in by_key.values():
                if (a.source, a.id) in inserted:
                    fresh.setdefault(a.id, []).append(a)
                    counts["seen"] += 1
                    self._note_copy(db, a)
                    if config.archive is not None:
                        archive_article(db, a, now)
            used: set[tuple[str, str, str]] = set()
            for m in matches:
                # seen before: its matches were recorded then; the same id from two
                # sources in one batch gives one match each, taken in order
                art = next(
                    (
                        a
                        for a in fresh.get(m.article_id, ())
                        if (m.rule, a.source, a.id) not in used
                    ),
                    None,
                )
                if art is None:
                    continue
                used.add((m.rule, art.source, art.id))
                found = find_story(db, m.rule, art, now)
                if found is not None:
                    record_merge(db, m.rule, art, found, now)
                    counts["duplicates"] += 1
                    continue
                mute = find_mute(mutes, m.rule, art, title_key(art.title), now)
                if mute is not None:  # recorded and shown as muted; no outbox rows
                    muted_id = self._insert_alert(db, m, art, now)
                    db.execute("UPDATE alerts SET muted = ? WHERE id = ?", (mute.id, muted_id))
                    counts["alerts"] += 1
                    counts["muted"] += 1
                    continue
                rule = _rule(config, m.rule)
                last = db.execute(
                    "SELECT last_due FROM rule_state WHERE rule = ?", (rule.name,)
                ).fetchone()
                decision = decide(rule, now, tz, parse_ts(last[0]) if last else None)
                alert_id = self._insert_alert(db, m, art, now)
                db.execute(
                    "INSERT INTO rule_state (rule, last_due) VALUES (?, ?) "
                    "ON CONFLICT(rule) DO UPDATE SET last_due = excluded.last_due",
                    (rule.name, ts(decision.due)),
                )
                counts["alerts"] += 1
                counts["held"] += int(decision.held)
                for channel in rule.notify:
                    status, error = "pending", ""
                    try:
                        config.channel(channel)
                    except KeyError:
                        status = "failed"
                        error = (
                            f"unknown channel {channel!r}: add it under channels: in "
                            f"config.yaml or fix notify: of rule {rule.name!r}"
                        )
                    db.execute(
                        "INSERT INTO outbox (alert_id, channel, status, fold_key, held_reason,"
                        " due, next_attempt, last_error, created, updated)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            alert_id,
                            channel,
                            status,
                            decision.fold_key,
                            decision.reason,
                            ts(decision.due),
                            ts(decision.due),
                            error,
                            ts(now),
                            ts(now),
                        ),
                    )
                    counts["outbox"] += 1
        crash_point("after-commit")
        return RecordResult(**counts)

    def _insert_alert(self, db: sqlite3.Connection, m: Match, art: Article, now: datetime) -> int:
        from watchlist.match.snippet import make_snippet  # the matcher loads only when needed

        snippet = make_snippet(art, m.hits)
        hits = [asdict(h) for h in m.hits]
        cur = db.execute(
            "INSERT INTO alerts (rule, article_id, url, title, title_key, summary, source,"
            " published, score, hits, snippet, created, story_at, story_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                m.rule,
                art.id,
                art.url,
                art.title,
                title_key(art.title),
                art.summary[:2000],
                art.source,
                art.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                if art.published
                else "",
                m.score,
                json.dumps(hits),
                json.dumps(asdict(snippet)),
                ts(now),
                ts(art.published or now),
                story_key(art.title),
            ),
        )
        return int(cur.fetchone()[0])

    @staticmethod
    def _note_copy(db: sqlite3.Connection, art: Article) -> None:
        """Note ``art``'s source on every alert another source raised for the same URL or id."""
        conds: list[str] = []
        params: list[str] = [art.source]
        if shared_id(art.id):
            conds.append("article_id = ?")
            params.append(art.id)
        if art.url:
            conds.append("url = ?")
            params.append(art.url)
        if not conds or not art.source:
            return
        rows = db.execute(
            f"SELECT id, source, also_in FROM alerts WHERE source != ? AND ({' OR '.join(conds)})",
            params,
        ).fetchall()
        for row in rows:
            _add_also_in(db, row, art.source)

    # ------------------------------------------------------------------ sources

    def load_source_state(self, name: str) -> SourceState:
        """The saved state of source ``name`` (a fresh one if never saved)."""
        rows = self.query("SELECT state FROM source_state WHERE name = ?", (name,))
        if not rows:
            return SourceState()
        data = json.loads(rows[0][0])
        kwargs: dict[str, Any] = {}
        for f in fields(SourceState):
            if f.name in data:
                value = data[f.name]
                kwargs[f.name] = (
                    parse_ts(value) if f.name.endswith(("_poll", "_success", "_at")) else value
                )
        return SourceState(**kwargs)

    def save_source_state(self, name: str, state: SourceState) -> None:
        """Save the state of source ``name``."""
        data = {k: (ts(v) if isinstance(v, datetime) else v) for k, v in asdict(state).items()}
        with self.tx() as db:
            db.execute(
                "INSERT INTO source_state (name, state) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET state = excluded.state",
                (name, json.dumps(data)),
            )

    def recent_merges(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest matches folded into an earlier alert: alert_id, rule, source, title, how."""
        sql, params = merges_query(limit)
        return [dict(r) for r in self.query(sql, params)]

    def source_names(self) -> list[str]:
        """Every source with saved state."""
        return [r[0] for r in self.query("SELECT name FROM source_state ORDER BY name")]


def state_problem(path: str, exc: BaseException) -> str:
    """One line for a state file SQLite cannot use: which file, what is wrong, what to do."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return (
            f"{path}: the state file is read-only ({text}); make it and its folder writable "
            "by the user the daemon runs as"
        )
    if "full" in text:
        return f"{path}: the disk holding the state file is full ({text}); free some space"
    if "not a database" not in text and "malformed" not in text:
        return (
            f"{path}: cannot use the state file ({text}); check that its disk has free space "
            "and that the file and its folder are writable by the user the daemon runs as"
        )
    return (
        f"{path}: the state file is damaged or is not a watchlist state file ({text}); "
        f"move it aside (mv {path} {path}.broken) to start with an empty state, or restore "
        "it from a backup"
    )


def _insert_seen(
    db: sqlite3.Connection, keys: Sequence[tuple[str, str]], now: datetime
) -> set[tuple[str, str]]:
    """Mark (source, id) ``keys`` seen; the ones that were not seen before (the key decides)."""
    new: set[tuple[str, str]] = set()
    for i in range(0, len(keys), 300):
        chunk = keys[i : i + 300]
        rows = db.execute(
            "INSERT INTO seen (source, article_id, seen_at) VALUES "
            + ", ".join("(?, ?, ?)" for _ in chunk)
            + " ON CONFLICT (source, article_id) DO NOTHING RETURNING source, article_id",
            [v for source, art_id in chunk for v in (source, art_id, ts(now))],
        ).fetchall()
        new.update((r[0], r[1]) for r in rows)
    return new


def _add_also_in(db: sqlite3.Connection, row: sqlite3.Row, name: str) -> None:
    """Add source ``name`` to an alert's also_in unless it is the alert's own source."""
    also: list[str] = json.loads(row["also_in"])
    if name != row["source"] and name not in also:
        also.append(name)
        db.execute("UPDATE alerts SET also_in = ? WHERE id = ?", (json.dumps(also), row["id"]))


def _rule(config: Config, name: str) -> Rule:
    try:
        return config.rule(name)
    except KeyError:
        return Rule(name=name)


__all__ = [
    "STORY_WINDOW",
    "OutboxRow",
    "RecordResult",
    "Store",
    "crash_point",
    "parse_ts",
    "shared_id",
    "title_key",
    "ts",
]
