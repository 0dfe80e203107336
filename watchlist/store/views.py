"""Read queries for the web page: alerts a page at a time, one alert, per-rule match counts.

Mixed into ``watchlist.store.sqlite.Store``. Every query is bounded (a page, an id,
an index range) so a page stays fast with hundreds of thousands of alerts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from watchlist.models import Article, OutboxRow
from watchlist.store.archive import _COLUMNS as ARCHIVE_COLUMNS
from watchlist.store.archive import _article
from watchlist.store.outbox import parse_ts, ts

_LIST_COLUMNS = "id, rule, title, url, source, also_in, created, score, muted"


class ViewQueries:
    """Queries behind the web page's lists; needs ``query()`` from the Store."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def outbox_rows(
        self,
        status: str | Sequence[str] | None = None,
        *,
        due_by: datetime | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[OutboxRow]:
        raise NotImplementedError

    def summary(self) -> dict[str, int]:
        """Outbox rows pending, held, sending and failed, and the alert and seen totals.

        Like ``counts`` without the sent and dropped totals, so every count is an index
        range of open rows: it stays fast however many rows were ever sent.
        """
        out = {"pending": 0, "held": 0, "sending": 0, "failed": 0}
        for r in self.query(
            "SELECT held_reason != '' AND attempts = 0, count(*) FROM outbox"
            " WHERE status = 'pending' GROUP BY 1"
        ):
            out["held" if r[0] else "pending"] += r[1]
        for status in ("sending", "failed"):
            out[status] = self.query("SELECT count(*) FROM outbox WHERE status = ?", (status,))[0][
                0
            ]
        out["alerts"] = self.query("SELECT count(*) FROM alerts")[0][0]
        out["seen"] = self.query("SELECT count(*) FROM seen")[0][0]
        return out

    def open_rows(self, limit: int) -> tuple[list[OutboxRow], int]:
        """Up to ``limit`` outbox rows not yet sent, failed first, and how many there are."""
        ids: list[int] = []
        total = 0
        for status in ("failed", "sending", "pending"):
            total += self.query("SELECT count(*) FROM outbox WHERE status = ?", (status,))[0][0]
            if len(ids) < limit:
                rows = self.query(
                    "SELECT id FROM outbox WHERE status = ? ORDER BY next_attempt, id LIMIT ?",
                    (status, limit - len(ids)),
                )
                ids.extend(int(r[0]) for r in rows)
        order = {row_id: i for i, row_id in enumerate(ids)}
        found = self.outbox_rows(ids=ids) if ids else []
        return sorted(found, key=lambda r: order[r.id]), total

    def alerts_page(
        self, limit: int = 50, *, before: int | None = None, rule: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest alerts (older than id ``before``; of one rule), each with its deliveries.

        Each is a dict of the alert's columns plus ``deliveries``: (channel, status,
        held reason) per outbox row, and ``created`` as a datetime.
        """
        where: list[str] = []
        params: list[Any] = []
        if before is not None:
            where.append("id < ?")
            params.append(before)
        if rule:
            where.append("rule = ?")
            params.append(rule)
        sql = f"SELECT {_LIST_COLUMNS} FROM alerts" + (
            " WHERE " + " AND ".join(where) if where else ""
        )
        rows = self.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        alerts = [_alert(r) for r in rows]
        self._add_deliveries(alerts)
        return alerts

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        """One alert with every column (hits and snippet decoded) and its deliveries."""
        rows = self.query("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        if not rows:
            return None
        out = _alert(rows[0])
        out["hits"] = json.loads(out["hits"])
        out["snippet"] = json.loads(out["snippet"])
        self._add_deliveries([out])
        return out

    def _add_deliveries(self, alerts: list[dict[str, Any]]) -> None:
        by_id = {a["id"]: a for a in alerts}
        for a in alerts:
            a["deliveries"] = []
        if not by_id:
            return
        rows = self.query(
            "SELECT id, alert_id, channel, status, held_reason, attempts FROM outbox"
            f" WHERE alert_id IN ({','.join('?' * len(by_id))}) ORDER BY id",
            list(by_id),
        )
        for r in rows:
            by_id[r["alert_id"]]["deliveries"].append(dict(r))

    def archived_article(self, source: str, article_id: str) -> Article | None:
        """The archived text of one article (None when not archived, or pruned)."""
        rows = self.query(
            f"SELECT {ARCHIVE_COLUMNS} FROM archive WHERE source = ? AND article_id = ?",
            (source, article_id),
        )
        return _article(rows[0]) if rows else None

    def rules_for_article(self, article_id: str) -> list[str]:
        """Every rule that alerted on article ``article_id``."""
        rows = self.query(
            "SELECT DISTINCT rule FROM alerts WHERE article_id = ? ORDER BY rule", (article_id,)
        )
        return [r[0] for r in rows]

    def alerted_articles(self, since: datetime, limit: int = 5000) -> list[dict[str, Any]]:
        """Articles that raised alerts since ``since`` (title, summary, url, source), newest
        first, one per article: what the rule tester has without an archive."""
        rows = self.query(
            "SELECT article_id, max(title) AS title, max(summary) AS summary, max(url) AS url,"
            " max(source) AS source, max(created) AS created FROM alerts WHERE created >= ?"
            " GROUP BY article_id ORDER BY max(created) DESC LIMIT ?",
            (ts(since), limit),
        )
        return [dict(r) for r in rows]

    def rule_stats(self, rules: Sequence[str], now: datetime) -> dict[str, dict[str, Any]]:
        """Per rule: alerts in the last 24 h (``day``) and 7 days (``week``), and the last one."""
        day, week = ts(now - timedelta(days=1)), ts(now - timedelta(days=7))
        out: dict[str, dict[str, Any]] = {}
        for name in rules:
            week_n, day_n = (
                self.query(
                    "SELECT count(*) FROM alerts WHERE rule = ? AND created >= ?", (name, since)
                )[0][0]
                for since in (week, day)
            )
            last = self.query("SELECT max(created) FROM alerts WHERE rule = ?", (name,))[0][0]
            out[name] = {"week": week_n, "day": day_n, "last": parse_ts(last)}
        return out


def _alert(r: sqlite3.Row) -> dict[str, Any]:
    out = dict(r)
    out["also_in"] = json.loads(out.get("also_in") or "[]")
    out["created"] = parse_ts(out["created"])
    return out
