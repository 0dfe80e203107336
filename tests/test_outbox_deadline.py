"""One outbox run is bounded: a dead server, a time budget and a stop flag cut it short.

Real receivers on the local HTTP server; a route with a long delay is a server that
never answers within the configured timeout.
"""

from __future__ import annotations

import threading

import pytest
from localserver import LocalServer, Request, Route
from test_faults_driver import T0, article, config, match

from watchlist.delivery.worker import deliver_due, outbox_status
from watchlist.models import Config
from watchlist.store.sqlite import Store


@pytest.fixture
def store(state: str) -> Store:
    """A fresh store: an SQLite file, or a PostgreSQL database."""
    s = Store(state)
    yield s  # type: ignore[misc]
    s.close()


def url(server: LocalServer, path: str) -> str:
    """The json:// URL of ``path`` on the local server."""
    return f"json://127.0.0.1:{server.port}{path}"


def record(store: Store, cfg: Config, n: int) -> None:
    """Record ``n`` distinct matches of rule 'acme' (to every channel of ``cfg``)."""
    arts = [article(i, title=f"Headline {i} " + "x" * i) for i in range(n)]
    store.record(arts, [match(a) for a in arts], cfg, T0)


@pytest.mark.slow
def test_healthy_channel_is_served_while_another_hangs(
    store: Store, http_server: LocalServer
) -> None:
    """With one channel's server hanging, the run costs one timeout and the other gets all three."""
    http_server.routes["/good"] = Route(200)
    http_server.routes["/hang"] = Route(200, delay=20)
    cfg = config(
        {"hang": (url(http_server, "/hang"),), "good": (url(http_server, "/good"),)}, timeout=1.0
    )
    record(store, cfg, 3)
    stats = deliver_due(store, cfg, T0)
    assert "/hang" not in http_server.answered  # the run ended inside the hang
    assert (stats.sent, stats.retrying, stats.deferred) == (3, 1, 2)
    assert len(http_server.posts("/good")) == 3
    assert len(http_server.posts("/hang")) == 1
    hung = store.outbox_rows("pending")
    assert sorted(r.attempts for r in hung) == [0, 0, 1]
    assert len({r.next_attempt for r in hung}) == 1  # the others wait for the channel's retry
    whys = [u["why"] for u in outbox_status(store, T0)["undelivered"]]
    assert sum("did not answer" in w for w in whys) == 2
    assert sum("timed out after 1s" in w for w in whys) == 1


def test_refused_channel_gets_one_try_per_run(store: Store, http_server: LocalServer) -> None:
    """A channel refusing connections is tried once per run; its other rows count no attempt."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    http_server.routes["/good"] = Route(200)
    cfg = config({"dead": (f"json://127.0.0.1:{dead}/x",), "good": (url(http_server, "/good"),)})
    record(store, cfg, 3)
    stats = deliver_due(store, cfg, T0)
    assert (stats.sent, stats.retrying, stats.deferred) == (3, 1, 2)
    assert sorted(r.attempts for r in store.outbox_rows("pending")) == [0, 0, 1]


def test_budget_ends_the_run_leaving_rows_untried(store: Store, http_server: LocalServer) -> None:
    """Once the run's budget is spent no new send starts; the rest stay due, no attempt counted."""
    http_server.routes["/slow"] = Route(200, delay=0.4)
    cfg = config({"slow": (url(http_server, "/slow"),)})
    record(store, cfg, 6)
    stats = deliver_due(store, cfg, T0, budget=0.5)
    assert 1 <= stats.sent < 6 and stats.waiting == 6 - stats.sent
    untried = store.outbox_rows("pending", due_by=T0)
    assert len(untried) == 6 - stats.sent and {r.attempts for r in untried} == {0}
    assert deliver_due(store, cfg, T0).sent == 6 - stats.sent  # the next run sends the rest


def test_stop_flag_is_checked_between_sends(store: Store, http_server: LocalServer) -> None:
    """A stop flag set during the first send ends the run after it; the rest stay due."""
    stop = threading.Event()

    def answer(req: Request) -> Route:
        stop.set()
        return Route(200)

    http_server.routes["/hook"] = answer
    cfg = config({"hook": (url(http_server, "/hook"),)})
    record(store, cfg, 4)
    stats = deliver_due(store, cfg, T0, stop=stop)
    assert (stats.sent, stats.waiting) == (1, 3)
    assert len(http_server.posts("/hook")) == 1
    assert {r.attempts for r in store.outbox_rows("pending")} == {0}


def test_stop_during_a_hung_send_returns_promptly(store: Store, http_server: LocalServer) -> None:
    """A stop while the server holds the request abandons it; the row is due again, may repeat."""
    stop = threading.Event()

    def hang(req: Request) -> Route:
        stop.set()
        return Route(200, delay=20)

    http_server.routes["/hook"] = hang
    cfg = config({"hook": (url(http_server, "/hook"),)}, timeout=30)
    record(store, cfg, 2)
    stats = deliver_due(store, cfg, T0, stop=stop.is_set)
    assert "/hook" not in http_server.answered  # abandoned while the server held it
    assert (stats.sent, stats.waiting) == (0, 2)
    rows = store.outbox_rows("pending", due_by=T0)
    assert sorted(r.attempts for r in rows) == [0, 1]
    assert "may arrive twice" in max(rows, key=lambda r: r.attempts).last_error
