"""A real HTTP server on 127.0.0.1 for tests: serves programmable routes, records requests.

Use the ``http_server`` fixture (tests/conftest.py). Routes map a path to a
``Route`` (status, headers, body) or to a callable taking the ``Request`` and
returning a ``Route``. Every request is recorded in ``server.requests``, so a
test can read what an Apprise ``json://`` post or a conditional GET carried, and
the path of every answer fully written in ``server.answered`` (a test can tell
that a client gave up while the server still stalled, without timing it).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int] = ("", 0)  # the client's address: one per connection

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Route:
    """What to answer: status, headers, body; ``delay`` seconds before answering."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Route | Callable[[Request], Route]


class LocalServer:
    """A threaded HTTP server on an ephemeral loopback port."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.answered: list[str] = []  # paths whose answer was written out, in order
        self._lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address
                )
                with outer._lock:
                    outer.requests.append(req)
                path = self.path.split("?", 1)[0]
                handler = outer.routes.get(self.path) or outer.routes.get(path)
                if handler is None:
                    route = Route(404, b"not found")
                elif isinstance(handler, Route):
                    route = handler
                else:
                    route = handler(req)
                if route.delay:
                    time.sleep(route.delay)
                data = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
                self.send_response(route.status)
                headers = {"Content-Length": str(len(data)), **route.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(data)
                with outer._lock:
                    outer.answered.append(path)

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return self.base + path

    def posts(self, path: str | None = None) -> list[Request]:
        """Every POST received (to ``path`` if given)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and (path is None or r.path.split("?")[0] == path)
            ]

    def wait_for_posts(
        self, n: int, path: str | None = None, timeout: float = 10.0
    ) -> list[Request]:
        """Wait until at least ``n`` POSTs arrived; returns them (maybe fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.posts(path)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        return self.posts(path)

    def start(self) -> LocalServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
