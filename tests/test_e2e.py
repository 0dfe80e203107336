"""End to end: the real `watchlist` command, a local feed, local receivers, restarts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SmtpInbox
from localserver import LocalServer, Route

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FEED = REPO / "examples" / "star-market-news.xml"
SEED_TITLE = "China to back IPOs of future-industry startups and AI model makers"


def watchlist(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `watchlist` command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def write_config(
    tmp: Path, feed_url: str, channels: dict[str, str], *, every: str = "1s", extra_rules: str = ""
) -> Path:
    """A config with the example rules, one feed and the given channels."""
    shutil.copytree(REPO / "rules", tmp / "rules")
    if extra_rules:
        (tmp / "rules" / "extra.yaml").write_text(extra_rules, encoding="utf-8")
    chans = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in channels.items())
    notify = json.dumps(list(channels))
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"""timezone: Asia/Shanghai
state: ./state.db
rules: rules/
defaults:
  threshold: 88
  notify: {notify}
sources:
  - name: wire
    type: rss
    url: {json.dumps(feed_url)}
    every: {every}
channels:
{chans}
""",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def feed_server(http_server: LocalServer) -> LocalServer:
    """The local server serving the bundled sample feed at /feed.xml."""
    http_server.routes["/feed.xml"] = Route(
        200, SAMPLE_FEED.read_bytes(), {"Content-Type": "application/rss+xml"}
    )
    http_server.routes["/hook"] = Route(200, b"{}", {"Content-Type": "application/json"})
    return http_server


class Daemon:
    """A `watchlist run` subprocess with its output collected to files."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.out = (cwd / "daemon.out").open("a+")
        self.err = (cwd / "daemon.err").open("a+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchlist", "run", "-c", "config.yaml", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=self.out,
            stderr=self.err,
        )

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.out.close()
        self.err.close()
        return code


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by a test, killed at its end whatever happened."""
    started: list[Daemon] = []
    yield started
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def alert_titles(server: LocalServer, path: str = "/hook") -> list[str]:
    """Titles of the Apprise json:// posts the server received."""
    return [r.json()["title"] for r in server.posts(path)]


def test_example_config_prints_the_seed_alert(tmp_path: Path) -> None:
    """`watchlist run --once` on the bundled example prints the seed story's alert."""
    for name in ("config.example.yaml", "rules", "examples"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    done = watchlist("run", "-c", "config.example.yaml", "--once", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[star-market-future-industries] " + SEED_TITLE in done.stdout
    assert "[us-ai-labs] " + SEED_TITLE in done.stdout
    assert "Copper prices" not in done.stdout
    assert "Opinion" not in done.stdout
    again = watchlist("run", "-c", "config.example.yaml", "--once", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert SEED_TITLE not in again.stdout


def test_daemon_alerts_once_across_restarts(
    tmp_path: Path, feed_server: LocalServer, daemons: list[Daemon]
) -> None:
    """The daemon posts each alert to a json:// receiver once, and a restart sends nothing."""
    hook = f"json://127.0.0.1:{feed_server.port}/hook"
    write_config(tmp_path, feed_server.url("/feed.xml"), {"hook": hook})
    d = Daemon(tmp_path)
    daemons.append(d)
    got = feed_server.wait_for_posts(3, "/hook", timeout=20)
    titles = sorted(r.json()["title"] for r in got)
    assert len(titles) == 3, titles
    assert sum(SEED_TITLE in t for t in titles) == 2
    assert any("Quantum computing start-up" in t for t in titles)
    time.sleep(2.5)  # more polls of the same feed
    assert d.stop() == 0
    d2 = Daemon(tmp_path)
    daemons.append(d2)
    time.sleep(4)
    assert d2.stop() == 0
    assert len(feed_server.posts("/hook")) == 3
    feed_gets = [r for r in feed_server.requests if r.path == "/feed.xml"]
    assert len(feed_gets) >= 3


@pytest.mark.slow
def test_daemon_delivers_through_mailto(
    tmp_path: Path, feed_server: LocalServer, daemons: list[Daemon], smtp_server: SmtpInbox
) -> None:
    """The seed alert arrives by email at a local SMTP server through mailto://."""
    url = f"mailto://127.0.0.1:{smtp_server.port}?from=alerts@example.com&to=me@example.com"
    write_config(tmp_path, feed_server.url("/feed.xml"), {"email": url})
    d = Daemon(tmp_path)
    daemons.append(d)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(smtp_server.messages) < 3:
        time.sleep(0.2)
    assert d.stop() == 0
    assert len(smtp_server.messages) == 3
    text = b"\n".join(m.content for m in smtp_server.messages).decode("utf-8", "replace")
    assert SEED_TITLE in text
    assert all(m.rcpt_tos == ["me@example.com"] for m in smtp_server.messages)


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["after-fetch", "after-commit", "during-send", "after-send", "before-record:2"]
)
def test_daemon_killed_at_crash_point_loses_nothing(
    tmp_path: Path, feed_server: LocalServer, daemons: list[Daemon], point: str
) -> None:
    """SIGKILL at each crash point, then a restart: every alert arrives, repeats only mid-send."""
    hook = f"json://127.0.0.1:{feed_server.port}/hook"
    write_config(tmp_path, feed_server.url("/feed.xml"), {"hook": hook})
    d = Daemon(tmp_path, "--once", env={"WATCHLIST_CRASH_AT": point})
    daemons.append(d)
    assert d.proc.wait(timeout=30) == -signal.SIGKILL
    d2 = Daemon(tmp_path, "--once")
    daemons.append(d2)
    assert d2.proc.wait(timeout=30) == 0
    d3 = Daemon(tmp_path, "--once")
    daemons.append(d3)
    assert d3.proc.wait(timeout=30) == 0
    titles = alert_titles(feed_server)
    assert len(set(titles)) == 3, titles
    # during-send is the window between a send and its record: that one send repeats
    # (the first round sends one message); in the second round two were in flight.
    if point == "before-record:2":
        assert 1 <= len(titles) - 3 <= 2, titles  # at most the messages in flight
    else:
        repeats = 1 if point == "during-send" else 0
        assert len(titles) - 3 == repeats, titles


def test_check_accepts_the_bundled_config_and_rules() -> None:
    """`watchlist check` passes on config.example.yaml and every file in rules/."""
    done = watchlist("check", "-c", "config.example.yaml", cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert len(list((REPO / "rules").glob("*.yaml"))) >= 2


def test_check_points_at_the_mistake(tmp_path: Path) -> None:
    """A misspelt rule key is reported at its exact line and column with a hint."""
    write_config(tmp_path, "feed.xml", {"console": "console://"})
    (tmp_path / "rules" / "typo.yaml").write_text(
        "- name: typo-rule\n  topics: [fusion]\n  treshold: 80\n", encoding="utf-8"
    )
    done = watchlist("check", "-c", "config.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "rules/typo.yaml:3:3:" in done.stderr
    assert "threshold" in done.stderr


def test_scan_json_follows_the_spec_schema() -> None:
    """`scan --json` prints one SPEC-shaped object per (article, rule) match."""
    done = watchlist("scan", "--rules", "rules", "--json", str(SAMPLE_FEED), cwd=REPO)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["rule"] for r in rows} == {"star-market-future-industries", "us-ai-labs"}
    seed = next(
        r for r in rows if r["rule"] == "star-market-future-industries" and r["title"] == SEED_TITLE
    )
    assert set(seed) == {"article", "rule", "title", "url", "score", "hits"}
    assert "utm_" not in seed["url"]
    hit = seed["hits"][0]
    assert set(hit) == {
        "group",
        "entry",
        "term",
        "text",
        "field",
        "start",
        "end",
        "score",
        "evidence",
    }
    groups = {h["group"] for h in seed["hits"]}
    assert {"topics", "exchanges", "keywords"} <= groups


def test_scan_reads_stdin_json() -> None:
    """`scan -` reads a JSON article from standard input."""
    article = {"title": "SpaceX weighs a listing", "body": "The rocket maker SpaceX said..."}
    done = watchlist("scan", "--rules", "rules", "--json", "-", cwd=REPO, stdin=json.dumps(article))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["rule"] for r in rows] == ["us-ai-labs"]


def test_scan_notify_sends_each_match_once(tmp_path: Path, feed_server: LocalServer) -> None:
    """`scan --notify` sends each match to its rule's channel and records nothing."""
    hook = f"json://127.0.0.1:{feed_server.port}/hook"
    write_config(tmp_path, feed_server.url("/feed.xml"), {"hook": hook})
    done = watchlist("scan", "-c", "config.yaml", "--notify", str(SAMPLE_FEED), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    titles = sorted(alert_titles(feed_server))
    assert len(titles) == 3, titles
    assert "-> hook: delivered" in done.stderr
    assert not (tmp_path / "state.db").exists()
