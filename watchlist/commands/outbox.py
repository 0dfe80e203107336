"""`watchlist outbox list / retry ID / drop ID`: see and act on deliveries not yet made."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.delivery.describe import describe

if TYPE_CHECKING:  # the store (and the matcher it imports) loads only when a command runs
    from watchlist.store import OutboxRow, Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``list [--all] [--json]``, ``retry ID``, ``drop ID``; each takes ``-c FILE``."""
    parser.add_argument(  # `outbox -c FILE list` too; main() hands it on as args.config
        "-c",
        "--config",
        dest="top_config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="config file (also accepted after the action)",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser("list", help="pending and failed rows: channel, rule, attempts, why")
    add_config_argument(p)
    p.add_argument("--all", action="store_true", help="also rows already sent or dropped")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    for name, text in (
        ("retry", "make a failed row due now (the daemon sends it on its next run)"),
        ("drop", "give up a pending or failed row (kept on record as dropped; retry revives it)"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        add_config_argument(p)
        p.add_argument("id", type=int, metavar="ID", help="the row id shown by `outbox list`")


def _as_dict(row: OutboxRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "alert": row.alert_id,
        "article": row.article_id,
        "status": row.status,
        "channel": row.channel,
        "rule": row.rule,
        "title": row.title,
        "url": row.url,
        "attempts": row.attempts,
        "next_attempt": row.next_attempt.isoformat(),
        "last_error": row.last_error,
        "why": describe(row, now),
    }


def _next(row: OutboxRow, now: datetime) -> str:
    """When the row's next attempt is, in words; only pending rows have one."""
    if row.status == "pending":
        if row.next_attempt <= now:
            return "next attempt: now"
        return f"next attempt {row.next_attempt:%Y-%m-%d %H:%M:%S} UTC"
    if row.status == "sending":
        return "being sent now"
    if row.status == "failed":
        return "no more attempts until `watchlist outbox retry ID`"
    return "no more attempts"


def _list(store: Store, args: argparse.Namespace, now: datetime) -> int:
    wanted = None if args.all else ("pending", "sending", "failed")
    rows = store.outbox_rows(wanted)
    if args.json:
        for row in rows:
            print(json.dumps(_as_dict(row, now), ensure_ascii=False))
        return 0
    if not rows:
        print("outbox: nothing waiting - every alert has been delivered")
        return 0
    for row in rows:
        print(
            f"#{row.id} {row.status} {row.channel} [{row.rule}] {row.title[:70]}"
            f" - {row.attempts} attempt{'s' if row.attempts != 1 else ''}, {_next(row, now)}"
        )
        print(f"    {describe(row, now)}")
    failed = sum(1 for r in rows if r.status == "failed")
    if failed:
        print(
            f"{failed} failed: `watchlist outbox retry ID` sends again, `drop ID` gives up"
            " (a dropped row can be retried later)"
        )
    return 0


def _who_sends(state: str) -> str:
    """Who will send a row made due, in words that fit whether or not a daemon runs."""
    from watchlist.commands.statusview import running_pid

    pid = running_pid(state)
    if pid is not None:
        return f"the running daemon (PID {pid}) sends it on its next outbox run, within seconds"
    return (
        "no daemon runs on this state: it goes out when you start `watchlist run` (or `run --once`)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; exit 1 when the row does not exist or cannot change."""
    if not getattr(args, "action", None):
        print("watchlist outbox: choose list, retry ID or drop ID", file=sys.stderr)
        return 2
    config = load_config_or_report(args, unset_ok=True, with_rules=False)
    if config is None:
        return 1
    if "${" in config.state:
        print(
            f"watchlist outbox: state: needs {', '.join(config.unset_vars)}; set it",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    from watchlist.store import open_store

    store = open_store(config.state)
    try:
        if args.action == "list":
            return _list(store, args, now)
        rows = store.outbox_rows(ids=[args.id])
        if not rows:
            print(
                f"watchlist outbox: no row #{args.id} (see `watchlist outbox list --all`)",
                file=sys.stderr,
            )
            return 1
        row = rows[0]
        if args.action == "retry":
            if not store.retry(args.id, now):
                print(
                    f"watchlist outbox: row #{args.id} is {row.status}; only pending, failed or"
                    " dropped rows can be retried",
                    file=sys.stderr,
                )
                return 1
            print(f"#{args.id} {row.channel} [{row.rule}] is due now; {_who_sends(config.state)}")
            return 0
        if not store.drop(args.id, now):
            revive = (
                f"; `watchlist outbox retry {args.id}` revives it"
                if row.status == "dropped"
                else ""
            )
            print(
                f"watchlist outbox: row #{args.id} is {row.status}; only pending or failed rows"
                f" can be dropped{revive}",
                file=sys.stderr,
            )
            return 1
        print(
            f"#{args.id} {row.channel} [{row.rule}] dropped: it will not be sent. It stays on"
            f" record (`watchlist outbox list --all`); `watchlist outbox retry {args.id}`"
            " revives it"
        )
        return 0
    finally:
        store.close()
