"""Outbox queries of the state file: rows per (alert, channel), their status, retries, sends.

Mixed into ``watchlist.store.sqlite.Store``; delivery logic is in ``watchlist.delivery.worker``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from watchlist.models import AlertView, OutboxRow, Snippet
from watchlist.store.backend import Backend

OPEN_STATUSES = ("pending", "sending", "failed")


def ts(when: datetime) -> str:
    """A sortable UTC text timestamp."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(text: str | None) -> datetime | None:
    """The aware UTC datetime of a stored timestamp (None for None or empty)."""
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


class OutboxQueries:
    """Outbox reads and writes; needs ``tx()``, ``query()`` and ``backend`` from the Store."""

    backend: Backend

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def outbox_rows(
        self,
        status: str | Sequence[str] | None = None,
        *,
        due_by: datetime | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[OutboxRow]:
        """Outbox rows, oldest first: by status (one or several), due by a time, or by id."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            where.append(f"o.status IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        if due_by is not None:
            where.append("o.next_attempt <= ?")
            params.append(ts(due_by))
        if ids is not None:
            where.append(f"o.id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        sql = (
            "SELECT o.*, a.rule, a.title, a.url, a.article_id FROM outbox o"
            " JOIN alerts a ON a.id = o.alert_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY o.next_attempt, o.id"
        )
        return [_outbox_row(r) for r in self.query(sql, params)]

    def update_rows(self, ids: Sequence[int], **values: Any) -> None:
        """Set columns of outbox rows ``ids`` in one transaction (datetimes stored as UTC text)."""
        if not ids:
            return
        cols = ", ".join(f"{k} = ?" for k in values)
        vals = [
            ts(v) if isinstance(v, datetime) else json.dumps(list(v)) if isinstance(v, tuple) else v
            for v in values.values()
        ]
        with self.tx() as db:
            db.execute(
                f"UPDATE outbox SET {cols} WHERE id IN ({','.join('?' * len(ids))})",
                [*vals, *ids],
            )

    def update_many(self, changes: Sequence[tuple[Sequence[int], Mapping[str, Any]]]) -> None:
        """Several ``update_rows`` (ids, column values) in one transaction."""
        if any(ids and values for ids, values in changes):
            with self.tx() as db:
                _update_in(db, changes)

    def mark_sent_many(
        self, sent: Sequence[tuple[Sequence[int], Sequence[int]]], now: datetime, channel: str
    ) -> None:
        """Several messages delivered on ``channel``: per message (row ids, URL indexes that
        took it) as ``mark_sent`` does, all in one transaction."""
        if sent:
            with self.tx() as db:
                _sent_in(db, sent, now, channel)

    def settle(
        self,
        sent: Sequence[tuple[Sequence[int], Sequence[int]]],
        changes: Sequence[tuple[Sequence[int], Mapping[str, Any]]],
        channel: str,
        claim_ids: Sequence[int],
        now: datetime,
        claimer: str,
    ) -> list[int]:
        """One transaction: ``mark_sent_many(sent)``, ``update_many(changes)``, then
        ``claim(claim_ids)``; the ids claimed. One commit per round of a busy channel."""
        with self.tx() as db:
            _sent_in(db, sent, now, channel)
            _update_in(db, changes)
            return _claim_in(db, claim_ids, now, claimer, self.backend.skip_locked)

    def claim(self, ids: Sequence[int], now: datetime, claimer: str) -> list[int]:
        """Mark pending rows 'sending' and count the attempt, committed BEFORE the send starts.

        A claimed row is no longer held, so its ``held_reason`` is cleared (a later
        failure must show its error, not a stale "quiet hours until ..."). Returns the
        ids actually claimed (a row dropped meanwhile is left alone).
        """
        with self.tx() as db:
            return _claim_in(db, ids, now, claimer, self.backend.skip_locked)

    def requeue(self, claims: Sequence[tuple[int, str]], now: datetime, error: str) -> int:
        """Rows still 'sending' for the claimer given become pending and due now; how many.

        Each row changes only if the same claimer still holds it: a daemon that found it
        stuck a moment ago never takes it back from the daemon that claimed it since.
        """
        done = 0
        with self.tx() as db:
            for row_id, claimer in claims:
                cur = db.execute(
                    "UPDATE outbox SET status = 'pending', next_attempt = ?, claimed_by = '',"
                    " last_error = ?, updated = ? WHERE id = ? AND status = 'sending'"
                    " AND claimed_by = ?",
                    (ts(now), error, ts(now), row_id, claimer),
                )
                done += max(cur.rowcount, 0)
        return done

    def mark_sent(
        self, ids: Sequence[int], now: datetime, channel: str, delivered: Sequence[int]
    ) -> None:
        """Rows delivered: status 'sent', and one send counted on ``channel`` - one transaction."""
        with self.tx() as db:
            _sent_in(db, [(ids, delivered)], now, channel)

    def retry(self, row_id: int, now: datetime) -> bool:
        """A failed (or dropped) row becomes pending and due now; False if there is no such row."""
        with self.tx() as db:
            cur = db.execute(
                "UPDATE outbox SET status = 'pending', next_attempt = ?, due = ?, held_reason = '',"
                " updated = ? WHERE id = ? AND status IN ('failed', 'dropped', 'pending')",
                (ts(now), ts(now), ts(now), row_id),
            )
            return cur.rowcount > 0

    def drop(self, row_id: int, now: datetime | None = None) -> bool:
        """A pending or failed row is given up ('dropped', kept for the record)."""
        stamp = ts(now or datetime.now(UTC))
        with self.tx() as db:
            cur = db.execute(
                "UPDATE outbox SET status = 'dropped', updated = ? WHERE id = ?"
                " AND status IN ('pending', 'failed')",
                (stamp, row_id),
            )
            return cur.rowcount > 0

    def record_send(self, channel: str, now: datetime) -> None:
        """Remember one message sent on ``channel`` (for rate limits)."""
        with self.tx() as db:
            db.execute("INSERT INTO sends (channel, at) VALUES (?, ?)", (channel, ts(now)))
            _forget_old_sends(db, channel, now)

    def sends_since(self, channel: str, since: datetime) -> list[datetime]:
        """When messages were sent on ``channel`` after ``since``."""
        rows = self.query("SELECT at FROM sends WHERE channel = ? AND at > ?", (channel, ts(since)))
        return [t for t in (parse_ts(r[0]) for r in rows) if t is not None]

    def alert_views(self, alert_ids: Sequence[int]) -> dict[int, AlertView]:
        """What the templates may show about each alert."""
        if not alert_ids:
            return {}
        rows = self.query(
            f"SELECT * FROM alerts WHERE id IN ({','.join('?' * len(alert_ids))})", list(alert_ids)
        )
        return {
            r["id"]: AlertView(
                rule=r["rule"],
                title=r["title"],
                url=r["url"],
                summary=r["summary"],
                snippet=Snippet(**json.loads(r["snippet"])),
                source=r["source"],
                published=r["published"],
                score=r["score"],
                hits=tuple(json.loads(r["hits"])),
                also_in=tuple(json.loads(r["also_in"])),
                article_id=r["article_id"],
            )
            for r in rows
        }

    def recent_alerts(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest alerts: id, rule, title, url, source, also_in, created, muted, article_id."""
        rows = self.query(
            "SELECT id, rule, title, url, source, also_in, created, muted, article_id FROM alerts"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [{**dict(r), "also_in": json.loads(r["also_in"])} for r in rows]

    def counts(self) -> dict[str, int]:
        """Outbox rows per status, plus ``alerts`` and ``seen`` totals."""
        out = {s: 0 for s in ("pending", "held", "sending", "sent", "failed", "dropped")}
        for r in self.query(
            "SELECT status, held_reason != '' AND attempts = 0, count(*) FROM outbox GROUP BY 1, 2"
        ):
            key = "held" if r[0] == "pending" and r[1] else r[0]
            out[key] = out.get(key, 0) + r[2]
        out["alerts"] = self.query("SELECT count(*) FROM alerts")[0][0]
        out["seen"] = self.query("SELECT count(*) FROM seen")[0][0]
        return out


def _claim_in(
    db: Any, ids: Sequence[int], now: datetime, claimer: str, skip_locked: str = ""
) -> list[int]:
    """``claim`` inside the transaction ``db``; PostgreSQL skips rows another daemon holds."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = ?,"
        " held_reason = '', updated = ? WHERE id IN (SELECT id FROM outbox"
        f" WHERE id IN ({marks}) AND status = 'pending'{skip_locked})"
        " RETURNING id",
        [claimer, ts(now), *ids],
    ).fetchall()
    return sorted(int(r[0]) for r in rows)


def _sent_in(
    db: sqlite3.Connection,
    sent: Sequence[tuple[Sequence[int], Sequence[int]]],
    now: datetime,
    channel: str,
) -> None:
    """``mark_sent_many`` inside the transaction ``db``: per message its rows 'sent' (by
    the daemon that claimed them) and one send counted on ``channel``."""
    for ids, delivered in sent:
        marks = ",".join("?" * len(ids))
        db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, updated = ?, last_error = '',"
            f" sent_by = claimed_by, claimed_by = '', delivered_urls = ? WHERE id IN ({marks})",
            [ts(now), ts(now), json.dumps(list(delivered)), *ids],
        )
        db.execute("INSERT INTO sends (channel, at) VALUES (?, ?)", (channel, ts(now)))
    if sent:
        _forget_old_sends(db, channel, now)


def _forget_old_sends(db: sqlite3.Connection, channel: str, now: datetime) -> None:
    """Sends older than two days no longer count for a rate limit; by the (channel, at)
    index, so the delete does not scan every send ever made."""
    db.execute(
        "DELETE FROM sends WHERE channel = ? AND at < ?", (channel, ts(now - timedelta(days=2)))
    )


def _update_in(
    db: sqlite3.Connection, changes: Sequence[tuple[Sequence[int], Mapping[str, Any]]]
) -> None:
    """``update_many`` inside the transaction ``db``."""
    for ids, values in changes:
        if ids and values:
            cols = ", ".join(f"{k} = ?" for k in values)
            db.execute(
                f"UPDATE outbox SET {cols} WHERE id IN ({','.join('?' * len(ids))})",
                [*_values(values), *ids],
            )


def _values(values: Mapping[str, Any]) -> list[Any]:
    """Column values as stored: datetimes as UTC text, tuples as JSON lists."""
    return [
        ts(v) if isinstance(v, datetime) else json.dumps(list(v)) if isinstance(v, tuple) else v
        for v in values.values()
    ]


def _outbox_row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        alert_id=r["alert_id"],
        channel=r["channel"],
        rule=r["rule"],
        title=r["title"],
        url=r["url"],
        status=r["status"],
        attempts=r["attempts"],
        due=parse_ts(r["due"]) or datetime.min.replace(tzinfo=UTC),
        next_attempt=parse_ts(r["next_attempt"]) or datetime.min.replace(tzinfo=UTC),
        last_error=r["last_error"] or "",
        held_reason=r["held_reason"] or "",
        fold_key=r["fold_key"],
        delivered_urls=tuple(json.loads(r["delivered_urls"] or "[]")),
        created=parse_ts(r["created"]) or datetime.min.replace(tzinfo=UTC),
        sent_at=parse_ts(r["sent_at"]),
        claimed_by=r["claimed_by"] or "",
        updated=parse_ts(r["updated"]) or datetime.min.replace(tzinfo=UTC),
        article_id=r["article_id"],
    )
