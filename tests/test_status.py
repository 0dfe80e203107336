"""Tests for `watchlist status`: pure rendering of snapshots, and the command on a real state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localserver import LocalServer, Route

from watchlist.commands.status import ago, fmt_duration, render_status, snapshot_to_json, table
from watchlist.commands.statusview import (
    AlertLine,
    OutboxLine,
    OutboxStatus,
    SourceStatus,
    StatusSnapshot,
    running_pid,
)
from watchlist.daemon import logs
from watchlist.daemon.lock import StateLock
from watchlist.daemon.reload_status import ReloadStatus, write_reload_status

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FEED = Path(__file__).resolve().parents[1] / "examples" / "star-market-news.xml"


def _snap(**kw: object) -> StatusSnapshot:
    base: dict[str, object] = {
        "now": NOW,
        "config_path": "/etc/w/config.yaml",
        "state_path": "/s.db",
    }
    return StatusSnapshot(**(base | kw))  # type: ignore[arg-type]


FULL = _snap(
    daemon_pid=4242,
    sources=(
        SourceStatus(
            "star-news",
            "rss",
            timedelta(minutes=15),
            last_poll=NOW - timedelta(minutes=3),
            last_success=NOW - timedelta(hours=2),
            last_error="HTTP 503 from https://x.org/feed?token=abc123",
            failures=4,
            next_poll=NOW + timedelta(minutes=20),
            articles=120,
        ),
        SourceStatus("inbox", "folder", timedelta(seconds=30), enabled=False),
    ),
    outbox=OutboxStatus(
        {"pending": 2, "held": 1, "failed": 1, "sent": 9, "alerts": 12, "seen": 300},
        next_attempt=NOW + timedelta(seconds=40),
        rows=(
            OutboxLine(
                7,
                "me",
                "ipo",
                "STAR Market IPO",
                "failed",
                5,
                "failed: tgram://1234567890:AAbbCCdd/1",
            ),
        ),
    ),
    recent_alerts=(
        AlertLine(
            12,
            "ipo",
            "STAR Market backs AI IPOs",
            "https://n.org/a",
            "star-news",
            NOW - timedelta(hours=1),
        ),
    ),
    last_reload=ReloadStatus(
        NOW - timedelta(minutes=1), False, ("rules/a.yaml:3:5: unknown key 'topic'",), 7
    ),
    channels=(("me", ("tgram://***/***",)),),
)


@pytest.mark.parametrize(
    ("snap", "expected"),
    [
        (FULL, "daemon  running (PID 4242)"),
        (_snap(), "daemon  not running"),
        (
            FULL,
            "reload  FAILED 1m ago (2026-11-24 09:59:00 UTC); the 7 rules before it stay in force:",
        ),
        (FULL, "        rules/a.yaml:3:5: unknown key 'topic'"),
        (
            _snap(last_reload=ReloadStatus(NOW, True, (), 3)),
            "reload  ok 0s ago (2026-11-24 10:00:00 UTC), 3 rules in force",
        ),
        (_snap(), "reload  none recorded"),
        (
            _snap(last_reload=ReloadStatus(NOW, True, (), 3, ("c.yaml: state: needs a restart",))),
            "        c.yaml: state: needs a restart",
        ),
        (
            FULL,
            "  star-news    rss     15m    3m ago     2h ago   4      in 20m   120       "
            "HTTP 503 from https://x.org/feed?token=***",
        ),
        (FULL, "  inbox (off)  folder  30s    never      never    0      -        0"),
        (_snap(), "  (none configured)"),
        (
            FULL,
            "  2 pending, 1 held, 0 sending, 1 failed, 9 sent, 0 dropped "
            "(12 alerts, 300 articles seen)",
        ),
        (FULL, "  next delivery in 40s (2026-11-24 10:00:40 UTC)"),
        (FULL, "  #7  me       ipo   STAR Market IPO  failed: tgram://***:***/1"),
        (FULL, "  failed rows stay until `watchlist outbox retry ID` or `outbox drop ID`"),
        (_snap(), "  no state yet (the daemon has not run)"),
        (FULL, "  1h ago  ipo   star-news  STAR Market backs AI IPOs  https://n.org/a"),
        (_snap(), "  (none)"),
        (FULL, "  me: tgram://***/***"),
    ],
)
def test_render_lines(snap: StatusSnapshot, expected: str) -> None:
    """The human table holds each expected line."""
    assert expected in render_status(snap).splitlines()


def test_render_never_shows_secrets() -> None:
    """Tokens in errors and URLs are masked in the table and the JSON."""
    logs.add_secrets(["abc123"])
    try:
        for text in (render_status(FULL), json.dumps(snapshot_to_json(FULL))):
            assert "abc123" not in text and "AAbbCCdd" not in text and "1234567890" not in text
    finally:
        logs.clear_secrets()


def test_json_shape() -> None:
    """--json gives the same facts as typed JSON with ISO times."""
    obj = snapshot_to_json(FULL)
    assert obj["daemon"] == {"running": True, "pid": 4242}
    assert obj["last_reload"]["ok"] is False and obj["last_reload"]["rules"] == 7
    assert obj["sources"][0]["next_poll"] == "2026-11-24T10:20:00+00:00"
    assert obj["sources"][0]["failures"] == 4
    assert obj["outbox"]["pending"] == 3 and obj["outbox"]["failed"] == 1
    assert obj["outbox"]["rows"][0]["id"] == 7
    assert obj["recent_alerts"][0]["rule"] == "ipo"
    assert json.loads(json.dumps(obj)) == obj
    assert snapshot_to_json(_snap())["outbox"] is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "never"),
        (0, "0s ago"),
        (59, "59s ago"),
        (61, "1m ago"),
        (7200, "2h ago"),
        (-90, "in 1m"),
        (200000, "2d ago"),
    ],
)
def test_ago(delta: int | None, text: str) -> None:
    """Relative times are short and coarse."""
    assert ago(None if delta is None else NOW - timedelta(seconds=delta), NOW) == text


@pytest.mark.parametrize(
    ("d", "text"),
    [(timedelta(minutes=90), "1h30m"), (timedelta(0), "0s"), (timedelta(seconds=30), "30s")],
)
def test_fmt_duration(d: timedelta, text: str) -> None:
    """Durations print like config.yaml writes them."""
    assert fmt_duration(d) == text


def test_table_aligns() -> None:
    """Columns line up under their headers."""
    assert table(["a", "bb"], [["xxx", "y"]]) == ["a    bb", "xxx  y"]


def test_running_pid(tmp_path: Path) -> None:
    """running_pid sees a live lock holder and nothing once it releases."""
    state = tmp_path / "s.db"
    assert running_pid(state) is None
    with StateLock(state):
        assert running_pid(state) == os.getpid()
    assert running_pid(state) is None


# ------------------------------------------------------------------ the command, for real


def _write_config(tmp_path: Path, feed_url: str) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "- name: fusion\n  topics: [fusion]\n  notify: [hook]\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            state: ./state/watchlist.db
            rules: rules/
            sources:
              - name: star
                type: rss
                url: {feed_url}
                every: 1m
            channels:
              hook: json://user:${{HOOK_PW}}@127.0.0.1:9/hook
            """
        )
    )
    return cfg


def _watchlist(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_status_command_on_real_state(tmp_path: Path, http_server: LocalServer) -> None:
    """After a real run, status shows the source, the undelivered row and the alert, no secret."""
    if not FEED.exists():
        pytest.skip("examples/star-market-news.xml not present")
    http_server.routes["/feed.xml"] = Route(
        200, FEED.read_bytes(), {"Content-Type": "application/rss+xml"}
    )
    cfg = _write_config(tmp_path, http_server.url("/feed.xml"))
    env = {"HOOK_PW": "HookPassw0rd"}
    before = _watchlist("status", "-c", str(cfg), env=env)
    assert before.returncode == 0, before.stderr
    assert "no state yet" in before.stdout
    run = _watchlist("run", "--once", "-c", str(cfg), env=env)
    assert run.returncode in (0, 1), run.stderr  # the hook is unreachable
    write_reload_status(tmp_path / "state" / "watchlist.db", ReloadStatus(NOW, True, (), 1))
    human = _watchlist("status", "-c", str(cfg), env=env)
    assert human.returncode == 0, human.stderr
    assert "reload  ok" in human.stdout
    as_json = _watchlist("status", "--json", "-c", str(cfg), env=env)
    obj = json.loads(as_json.stdout)
    src = obj["sources"][0]
    assert src["name"] == "star" and src["articles"] > 0 and src["last_success"]
    assert obj["outbox"]["pending"] >= 1
    assert obj["recent_alerts"] and obj["recent_alerts"][0]["rule"] == "fusion"
    assert obj["channels"]["hook"] == ["json://user:***@127.0.0.1:9/hook"]
    for out in (human.stdout, human.stderr, as_json.stdout):
        assert "HookPassw0rd" not in out


def test_status_command_config_error(tmp_path: Path) -> None:
    """An unparseable config exits 1 naming `watchlist check`, shows its error, reads no state."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("sources: [\n")
    proc = _watchlist("status", "-c", str(cfg), env={})
    assert proc.returncode == 1
    assert "watchlist check" in proc.stderr
    assert f"        {cfg}:" in proc.stdout or f"        {cfg.name}:" in proc.stdout
    assert f"state   {tmp_path / 'watchlist.db'}" in proc.stdout
    assert "no state yet" in proc.stdout


def _state_with_alert(state: Path) -> None:
    """A state as a daemon leaves it: one source polled, one alert pending, 3 rules recorded."""
    from watchlist.config.loader import load_config
    from watchlist.models import Article, Hit, Match, SourceState
    from watchlist.store.sqlite import Store

    rules = state.parent / "rules.yaml"
    rules.write_text("- name: fusion\n  topics: [fusion]\n  notify: [hook]\n")
    cfg = state.parent / "cfg-for-store.yaml"
    cfg.write_text(f"state: {state}\nrules: {rules}\nchannels:\n  hook: json://127.0.0.1:9/hook\n")
    config = load_config(cfg)
    store = Store(state)
    try:
        art = Article(id="a1", title="Fusion start-up lists", url="https://n.example/a1")
        hit = Hit("topics", "fusion", "fusion", "Fusion", "title", 0, 6, 100.0)
        store.record([art], [Match("fusion", "a1", (hit,))], config, NOW)
        store.save_source_state("star", SourceState(last_poll=NOW, last_success=NOW, articles=1))
    finally:
        store.close()
    write_reload_status(state, ReloadStatus(NOW, True, (), 3))


@pytest.mark.parametrize("broken", ["rule", "yaml"])
def test_status_with_broken_config_reads_the_state(tmp_path: Path, broken: str) -> None:
    """With a broken rule file or config.yaml, status still shows the state and the failed load."""
    cfg = _write_config(tmp_path, "https://n.example/feed.xml")
    state = tmp_path / "state" / "watchlist.db"
    if broken == "rule":
        (tmp_path / "rules" / "r.yaml").write_text("- name: fusion\n  topics: [fusion\n")
        state.parent.mkdir()
    else:
        cfg.write_text("state: ./state/watchlist.db\nsources: [\n")
        state.parent.mkdir()
    _state_with_alert(state)
    env = {"HOOK_PW": "HookPassw0rd"}
    human = _watchlist("status", "-c", str(cfg), env=env)
    assert human.returncode == 1
    assert "watchlist check" in human.stderr
    lines = human.stdout.splitlines()
    assert f"state   {state}" in lines
    assert any(
        ln.startswith("reload  FAILED") and "the 3 rules before it stay in force" in ln
        for ln in lines
    ), human.stdout
    bad = "r.yaml:" if broken == "rule" else "config.yaml:"
    assert any(ln.startswith("        ") and bad in ln for ln in lines), human.stdout
    assert any(ln.split()[0:1] == ["star"] and ln.split()[-1] == "1" for ln in lines)
    assert "1 pending" in human.stdout and "Fusion start-up lists" in human.stdout
    as_json = _watchlist("status", "--json", "-c", str(cfg), env=env)
    assert as_json.returncode == 1
    obj = json.loads(as_json.stdout)
    assert obj["state"] == str(state)
    assert obj["last_reload"]["ok"] is False and obj["last_reload"]["rules"] == 3
    assert any(bad in e for e in obj["last_reload"]["errors"])
    assert [s["name"] for s in obj["sources"]] == ["star"]
    assert obj["sources"][0]["articles"] == 1
    assert obj["outbox"]["pending"] == 1
    assert obj["recent_alerts"][0]["title"] == "Fusion start-up lists"
    for out in (human.stdout, human.stderr, as_json.stdout):
        assert "HookPassw0rd" not in out


def test_status_with_broken_rules_shows_the_daemons_failed_reload(tmp_path: Path) -> None:
    """When the daemon already recorded the failed reload, status keeps its time and rule count."""
    cfg = _write_config(tmp_path, "https://n.example/feed.xml")
    (tmp_path / "rules" / "r.yaml").write_text("- name: fusion\n  topic: [fusion]\n")
    state = tmp_path / "state" / "watchlist.db"
    state.parent.mkdir()
    failed_at = NOW - timedelta(minutes=5)
    write_reload_status(state, ReloadStatus(failed_at, False, ("r.yaml:2:3: old error",), 2))
    obj = json.loads(_watchlist("status", "--json", "-c", str(cfg), env={}).stdout)
    assert obj["last_reload"]["at"] == failed_at.isoformat()
    assert obj["last_reload"]["rules"] == 2
    assert any("topic" in e for e in obj["last_reload"]["errors"])
    assert obj["outbox"] is None
