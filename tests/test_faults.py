"""Crash points: the worker SIGKILLed at each point, then restarted, loses nothing.

Each case runs tests/test_faults_driver.py as a real subprocess with
WATCHLIST_CRASH_AT set, then again without it, against a real json:// receiver.
Only a kill between the send and its record (before-record, or a SIGKILL from
outside while the receiver holds the request) may repeat a message, and only the
messages in flight at that moment: at most the channel's concurrency.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from localserver import LocalServer, Request, Route

from watchlist.store.sqlite import Store

DRIVER = Path(__file__).resolve().parent / "test_faults_driver.py"
ALERTS = 3


def run_driver(
    db: str | Path, url: str, crash: str | None, *, alerts: int = ALERTS, concurrency: int = 8
) -> subprocess.CompletedProcess[str]:
    """Run the crash driver once (with the crash hook if ``crash`` is given)."""
    env = {k: v for k, v in os.environ.items() if k != "WATCHLIST_CRASH_AT"}
    if crash:
        env["WATCHLIST_CRASH_AT"] = crash
    return subprocess.run(
        [sys.executable, str(DRIVER), str(db), url, str(alerts), str(concurrency)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "dupes_allowed"),
    [
        ("after-fetch", 0),
        ("after-commit", 0),
        ("before-send", 0),
        ("before-record", 1),
        ("after-send", 0),
    ],
)
def test_crash_then_restart_delivers_everything(
    state: str, http_server: LocalServer, point: str, dupes_allowed: int
) -> None:
    """Killed at a crash point and restarted: nothing lost; a duplicate only at before-record."""
    http_server.routes["/hook"] = Route(200)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = state  # an SQLite file or a PostgreSQL database
    first = run_driver(db, url, point)
    assert first.returncode == -signal.SIGKILL, first.stderr
    second = run_driver(db, url, None)
    assert second.returncode == 0, second.stderr
    titles = collections.Counter(p.json()["title"] for p in http_server.posts("/hook"))
    expected = {f"[acme] Acme story number {i} about widgets" for i in range(ALERTS)}
    assert set(titles) == expected  # none lost
    extra = sum(titles.values()) - ALERTS
    assert extra == dupes_allowed  # before-record repeats exactly the interrupted message
    store = Store(db)
    try:
        rows = store.outbox_rows()
        assert len(rows) == ALERTS and {r.status for r in rows} == {"sent"}
        if point in ("before-send", "before-record"):  # the interrupted row was claimed twice
            assert sorted(r.attempts for r in rows) == [1, 1, 2]
    finally:
        store.close()


@pytest.mark.slow
def test_crash_while_receiver_down_then_recovers(state: str, http_server: LocalServer) -> None:
    """A kill after a failed attempt keeps the row pending with its error; a rerun delivers it."""
    http_server.routes["/hook"] = Route(500)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = state  # an SQLite file or a PostgreSQL database
    assert run_driver(db, url, "after-send").returncode == -signal.SIGKILL
    store = Store(db)
    # the failure was recorded in the same commit that claimed the next message
    pending = store.outbox_rows(("pending", "sending"))
    assert len(pending) == ALERTS
    assert any("500" in r.last_error for r in pending)
    for r in pending:  # make them due now rather than after the backoff
        store.retry(r.id, r.created)
    store.close()
    http_server.routes["/hook"] = Route(200)
    assert run_driver(db, url, None).returncode == 0
    ok_titles = {p.json()["title"] for p in http_server.posts("/hook")}
    assert len(ok_titles) == ALERTS


@pytest.mark.slow
def test_kill_while_the_receiver_holds_the_request(state: str, http_server: LocalServer) -> None:
    """SIGKILL while a request is in flight, then a restart: all arrive, at most one twice."""
    release = threading.Event()

    def hold(req: Request) -> Route:
        release.wait(30)
        return Route(200)

    http_server.routes["/hook"] = hold
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = state  # an SQLite file or a PostgreSQL database
    env = {k: v for k, v in os.environ.items() if k != "WATCHLIST_CRASH_AT"}
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(db), url, str(ALERTS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert http_server.wait_for_posts(1, "/hook", timeout=30)
        proc.send_signal(signal.SIGKILL)  # the receiver is still holding the request
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        release.set()
        if proc.stderr is not None:
            proc.stderr.close()
    store = Store(db)
    try:
        assert [r.status for r in store.outbox_rows()].count("sending") == 1
    finally:
        store.close()
    http_server.routes["/hook"] = Route(200)
    second = run_driver(db, url, None)
    assert second.returncode == 0, second.stderr
    titles = collections.Counter(p.json()["title"] for p in http_server.posts("/hook"))
    expected = {f"[acme] Acme story number {i} about widgets" for i in range(ALERTS)}
    assert set(titles) == expected  # none lost
    assert sum(titles.values()) - ALERTS <= 1  # only the interrupted message may repeat
    store = Store(db)
    try:
        assert {r.status for r in store.outbox_rows()} == {"sent"}
    finally:
        store.close()


WINDOW = 4
MANY = 30


def _titles(server: LocalServer) -> collections.Counter[str]:
    """Titles of the messages received whole (a kill may cut a request's body short)."""
    out: collections.Counter[str] = collections.Counter()
    for p in server.posts("/hook"):
        try:
            out[p.json()["title"]] += 1
        except ValueError:
            continue
    return out


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before-send:3", "before-record:4", "after-send:4"])
def test_crash_with_sends_in_flight_repeats_at_most_the_window(
    tmp_path: Path, http_server: LocalServer, point: str
) -> None:
    """Killed with a full window of concurrent sends: none lost, at most WINDOW repeated."""
    http_server.routes["/hook"] = Route(200, delay=0.02)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = tmp_path / "state.db"
    first = run_driver(db, url, point, alerts=MANY, concurrency=WINDOW)
    assert first.returncode == -signal.SIGKILL, first.stderr
    store = Store(db)
    try:
        in_flight = [r for r in store.outbox_rows() if r.status == "sending"]
        assert 1 <= len(in_flight) <= WINDOW  # claimed and not recorded: never more
    finally:
        store.close()
    assert run_driver(db, url, None, alerts=MANY, concurrency=WINDOW).returncode == 0
    titles = _titles(http_server)
    assert set(titles) == {f"[acme] Acme story number {i} about widgets" for i in range(MANY)}
    repeated = sum(titles.values()) - MANY
    assert repeated <= len(in_flight)  # only the messages in flight may arrive twice


@pytest.mark.slow
def test_kill_with_the_window_held_by_the_receiver(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """SIGKILL while the receiver holds WINDOW requests: those may repeat, no others."""
    release = threading.Event()
    answered = 0
    lock = threading.Lock()

    def hold_after_eight(req: Request) -> Route:
        nonlocal answered
        with lock:
            answered += 1
            mine = answered
        if mine > 8:
            release.wait(30)
        return Route(200)

    http_server.routes["/hook"] = hold_after_eight
    url = f"json://127.0.0.1:{http_server.port}/hook"
    db = tmp_path / "state.db"
    env = {k: v for k, v in os.environ.items() if k != "WATCHLIST_CRASH_AT"}
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(db), url, str(MANY), str(WINDOW)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert http_server.wait_for_posts(8 + WINDOW, "/hook", timeout=30)
        proc.send_signal(signal.SIGKILL)  # WINDOW requests are held by the receiver
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        release.set()
        if proc.stderr is not None:
            proc.stderr.close()
    assert len(http_server.posts("/hook")) == 8 + WINDOW  # never more than WINDOW at once
    store = Store(db)
    try:
        assert [r.status for r in store.outbox_rows()].count("sending") == WINDOW
    finally:
        store.close()
    answered = -(10**6)  # answer everything from now on
    assert run_driver(db, url, None, alerts=MANY, concurrency=WINDOW).returncode == 0
    titles = _titles(http_server)
    assert set(titles) == {f"[acme] Acme story number {i} about widgets" for i in range(MANY)}
    assert sum(titles.values()) - MANY == WINDOW  # exactly the held ones arrived twice
