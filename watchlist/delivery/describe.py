"""The outbox in words: where each undelivered row stands, for `status` and `outbox list`.

Re-exported by ``watchlist.delivery.worker``; reads rows, never changes them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from watchlist.delivery.queue import OutboxQueue
from watchlist.models import OutboxRow

_GAVE_UP = re.compile(r" \(gave up after \d+ attempts; `watchlist outbox retry ID` [^)]*\)$")


def describe(row: OutboxRow, now: datetime) -> str:
    """Where one row stands, in words."""
    if row.status == "pending" and row.next_attempt > now and row.held_reason:
        return f"held: {row.held_reason}"
    if row.status == "pending" and row.attempts:
        error = _GAVE_UP.sub("", row.last_error)  # put back by `outbox retry`: not given up
        if row.next_attempt <= now:
            return f"due now (attempt {row.attempts + 1}); last error: {error}"
        return f"retrying at {row.next_attempt:%Y-%m-%d %H:%M:%S} UTC after: {error}"
    if row.status == "pending":
        return "due now"
    if row.status == "sending":
        return f"sending since attempt {row.attempts}"
    if row.status == "failed":
        error = row.last_error
        return error if error.startswith(("failed", "not sent")) else f"failed: {error}"
    return row.status


def outbox_status(store: OutboxQueue, now: datetime) -> dict[str, Any]:
    """The outbox part of ``watchlist status`` as a dict (JSON-ready)."""
    counts = store.counts()
    open_rows = store.outbox_rows(("pending", "sending", "failed"))
    waiting = [r for r in open_rows if r.status != "failed"]
    return {
        "counts": counts,
        "next_attempt": min((r.next_attempt for r in waiting), default=None),
        "oldest_undelivered": min((r.created for r in open_rows), default=None),
        "undelivered": [
            {
                "id": r.id,
                "channel": r.channel,
                "rule": r.rule,
                "title": r.title,
                "status": r.status,
                "attempts": r.attempts,
                "next_attempt": r.next_attempt,
                "why": describe(r, now),
            }
            for r in open_rows
        ],
    }


def format_outbox_status(store: OutboxQueue, now: datetime, limit: int = 20) -> str:
    """The outbox part of ``watchlist status``: counts, then every undelivered row and why."""
    info = outbox_status(store, now)
    c = info["counts"]
    lines = [
        f"outbox: {c['pending']} pending, {c['held']} held, {c['sending']} sending, "
        f"{c['failed']} failed, {c['sent']} sent, {c['dropped']} dropped "
        f"({c['alerts']} alerts, {c['seen']} articles seen)"
    ]
    if info["next_attempt"] is not None:
        lines.append(f"  next delivery due {info['next_attempt']:%Y-%m-%d %H:%M:%S} UTC")
    rows = info["undelivered"]
    for r in rows[:limit]:
        lines.append(f"  #{r['id']} {r['channel']} [{r['rule']}] {r['title'][:60]}: {r['why']}")
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more (`watchlist outbox list`)")
    if c["failed"]:
        lines.append("  failed rows stay until `watchlist outbox retry ID` or `outbox drop ID`")
    return "\n".join(lines)
