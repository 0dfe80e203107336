"""Tests for the HTTP ingest server over real HTTP: auth, size cap, bad JSON, 202 after submit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from watchlist.models import Article, SourceConfig
from watchlist.sources.ingest import IngestServer, parse_listen

TOKEN = "s3cret-token-value"


class Sink:
    """A submit callable that records what it got (and can fail on demand)."""

    def __init__(self) -> None:
        self.batches: list[list[Article]] = []
        self.fail = False
        self.lock = threading.Lock()

    def __call__(self, articles: list[Article]) -> list[str]:
        if self.fail:
            raise RuntimeError("database is locked")
        with self.lock:
            self.batches.append(articles)
        return [a.id for a in articles]


@pytest.fixture
def sink() -> Sink:
    """A fresh recording sink."""
    return Sink()


@pytest.fixture
def server(sink: Sink) -> Iterator[IngestServer]:
    """An ingest server with a token and a 4 KB cap on a free port."""
    cfg = SourceConfig(
        name="ingest", type="http", listen="127.0.0.1:0", token=TOKEN, max_bytes=4096
    )
    srv = IngestServer(cfg, sink).start()
    try:
        yield srv
    finally:
        srv.stop()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_post_one_article(server: IngestServer, sink: Sink) -> None:
    """One JSON article is normalised, submitted, and answered 202 with its id."""
    r = httpx.post(
        server.url + "/articles",
        json={"title": "<b>Hi</b>", "url": "https://ex.com/a?utm_source=x"},
        headers=AUTH,
    )
    assert r.status_code == 202
    assert r.json() == {"accepted": ["https://ex.com/a"]}
    (batch,) = sink.batches
    assert batch[0].title == "Hi" and batch[0].source == "ingest"


def test_post_list(server: IngestServer, sink: Sink) -> None:
    """A list of articles is submitted in one call."""
    r = httpx.post(
        server.url + "/articles", json=[{"id": "1", "title": "a"}, {"id": "2", "body": "b"}],
        headers=AUTH,
    )  # fmt: skip
    assert (r.status_code, r.json()) == (202, {"accepted": ["1", "2"]})
    assert len(sink.batches) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"}],
)  # fmt: skip
def test_missing_or_wrong_token_401(
    server: IngestServer, sink: Sink, headers: dict[str, str]
) -> None:
    """Without the right bearer token: 401, nothing submitted, no detail leaked."""
    r = httpx.post(server.url + "/articles", json={"title": "x"}, headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized"}
    assert TOKEN not in r.text
    assert sink.batches == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title": ', "invalid JSON at line 1 column 11"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1]", "article 0 is not a JSON object"),
        (b'"just a string"', "the article is not a JSON object"),
        (b'{"foo": 1}', "has no title, summary, body or url"),
    ],
)
def test_bad_body_400(server: IngestServer, sink: Sink, body: bytes, message: str) -> None:
    """Bad JSON gets 400 with a clear message."""
    r = httpx.post(server.url + "/articles", content=body, headers=AUTH)
    assert r.status_code == 400
    assert message in r.json()["error"]
    assert sink.batches == []


def test_too_large_413(server: IngestServer, sink: Sink) -> None:
    """A body over the cap gets 413, with or without a Content-Length."""
    big = b'{"title": "' + b"x" * 10_000 + b'"}'
    assert httpx.post(server.url + "/articles", content=big, headers=AUTH).status_code == 413

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    r = httpx.post(server.url + "/articles", content=chunks(), headers=AUTH)
    assert r.status_code == 413
    assert sink.batches == []


def test_submit_failure_503(server: IngestServer, sink: Sink) -> None:
    """If storing fails the client is told to retry, and the error text is not leaked."""
    sink.fail = True
    r = httpx.post(server.url + "/articles", json={"title": "x"}, headers=AUTH)
    assert r.status_code == 503
    assert "database" not in r.text


def test_healthz_and_unknown(server: IngestServer) -> None:
    """GET /healthz answers 200; GET /articles is not allowed."""
    assert httpx.get(server.url + "/healthz").status_code == 200
    assert httpx.get(server.url + "/articles").status_code == 405


def test_no_token_configured_accepts(sink: Sink) -> None:
    """Without a configured token no auth is needed; stop() frees the port."""
    cfg = SourceConfig(name="open", type="http", listen="127.0.0.1:0")
    srv = IngestServer(cfg, sink).start()
    try:
        r = httpx.post(srv.url + "/articles", json={"title": "x"})
        assert r.status_code == 202
    finally:
        srv.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/healthz", timeout=2)


def test_port_in_use_is_clear_error(server: IngestServer, sink: Sink) -> None:
    """Listening on a taken port raises an error naming the address."""
    cfg = SourceConfig(name="clash", type="http", listen=f"127.0.0.1:{server.port}")
    with pytest.raises(OSError, match=f"source clash: cannot listen on 127.0.0.1:{server.port}"):
        IngestServer(cfg, sink).start()


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("127.0.0.1:8787", ("127.0.0.1", 8787)), (":9000", ("127.0.0.1", 9000)),
     ("[::1]:80", ("::1", 80)), ("localhost:0", ("localhost", 0))],
)  # fmt: skip
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    """listen strings are split into host and port."""
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["127.0.0.1:http", "host:99999"])
def test_parse_listen_rejects(listen: str) -> None:
    """A listen string without a valid port is a clear error."""
    with pytest.raises(ValueError, match="expected host:port"):
        parse_listen(listen)


def _post_times(url: str, n: int, *, reuse: bool) -> float:
    """Seconds for ``n`` one-article POSTs, on one kept-alive connection or a new one each."""
    import time

    # one client either way (building one costs more than the request); without
    # keep-alive it opens a new connection for every request
    limits = httpx.Limits(max_keepalive_connections=None if reuse else 0)
    with httpx.Client(headers=AUTH, limits=limits) as client:
        start = time.perf_counter()
        for i in range(n):
            r = client.post(url, json={"id": f"{reuse}{i}", "title": "x"})
            assert r.status_code == 202
        return time.perf_counter() - start


def test_reused_connection_not_slower_than_fresh(server: IngestServer) -> None:
    """One-article POSTs on a reused connection are not slower than on fresh ones (TCP_NODELAY)."""
    url = server.url + "/articles"
    _post_times(url, 3, reuse=True)  # warm up
    fresh = min(_post_times(url, 15, reuse=False) for _ in range(2))
    reused = min(_post_times(url, 15, reuse=True) for _ in range(2))
    # without TCP_NODELAY each reused request waits ~40 ms for the client's delayed ACK,
    # several times what a whole new connection costs on loopback
    assert reused <= fresh * 2, (reused, fresh)


def test_accepted_sockets_set_nodelay(server: IngestServer) -> None:
    """The listening socket is a TCP one, so asyncio sets TCP_NODELAY on every connection."""
    import socket

    assert server._sock is not None
    assert server._sock.proto == socket.IPPROTO_TCP
