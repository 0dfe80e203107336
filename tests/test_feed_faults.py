"""Fault injection for feed fetching over a raw local socket: drip, truncation, huge, gzip bomb."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from watchlist.models import SourceConfig, SourceState
from watchlist.sources import make_client, make_source

pytestmark = pytest.mark.usefixtures("loopback_only")  # nothing leaves 127.0.0.1

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>Fine story</title><guid>ok-1</guid></item></channel></rss>"
)

Behaviour = Callable[[socket.socket], None]


class RawServer:
    """Answers every connection on 127.0.0.1 by running ``behaviour(conn)`` in a thread."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/feed") -> str:
        """A URL on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                self.behaviour(conn)
            except OSError:
                pass

    def close(self) -> None:
        """Stop accepting and close the socket."""
        self.stopping.set()
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Behaviour], RawServer]]:
    """A factory of raw servers, closed after the test."""
    servers: list[RawServer] = []

    def make(behaviour: Behaviour) -> RawServer:
        server = RawServer(behaviour)
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """One shared client."""
    with make_client() as c:
        yield c


def head(length: int | None, extra: str = "") -> bytes:
    """A 200 response head."""
    cl = f"Content-Length: {length}\r\n" if length is not None else ""
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n{cl}{extra}\r\n".encode()


def poll(url: str, client: httpx.Client, **kw: object) -> tuple[object, None]:
    """Poll an rss source once; returns (result, None).

    No test times a poll: each counts what the server still had to send, or whether
    it was still stalling, when the poll returned.
    """
    cfg = SourceConfig(name="faulty", type="rss", url=url, **kw)  # type: ignore[arg-type]
    return make_source(cfg, client).poll(SourceState(), NOW), None


def good(conn: socket.socket) -> None:
    """A correct feed answer."""
    conn.sendall(head(len(FEED)) + FEED)


def test_raw_server_good_feed(raw: Callable[[Behaviour], RawServer], client: httpx.Client) -> None:
    """The raw server itself serves a feed that parses (control case)."""
    res, _ = poll(raw(good).url(), client)
    assert [a.id for a in res.articles] == ["ok-1"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_one_byte_a_second_ends_at_deadline(
    raw: Callable[[Behaviour], RawServer], client: httpx.Client
) -> None:
    """A server dripping one byte a second is cut off at the fetch deadline."""

    sent = [0]

    def drip(conn: socket.socket) -> None:
        conn.sendall(head(len(FEED)))
        for b in FEED:
            conn.sendall(bytes([b]))
            sent[0] += 1
            time.sleep(1.0)

    res, _ = poll(raw(drip).url(), client, timeout=2.0)
    assert sent[0] < len(FEED) // 2  # cut off long before the drip would have ended
    assert "within the timeout (2 s)" in res.state.last_error  # type: ignore[attr-defined]
    res2, _ = poll(raw(good).url(), client)
    assert len(res2.articles) == 1  # type: ignore[attr-defined]


@pytest.mark.slow
def test_header_drip_ends_at_deadline(
    raw: Callable[[Behaviour], RawServer], client: httpx.Client
) -> None:
    """A server dripping its status line and headers is also cut off at the deadline."""

    sent = [0]
    whole = head(len(FEED)) + FEED

    def drip(conn: socket.socket) -> None:
        for b in whole:
            conn.sendall(bytes([b]))
            sent[0] += 1
            time.sleep(0.5)

    res, _ = poll(raw(drip).url(), client, timeout=2.0)
    assert sent[0] < len(whole) // 2  # still inside the head when the deadline hit
    assert "within the timeout (2 s)" in res.state.last_error  # type: ignore[attr-defined]


def test_silent_server_times_out(
    raw: Callable[[Behaviour], RawServer], client: httpx.Client
) -> None:
    """A server that never answers ends in a timeout error while the server still stalls."""
    release, finished = threading.Event(), threading.Event()

    def silent(conn: socket.socket) -> None:
        release.wait(30)
        finished.set()

    try:
        res, _ = poll(raw(silent).url(), client, timeout=1.0)
        assert not finished.is_set()  # the poll gave up; the server had not answered
    finally:
        release.set()
    assert "within the timeout" in res.state.last_error  # type: ignore[attr-defined]


def test_truncated_body(raw: Callable[[Behaviour], RawServer], client: httpx.Client) -> None:
    """A body shorter than its Content-Length is an error, not half an article."""
    res, _ = poll(raw(lambda c: c.sendall(head(len(FEED)) + FEED[:60])).url(), client)
    assert res.articles == ()  # type: ignore[attr-defined]
    assert res.state.failures == 1  # type: ignore[attr-defined]
    assert "broke off" in res.state.last_error  # type: ignore[attr-defined]


def test_huge_body_stopped_at_cap(
    raw: Callable[[Behaviour], RawServer], client: httpx.Client
) -> None:
    """A 50 MB body is abandoned at max_bytes, quickly."""
    size = 50 * 1024 * 1024
    block = b"<!-- padding -->" * 4096

    sent = [0]

    def huge(conn: socket.socket) -> None:
        conn.sendall(head(size))
        while sent[0] < size:
            conn.sendall(block)
            sent[0] += len(block)

    res, _ = poll(raw(huge).url(), client, max_bytes=1024 * 1024)
    assert sent[0] < size // 4  # the client hung up early instead of reading it all
    assert "larger than max_bytes (1048576 bytes)" in res.state.last_error  # type: ignore[attr-defined]


def test_gzip_bomb_stopped_at_cap(
    raw: Callable[[Behaviour], RawServer], client: httpx.Client
) -> None:
    """A gzip body that inflates to 256 MB stops at max_bytes without inflating it all."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1024 * 1024)
    bomb = b"".join(packer.compress(zeros) for _ in range(256)) + packer.flush()
    assert len(bomb) < 512 * 1024

    def serve(conn: socket.socket) -> None:
        conn.sendall(head(len(bomb), "Content-Encoding: gzip\r\n") + bomb)

    import psutil

    rss_before = psutil.Process().memory_info().rss
    res, _ = poll(raw(serve).url(), client, max_bytes=5 * 1024 * 1024)
    grew = psutil.Process().memory_info().rss - rss_before
    assert "larger than max_bytes" in res.state.last_error  # type: ignore[attr-defined]
    assert grew < 100 * 1024 * 1024


def test_gzip_feed_decoded(raw: Callable[[Behaviour], RawServer], client: httpx.Client) -> None:
    """An honest gzip-encoded feed is decoded and parsed."""
    body = gzip.compress(FEED)
    res, _ = poll(
        raw(lambda c: c.sendall(head(len(body), "Content-Encoding: gzip\r\n") + body)).url(),
        client,
    )
    assert [a.id for a in res.articles] == ["ok-1"]  # type: ignore[attr-defined]


def test_garbage_response_line(raw: Callable[[Behaviour], RawServer], client: httpx.Client) -> None:
    """A server speaking nonsense is a recorded error."""
    res, _ = poll(raw(lambda c: c.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")).url(), client)
    assert res.state.failures == 1  # type: ignore[attr-defined]
    assert "did not speak valid HTTP" in res.state.last_error  # type: ignore[attr-defined]
