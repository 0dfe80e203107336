"""Several daemons on one PostgreSQL: leases, heartbeats, single decisions, SKIP LOCKED claims.

Each test opens two or more Stores on one fresh database: each has its own pool,
so they are as independent as two daemons' stores.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from test_faults_driver import T0, article, config, match, rule

from watchlist.delivery.worker import recover_interrupted
from watchlist.store.cluster import LEASE
from watchlist.store.sqlite import Store

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def stores(pg_url: str) -> Iterator[list[Store]]:
    """Three Stores on one PostgreSQL database, as three daemons would have."""
    opened = [Store(pg_url) for _ in range(3)]
    yield opened
    for s in opened:
        s.close()


def test_a_due_source_is_claimed_by_one_daemon(stores: list[Store]) -> None:
    """Three daemons claiming at once: each source goes to one; none again until it is due."""
    a, b, c = stores
    names = [f"feed-{i}" for i in range(6)]
    a.add_sources(names)
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def claim(s: Store, who: str) -> None:
        barrier.wait()
        got[who] = s.claim_sources(names, who, T0, LEASE, 6)

    pairs = zip(stores, "abc", strict=True)
    threads = [threading.Thread(target=claim, args=(s, w)) for s, w in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = [n for who in "abc" for n in got[who]]
    assert sorted(taken) == names  # every source once, none twice
    every = timedelta(seconds=60)
    for who, s in zip("abc", stores, strict=True):
        for name in got[who]:
            s.finish_source(name, who, T0 + every, T0 + timedelta(seconds=1))
    assert b.claim_sources(names, "b", T0 + timedelta(seconds=59), LEASE, 6) == []
    assert sorted(c.claim_sources(names, "c", T0 + every, LEASE, 6)) == names


def test_a_killed_pollers_lease_runs_out(stores: list[Store]) -> None:
    """A source claimed by a daemon that never finishes moves to another after the lease."""
    a, b, _ = stores
    a.add_sources(["feed"])
    assert a.claim_sources(["feed"], "a", T0, LEASE, 1) == ["feed"]
    assert b.claim_sources(["feed"], "b", T0 + LEASE - timedelta(seconds=1), LEASE, 1) == []
    assert b.claim_sources(["feed"], "b", T0 + LEASE, LEASE, 1) == ["feed"]
    view = b.cluster_view(T0 + LEASE)
    assert [(x["source"], x["holder"], x["polling"]) for x in view["leases"]] == [
        ("feed", "b", True)
    ]


def test_renewed_lease_is_kept_while_polling(stores: list[Store]) -> None:
    """A long poll whose lease the heartbeat renews is not taken over."""
    a, b, _ = stores
    a.add_sources(["feed"])
    a.claim_sources(["feed"], "a", T0, LEASE, 1)
    a.renew_leases(["feed"], "a", T0 + LEASE / 2, LEASE)
    assert b.claim_sources(["feed"], "b", T0 + LEASE, LEASE, 1) == []


def test_outbox_claims_skip_locked_rows(stores: list[Store]) -> None:
    """Daemons claiming the same rows at once each get a disjoint part, together all of them."""
    a, _, c = stores
    cfg = config({"hook": ("json://x",)})
    arts = [article(i, title=f"Headline {i} " + "x" * i) for i in range(30)]
    a.record(arts, [match(x) for x in arts], cfg, T0)
    ids = [r.id for r in a.outbox_rows("pending")]
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(3)

    def claim(s: Store, who: str) -> None:
        barrier.wait()
        mine: list[int] = []
        for i in ids:
            mine += s.claim([i], T0, who)
        got[who] = mine

    pairs = zip(stores, "abc", strict=True)
    threads = [threading.Thread(target=claim, args=(s, w)) for s, w in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for who in "abc" for i in got[who]]
    assert sorted(claimed) == sorted(ids)
    assert {r.claimed_by for r in c.outbox_rows("sending")} <= {"a", "b", "c"}


def test_one_story_from_two_daemons_alerts_once(stores: list[Store]) -> None:
    """The same story recorded at once by daemons reading two sources is one alert."""
    cfg = config({"hook": ("json://x",)})
    copies = [article(1, source=f"src{i}") for i in range(3)]
    barrier = threading.Barrier(3)
    results = []

    def rec(s: Store, a: object) -> None:
        barrier.wait()
        results.append(s.record([a], [match(a)], cfg, T0))  # type: ignore[list-item,arg-type]

    pairs = zip(stores, copies, strict=True)
    threads = [threading.Thread(target=rec, args=(s, a)) for s, a in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.alerts for r in results) == 1
    assert sum(r.duplicates for r in results) == 2
    assert stores[0].counts()["alerts"] == 1


def test_cooldown_holds_cluster_wide(stores: list[Store]) -> None:
    """Matches of one cooldown rule recorded at once by many daemons: only one goes now."""
    cfg = config({"hook": ("json://x",)}, rules=(rule(cooldown=timedelta(hours=1)),))
    arts = [article(i, title=f"Distinct headline {i} " + "z" * i) for i in range(12)]
    barrier = threading.Barrier(3)

    def rec(s: Store, part: int) -> None:
        barrier.wait()
        for a in arts[part::3]:
            s.record([a], [match(a)], cfg, T0)

    threads = [threading.Thread(target=rec, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = stores[0].outbox_rows("pending")
    assert len(rows) == 12
    assert sum(1 for r in rows if r.next_attempt == T0) == 1  # the rest wait for the cooldown


def test_rate_limited_channel_has_one_deliverer(stores: list[Store]) -> None:
    """While one daemon holds a channel's lock, another is told it does not hold it."""
    a, b, _ = stores
    with a.channel_lock("hook") as mine:
        assert mine
        with b.channel_lock("hook") as theirs:
            assert not theirs
        with b.channel_lock("other") as other:
            assert other
    with b.channel_lock("hook") as now_mine:
        assert now_mine


def test_claims_of_another_host_follow_its_heartbeat(stores: list[Store]) -> None:
    """A row 'sending' by a daemon on another host is sent again only once its heartbeat stops."""
    from datetime import UTC, datetime

    a, b, _ = stores
    cfg = config({"hook": ("json://x",)})
    art = article(1)
    a.record([art], [match(art)], cfg, T0)
    (row,) = a.outbox_rows()
    now = datetime.now(UTC)
    far = "4242@elsewhere.example"
    a.heartbeat(far, "elsewhere.example", 4242, now, "t", now)
    a.claim([row.id], now, far)
    assert recover_interrupted(b, now + timedelta(seconds=1)) == 0
    assert recover_interrupted(b, now + LEASE + timedelta(seconds=1)) == 1
    assert b.outbox_rows(ids=[row.id])[0].status == "pending"


def test_requeue_leaves_a_row_another_daemon_claimed_since(stores: list[Store]) -> None:
    """A stale 'stuck' verdict never takes a row back from the daemon that claimed it since."""
    a, b, _ = stores
    cfg = config({"hook": ("json://x",)})
    art = article(1)
    a.record([art], [match(art)], cfg, T0)
    (row,) = a.outbox_rows()
    dead = f"999999999@{socket.gethostname()}"
    a.claim([row.id], T0, dead)
    assert b.requeue([(row.id, dead)], T0, "interrupted") == 1
    me = f"{os.getpid()}@{socket.gethostname()}"
    assert b.claim([row.id], T0, me) == [row.id]
    assert a.requeue([(row.id, dead)], T0, "interrupted") == 0  # a's verdict came too late
    assert a.outbox_rows(ids=[row.id])[0].claimed_by == me


def test_cluster_view_lists_daemons_and_outbox_per_daemon(stores: list[Store]) -> None:
    """The view has each daemon with its heartbeat, and rows sending or sent per daemon."""
    a, _, _ = stores
    a.heartbeat("1@h", "h", 1, T0, "v", T0)
    a.heartbeat("2@h", "h", 2, T0, "v", T0 - LEASE * 2)
    cfg = config({"hook": ("json://x",)})
    arts = [article(i, title=f"Headline {i} " + "x" * i) for i in range(3)]
    a.record(arts, [match(x) for x in arts], cfg, T0)
    ids = [r.id for r in a.outbox_rows()]
    a.claim(ids[:2], T0, "1@h")
    a.mark_sent(ids[:1], T0, "hook", [0])
    view = a.cluster_view(T0)
    assert [(d["id"], d["alive"]) for d in view["daemons"]] == [("1@h", True), ("2@h", False)]
    assert view["outbox"] == {"1@h": {"sending": 1, "sent": 1}}
    a.leave("1@h", T0)
    assert [d["id"] for d in a.cluster_view(T0)["daemons"]] == ["2@h"]


def test_status_shows_the_cluster_without_the_password(pg_url: str, tmp_path: object) -> None:
    """`status` names the daemons alive, who holds which source, the outbox per daemon."""
    import json
    import subprocess
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    folder = Path(str(tmp_path))
    secret_url = pg_url.replace("postgres@", "postgres:Pw-s3cret-42@")
    (folder / "rules.yaml").write_text("- name: acme\n  companies: [Acme]\n  notify: [hook]\n")
    (folder / "config.yaml").write_text(
        f"state: {secret_url}\nrules: rules.yaml\nchannels:\n  hook: json://127.0.0.1:9/h\n"
        "sources:\n  - {name: wire, type: rss, url: 'http://127.0.0.1:9/f.xml', every: 1m}\n"
    )
    s = Store(secret_url)
    try:
        now = datetime.now(UTC)
        s.heartbeat("7@box", "box", 7, now, "0.1.0", now)
        s.add_sources(["wire"])
        s.claim_sources(["wire"], "7@box", now, LEASE, 1)
    finally:
        s.close()
    cmd = [sys.executable, "-m", "watchlist", "status", "-c", str(folder / "config.yaml")]
    text = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    assert "Pw-s3cret-42" not in text.stdout + text.stderr
    assert "1 alive (cluster on PostgreSQL): 7@box" in text.stdout
    assert any(ln.split()[:3] == ["wire", "7@box", "polling"] for ln in text.stdout.splitlines())
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=60)
    data = json.loads(out.stdout)
    assert "Pw-s3cret-42" not in out.stdout
    assert data["cluster"]["daemons"][0]["id"] == "7@box"
    assert data["cluster"]["sources"][0]["holder"] == "7@box"
    assert ":****@" in data["state"]


class _Intake:
    """Stands in for the daemon's Intake: counts the polls of each source."""

    def __init__(self) -> None:
        self.polls: list[str] = []

    def poll(self, name: str) -> None:
        self.polls.append(name)


def test_two_daemons_poll_each_source_once_per_interval(stores: list[Store]) -> None:
    """Two daemons' lease loops: every source polled by one of them, again only when due."""
    import time
    from datetime import UTC, datetime

    from watchlist.daemon.cluster import Cluster
    from watchlist.models import Config, SourceConfig

    every = timedelta(seconds=0.6)
    sources = tuple(
        SourceConfig(name=f"feed{i}", type="rss", url="http://127.0.0.1:9/x", every=every)
        for i in range(4)
    )
    cfg = Config(path="config.yaml", sources=sources)
    intakes = [_Intake(), _Intake()]
    nodes = [
        Cluster(s, i, clock=lambda: datetime.now(UTC), workers=4, ident=f"{n}@t")  # type: ignore[arg-type]
        for n, (s, i) in enumerate(zip(stores[:2], intakes, strict=True))
    ]
    for n in nodes:
        n.start(cfg)
    try:
        time.sleep(2.0)
    finally:
        for n in nodes:
            n.stop(5.0)
    polls = [p for i in intakes for p in i.polls]
    per_source = {f"feed{i}": polls.count(f"feed{i}") for i in range(4)}
    assert all(2 <= n <= 4 for n in per_source.values()), per_source  # 2 s / 0.6 s: 3, +-1
    assert all(i.polls for i in intakes)  # both daemons took a share
    assert [d["id"] for d in stores[2].cluster_view(datetime.now(UTC))["daemons"]] == []
