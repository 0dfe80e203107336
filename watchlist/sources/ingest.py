"""The ``http`` source: a small starlette app on uvicorn taking ``POST /articles``.

One JSON article or a list of them, an optional bearer token (constant-time
compare), a size cap and a cap of ``MAX_ITEMS`` articles per post (413), clear
400s for bad JSON, nesting too deep, and fields of the wrong type (named). ``submit`` runs the
pipeline and commits; the server answers 202 ``{"accepted": [ids]}`` only after
it returns. ``GET /healthz`` answers 200. Runs in a background thread.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from watchlist.config.durations import listen_is_loopback
from watchlist.models import Article, SourceConfig, Stopping
from watchlist.sources.articles import make_article

__all__ = ["DEFAULT_MAX_BYTES", "MAX_ITEMS", "IngestServer", "build_app", "parse_listen"]

log = logging.getLogger("watchlist.sources")

DEFAULT_MAX_BYTES = 1024 * 1024
MAX_ITEMS = 10_000  # articles per post: a bigger list is refused (413), to be sent in parts
_TEXT_KEYS = ("title", "summary", "description", "body", "content", "text", "url", "link", "source")
_TIME_KEYS = ("published", "date", "updated")

Submit = Callable[[list[Article]], list[str]]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:port``, ``:port``) as (host, port); host defaults to 127.0.0.1."""
    text = listen.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "0"
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"listen {listen!r}: expected host:port, like 127.0.0.1:8787")
    return host, int(port)


def _authorised(request: Request, token: str) -> bool:
    if not token:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    ok = hmac.compare_digest(value.strip().encode("utf-8"), token.encode("utf-8"))
    return scheme.lower() == "bearer" and ok


async def _read_body(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _BadRequest(413, f"the body is larger than the limit of {cap} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _BadRequest(413, f"the body is larger than the limit of {cap} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _articles(body: bytes, source: str) -> list[Article]:
    try:
        doc: Any = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise _BadRequest(400, "the body is not UTF-8 text") from None
    except RecursionError:
        raise _BadRequest(400, "the JSON is nested too deeply") from None
    except json.JSONDecodeError as err:
        raise _BadRequest(
            400, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    items = doc if isinstance(doc, list) else [doc]
    if len(items) > MAX_ITEMS:
        raise _BadRequest(
            413, f"the post holds {len(items)} articles, more than the limit of {MAX_ITEMS}; "
            "send them in several posts",
        )  # fmt: skip
    out: list[Article] = []
    for i, item in enumerate(items):
        where = f"article {i}" if isinstance(doc, list) else "the article"
        if not isinstance(item, Mapping):
            raise _BadRequest(400, f"{where} is not a JSON object")
        if problem := _field_problem(item):
            raise _BadRequest(400, f"{where}: {problem}")
        art = make_article(item, source)
        if not (art.title or art.summary or art.body or art.url):
            raise _BadRequest(400, f"{where} has no title, summary, body or url")
        out.append(art)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # nan, inf
    names = {dict: "an object", list: "a list", bool: "true/false", str: "text"}
    return names.get(type(value), "a number")


def _field_problem(item: Mapping[str, Any]) -> str | None:
    """What is wrong with the type of a known field of one posted article, naming it."""
    for key in _TEXT_KEYS:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            return f"'{key}' must be text, found {_kind(value)}"
    for key in _TIME_KEYS:
        value = item.get(key)
        ok = isinstance(value, str) or (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
        if value is not None and not ok:
            return f"'{key}' must be an ISO 8601 time (text), found {_kind(value)}"
    value = item.get("id")
    if value is not None and not (
        isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    ):
        return f"'id' must be text or a whole number, found {_kind(value)}"
    return None


def build_app(
    cfg: SourceConfig, submit: Submit, current: Callable[[], SourceConfig] | None = None
) -> Starlette:
    """The starlette app: ``POST /articles`` and ``GET /healthz``.

    ``current`` (optional) gives the config in force at each request, so a reload can
    change the token or the caps without a new socket.
    """

    async def post_articles(request: Request) -> JSONResponse:
        cfg_now = current() if current is not None else cfg
        cap = cfg_now.max_bytes if cfg_now.max_bytes > 0 else DEFAULT_MAX_BYTES
        if not _authorised(request, cfg_now.token):
            return JSONResponse(
                {"error": "unauthorized"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            articles = _articles(await _read_body(request, cap), cfg_now.name)
        except _BadRequest as err:
            return JSONResponse({"error": err.message}, err.status)
        try:
            ids = await run_in_threadpool(submit, articles)
        except Stopping as stop:
            log.warning("source %s: %s", cfg_now.name, stop)
            return JSONResponse({"error": str(stop)}, 503, headers={"Retry-After": "30"})
        except Exception:
            log.exception(
                "source %s: storing %d posted articles failed", cfg_now.name, len(articles)
            )
            return JSONResponse({"error": "could not store the articles; retry later"}, 503)
        return JSONResponse({"accepted": list(ids)}, 202)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/articles", post_articles, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


class IngestServer:
    """``POST /articles`` on ``cfg.listen`` in a background thread (port 0: any free port)."""

    def __init__(self, cfg: SourceConfig, submit: Submit) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._app = build_app(cfg, submit, lambda: self.cfg)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def update(self, cfg: SourceConfig) -> None:
        """Put ``cfg`` (same ``listen``) in force for the next request: token, caps, name."""
        self.cfg = cfg
        self.name = cfg.name

    def start(self, timeout: float = 10.0) -> IngestServer:
        """Bind (errors raise ``OSError`` here, naming the address) and serve in a thread.

        Refuses (``OSError``) to listen beyond loopback without a token unless the
        source says ``insecure: true``; ``watchlist check`` reports the same.
        """
        if not (self.cfg.token or self.cfg.insecure or listen_is_loopback(self.cfg.listen)):
            raise OSError(
                f"source {self.name}: refusing to listen on {self.cfg.listen} without a token; "
                "set token: or insecure: true"
            )
        host, port = parse_listen(self.cfg.listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
        # and without it every answer on a kept-alive connection waits for a delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            sock.close()
            raise OSError(
                f"source {self.name}: cannot listen on {host}:{port}: {err.strerror}"
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self.host, self.port = host, sock.getsockname()[1]
        config = uvicorn.Config(
            self._app, log_level="warning", lifespan="off", access_log=False,
            timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"ingest-{self.name}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"source {self.name}: the ingest server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None
