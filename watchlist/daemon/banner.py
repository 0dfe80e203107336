"""What the daemon says when it starts and stops, and what ``run --once`` did, in words.

Pure: a ``Config`` or the store's counts in, log lines out (plurals right).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from watchlist.models import Config

SHOWN = 8  # names listed before "and N more"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 rule``, ``2 rules``, ``0 sources``."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def _names(names: Sequence[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f": {shown}{more}"


def start_lines(config: Config, version: str) -> list[str]:
    """The config and state in use, and the rules, sources and channels in force."""
    enabled = [r.name for r in config.rules if r.enabled]
    off = len(config.rules) - len(enabled)
    files = plural(len(config.rule_files), "file")
    rules = f"{plural(len(enabled), 'rule')} in force from {files}"
    if off:
        rules += f" ({off} disabled)"
    sources = [
        f"{s.name} ({s.type}"
        + (f", listens on {s.listen})" if s.type == "http" else f", every {_every(s.every)})")
        for s in config.sources
        if s.enabled
    ]
    used = {c for r in config.rules if r.enabled for c in r.notify}
    channels = [c.name for c in config.channels if c.name in used or c.name != "console"]
    return [
        f"watchlist {version} starting: config {config.path}, state {config.state}",
        f"{rules}{_names(enabled)}",
        f"{plural(len(sources), 'source')}{_names(sources)}",
        f"{plural(len(channels), 'channel')}{_names(channels)}",
    ]


def _every(every: timedelta) -> str:
    secs = int(every.total_seconds())
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def stop_line(counts: Mapping[str, int]) -> str:
    """How many alerts stay in the outbox for the next start."""
    waiting = counts.get("pending", 0) + counts.get("held", 0) + counts.get("sending", 0)
    failed = counts.get("failed", 0)
    if not waiting and not failed:
        return "stopped: the outbox is empty"
    parts = [f"{plural(waiting, 'delivery', 'deliveries')} pending"] if waiting else []
    if failed:
        parts.append(f"{failed} failed (see `watchlist outbox list`)")
    return f"stopped: {', '.join(parts)}; pending ones go out at the next start"


def log_start(log: logging.Logger, config: Config, version: str) -> None:
    """Log ``start_lines``, one record each."""
    for line in start_lines(config, version):
        log.info("%s", line)


def log_stop(log: logging.Logger, store: Any) -> None:
    """Log ``stop_line`` for ``store``'s outbox (a state that cannot count is no reason to fail)."""
    try:
        log.info("%s", stop_line(store.counts()))
    except Exception:
        log.debug("could not count the outbox at stop", exc_info=True)


def once_line(before: Mapping[str, int], after: Mapping[str, int], sources: int) -> str:
    """What one ``run --once`` found and sent."""
    new = after.get("seen", 0) - before.get("seen", 0)
    alerts = after.get("alerts", 0) - before.get("alerts", 0)
    sent = after.get("sent", 0) - before.get("sent", 0)
    waiting = after.get("pending", 0) + after.get("held", 0)
    if not new and not alerts and not sent:
        tail = f"; {plural(waiting, 'delivery', 'deliveries')} still pending" if waiting else ""
        return f"run --once: nothing new from {plural(sources, 'source')}{tail}"
    return (
        f"run --once: {plural(new, 'new article')} from {plural(sources, 'source')}, "
        f"{plural(alerts, 'alert')}, {plural(sent, 'message')} sent"
        + (f", {plural(waiting, 'delivery', 'deliveries')} pending" if waiting else "")
    )
