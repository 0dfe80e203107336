"""Tests for watchlist.daemon.server: /healthz and /metrics over real HTTP on a real port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from watchlist.daemon import logs
from watchlist.daemon.metrics import Metrics
from watchlist.daemon.server import StatusServer, is_healthy, outbox_health, parse_listen


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[], dict[str, Any]]], StatusServer]]:
    """Start StatusServers on free ports; stop them afterwards."""
    started: list[StatusServer] = []

    def start(health: Callable[[], dict[str, Any]]) -> StatusServer:
        server = StatusServer("127.0.0.1:0", Metrics(), health).start()
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


@pytest.mark.parametrize(
    ("report", "code", "status"),
    [
        ({"ok": True, "version": "1"}, 200, "ok"),
        ({"status": "ok"}, 200, "ok"),
        ({}, 200, "ok"),
        ({"ok": False, "why": "scheduler stopped"}, 503, "unhealthy"),
        ({"status": "degraded"}, 503, "unhealthy"),
    ],
)
def test_healthz(
    serve: Callable[[Callable[[], dict[str, Any]]], StatusServer],
    report: dict[str, Any],
    code: int,
    status: str,
) -> None:
    """/healthz answers 200 when health says ok, else 503, with the report as JSON."""
    server = serve(lambda: report)
    r = httpx.get(server.url + "/healthz", timeout=5)
    assert r.status_code == code
    body = r.json()
    assert body["status"] == status
    for k, v in report.items():
        if k != "status":
            assert body[k] == v


def test_healthz_when_health_raises(
    serve: Callable[[Callable[[], dict[str, Any]]], StatusServer],
) -> None:
    """A health callback that raises gives 503 with the masked error, not a crash."""
    logs.add_secrets(["HealthSecret99"])

    def bad() -> dict[str, Any]:
        raise RuntimeError("store at HealthSecret99 gone")

    try:
        r = httpx.get(serve(bad).url + "/healthz", timeout=5)
    finally:
        logs.clear_secrets()
    assert r.status_code == 503
    assert "HealthSecret99" not in r.text and "RuntimeError" in r.text


def test_metrics_endpoint() -> None:
    """/metrics serves the Metrics registry as Prometheus text."""
    metrics = Metrics()
    server = StatusServer("127.0.0.1:0", metrics, lambda: {"ok": True}).start()
    try:
        metrics.alerts_sent("team-slack", 3)
        r = httpx.get(server.url + "/metrics", timeout=5)
    finally:
        server.stop()
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'watchlist_alerts_sent_total{channel="team-slack"} 3.0' in r.text


def test_unknown_path_404(serve: Callable[[Callable[[], dict[str, Any]]], StatusServer]) -> None:
    """Other paths are 404."""
    assert httpx.get(serve(dict).url + "/admin", timeout=5).status_code == 404


def test_stop_is_quick_and_frees_port() -> None:
    """stop() is quick, ends the thread, and the port can be bound again."""
    server = StatusServer("127.0.0.1:0", Metrics(), dict).start()
    port = server.port
    assert port > 0
    server.stop()
    assert not any(t.name == "watchlist-status-server" for t in threading.enumerate())
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_busy_port_is_a_clear_error() -> None:
    """Starting on a port in use raises at once, naming the address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(OSError, match=f"server listen 127.0.0.1:{port}"):
            StatusServer(f"127.0.0.1:{port}", Metrics(), dict).start()


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        (":9100", ("127.0.0.1", 9100)),
        ("[::1]:9100", ("::1", 9100)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
    ],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    """listen strings parse to host and port."""
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["localhost", "host:http", "h:70000", ""])
def test_parse_listen_errors(listen: str) -> None:
    """A bad listen string is a ValueError that shows the expected form."""
    with pytest.raises(ValueError, match="expected host:port"):
        parse_listen(listen)


@pytest.mark.parametrize(
    ("report", "ok"),
    [({"ok": 1}, True), ({"ok": 0, "status": "ok"}, False), ({"status": "x"}, False)],
)
def test_is_healthy(report: dict[str, Any], ok: bool) -> None:
    """ok wins over status; status must be "ok"."""
    assert is_healthy(report) is ok


@pytest.mark.parametrize(
    ("idle", "healthy"), [(0.5, True), (59.9, True), (60.1, False), (600.0, False)]
)
def test_outbox_health(idle: float, healthy: bool) -> None:
    """The outbox is unhealthy once its job has not finished a run for longer than the limit."""
    report = outbox_health(idle, 60.0, 2.0)
    assert is_healthy(report) is healthy
    assert report["outbox_idle_seconds"] == round(idle, 1)
    if not healthy:
        assert f"for {idle:.0f}s" in report["why"] and "every 2s" in report["why"]


def test_reused_connection_not_slower_than_fresh(
    serve: Callable[[Callable[[], dict[str, Any]]], StatusServer],
) -> None:
    """GETs on a kept-alive connection are not slower than on new ones (TCP_NODELAY is set)."""
    server = serve(lambda: {"ok": True})

    def run(keepalive: int | None) -> float:
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=keepalive)) as client:
            start = time.perf_counter()
            for _ in range(15):
                assert client.get(server.url + "/metrics").status_code == 200
            return time.perf_counter() - start

    run(None)  # warm up
    fresh = min(run(0) for _ in range(2))
    reused = min(run(None) for _ in range(2))
    assert reused <= fresh * 2, (reused, fresh)
