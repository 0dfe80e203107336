"""Crash points: the worker SIGKILLed at each point, then restarted, loses nothing.

Each case runs tests/test_faults_driver.py as a real subprocess with
WATCHLIST_CRASH_AT set, then again without it, against a real json:// receiver.
Only the during-send point may repeat a message, and only that one message.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from localserver import LocalServer, Route

from watchlist.store import Store

DRIVER = Path(__file__).resolve().parent / "test_faults_driver.py"
ALERTS = 3


def run_driver(db: Path, url: str, crash: str | None) -> subprocess.CompletedProcess[str]:
    """Run the crash driver once (with the crash hook if ``crash`` is given)."""
    env = {k: v for k, v in os.environ.items() if k != "WATCHLIST_CRASH_AT"}
    if crash:
        env["WATCHLIST_CRASH_AT"] = crash
    return subprocess.run(
        [sys.executable, str(DRIVER), str(db), url, str(ALERTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "dupes_allowed"),
    [("after-fetch", 0), ("after-commit", 0), ("during-send", 1), ("after-send", 0)],
)
def test_crash_then_restart_delivers_everything(
    tmp_path: Path, http_server: LocalServer, point: str, dupes_allowed: int
) -> None:
    """Killed at a crash point and restarted: all alerts arrive; a duplicate only at during-send."""
    http_server.routes["/hook"] = Route(200)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = tmp_path / "state.db"
    first = run_driver(db, url, point)
    assert first.returncode == -signal.SIGKILL, first.stderr
    second = run_driver(db, url, None)
    assert second.returncode == 0, second.stderr
    titles = collections.Counter(p.json()["title"] for p in http_server.posts("/hook"))
    expected = {f"[acme] Acme story number {i} about widgets" for i in range(ALERTS)}
    assert set(titles) == expected  # none lost
    extra = sum(titles.values()) - ALERTS
    assert extra == dupes_allowed  # during-send repeats exactly the interrupted message
    store = Store(db)
    try:
        rows = store.outbox_rows()
        assert len(rows) == ALERTS and {r.status for r in rows} == {"sent"}
        if dupes_allowed:
            assert sorted(r.attempts for r in rows) == [1, 1, 2]
    finally:
        store.close()


@pytest.mark.slow
def test_crash_while_receiver_down_then_recovers(tmp_path: Path, http_server: LocalServer) -> None:
    """A kill after a failed attempt keeps the row pending with its error; a rerun delivers it."""
    http_server.routes["/hook"] = Route(500)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = tmp_path / "state.db"
    assert run_driver(db, url, "after-send").returncode == -signal.SIGKILL
    store = Store(db)
    pending = store.outbox_rows("pending")
    assert len(pending) == ALERTS
    assert any("500" in r.last_error for r in pending)
    for r in pending:  # make them due now rather than after the backoff
        store.retry(r.id, r.created)
    store.close()
    http_server.routes["/hook"] = Route(200)
    assert run_driver(db, url, None).returncode == 0
    ok_titles = {p.json()["title"] for p in http_server.posts("/hook")}
    assert len(ok_titles) == ALERTS
