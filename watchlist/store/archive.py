"""The archive: the text of every article the state has seen, for backtests and the rule tester.

``Store.record`` calls ``archive_article`` in the transaction that marks an article
seen, so the archive holds exactly the articles the daemon matched. Reads walk it
newest first in pages of ``PAGE`` rows (keyset on ``seen_at, id``), so a backtest
over a month of news never holds the store's lock, or much memory, for long.
``prune_archive`` deletes the oldest rows in one small batch per call; the daemon
calls it repeatedly, each batch its own short transaction, so intake is never
blocked for long. Every statement is portable SQL (SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from watchlist.models import Article
from watchlist.store.outbox import parse_ts, ts

PAGE = 500  # rows per read of the archive
PRUNE_BATCH = 500  # rows per pruning transaction (the daemon's job)

_COLUMNS = "id, source, article_id, title, summary, body, url, published, seen_at"


def archive_article(db: sqlite3.Connection, article: Article, now: datetime) -> None:
    """Keep ``article``'s text, seen at ``now`` (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO archive (source, article_id, title, summary, body, url, published, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, article_id) DO NOTHING",
        (
            article.source,
            article.id,
            article.title,
            article.summary,
            article.body,
            article.url,
            ts(article.published) if article.published else None,
            ts(now),
        ),
    )


def _article(row: sqlite3.Row) -> Article:
    return Article(
        id=row["article_id"],
        title=row["title"],
        summary=row["summary"],
        body=row["body"],
        url=row["url"],
        published=parse_ts(row["published"]),
        source=row["source"],
    )


class ArchiveQueries:
    """Archive reads and pruning; needs ``tx()`` and ``query()`` from the Store."""

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def archived_articles(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[Article]:
        """Every archived article seen at or after ``since`` (and before ``until``), newest
        seen first (ties: the later recorded first).

        Read lazily, ``PAGE`` rows per query: rows recorded while the walk goes on are
        not seen by it, and rows pruned under it are simply not returned.
        """
        where = "seen_at >= ?" + (" AND seen_at < ?" if until is not None else "")
        bounds: list[Any] = [ts(since)] + ([ts(until)] if until is not None else [])
        rows = self.query(
            f"SELECT {_COLUMNS} FROM archive WHERE {where} ORDER BY seen_at DESC, id DESC LIMIT ?",
            [*bounds, PAGE],
        )
        while rows:
            yield from (_article(r) for r in rows)
            if len(rows) < PAGE:
                return
            last_at, last_id = rows[-1]["seen_at"], rows[-1]["id"]
            rows = self.query(
                f"SELECT {_COLUMNS} FROM archive WHERE {where}"
                " AND (seen_at < ? OR (seen_at = ? AND id < ?))"
                " ORDER BY seen_at DESC, id DESC LIMIT ?",
                [*bounds, last_at, last_at, last_id, PAGE],
            )

    def archive_count(self, since: datetime | None = None) -> int:
        """How many articles the archive holds (seen at or after ``since``, if given)."""
        if since is None:
            rows = self.query("SELECT count(*) FROM archive")
        else:
            rows = self.query("SELECT count(*) FROM archive WHERE seen_at >= ?", (ts(since),))
        return int(rows[0][0])

    def prune_archive(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest articles seen before ``before``; how many went.

        One short transaction: call it again while it returns ``limit``.
        """
        with self.tx() as db:
            cur = db.execute(
                "DELETE FROM archive WHERE id IN (SELECT id FROM archive WHERE seen_at < ?"
                " ORDER BY seen_at, id LIMIT ?)",
                (ts(before), limit),
            )
            return int(cur.rowcount)
