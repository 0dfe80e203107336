"""Sending through Apprise: results in words, timeouts, console://, mailto:// over real SMTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from localserver import LocalServer, Route

from watchlist.delivery.send import preferred_format, privacy_url, send


def json_url(server: LocalServer, path: str) -> str:
    """The Apprise json:// URL posting to ``path`` on the local server."""
    return f"json://127.0.0.1:{server.port}{path}"


def test_delivered_to_json_receiver(http_server: LocalServer) -> None:
    """A 200 answer is 'delivered' and the receiver got title and body."""
    http_server.routes["/hook"] = Route(200)
    res = send([json_url(http_server, "/hook")], "Title", "Body", timeout=5)
    assert (res.ok, res.words, res.delivered) == (True, "delivered", (0,))
    (post,) = http_server.posts("/hook")
    assert post.json()["title"] == "Title" and post.json()["message"] == "Body"


@pytest.mark.parametrize("status", [500, 503, 404, 401])
def test_http_error_is_reported_in_words(http_server: LocalServer, status: int) -> None:
    """An HTTP error answer is a failure that names the URL and the status."""
    http_server.routes["/hook"] = Route(status)
    res = send([json_url(http_server, "/hook")], "T", "B", timeout=5)
    assert not res.ok and not res.timed_out
    assert res.words.startswith(f"failed: json://127.0.0.1:{http_server.port}/hook")
    assert str(status) in res.words


def test_slow_receiver_times_out(http_server: LocalServer) -> None:
    """A receiver slower than the timeout gives 'timed out' without waiting for it."""
    http_server.routes["/slow"] = Route(200, delay=10)
    res = send([json_url(http_server, "/slow")], "T", "B", timeout=0.5)
    assert "/slow" not in http_server.answered  # it returned while the receiver still stalled
    assert not res.ok and res.timed_out
    assert "timed out after 0.5s" in res.words and "may still have arrived" in res.words


@pytest.mark.slow
def test_receiver_slower_than_apprise_default_but_within_timeout(http_server: LocalServer) -> None:
    """A receiver taking 5.5 s (over Apprise's 4 s read timeout) with timeout 10 s: one success."""
    http_server.routes["/slow"] = Route(200, delay=5.5)
    res = send([json_url(http_server, "/slow")], "T", "B", timeout=10)
    assert (res.ok, res.words, res.delivered) == (True, "delivered", (0,))
    assert len(http_server.posts("/slow")) == 1


def test_read_timeout_is_reported_as_may_have_arrived(http_server: LocalServer) -> None:
    """A receiver that holds the request past the timeout is reported as a timeout, not an error."""
    http_server.routes["/slow"] = Route(200, delay=3)
    res = send([json_url(http_server, "/slow")], "T", "B", timeout=1)
    assert not res.ok and res.timed_out and res.unreachable
    assert res.words.startswith("timed out after 1s") and "may still have arrived" in res.words


def test_refused_connection_is_unreachable() -> None:
    """A port nobody listens on is a connection failure: unreachable, not a timeout."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = send([f"json://127.0.0.1:{port}/x"], "T", "B", timeout=5)
    assert not res.ok and res.unreachable and not res.timed_out


def test_one_bad_url_in_a_channel(http_server: LocalServer) -> None:
    """With two URLs, the good one is reported delivered and the bad one failed."""
    http_server.routes["/ok"] = Route(200)
    http_server.routes["/bad"] = Route(500)
    res = send([json_url(http_server, "/bad"), json_url(http_server, "/ok")], "T", "B")
    assert not res.ok
    assert res.delivered == (1,)
    assert "/bad" in res.words and "/ok" not in res.words


@pytest.mark.parametrize(
    ("urls", "words"),
    [
        (["bogus://secretvalue"], "not a valid Apprise URL"),
        ([], "no URLs"),
    ],
)
def test_unusable_urls(urls: list[str], words: str) -> None:
    """A URL Apprise does not know, or none at all, fails with words and no secret."""
    res = send(urls, "T", "B")
    assert not res.ok and words in res.words
    assert "secretvalue" not in res.words


def test_privacy_url_hides_secrets() -> None:
    """URLs shown to users have their passwords starred out and no default noise."""
    shown = privacy_url("mailto://user:hunter2pass@example.com?to=me@example.com")
    assert "hunter2pass" not in shown and "****" in shown
    assert "overflow" not in shown
    assert privacy_url("nonsense://abc:def@x") == "nonsense://****"


@pytest.mark.parametrize(
    ("urls", "fmt"),
    [
        (["json://127.0.0.1/x"], "text"),
        (["mailto://u:p@example.com"], "html"),
        (["tgram://123456789:abcdefg_hijklmnop/12315544"], "html"),
        (["discord://1234/abcd"], "text"),
        (["mailto://u:p@example.com", "json://127.0.0.1/x"], "text"),
        (["bogus://x"], "text"),
        ([], "text"),
    ],
)
def test_preferred_format(urls: list[str], fmt: str) -> None:
    """A channel's format defaults to its service's own; mixed services fall back to text."""
    assert preferred_format(urls) == fmt


def test_console_prints_to_stdout() -> None:
    """console:// prints title and body on standard output of a real process, flushed."""
    code = (
        "from watchlist.delivery.send import send; import os;"
        "r = send(['console://'], 'Hello title', 'Hello body');"
        "os._exit(0 if r.ok else 3)"  # no interpreter flush: console:// must flush itself
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Hello title\nHello body\n"


class _Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) and its inbox."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_mailto_reaches_smtp_server(smtp: tuple[int, _Inbox]) -> None:
    """mailto:// delivers one mail with subject and body to a real local SMTP server."""
    port, inbox = smtp
    url = f"mailto://127.0.0.1:{port}?from=bot@example.com&to=me@example.com"
    res = send([url], "Acme lists shares", "Body of the alert", timeout=10)
    assert res.ok, res.words
    (mail,) = inbox.messages
    assert mail.rcpt_tos == ["me@example.com"]
    content = mail.content.decode()
    assert "Subject: Acme lists shares" in content and "Body of the alert" in content
