"""Concurrent delivery: at most a channel's concurrency in flight, queue order, batched commits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from localserver import LocalServer, Request, Route
from test_faults_driver import T0, article, config, match

from watchlist.delivery.worker import deliver_due
from watchlist.store.sqlite import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh store file."""
    s = Store(tmp_path / "state.db")
    yield s  # type: ignore[misc]
    s.close()


class Overlap:
    """A receiver route that holds each request a moment and counts how many overlap."""

    def __init__(self, hold: float = 0.05) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()
        self.hold = hold

    def __call__(self, req: Request) -> Route:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        threading.Event().wait(self.hold)
        with self.lock:
            self.now -= 1
        return Route(200)


def _record(store: Store, n: int, concurrency: int, url: str) -> None:
    cfg = config({"hook": (url,)}, concurrency=concurrency)
    arts = [article(i) for i in range(n)]
    store.record(arts, [match(a) for a in arts], cfg, T0)


@pytest.mark.parametrize("limit", [1, 4])
def test_never_more_than_the_concurrency_in_flight(
    store: Store, http_server: LocalServer, limit: int
) -> None:
    """Twenty messages on a channel with concurrency N: at most N (and, with 4, more than 1)
    requests overlap at the receiver, and every message arrives once."""
    route = Overlap(0.1)
    http_server.routes["/hook"] = route
    url = f"json://127.0.0.1:{http_server.port}/hook"
    _record(store, 20, limit, url)
    stats = deliver_due(store, config({"hook": (url,)}, concurrency=limit), T0)
    assert stats.sent == 20
    assert route.most == limit  # the window opened all the way, and no further
    titles = [p.json()["title"] for p in http_server.posts("/hook")]
    assert sorted(titles) == sorted({*titles}) and len(titles) == 20
    assert {r.status for r in store.outbox_rows()} == {"sent"}


def test_concurrency_one_keeps_strict_order(store: Store, http_server: LocalServer) -> None:
    """With concurrency 1 the messages arrive exactly in queue order."""
    http_server.routes["/hook"] = Route(200)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    _record(store, 8, 1, url)
    deliver_due(store, config({"hook": (url,)}, concurrency=1), T0)
    titles = [p.json()["title"] for p in http_server.posts("/hook")]
    assert titles == [f"[acme] Acme story number {i} about widgets" for i in range(8)]


def test_results_are_committed_in_batches(store: Store, http_server: LocalServer) -> None:
    """Sending 24 messages 8 at a time takes fewer commits than two per message."""
    http_server.routes["/hook"] = Overlap(0.02)
    url = f"json://127.0.0.1:{http_server.port}/hook"
    _record(store, 24, 8, url)
    commits = 0
    real_tx = store.tx

    def counting_tx():  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        return real_tx()

    store.tx = counting_tx  # type: ignore[method-assign]
    assert deliver_due(store, config({"hook": (url,)}, concurrency=8), T0).sent == 24
    assert commits < 24  # one per round (results + next claim), not two per message
