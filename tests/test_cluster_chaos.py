"""Chaos: 3 daemons on one PostgreSQL, one SIGKILLed and restarted every few seconds.

Local RSS feeds and ingest posts bring articles while a daemon is killed at random
every 2-4 s for CHAOS_SECONDS. Afterwards every matching article reached each of
two channels exactly once (a repeat is allowed only where a kill fell between the
two copies and the row shows a second attempt: a kill during a send), each feed
was fetched at most once per interval across the cluster (the feed server keeps
every fetch's time), and nothing is left pending or sending in the outbox.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from localserver import LocalServer, Request, Route
from test_daemon_ops import Feed

from watchlist.store.sqlite import Store

CHAOS_SECONDS = float(os.environ.get("WATCHLIST_CHAOS_SECONDS", "60"))
EVERY = 2.0  # seconds between polls of each feed
LEASE = 3.0  # WATCHLIST_LEASE_SECONDS for the daemons
FEEDS = 3
RULES = "- name: fusion\n  topics: [nuclear fusion]\n  notify: [one, two]\n"


class Fleet:
    """Three `watchlist run` processes, each with its own config (its own ingest port)."""

    def __init__(self, tmp: Path, configs: list[Path]) -> None:
        self.tmp = tmp
        self.configs = configs
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(configs)
        self.kills: list[float] = []  # monotonic times of SIGKILLs
        self.starts = 0

    def start(self, i: int) -> None:
        env = {**os.environ, "WATCHLIST_LEASE_SECONDS": str(LEASE), "INGEST_TOKEN": "t0ken"}
        log = (self.tmp / f"d{i}.log").open("ab")
        self.procs[i] = subprocess.Popen(
            [sys.executable, "-m", "watchlist", "run", "-c", str(self.configs[i])],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        self.starts += 1

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            self.kills.append(time.monotonic())
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def stop_all(self) -> list[int | None]:
        codes = []
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is None:
                codes.append(None)
                continue
            try:
                codes.append(proc.wait(20))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the daemon with ingest port {port} did not come up")


def _post(port: int, articles: list[dict[str, str]]) -> bool:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/articles",
        data=json.dumps(articles).encode(),
        headers={"Authorization": "Bearer t0ken", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status) == 202
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(CHAOS_SECONDS + 150)
def test_three_daemons_survive_kills(tmp_path: Path, http_server: LocalServer, pg_url: str) -> None:
    """Every matching article alerted once per channel, feeds polled once per interval."""
    rng = random.Random(13)
    feeds = [Feed(prefix=f"f{i}", keep=60) for i in range(FEEDS)]
    fetches: dict[int, list[float]] = {i: [] for i in range(FEEDS)}

    def serve(i: int) -> object:
        def route(request: Request) -> Route:
            fetches[i].append(time.monotonic())
            return feeds[i].route(request)

        return route

    for i in range(FEEDS):
        http_server.routes[f"/feed{i}.xml"] = serve(i)  # type: ignore[assignment]
    got: dict[str, list[tuple[str, float]]] = {"one": [], "two": []}
    lock = threading.Lock()

    def hook(name: str) -> object:
        def route(request: Request) -> Route:
            title = str(request.json().get("title", "")).split("] ", 1)[-1]  # "[rule] title"
            with lock:
                got[name].append((title, time.monotonic()))
            return Route(200, "ok", delay=0.02)  # a send takes a moment: kills land in it

        return route

    http_server.routes["/one"] = hook("one")  # type: ignore[assignment]
    http_server.routes["/two"] = hook("two")  # type: ignore[assignment]
    (tmp_path / "rules.yaml").write_text(RULES)
    ports = [_free_port() for _ in range(3)]
    configs = []
    for n, port in enumerate(ports):
        feeds_yaml = "".join(
            f"  - {{name: feed{i}, type: rss, url: '{http_server.url(f'/feed{i}.xml')}', "
            f"every: {EVERY}s}}\n"
            for i in range(FEEDS)
        )
        cfg = tmp_path / f"config{n}.yaml"
        cfg.write_text(
            textwrap.dedent(
                f"""\
                state: {pg_url}
                rules: rules.yaml
                channels:
                  one: json://127.0.0.1:{http_server.port}/one
                  two: json://127.0.0.1:{http_server.port}/two
                sources:
                  - {{name: ingest, type: http, listen: '127.0.0.1:{port}',
                      token: '${{INGEST_TOKEN}}'}}
                """
            )
            + feeds_yaml
        )
        configs.append(cfg)
    fleet = Fleet(tmp_path, configs)
    matching: set[str] = set()
    posted: set[str] = set()  # matching posts that got no answer: recorded or not
    stop = threading.Event()

    def publish() -> None:  # one item on a random feed and one ingest post, every 0.5 s
        n = 0
        while not stop.wait(0.5):
            n += 1
            title = f"Nuclear fusion item {n}" if n % 2 else f"Weather item {n}"
            feeds[n % FEEDS].add(title)
            if n % 2:
                matching.add(title)
            post_title = f"Nuclear fusion posted {n}" if n % 3 else f"Markets posted {n}"
            art = {"id": f"post-{n}", "title": post_title, "body": post_title + "."}
            for port in rng.sample(ports, len(ports)):  # any daemon takes it; retry elsewhere
                if _post(port, [art]):
                    break
            else:
                if n % 3:
                    posted.add(post_title)  # none answered: it may have been recorded or not
                continue
            if n % 3:
                matching.add(post_title)

    for i in range(3):
        fleet.start(i)
    time.sleep(3)  # the three start up (imports, migrations)
    publisher = threading.Thread(target=publish, daemon=True)
    started = time.monotonic()
    publisher.start()
    try:
        while time.monotonic() - started < CHAOS_SECONDS:
            time.sleep(rng.uniform(2.0, 4.0))
            victim = rng.randrange(3)
            fleet.kill(victim)
            time.sleep(rng.uniform(0.0, 1.0))
            fleet.start(victim)
        stop.set()
        publisher.join(10)
        chaos_end = time.monotonic()
        for port in ports:  # the last one restarted is up (its ingest answers) before the end
            _wait_up(port)
        time.sleep(2 * EVERY)  # the last items are polled
        # drain: every match delivered on both channels, nothing pending or sending
        store = Store(pg_url)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = store.counts()
                with lock:
                    have = {t for t, _ in got["one"]} & {t for t, _ in got["two"]}
                done = matching <= have
                if done and counts["pending"] + counts["sending"] + counts["held"] == 0:
                    break
                time.sleep(0.5)
            counts = store.counts()
            rows = store.outbox_rows()
        finally:
            store.close()
    finally:
        stop.set()
        codes = fleet.stop_all()
    repeats = sum(n - 1 for ch in got.values() for n in Counter(t for t, _ in ch).values())
    print(
        f"chaos: {len(fleet.kills)} kills, {fleet.starts} starts, {len(matching)} matching "
        f"articles, {len(got['one']) + len(got['two'])} alerts received, {repeats} repeats, "
        f"fetches per feed {[len(v) for v in fetches.values()]}"
    )
    logs = "\n".join((tmp_path / f"d{i}.log").read_text(errors="replace")[-3000:] for i in range(3))
    assert fleet.kills, "no daemon was killed"
    assert codes == [0, 0, 0], f"exit codes {codes}\n{logs}"
    assert counts["pending"] == counts["sending"] == counts["held"] == counts["failed"] == 0, counts
    attempts = {r.title: r.attempts for r in rows}
    for channel in ("one", "two"):
        titles = Counter(t for t, _ in got[channel])
        assert not matching - set(titles), f"never reached {channel}: {matching - set(titles)}"
        assert set(titles) <= matching | posted, f"unexpected on {channel}"
        for t, n in titles.items():
            if n == 1:
                continue
            times = sorted(at for title, at in got[channel] if title == t)
            killed_between = any(times[0] - 1.0 <= k <= times[-1] for k in fleet.kills)
            assert killed_between and attempts.get(t, 0) >= 2, (
                f"{t!r} reached {channel} {n} times with no kill during its send"
            )
    for i, times in fetches.items():
        times = [t for t in times if t <= chaos_end]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps and min(gaps) >= 0.8 * EVERY, f"feed{i} fetched twice in one interval: {gaps}"
        assert len(times) >= CHAOS_SECONDS / (EVERY + LEASE + 1), f"feed{i}: {len(times)} fetches"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_daemon_rides_out_a_database_restart(tmp_path: Path, http_server: LocalServer) -> None:
    """PostgreSQL stopped for a few seconds and started again: the daemon keeps running and
    alerts what arrived meanwhile, once."""
    from pgserver import PgServer

    server = PgServer().start()
    try:
        url = server.create_db()
        feed = Feed(prefix="r")
        http_server.routes["/feed.xml"] = feed.route
        got: list[str] = []
        http_server.routes["/one"] = lambda r: (got.append(r.json()["title"]), Route(200))[1]  # type: ignore[assignment]
        (tmp_path / "rules.yaml").write_text(
            "- name: fusion\n  topics: [nuclear fusion]\n  notify: [one]\n"
        )
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"state: {url}\nrules: rules.yaml\n"
            f"channels:\n  one: json://127.0.0.1:{http_server.port}/one\n"
            f"sources:\n  - {{name: feed, type: rss, url: '{http_server.url('/feed.xml')}', "
            "every: 1s}\n"
        )
        fleet = Fleet(tmp_path, [cfg])
        fleet.start(0)
        try:
            feed.add("Nuclear fusion before")
            deadline = time.monotonic() + 30
            while len(got) < 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert got == ["[fusion] Nuclear fusion before"]
            server.pause()
            feed.add("Nuclear fusion during")
            time.sleep(4)  # polls and deliveries fail meanwhile; the daemon logs and goes on
            assert fleet.procs[0] is not None and fleet.procs[0].poll() is None
            server.resume()
            feed.add("Nuclear fusion after")
            deadline = time.monotonic() + 60
            while len(got) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            codes = fleet.stop_all()
        log = (tmp_path / "d0.log").read_text(errors="replace")
        assert sorted(got) == sorted(
            f"[fusion] Nuclear fusion {w}" for w in ("before", "during", "after")
        ), log[-3000:]
        assert codes == [0], log[-3000:]
    finally:
        server.stop()
