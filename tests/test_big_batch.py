"""A post of thousands of matching articles: linear work, chunked commits, a prompt stop."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from localserver import LocalServer, Route
from test_daemon_ops import Daemon, Feed, _free_port, setup

from watchlist.config.loader import load_config
from watchlist.daemon.intake import CHUNK, Intake
from watchlist.daemon.metrics import Metrics
from watchlist.daemon.pipeline import Pipeline, Runtime
from watchlist.delivery import CONFIG_CHECKS
from watchlist.models import SourceConfig
from watchlist.sources.ingest import IngestServer
from watchlist.store.sqlite import Store

__all__ = ["setup"]  # the daemon fixture, used here too

CONFIG = "state: ./{name}.db\nrules: rules.yaml\nchannels:\n  hook: json://127.0.0.1:9/never\n"
RULES = "- name: fusion\n  topics: [nuclear fusion]\n  notify: [hook]\n"


def batch(n: int, prefix: str = "a") -> list[dict[str, str]]:
    """``n`` small articles that all match rule fusion, each its own story."""
    return [
        {"title": f"Nuclear fusion plant {prefix}{i:05d} starts", "url": f"https://n.example/{i}"}
        for i in range(n)
    ]


def _post_and_count(tmp_path: Path, n: int) -> tuple[int, int]:
    """Post ``n`` matching articles to a real ingest server; (SQLite VM kilo-steps, commits)."""
    (tmp_path / f"{n}.yaml").write_text(CONFIG.format(name=n))
    (tmp_path / "rules.yaml").write_text(RULES)
    cfg = load_config(tmp_path / f"{n}.yaml", checks=CONFIG_CHECKS, env={})
    store = Store(cfg.state)
    wakes = [0]
    intake = Intake(
        Pipeline(store, Runtime.build(cfg)),
        Metrics(),
        httpx.Client(),
        clock=lambda: datetime.now(UTC),
        on_matches=lambda: wakes.__setitem__(0, wakes[0] + 1),
    )
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    src = SourceConfig(name="push", type="http", listen="127.0.0.1:0")
    server = IngestServer(src, lambda arts: intake.submit("push", arts)).start()
    try:
        store._conn.set_progress_handler(tick, 1000)
        r = httpx.post(server.url + "/articles", json=batch(n), timeout=120)
        store._conn.set_progress_handler(None, 0)
        assert r.status_code == 202, r.text
        assert store.counts()["alerts"] == n
    finally:
        server.stop()
        store.close()
    return steps[0], wakes[0]


def test_post_of_4000_costs_4_times_1000_and_commits_in_chunks(tmp_path: Path) -> None:
    """4,000 matching articles cost about 4x the store work of 1,000; the outbox wakes per chunk."""
    small, _ = _post_and_count(tmp_path, 1000)
    large, large_wakes = _post_and_count(tmp_path, 4000)
    assert large / small < 6, (small, large)  # quadratic gave 16
    assert large_wakes >= 4000 // CHUNK  # the outbox is woken after each chunk, not once


@pytest.mark.slow
def test_outbox_runs_during_a_huge_post_and_sigterm_cuts_it_short(
    setup: tuple[Path, Feed, Callable[..., Daemon]], http_server: LocalServer
) -> None:
    """While 10,000 articles record, alerts go out; SIGTERM stops between chunks, exits 0."""
    cfg, _feed, start = setup
    port = _free_port()
    cfg.write_text(
        cfg.read_text().replace(
            "channels:", f"  - name: push\n    type: http\n    listen: 127.0.0.1:{port}\nchannels:"
        )
    )
    http_server.routes["/hook"] = Route(200, "ok")
    d = start()
    answer: list[httpx.Response] = []
    body = batch(10_000)

    def post() -> None:
        answer.append(httpx.post(f"http://127.0.0.1:{port}/articles", json=body, timeout=300))

    poster = threading.Thread(target=post)
    poster.start()
    assert http_server.wait_for_posts(1, "/hook", timeout=120), d.log()
    assert not answer, "the post answered before any alert went out"  # sent meanwhile
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(60) == 0
    poster.join(60)
    state = cfg.parent / "state" / "watchlist.db"
    db = sqlite3.connect(state)
    seen = db.execute("SELECT count(*) FROM seen").fetchone()[0]
    pending = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    db.close()
    assert 0 < seen < len(body), seen  # cut short between chunks, not run to the end
    assert pending > 0  # what was recorded but not sent stays pending
    [r] = answer
    assert r.status_code == 503 and "articles stored" in json.loads(r.text)["error"]
    assert "Traceback" not in d.log()
