"""Benchmark the web page: how long each page takes with 100,000 alerts in the state.

Builds a real SQLite state file with ``--alerts`` alerts over 20 rules and the last
7 days (one outbox row each: most sent, 1 in 100 failed, 1 in 50 pending, 1 in
200 muted), serves the page with the daemon's own status server (uvicorn, a real
socket, the token set) and times ``--repeat`` GETs of each page over one kept-alive
httpx connection, logged in by bearer header. The same is done first with a
baseline state of ``--baseline`` alerts, and the ratio printed beside each figure.
The bar (issue 12): every page under 100 ms with 100,000 alerts.

    python benchmarks/bench_web.py                 # 100,000 alerts against 100
    python benchmarks/bench_web.py --alerts 20000  # quicker
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from watchlist.config.loader import load_config
from watchlist.daemon.metrics import Metrics
from watchlist.daemon.server import StatusServer
from watchlist.daemon.web import WebContext, web_routes
from watchlist.store import Store, open_store
from watchlist.store.outbox import ts

TOKEN = "bench-token"
RULES = 20
PAGES = ("/", "/alerts", "/alerts?rule=rule-7", "/alerts/{last}", "/rules", "/mutes", "/outbox")


def fill(store: Store, n: int, now: datetime) -> None:
    """``n`` alerts (with one outbox row each) spread over the last 7 days."""
    mute = store.add_mute("rule-3", now + timedelta(days=1), "bench", now)
    hits = json.dumps(
        [
            {
                "group": "companies",
                "entry": "Acme",
                "term": "Acme",
                "text": "Acme",
                "field": "title",
                "start": 0,
                "end": 4,
                "score": 100.0,
            }
        ]
    )
    snippet = json.dumps({"before": "", "hit": "Acme", "after": " files for an IPO"})
    with store.tx() as db:
        for i in range(n):
            when = ts(now - timedelta(seconds=(n - i) * 604800 / n))
            rule = f"rule-{i % RULES}"
            muted = mute.id if i % 200 == 0 else None
            cur = db.execute(
                "INSERT INTO alerts (rule, article_id, url, title, title_key, summary, source,"
                " published, score, hits, snippet, created, story_at, muted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    rule,
                    f"urn:a:{i}",
                    f"https://news.example/{i}",
                    f"Acme files for IPO #{i}",
                    f"acme files for ipo {i}",
                    "Acme Corp said it would list.",
                    "wire",
                    when[:16],
                    100.0,
                    hits,
                    snippet,
                    when,
                    when,
                    muted,
                ),
            )
            alert_id = cur.fetchone()[0]
            if muted:
                continue
            status = "failed" if i % 100 == 1 else "pending" if i % 50 == 2 else "sent"
            db.execute(
                "INSERT INTO outbox (alert_id, channel, status, due, next_attempt, attempts,"
                " last_error, created, updated) VALUES (?, 'hook', ?, ?, ?, 1, ?, ?, ?)",
                (alert_id, status, when, when, "refused" if status == "failed" else "", when, when),
            )


def measure(alerts: int, repeat: int) -> dict[str, float]:
    """Median milliseconds per page with ``alerts`` alerts in a fresh state."""
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    (folder / "rules").mkdir()
    (folder / "rules" / "r.yaml").write_text(
        "".join(f"- name: rule-{i}\n  companies: [Acme{i}]\n" for i in range(RULES))
    )
    (folder / "config.yaml").write_text(
        "state: state.db\nrules: rules/\n"
        "sources:\n  - name: wire\n    type: folder\n    path: inbox\n"
        f"server:\n  listen: 127.0.0.1:9100\n  token: {TOKEN}\n"
    )
    config = load_config(folder / "config.yaml")
    store = open_store(config.state)
    now = datetime.now(UTC)
    fill(store, alerts, now)
    ctx = WebContext(store=store, config=lambda: config, token=TOKEN)
    server = StatusServer("127.0.0.1:0", Metrics(), lambda: {"ok": True}, web_routes(ctx)).start()
    # Accepted sockets inherit TCP_NODELAY on Linux; without it every response waits ~40 ms
    # for a delayed ACK (the speed branch sets it in StatusServer itself).
    if server._sock is not None:
        server._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out: dict[str, float] = {}
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for page in PAGES:
                path = page.format(last=alerts)
                assert c.get(path).status_code == 200, path  # warm: templates compiled
                times = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    r = c.get(path)
                    times.append(time.perf_counter() - start)
                    assert r.status_code == 200
                out[page] = statistics.median(times) * 1000
    finally:
        server.stop()
        store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Print each page's median time with many alerts, the baseline's, and their ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=100_000)
    p.add_argument("--baseline", type=int, default=100)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args(argv)
    base = measure(args.baseline, args.repeat)
    big = measure(args.alerts, args.repeat)
    print(f"median ms per page, {args.repeat} GETs each (bar: < 100 ms at 100,000 alerts)")
    print(f"{'page':24} {args.baseline:>10,} {args.alerts:>10,}  ratio")
    worst = 0.0
    for page in PAGES:
        worst = max(worst, big[page])
        print(f"{page:24} {base[page]:10.1f} {big[page]:10.1f}  {big[page] / base[page]:5.2f}")
    print(f"slowest page: {worst:.1f} ms ({'under' if worst < 100 else 'OVER'} 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
