"""The optional status endpoint: ``GET /healthz``, ``GET /metrics`` and the web page over HTTP.

A small starlette app served by uvicorn in a background thread. The daemon
creates ``StatusServer(listen, metrics, health, routes)`` when ``server.listen`` is
set (off by default; ``routes`` are the web page's, ``watchlist.daemon.web``), calls
``start()`` (binds at once, so a busy port is an error right there; port 0 picks a
free one, read it from ``.port``) and ``stop()``.
``outbox_health`` is the daemon's stuck-outbox check for /healthz.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from watchlist.daemon.logs import mask
from watchlist.daemon.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger("watchlist.server")


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``, ``:port`` = 127.0.0.1) to (host, port); ValueError if bad."""
    text = listen.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"server listen {listen!r}: expected host:port such as 127.0.0.1:9100 "
            "(port 0 picks a free one)"
        )
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


def is_healthy(report: dict[str, Any]) -> bool:
    """A health report is healthy when ``ok`` is true, or (without ``ok``) ``status`` is "ok"."""
    if "ok" in report:
        return bool(report["ok"])
    return bool(report.get("status", "ok") == "ok")


def outbox_health(idle: float, limit: float, every: float) -> dict[str, Any]:
    """The outbox part of /healthz: unhealthy when its job has not finished a run for ``limit`` s.

    ``idle`` is the seconds since the job last finished (or since start); ``every`` its interval.
    """
    report: dict[str, Any] = {"outbox_idle_seconds": round(idle, 1)}
    if idle > limit:
        report["ok"] = False
        report["why"] = (
            f"the outbox job has not finished a run for {idle:.0f}s (it runs every "
            f"{every:.0f}s); a delivery may be stuck"
        )
    return report


def build_app(
    metrics: Metrics, health: Callable[[], dict[str, Any]], routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The starlette app with /healthz and /metrics, and ``routes`` (the web page) after them."""

    def healthz(request: Request) -> Response:
        try:
            report = dict(health())
            good = is_healthy(report)
        except Exception as exc:
            log.exception("health check failed")
            report, good = {"error": f"{type(exc).__name__}: {exc}"}, False
        body = {**report, "status": "ok" if good else "unhealthy"}
        text = mask(json.dumps(body, default=str, ensure_ascii=False))
        return Response(text, status_code=200 if good else 503, media_type="application/json")

    def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics_endpoint, methods=["GET", "HEAD"]),
            *routes,
        ]
    )


class StatusServer:
    """uvicorn serving ``build_app`` on ``listen`` in a daemon thread."""

    def __init__(
        self,
        listen: str,
        metrics: Metrics,
        health: Callable[[], dict[str, Any]],
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.host, self._port = parse_listen(listen)
        self.app = build_app(metrics, health, routes)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def port(self) -> int:
        """The port actually bound (the free one chosen when 0 was asked)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def start(self, timeout: float = 5.0) -> StatusServer:
        """Bind and start serving; raises OSError (port busy, bad address) at once."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so: TCP_NODELAY
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(64)
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno, f"server listen {self.host}:{self._port}: {exc.strerror}"
            ) from None
        sock.set_inheritable(False)
        self._sock = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # our root handlers (and their secret filter) apply
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name="watchlist-status-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        log.info("status endpoint on %s (/healthz, /metrics and the web page)", self.url)
        return self

    def stop(self, timeout: float = 3.0) -> None:
        """Stop serving and close the socket."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
