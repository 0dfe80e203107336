"""`watchlist status`: sources, outbox, recent alerts and last reload; a table or --json.

The rendering here is pure (``render_status``, ``snapshot_to_json`` over a
``watchlist.commands.statusview.StatusSnapshot``); ``run`` loads the config, opens the
state file if it exists, collects the snapshot and prints it. Every string that
could hold a secret (errors, URLs) goes through ``logs.mask``. When config or
rules do not load, status still reports the state the daemon runs on (the
``state:`` read from what YAML there is, else the default) and shows the load
errors as the failed reload; it then exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watchlist.cli import add_config_argument, config_path
from watchlist.commands.statuscluster import cluster_to_json, daemon_line, render_cluster
from watchlist.commands.statusview import (
    StatusSnapshot,
    collect_snapshot,
    daemon_read_them,
    failed_reload,
    salvage_config,
)
from watchlist.config.errors import ConfigErrors
from watchlist.daemon.logs import add_secrets, mask
from watchlist.models import SourceConfig
from watchlist.store import is_postgres


def ago(when: datetime | None, now: datetime) -> str:
    """``3m ago`` / ``in 2h`` / ``never``, coarse and short."""
    if when is None:
        return "never"
    secs = int((now - when).total_seconds())
    future, secs = secs < 0, abs(secs)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            text = f"{secs // size}{unit}"
            break
    else:
        text = f"{secs}s"
    return f"in {text}" if future else f"{text} ago"


def fmt_duration(d: timedelta) -> str:
    """``15m``, ``1h30m``, ``30s``."""
    secs = int(d.total_seconds())
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for r in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _when(t: datetime | None) -> str:
    return "-" if t is None else f"{t:%Y-%m-%d %H:%M:%S} UTC"


def render_status(snap: StatusSnapshot) -> str:
    """The human ``watchlist status`` report: header, sources, outbox, alerts, channels."""
    now = snap.now
    daemon = f"running (PID {snap.daemon_pid})" if snap.daemon_pid else "not running"
    if snap.cluster is not None:
        daemon = daemon_line(snap.cluster)
    out = [
        f"watchlist status at {now:%Y-%m-%d %H:%M:%S} UTC",
        f"config  {snap.config_path}",
        f"state   {snap.state_path}" + (f"  ({snap.state_problem})" if snap.state_problem else ""),
        f"daemon  {daemon}",
    ]
    rl = snap.last_reload
    if rl is None:
        out.append("reload  none recorded")
    elif rl.ok:
        out.append(f"reload  ok {ago(rl.at, now)} ({_when(rl.at)}), {rl.rules} rules in force")
        out.extend(f"        {mask(w)}" for w in rl.warnings)
    else:
        out.append(
            f"reload  FAILED {ago(rl.at, now)} ({_when(rl.at)}); "
            f"the {rl.rules} rules before it stay in force:"
        )
        out.extend(f"        {mask(e)}" for e in rl.errors)
    if snap.unset_vars:
        out.append(
            f"env     not set in this shell: {', '.join(snap.unset_vars)} (shown as ${{VAR}};"
            " the daemon reads its own environment)"
        )
    if snap.local_errors:
        out.append(
            f"check   this shell reads {len(snap.local_errors)} problem(s) that the daemon's"
            " last reload did not:"
        )
        out.extend(f"        {mask(e)}" for e in snap.local_errors)
    out += ["", "SOURCES"]
    if not snap.sources:
        out.append("  (none configured)")
    else:
        rows = []
        for s in snap.sources:
            nxt = ago(s.next_poll, now) if s.next_poll and s.next_poll > now else "-"
            err = "" if not s.failures else f"{_clip(mask(s.last_error), 70)}"
            rows.append(
                [
                    s.name if s.enabled else f"{s.name} (off)",
                    s.type,
                    fmt_duration(s.every),
                    ago(s.last_poll, now),
                    ago(s.last_success, now),
                    str(s.failures),
                    nxt,
                    str(s.articles),
                    err,
                ]
            )
        heads = ["name", "type", "every", "last poll", "last ok", "fails", "backoff", "articles"]
        out += ["  " + ln for ln in table([*heads, "last error"], rows)]
        for s in snap.sources:  # the errors in full: the table cuts them short
            if s.last_error and (s.failures or s.failed_files):
                files = s.failed_files
                count = f"{files} file{'s' if files != 1 else ''} in failed/; " if files else ""
                when = f" ({ago(s.last_error_at, now)})" if s.last_error_at else ""
                out.append(f"  {s.name}: {count}last error{when}: {mask(s.last_error)}")
    if snap.cluster is not None:
        out += render_cluster(snap.cluster, now, ago, table)
    out += ["", "OUTBOX"]
    ob = snap.outbox
    if ob is None:
        out.append("  no state yet (the daemon has not run)")
    else:
        c = ob.counts
        out.append(
            f"  {c.get('pending', 0)} pending, {c.get('held', 0)} held, {c.get('sending', 0)} "
            f"sending, {c.get('failed', 0)} failed, {c.get('sent', 0)} sent, "
            f"{c.get('dropped', 0)} dropped ({c.get('alerts', 0)} alerts, "
            f"{c.get('seen', 0)} articles seen)"
        )
        if ob.next_attempt is not None:
            out.append(f"  next delivery {ago(ob.next_attempt, now)} ({_when(ob.next_attempt)})")
        rows = [
            [f"#{r.id}", r.channel, r.rule, _clip(r.title, 50), _clip(mask(r.why), 70)]
            for r in ob.rows[:20]
        ]
        if rows:
            out += ["  " + ln for ln in table(["id", "channel", "rule", "title", "state"], rows)]
        if len(ob.rows) > 20:
            out.append(f"  ... and {len(ob.rows) - 20} more (`watchlist outbox list`)")
        if ob.failed:
            out.append("  failed rows stay until `watchlist outbox retry ID` or `outbox drop ID`")
    out += ["", "RECENT ALERTS"]
    if not snap.recent_alerts:
        out.append("  (none)")
    else:
        rows = [
            [
                ago(a.created, now),
                a.rule + (f" (muted by #{a.muted})" if a.muted else ""),
                a.source,
                _clip(a.title, 60),
                mask(a.url),
            ]
            for a in snap.recent_alerts
        ]
        out += ["  " + ln for ln in table(["when", "rule", "source", "title", "url"], rows)]
    if snap.merges:
        out += ["", "MERGED (the same story again: noted on the alert, no new alert)"]
        rows = [
            [ago(m.at, now), m.rule, m.source, _clip(m.title, 50), f"#{m.alert_id} ({m.how})"]
            for m in snap.merges
        ]
        out += [
            "  " + ln
            for ln in table(["when", "rule", "source", "title", "merged into alert"], rows)
        ]
    out += ["", "CHANNELS"]
    for name, urls in snap.channels:
        out.append(f"  {name}: {', '.join(mask(u) for u in urls)}")
    if not snap.channels:
        out.append("  (none)")
    return "\n".join(out) + "\n"


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def snapshot_to_json(snap: StatusSnapshot) -> dict[str, Any]:
    """The snapshot as a JSON-ready dict (times ISO 8601, secrets masked)."""
    rl = snap.last_reload
    ob = snap.outbox
    return {
        "now": _iso(snap.now),
        "config": snap.config_path,
        "state": snap.state_path,
        "state_problem": snap.state_problem,
        "daemon": {"running": snap.daemon_pid is not None, "pid": snap.daemon_pid},
        "last_reload": None
        if rl is None
        else {
            "at": _iso(rl.at),
            "ok": rl.ok,
            "errors": [mask(e) for e in rl.errors],
            "rules": rl.rules,
            "warnings": [mask(w) for w in rl.warnings],
        },
        "sources": [
            {
                "name": s.name,
                "type": s.type,
                "every_seconds": s.every.total_seconds(),
                "enabled": s.enabled,
                "last_poll": _iso(s.last_poll),
                "last_success": _iso(s.last_success),
                "last_error": mask(s.last_error),
                "last_error_at": _iso(s.last_error_at),
                "failures": s.failures,
                "next_poll": _iso(s.next_poll),
                "articles": s.articles,
                "failed_files": s.failed_files,
            }
            for s in snap.sources
        ],
        "outbox": None
        if ob is None
        else {
            "counts": dict(ob.counts),
            "pending": ob.pending,
            "failed": ob.failed,
            "next_attempt": _iso(ob.next_attempt),
            "rows": [
                {
                    "id": r.id,
                    "channel": r.channel,
                    "rule": r.rule,
                    "title": r.title,
                    "status": r.status,
                    "attempts": r.attempts,
                    "why": mask(r.why),
                }
                for r in ob.rows
            ],
        },
        "recent_alerts": [
            {
                "id": a.id,
                "article": a.article,
                "rule": a.rule,
                "title": a.title,
                "url": mask(a.url),
                "source": a.source,
                "created": _iso(a.created),
                "muted": a.muted,
            }
            for a in snap.recent_alerts
        ],
        "channels": {name: [mask(u) for u in urls] for name, urls in snap.channels},
        "merges": [
            {
                "alert_id": m.alert_id,
                "rule": m.rule,
                "source": m.source,
                "title": m.title,
                "url": mask(m.url),
                "how": m.how,
                "at": _iso(m.at),
            }
            for m in snap.merges
        ],
        "unset_vars": list(snap.unset_vars),
        "local_errors": [mask(e) for e in snap.local_errors],
        "cluster": None if snap.cluster is None else cluster_to_json(snap.cluster),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``, ``--json``, ``--alerts N``."""
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--alerts", type=int, default=10, metavar="N", help="recent alerts to show (default 10)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the status; exit 1 when config or rules do not load (the status still prints)."""
    from watchlist.config.loader import load_config
    from watchlist.delivery import CONFIG_CHECKS

    path = config_path(args)
    errors: list[Any] = []
    try:
        config = load_config(path, checks=CONFIG_CHECKS, unset_ok=True)
    except ConfigErrors as exc:
        errors = list(exc.errors)
        config = salvage_config(path)
    add_secrets(config.secrets)
    now = datetime.now(UTC)
    store = None
    if is_postgres(config.state) or Path(config.state).exists():
        from watchlist.store import open_store

        try:
            store = open_store(config.state)
        except ConnectionError as exc:
            print(f"watchlist status: {exc}", file=sys.stderr)
            return 1
    try:
        if errors and store is not None and not config.sources:
            # config.yaml itself is unreadable: list the sources the state knows
            known = (
                SourceConfig(name=n, type="?", every=timedelta(0)) for n in store.source_names()
            )
            config = replace(config, sources=tuple(known))
        snap = collect_snapshot(config, store, now, recent=max(args.alerts, 0))
    finally:
        if store is not None:
            store.close()
    if errors and snap.daemon_pid and daemon_read_them(errors, snap.last_reload):
        snap = replace(snap, local_errors=tuple(str(e) for e in errors))
        errors = []
    elif errors:
        snap = replace(snap, last_reload=failed_reload(errors, snap.last_reload, now))
    if args.json:
        print(json.dumps(snapshot_to_json(snap), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_status(snap))
    if errors:
        print(
            f"watchlist status: {len(errors)} error(s) in config or rules, shown under reload; "
            "fix them, `watchlist check` lists them",
            file=sys.stderr,
        )
        return 1
    return 0
