"""Mute queries of the state: add, list and remove silences of a rule or of one story of it.

Mixed into ``watchlist.store.sqlite.Store``. Whether a match is muted is decided by
``watchlist.decide.find_mute`` inside the record transaction; a muted alert carries
the mute's id in ``alerts.muted`` and gets no outbox rows, so unmuting sends nothing old.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from watchlist.models import Mute
from watchlist.store.outbox import parse_ts, ts


class MuteError(ValueError):
    """A mute that cannot be made or removed, in words for the user."""


def _mute(r: sqlite3.Row) -> Mute:
    return Mute(
        id=int(r["id"]),
        rule=r["rule"],
        until=parse_ts(r["until"]) or datetime.min,
        comment=r["comment"],
        created=parse_ts(r["created"]) or datetime.min,
        story=r["story"],
        story_id=r["story_id"],
        story_url=r["story_url"],
        story_key=r["story_key"],
        removed=parse_ts(r["removed"]),
    )


def active_mutes(db: sqlite3.Connection, now: datetime) -> list[Mute]:
    """The mutes in force at ``now``, read inside a transaction (the record one)."""
    rows = db.execute(
        "SELECT * FROM mutes WHERE removed IS NULL AND until > ? ORDER BY id", (ts(now),)
    ).fetchall()
    return [_mute(r) for r in rows]


class MuteQueries:
    """Mute reads and writes; needs ``tx()`` and ``query()`` from the Store."""

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def add_mute(
        self, rule: str, until: datetime, comment: str, now: datetime, story: int | None = None
    ) -> Mute:
        """Silence ``rule`` (or the story of alert ``story`` for it) until ``until``."""
        if not comment.strip():
            raise MuteError("a mute needs a comment saying why (who asked, what for)")
        if until <= now:
            raise MuteError("a mute must end in the future; give a duration such as 2h or 2d")
        marks = ("", "", "")
        if story is not None:
            rows = self.query(
                "SELECT rule, article_id, url, title_key FROM alerts WHERE id = ?", (story,)
            )
            if not rows:
                raise MuteError(f"no alert #{story}; the alerts page and `status` show their ids")
            if rows[0]["rule"] != rule:
                raise MuteError(
                    f"alert #{story} is of rule {rows[0]['rule']!r}, not {rule!r}; "
                    "mute the story for the rule that raised it"
                )
            marks = (rows[0]["article_id"], rows[0]["url"], rows[0]["title_key"])
        with self.tx() as db:
            row = db.execute(
                "INSERT INTO mutes (rule, story, story_id, story_url, story_key, until, comment,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (rule, story, *marks, ts(until), comment.strip(), ts(now)),
            ).fetchone()
        return self.mute(int(row[0]))  # type: ignore[return-value]

    def mute(self, mute_id: int) -> Mute | None:
        """One mute by id (None if there is none)."""
        rows = self.query("SELECT * FROM mutes WHERE id = ?", (mute_id,))
        return _mute(rows[0]) if rows else None

    def mutes(self, now: datetime, *, everything: bool = False) -> list[Mute]:
        """The mutes in force at ``now`` (with ``everything``: also expired and removed ones)."""
        if everything:
            return [_mute(r) for r in self.query("SELECT * FROM mutes ORDER BY id DESC")]
        rows = self.query(
            "SELECT * FROM mutes WHERE removed IS NULL AND until > ? ORDER BY until, id",
            (ts(now),),
        )
        return [_mute(r) for r in rows]

    def unmute(self, mute_id: int, now: datetime) -> bool:
        """End mute ``mute_id`` now; False if there is no such mute in force."""
        with self.tx() as db:
            cur = db.execute(
                "UPDATE mutes SET removed = ? WHERE id = ? AND removed IS NULL AND until > ?",
                (ts(now), mute_id, ts(now)),
            )
            return cur.rowcount > 0

    def muted_counts(self, mute_ids: Sequence[int]) -> dict[int, int]:
        """How many alerts each mute has silenced so far."""
        if not mute_ids:
            return {}
        rows = self.query(
            f"SELECT muted, count(*) FROM alerts WHERE muted IN ({','.join('?' * len(mute_ids))})"
            " GROUP BY muted",
            list(mute_ids),
        )
        return {int(r[0]): int(r[1]) for r in rows}
