"""Tests for the rss source over real local HTTP: parsing, conditional GET, errors, backoff."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from localserver import LocalServer, Request, Route

from watchlist.models import SourceConfig, SourceState
from watchlist.sources import USER_AGENT, make_client, make_source

pytestmark = pytest.mark.usefixtures("loopback_only")  # nothing leaves 127.0.0.1

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title>
<item><title>First story</title><link>https://ex.com/1</link><guid>g1</guid>
<description>About the STAR Market.</description></item>
<item><title>Second story</title><link>https://ex.com/2</link><guid>g2</guid></item>
</channel></rss>"""


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """One shared client, as the daemon uses."""
    with make_client() as c:
        yield c


def cfg(url: str, **kw: object) -> SourceConfig:
    """An rss source config for ``url``."""
    return SourceConfig(name="news", type="rss", url=url, **kw)  # type: ignore[arg-type]


def test_feed_served_and_parsed(http_server: LocalServer, client: httpx.Client) -> None:
    """A feed over HTTP gives its articles and a healthy state with validators kept."""
    http_server.routes["/feed"] = Route(
        200, FEED, {"Content-Type": "application/rss+xml", "ETag": '"v1"',
                    "Last-Modified": "Fri, 01 Mar 2024 10:00:00 GMT"},
    )  # fmt: skip
    src = make_source(cfg(http_server.url("/feed")), client)
    res = src.poll(SourceState(), NOW)
    assert [a.id for a in res.articles] == ["g1", "g2"]
    assert {a.source for a in res.articles} == {"news"}
    st = res.state
    assert (st.etag, st.last_modified) == ('"v1"', "Fri, 01 Mar 2024 10:00:00 GMT")
    assert (st.last_success, st.failures, st.articles, st.last_error) == (NOW, 0, 2, "")
    assert http_server.requests[0].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("watchlist/")


def test_conditional_get_304(http_server: LocalServer, client: httpx.Client) -> None:
    """The second poll sends If-None-Match and If-Modified-Since; a 304 yields nothing."""

    def handler(req: Request) -> Route:
        if req.headers.get("If-None-Match") == '"v1"':
            return Route(304, b"")
        return Route(200, FEED, {"ETag": '"v1"', "Last-Modified": "Fri, 01 Mar 2024 10:00:00 GMT"})

    http_server.routes["/feed"] = handler
    src = make_source(cfg(http_server.url("/feed")), client)
    first = src.poll(SourceState(), NOW)
    second = src.poll(first.state, NOW + timedelta(minutes=15))
    assert len(first.articles) == 2
    assert second.articles == ()
    sent = http_server.requests[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Fri, 01 Mar 2024 10:00:00 GMT"
    assert second.state.etag == '"v1"'
    assert second.state.last_success == NOW + timedelta(minutes=15)
    assert second.state.articles == 2


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(404, b"nope"), "not found (HTTP 404)"),
        (Route(410, b"gone"), "gone (HTTP 410)"),
        (Route(500, b"oops"), "server error (HTTP 500"),
        (Route(403, b""), "access denied (HTTP 403)"),
        (Route(200, "<html><body>Welcome</body></html>", {"Content-Type": "text/html"}),
         "got an HTML page, not a feed"),
        (Route(200, b""), "empty"),
        (Route(200, FEED[: len(FEED) // 2]), "truncated XML"),
        (Route(200, b"\x00\x01\x02\x03\x04 binary"), "binary data"),
    ],
)  # fmt: skip
def test_errors_recorded_then_recover(
    http_server: LocalServer, client: httpx.Client, route: Route, message: str
) -> None:
    """Each bad answer is a recorded error with backoff, and a later poll still works."""
    http_server.routes["/feed"] = route
    src = make_source(cfg(http_server.url("/feed"), every=timedelta(minutes=15)), client)
    bad = src.poll(SourceState(articles=5), NOW)
    assert bad.articles == ()
    st = bad.state
    assert message in st.last_error
    assert (st.failures, st.last_error_at, st.last_success, st.articles) == (1, NOW, None, 5)
    assert st.next_poll == NOW + timedelta(minutes=30)
    again = src.poll(st, NOW + timedelta(minutes=1))  # inside the backoff window: no request
    assert again.state == st and len(http_server.requests) == 1
    worse = src.poll(st, st.next_poll)
    assert worse.state.failures == 2 and worse.state.next_poll == st.next_poll + timedelta(hours=1)
    http_server.routes["/feed"] = Route(200, FEED)
    good = src.poll(worse.state, worse.state.next_poll)  # type: ignore[arg-type]
    assert len(good.articles) == 2
    assert (good.state.failures, good.state.next_poll) == (0, None)
    assert good.state.articles == 7


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [
        ("120", timedelta(seconds=120)),
        ("Fri, 01 Mar 2024 13:00:00 GMT", timedelta(hours=1)),
        ("soon", timedelta(minutes=30)),
        ("99999999", timedelta(days=1)),
    ],
)
def test_429_retry_after(
    http_server: LocalServer, client: httpx.Client, retry_after: str, delay: timedelta
) -> None:
    """A 429's Retry-After (seconds or HTTP date) sets the next poll; junk falls back."""
    http_server.routes["/feed"] = Route(429, b"slow down", {"Retry-After": retry_after})
    res = make_source(cfg(http_server.url("/feed")), client).poll(SourceState(), NOW)
    assert "rate limited (HTTP 429)" in res.state.last_error
    assert res.state.next_poll == NOW + delay


def test_redirects_followed_loop_refused(http_server: LocalServer, client: httpx.Client) -> None:
    """A redirect is followed; a loop and a chain longer than 5 are errors."""
    http_server.routes["/old"] = Route(301, b"", {"Location": "/feed"})
    http_server.routes["/feed"] = Route(200, FEED)
    assert (
        len(make_source(cfg(http_server.url("/old")), client).poll(SourceState(), NOW).articles)
        == 2
    )
    http_server.routes["/a"] = Route(302, b"", {"Location": "/b"})
    http_server.routes["/b"] = Route(302, b"", {"Location": http_server.url("/a")})
    loop = make_source(cfg(http_server.url("/a")), client).poll(SourceState(), NOW)
    assert "redirect loop" in loop.state.last_error
    for i in range(10):
        http_server.routes[f"/r{i}"] = Route(307, b"", {"Location": f"/r{i + 1}"})
    chain = make_source(cfg(http_server.url("/r0")), client).poll(SourceState(), NOW)
    assert "too many redirects" in chain.state.last_error
    assert not any(r.path == "/r7" for r in http_server.requests)


def test_connection_refused(client: httpx.Client) -> None:
    """Nobody listening is a recorded error, not an exception."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = make_source(cfg(f"http://127.0.0.1:{port}/feed"), client).poll(SourceState(), NOW)
    assert "could not connect" in res.state.last_error and res.state.failures == 1


def test_password_never_in_error(http_server: LocalServer, client: httpx.Client) -> None:
    """A password or query token in the feed URL never shows in the recorded error."""
    url = http_server.url("/private?token=hunter2").replace("http://", "http://user:s3cret@")
    res = make_source(cfg(url), client).poll(SourceState(), NOW)
    assert "HTTP 404" in res.state.last_error
    assert "s3cret" not in res.state.last_error and "hunter2" not in res.state.last_error


def test_local_path_feed(tmp_path: Path, client: httpx.Client) -> None:
    """An rss url that is a local path is read from disk, once per change, size-capped."""
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, "utf-8")
    src = make_source(cfg(str(feed)), client)
    first = src.poll(SourceState(), NOW)
    assert len(first.articles) == 2
    assert src.poll(first.state, NOW).articles == ()
    big = make_source(cfg(str(feed), max_bytes=100), client).poll(SourceState(), NOW)
    assert "larger than max_bytes (100 bytes)" in big.state.last_error
    missing = make_source(cfg(str(tmp_path / "nope.xml")), client).poll(SourceState(), NOW)
    assert "no such file" in missing.state.last_error


def test_backoff_caps_at_six_hours(http_server: LocalServer, client: httpx.Client) -> None:
    """Consecutive failures back off exponentially up to six hours."""
    src = make_source(cfg(http_server.url("/missing")), client)
    st = replace(SourceState(), failures=20)
    res = src.poll(st, NOW)
    assert res.state.next_poll == NOW + timedelta(hours=6)


def test_plain_httpx_client_also_works(http_server: LocalServer) -> None:
    """A caller's own httpx.Client (not make_client's) still fetches and parses."""
    http_server.routes["/feed"] = Route(200, FEED)
    with httpx.Client() as plain:
        res = make_source(cfg(http_server.url("/feed")), plain).poll(SourceState(), NOW)
    assert [a.id for a in res.articles] == ["g1", "g2"]


CP1251_FEED = (
    '<rss version="2.0"><channel><title>t</title><item><title>Биржа STAR Market</title>'
    "<guid>c1</guid></item></channel></rss>"
).encode("cp1251")


@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml; charset=windows-1251", 'text/xml; charset="windows-1251"'],
)
def test_http_charset_decodes_feed_without_declaration(
    http_server: LocalServer, client: httpx.Client, content_type: str
) -> None:
    """A feed with no XML declaration is decoded with the charset of its Content-Type."""
    http_server.routes["/cp"] = Route(200, CP1251_FEED, {"Content-Type": content_type})
    res = make_source(cfg(http_server.url("/cp")), client).poll(SourceState(), NOW)
    assert res.state.last_error == ""
    assert [a.title for a in res.articles] == ["Биржа STAR Market"]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(200, "Service temporarily unavailable\nPlease try later",
               {"Content-Type": "text/plain"}),
         "not an RSS or Atom feed (got text/plain: 'Service temporarily unavailable"),
        (Route(200, '{"error": "maintenance", "url": "https://x"}',
               {"Content-Type": "application/json"}),
         "not an RSS or Atom feed (got application/json: '{\"error\""),
        (Route(200, '[{"title": "not from a feed"}]'), "not an RSS or Atom feed (got JSON: '[{"),
        (Route(200, "Just a line of text"), "not an RSS or Atom feed (got plain text: 'Just"),
    ],
)  # fmt: skip
def test_rss_source_accepts_only_feeds(
    http_server: LocalServer, client: httpx.Client, route: Route, message: str
) -> None:
    """A 200 that is not a feed (text, JSON) is a recorded error for an rss source, no article."""
    http_server.routes["/feed"] = route
    res = make_source(cfg(http_server.url("/feed")), client).poll(SourceState(), NOW)
    assert res.articles == ()
    assert res.state.failures == 1
    assert message in res.state.last_error


def test_local_rss_source_accepts_only_feeds(tmp_path: Path, client: httpx.Client) -> None:
    """An rss source naming a local JSON file is refused too; the same file as a feed is read."""
    path = tmp_path / "feed.xml"
    path.write_text('{"title": "json in disguise"}', "utf-8")
    res = make_source(cfg(str(path)), client).poll(SourceState(), NOW)
    assert res.articles == () and "not an RSS or Atom feed (got JSON" in res.state.last_error
