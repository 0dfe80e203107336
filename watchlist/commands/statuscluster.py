"""The CLUSTER part of ``watchlist status`` (PostgreSQL state): daemons, source leases, outbox.

Pure: takes the store's ``cluster_view(now)`` (``watchlist.store.cluster``) and
renders it as text lines or a JSON-ready dict. A daemon is alive while its last
heartbeat is within the lease; a source is held by the daemon that last claimed
it ("polling" while its lease runs); the outbox counts rows sending and sent per
daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def daemon_line(cluster: Mapping[str, Any]) -> str:
    """The ``daemon`` header line: how many daemons are alive on this database."""
    alive = [d for d in cluster["daemons"] if d["alive"]]
    if not alive:
        return "none alive (cluster on PostgreSQL)"
    return f"{len(alive)} alive (cluster on PostgreSQL): " + ", ".join(d["id"] for d in alive)


def render_cluster(
    cluster: Mapping[str, Any],
    now: datetime,
    ago: Callable[[datetime | None, datetime], str],
    table: Callable[[list[str], list[list[str]]], list[str]],
) -> list[str]:
    """The CLUSTER section's lines."""
    out = ["", "CLUSTER"]
    lease = cluster["lease"].total_seconds()
    rows = [
        [
            d["id"],
            "alive" if d["alive"] else "gone",
            ago(d["heartbeat"], now),
            ago(d["started"], now),
            d["version"],
        ]
        for d in cluster["daemons"]
    ]
    if rows:
        out.append(f"  daemons (alive: a heartbeat within the {lease:g}s lease)")
        out += [
            "    " + ln
            for ln in table(["daemon", "state", "heartbeat", "started", "version"], rows)
        ]
    else:
        out.append("  no daemon has run on this database yet")
    rows = [
        [
            x["source"],
            x["holder"] or "-",
            "polling" if x["polling"] else "idle",
            ago(x["polled"], now),
            str(x["polls"]),
            "now" if x["due"] is None or x["due"] <= now else ago(x["due"], now),
        ]
        for x in cluster["leases"]
    ]
    if rows:
        out.append("  sources (holder: the daemon that polled it last or polls it now)")
        heads = ["source", "holder", "lease", "polled", "polls", "due"]
        out += ["    " + ln for ln in table(heads, rows)]
    rows = [
        [who, str(n["sending"]), str(n["sent"])] for who, n in sorted(cluster["outbox"].items())
    ]
    if rows:
        out.append("  outbox per daemon")
        out += ["    " + ln for ln in table(["daemon", "sending", "sent"], rows)]
    return out


def cluster_to_json(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """The cluster view as JSON-ready data (times ISO 8601)."""
    return {
        "lease_seconds": cluster["lease"].total_seconds(),
        "daemons": [
            {**d, "started": _iso(d["started"]), "heartbeat": _iso(d["heartbeat"])}
            for d in cluster["daemons"]
        ],
        "sources": [
            {
                **x,
                "expires": _iso(x["expires"]),
                "due": _iso(x["due"]),
                "polled": _iso(x["polled"]),
            }
            for x in cluster["leases"]
        ],
        "outbox": dict(cluster["outbox"]),
    }


__all__ = ["cluster_to_json", "daemon_line", "render_cluster"]
