"""The delivery worker against real local receivers: retries, backoff, horizon, folds, holds."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from localserver import LocalServer, Request, Route
from test_faults_driver import T0, article, config, match, quiet, rule

from watchlist.delivery.worker import deliver_due, format_outbox_status, outbox_status
from watchlist.models import Config, Templates
from watchlist.store.sqlite import Store


@pytest.fixture
def store(state: str) -> Store:
    """A fresh store: an SQLite file, or a PostgreSQL database."""
    s = Store(state)
    yield s  # type: ignore[misc]
    s.close()


def flaky(failures: int) -> tuple[Callable[[Request], Route], list[int]]:
    """A handler answering 500 ``failures`` times, then 200; and the list of 200s given."""
    lock = threading.Lock()
    state = {"n": 0}
    ok: list[int] = []

    def handler(req: Request) -> Route:
        with lock:
            state["n"] += 1
            if state["n"] <= failures:
                return Route(500, b"down")
            ok.append(state["n"])
            return Route(200, b"ok")

    return handler, ok


def hook(server: LocalServer, path: str = "/hook") -> str:
    """The json:// URL of ``path`` on the local server."""
    return f"json://127.0.0.1:{server.port}{path}"


def record(store: Store, cfg: Config, n: int = 1, now: datetime = T0, start: int = 0) -> None:
    """Record ``n`` distinct matching articles."""
    arts = [article(i, title=f"Headline {i} " + "x" * i) for i in range(start, start + n)]
    store.record(arts, [match(a) for a in arts], cfg, now)


def test_failing_receiver_that_recovers_gets_exactly_one(
    store: Store, http_server: LocalServer
) -> None:
    """A receiver failing with 500 twice then recovering gets exactly one delivery."""
    handler, ok = flaky(2)
    http_server.routes["/hook"] = handler
    cfg = config({"hook": (hook(http_server),)})
    record(store, cfg)
    now = T0
    for _ in range(6):
        deliver_due(store, cfg, now, rng=random.Random(7))
        now += timedelta(hours=1)
    assert len(ok) == 1
    assert len(http_server.posts("/hook")) == 3
    (row,) = store.outbox_rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")


def test_failure_on_one_channel_never_resends_to_another(
    store: Store, http_server: LocalServer
) -> None:
    """With one channel down, the healthy one gets exactly one message, however often we retry."""
    http_server.routes["/good"] = Route(200)
    http_server.routes["/bad"] = Route(500)
    cfg = config({"good": (hook(http_server, "/good"),), "bad": (hook(http_server, "/bad"),)})
    record(store, cfg)
    now = T0
    for _ in range(5):
        deliver_due(store, cfg, now)
        now += timedelta(hours=2)
    assert len(http_server.posts("/good")) == 1
    assert len(http_server.posts("/bad")) == 5
    last = deliver_due(store, cfg, now)
    assert (last.sent_by_channel, last.failed_by_channel) == ({}, {"bad": 1})
    assert {r.channel: r.status for r in store.outbox_rows()} == {"good": "sent", "bad": "pending"}


def test_backoff_is_persisted_and_respected(store: Store, http_server: LocalServer) -> None:
    """After a failure the next attempt (30 s, jittered) is stored; nothing is sent before it."""
    http_server.routes["/hook"] = Route(500)
    cfg = config({"hook": (hook(http_server),)})
    record(store, cfg)
    stats = deliver_due(store, cfg, T0, rng=random.Random(1))
    assert stats.retrying == 1
    (row,) = store.outbox_rows()
    assert T0 + timedelta(seconds=15) <= row.next_attempt <= T0 + timedelta(seconds=30)
    assert "500" in row.last_error
    deliver_due(store, cfg, row.next_attempt - timedelta(seconds=1))
    assert len(http_server.posts("/hook")) == 1
    deliver_due(store, cfg, row.next_attempt, rng=random.Random(1))
    (row2,) = store.outbox_rows()
    assert row2.attempts == 2
    assert row2.next_attempt - row.next_attempt >= timedelta(seconds=30)


def test_gives_up_after_horizon_and_keeps_row(store: Store, http_server: LocalServer) -> None:
    """Past the retry horizon a row is 'failed', kept, visible, and sent again only on retry."""
    http_server.routes["/hook"] = Route(500)
    cfg = config({"hook": (hook(http_server),)}, horizon=timedelta(minutes=10))
    record(store, cfg)
    now = T0
    for _ in range(12):
        deliver_due(store, cfg, now)
        now += timedelta(minutes=5)
    (row,) = store.outbox_rows()
    assert row.status == "failed"
    assert "gave up after" in row.last_error and "outbox retry" in row.last_error
    posts = len(http_server.posts("/hook"))
    deliver_due(store, cfg, now + timedelta(days=1))
    assert len(http_server.posts("/hook")) == posts
    status = format_outbox_status(store, now)
    assert "1 failed" in status and f"#{row.id} hook" in status and "500" in status
    http_server.routes["/hook"] = Route(200)
    assert store.retry(row.id, now)
    assert deliver_due(store, cfg, now).sent == 1
    assert store.outbox_rows()[0].status == "sent"


def test_slow_receiver_is_retried_with_timeout_words(
    store: Store, http_server: LocalServer
) -> None:
    """A receiver slower than the timeout is recorded as timed out and retried later."""
    http_server.routes["/hook"] = Route(200, delay=2)
    cfg = config({"hook": (hook(http_server),)}, timeout=0.3)
    record(store, cfg)
    stats = deliver_due(store, cfg, T0)
    assert stats.retrying == 1
    (row,) = store.outbox_rows()
    assert row.status == "pending" and "timed out" in row.last_error


def test_rate_limit_folds_the_rest(store: Store, http_server: LocalServer) -> None:
    """At most 2 a minute: 6 alerts go as one single message plus one 'and 4 more' message."""
    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)}, rate={"hook": (2, timedelta(minutes=1))})
    record(store, cfg, n=6)
    stats = deliver_due(store, cfg, T0)
    assert (stats.sent, stats.rows) == (2, 6)
    bodies = {p.json()["title"]: p.json() for p in http_server.posts("/hook")}  # sent at once
    assert set(bodies) == {"[acme] Headline 0", "[acme] 5 matches"}
    assert "and 4 more:" in bodies["[acme] 5 matches"]["message"]
    assert {r.status for r in store.outbox_rows()} == {"sent"}


def test_rate_limit_full_window_waits(store: Store, http_server: LocalServer) -> None:
    """With the window used up, rows wait (not attempted) until a slot frees."""
    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)}, rate={"hook": (1, timedelta(minutes=1))})
    record(store, cfg, n=1)
    deliver_due(store, cfg, T0)
    record(store, cfg, n=1, start=5, now=T0 + timedelta(seconds=10))
    stats = deliver_due(store, cfg, T0 + timedelta(seconds=10))
    assert stats.deferred == 1
    waiting = store.outbox_rows("pending")[0]
    assert waiting.attempts == 0 and waiting.next_attempt == T0 + timedelta(minutes=1)
    assert "rate limit" in outbox_status(store, T0 + timedelta(seconds=10))["undelivered"][0]["why"]
    assert deliver_due(store, cfg, T0 + timedelta(minutes=1)).sent == 1


def test_digest_sends_one_message_on_schedule(store: Store, http_server: LocalServer) -> None:
    """A digest rule holds every match and sends them as one message at the cron time."""
    http_server.routes["/hook"] = Route(200)
    cfg = config(
        {"hook": (hook(http_server),)}, rules=(rule(digest="0 8 * * *"),), tz="Asia/Shanghai"
    )
    with freeze_time("2026-03-02 01:00:00") as clock:  # 09:00 in Shanghai
        for i in range(3):
            record(store, cfg, start=i, now=datetime.now(UTC))
            clock.tick(timedelta(hours=3))
            assert deliver_due(store, cfg, datetime.now(UTC)).sent == 0
        clock.move_to("2026-03-03 00:00:00")  # 08:00 next day in Shanghai
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == 1
    (post,) = http_server.posts("/hook")
    assert post.json()["title"] == "[acme] 3 matches"
    assert all(f"Headline {i}" in post.json()["message"] for i in range(3))


def test_cooldown_folds_matches_into_next_message(store: Store, http_server: LocalServer) -> None:
    """With a 1 h cooldown the first match goes at once; the next two go together an hour later."""
    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)}, rules=(rule(cooldown=timedelta(hours=1)),))
    with freeze_time("2026-03-02 12:00:00") as clock:
        record(store, cfg, start=0, now=datetime.now(UTC))
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == 1
        for i in (1, 2):
            clock.tick(timedelta(minutes=20))
            record(store, cfg, start=i, now=datetime.now(UTC))
            assert deliver_due(store, cfg, datetime.now(UTC)).sent == 0
        clock.move_to("2026-03-02 13:00:00")
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == 1
    titles = [p.json()["title"] for p in http_server.posts("/hook")]
    assert titles == ["[acme] Headline 0", "[acme] 2 matches"]


@pytest.mark.parametrize(("priority", "sent_at_once"), [("normal", 0), ("high", 1)])
def test_quiet_hours_defer_unless_high(
    store: Store, http_server: LocalServer, priority: str, sent_at_once: int
) -> None:
    """At 23:00 Shanghai a normal alert waits until 07:00; a high one goes at once."""
    http_server.routes["/hook"] = Route(200)
    r = rule(quiet_hours=quiet("22:00", "07:00"), priority=priority)
    cfg = config({"hook": (hook(http_server),)}, rules=(r,), tz="Asia/Shanghai")
    with freeze_time("2026-03-02 15:00:00") as clock:  # 23:00 in Shanghai
        record(store, cfg, now=datetime.now(UTC))
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == sent_at_once
        clock.move_to("2026-03-02 22:59:00")
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == 0
        clock.move_to("2026-03-02 23:00:00")  # 07:00 in Shanghai
        assert deliver_due(store, cfg, datetime.now(UTC)).sent == 1 - sent_at_once
    assert len(http_server.posts("/hook")) == 1


def test_secrets_are_masked_in_errors(store: Store, http_server: LocalServer) -> None:
    """A secret that shows up in an error is starred out before it is stored."""
    http_server.routes["/tok-s3cr3t-value"] = Route(500)
    cfg = config({"hook": (hook(http_server, "/tok-s3cr3t-value"),)}, secrets=("s3cr3t-value",))
    record(store, cfg)
    deliver_due(store, cfg, T0)
    (row,) = store.outbox_rows()
    assert row.last_error and "s3cr3t-value" not in row.last_error
    assert "s3cr3t-value" not in format_outbox_status(store, T0)


def test_broken_template_still_delivers(store: Store, http_server: LocalServer) -> None:
    """A template error falls back to the default text and the alert still goes out."""
    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)}, templates=Templates(body="{{ nope }}"))
    record(store, cfg)
    assert deliver_due(store, cfg, T0).sent == 1
    assert "«Acme»" in http_server.posts("/hook")[0].json()["message"]


@pytest.mark.parametrize(("claimer", "recovered"), [("999999999@{host}", 1), ("{me}", 0)])
def test_rows_stuck_in_sending(
    store: Store, http_server: LocalServer, claimer: str, recovered: int
) -> None:
    """A row left 'sending' by a dead process is sent again; one of a live process is left."""
    import os
    import socket

    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)})
    record(store, cfg)
    (row,) = store.outbox_rows()
    who = claimer.format(host=socket.gethostname(), me=f"{os.getpid()}@{socket.gethostname()}")
    store.claim([row.id], T0, who)
    stats = deliver_due(store, cfg, T0 + timedelta(seconds=5))
    assert (stats.recovered, stats.sent) == (recovered, recovered)
    assert len(http_server.posts("/hook")) == recovered


def test_channel_removed_after_recording(store: Store, http_server: LocalServer) -> None:
    """A row whose channel left the config becomes failed with words, not lost."""
    http_server.routes["/hook"] = Route(200)
    record(store, config({"hook": (hook(http_server),)}))
    stats = deliver_due(store, config({"other": (hook(http_server),)}), T0)
    assert stats.failed == 1
    (row,) = store.outbox_rows("failed")
    assert "unknown channel 'hook'" in row.last_error
    assert http_server.posts() == []


def test_stale_claim_of_a_live_process_is_recovered(store: Store, http_server: LocalServer) -> None:
    """A row claimed by this (live) process over 10 minutes ago counts as stuck and is resent."""
    import os
    import socket

    http_server.routes["/hook"] = Route(200)
    cfg = config({"hook": (hook(http_server),)})
    record(store, cfg)
    (row,) = store.outbox_rows()
    store.claim([row.id], T0, f"{os.getpid()}@{socket.gethostname()}")
    assert deliver_due(store, cfg, T0 + timedelta(minutes=9)).sent == 0
    assert deliver_due(store, cfg, T0 + timedelta(minutes=10)).sent == 1


def test_held_row_that_fails_shows_its_error_not_the_hold(
    store: Store, http_server: LocalServer
) -> None:
    """A row held for quiet hours that then fails is described by its error, not the old hold."""
    http_server.routes["/hook"] = Route(500, b"down")
    r = rule(quiet_hours=quiet("22:00", "07:00"))
    cfg = config({"hook": (hook(http_server),)}, rules=(r,), tz="Asia/Shanghai")
    held_at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    record(store, cfg, now=held_at)
    assert "quiet hours" in outbox_status(store, held_at)["undelivered"][0]["why"]
    after = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai: due, then fails
    assert deliver_due(store, cfg, after, rng=random.Random(1)).retrying == 1
    (row,) = store.outbox_rows()
    why = outbox_status(store, after + timedelta(seconds=1))["undelivered"][0]["why"]
    assert row.held_reason == ""
    assert why.startswith("retrying at") and "500" in why and "quiet hours" not in why
    assert "quiet hours" not in format_outbox_status(store, after + timedelta(seconds=1))


def test_sent_rows_name_the_daemon_that_sent_them(store: Store, http_server: LocalServer) -> None:
    """Rows delivered in a batch (settle) are credited to the claimer, as a single send is:
    the cluster view counts them under this daemon, not under "-"."""
    from watchlist.delivery.worker import claimer_id

    http_server.routes["/hook"] = Route(200, b"{}")
    cfg = config({"hook": (hook(http_server),)})
    record(store, cfg, n=5)
    deliver_due(store, cfg, T0, rng=random.Random(7))
    assert [r.status for r in store.outbox_rows()] == ["sent"] * 5
    assert store.cluster_view(T0)["outbox"] == {claimer_id(): {"sending": 0, "sent": 5}}
