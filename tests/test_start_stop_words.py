"""What the daemon says at start and stop, what `run --once` did, and log lines without noise."""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from watchlist.daemon import logs
from watchlist.daemon.banner import once_line, start_lines, stop_line
from watchlist.models import ChannelConfig, Config, Rule, SourceConfig

FEED = Path(__file__).resolve().parents[1] / "examples" / "star-market-news.xml"


def _config(tmp_path: Path) -> Path:
    if not FEED.exists():
        pytest.skip("examples/star-market-news.xml not present")
    (tmp_path / "rules.yaml").write_text("- name: ipo\n  keywords: [IPO]\n  notify: [hook]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "timezone: Asia/Shanghai\nstate: ./s.db\nrules: rules.yaml\n"
        f"sources:\n  - {{name: star, type: rss, url: {FEED}, every: 1s}}\n"
        "channels:\n  hook: json://127.0.0.1:9/hook\n"  # nothing listens: alerts stay pending
    )
    return cfg


def test_start_lines_name_paths_rules_sources_channels() -> None:
    """The start lines give config and state paths and what is in force, plurals right."""
    config = Config(
        path="/etc/watchlist/config.yaml",
        state="/var/lib/watchlist/watchlist.db",
        rules=(Rule(name="ipo", notify=("hook",)), Rule(name="old", enabled=False)),
        rule_files=("/etc/watchlist/rules/a.yaml",),
        sources=(SourceConfig(name="star", type="rss"),),
        channels=(ChannelConfig("hook", ("json://x",)), ChannelConfig("console", ("console://",))),
    )
    assert start_lines(config, "1.2") == [
        "watchlist 1.2 starting: config /etc/watchlist/config.yaml,"
        " state /var/lib/watchlist/watchlist.db",
        "1 rule in force from 1 file (1 disabled): ipo",
        "1 source: star (rss, every 15m)",
        "1 channel: hook",
    ]


def test_stop_and_once_lines() -> None:
    """Stop says how many deliveries stay; an idle `run --once` says nothing was new."""
    assert stop_line({"pending": 2, "failed": 1}) == (
        "stopped: 2 deliveries pending, 1 failed (see `watchlist outbox list`);"
        " pending ones go out at the next start"
    )
    assert stop_line({}) == "stopped: the outbox is empty"
    counts = {"seen": 5, "alerts": 1, "sent": 1}
    assert once_line(counts, counts, 2) == "run --once: nothing new from 2 sources"
    assert once_line({}, counts, 1) == (
        "run --once: 5 new articles from 1 source, 1 alert, 1 message sent"
    )


def test_routine_scheduler_warnings_are_debug() -> None:
    """APScheduler's skipped-run and missed-run warnings show only at debug level."""
    out = io.StringIO()
    logs.setup_logging("info", stream=out)
    try:
        sched = logging.getLogger("apscheduler.scheduler")
        sched.warning(
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
            "poll",
            1,
        )
        logging.getLogger("apscheduler.executors.default").warning(
            'Run time of job "%s" was missed by %s', "poll", "0:00:02"
        )
        sched.warning("a real warning")
    finally:
        logs.setup_logging("info")
    text = out.getvalue()
    assert "maximum number" not in text and "was missed by" not in text
    assert "a real warning" in text


def test_daemon_start_reload_stop(tmp_path: Path) -> None:
    """A real daemon: start lines, one line per reload, pending count at stop, one time zone."""
    cfg = _config(tmp_path)
    status = tmp_path / "s.db.reload.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchlist", "run", "-c", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TZ": "America/New_York"},
    )
    try:
        deadline = time.monotonic() + 30
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        first = status.stat().st_mtime_ns
        time.sleep(1.5)  # a poll or two, and the failing deliveries
        proc.send_signal(signal.SIGHUP)
        while status.stat().st_mtime_ns == first and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = err.splitlines()
    assert any(f"starting: config {cfg}, state {tmp_path / 's.db'}" in ln for ln in lines), err
    assert any("1 rule in force from 1 file: ipo" in ln for ln in lines)
    assert any("1 source: star (rss, every 1s)" in ln for ln in lines)
    assert any("1 channel: hook" in ln for ln in lines)
    assert sum("reloaded" in ln for ln in lines) == 1, err
    stopped = [ln for ln in lines if "stopped:" in ln]
    assert stopped and re.search(r"stopped: \d+ deliver(y|ies) pending", stopped[0]), err
    for ln in lines:  # every time in the log is UTC: no +08:00 / CST, no local -05:00
        assert not re.search(r"[+-]0[58]:00\b|\bCST\b|\bEST\b", ln), ln


def test_run_once_with_nothing_new_says_so(tmp_path: Path) -> None:
    """A second `run --once` over the same feed says nothing was new."""
    cfg = _config(tmp_path)
    run = [sys.executable, "-m", "watchlist", "run", "--once", "-c", str(cfg)]
    first = subprocess.run(run, capture_output=True, text=True, timeout=90)
    assert "new article" in first.stderr and "from 1 source" in first.stderr, first.stderr
    second = subprocess.run(run, capture_output=True, text=True, timeout=90)
    assert "run --once: nothing new from 1 source" in second.stderr, second.stderr
