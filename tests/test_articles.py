"""Tests for watchlist.sources.articles: HTML to text, canonical URLs, times, ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchlist.sources.articles import canonical_url, html_to_text, make_article, parse_published


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("plain text", "plain text"),
        ("Tom &amp; Jerry &lt;3 &#8217;&eacute;", "Tom & Jerry <3 \u2019\u00e9"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<div>x<script>alert('no')</script>y</div>", "xy"),
        ("<style>p{color:red}</style><p>shown</p>", "shown"),
        ("<ul><li>first</li><li>second</li></ul>", "first\nsecond"),
        ("<ul>\n  <li>first</li>\n  <li>second</li>\n</ul>", "first\nsecond"),
        ("<h1>Head</h1><div>a</div><div>b</div>", "Head\n\na\nb"),
        ("<b>bold</b>   and\n<i>italic</i>", "bold and italic"),
        ("line one\nline two", "line one\nline two"),
        ("<p>caf&eacute;&nbsp;noir</p>", "caf\u00e9 noir"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    """HTML becomes plain text: entities decoded, scripts dropped, blocks on lines."""
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/a/b", "http://example.com/a/b"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/p#section", "https://example.com/p"),
        ("https://example.com/p?utm_source=rss&utm_medium=feed", "https://example.com/p"),
        ("https://example.com/p?b=2&a=1&fbclid=xyz", "https://example.com/p?a=1&b=2"),
        ("https://example.com/p?gclid=1&mc_cid=2&mc_eid=3&ref=tw&ref_src=x&id=7", "https://example.com/p?id=7"),
        ("https://example.com/Case/Path?Q=Keep", "https://example.com/Case/Path?Q=Keep"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("not a url", "not a url"),
        ("mailto:a@b.c#x", "mailto:a@b.c"),
        ("http://[::1]:99999/", "http://[::1]:99999/"),
        ("", ""),
    ],
)  # fmt: skip
def test_canonical_url(url: str, canonical: str) -> None:
    """URLs are canonicalised: case, default port, fragment and tracking params dropped."""
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T14:00:00+02:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T12:00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        ("Fri, 01 Mar 2024 07:00:00 -0500", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (datetime(2024, 3, 1, 12), datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("26-FEB-1987 15:01:01.79", datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)),
        ("27-MAR-1987 00:02:59.13 RM", datetime(1987, 3, 27, 0, 2, 59, 130000, tzinfo=UTC)),
        ("yesterday-ish", None),
        ("", None),
        (None, None),
        (True, None),
        (["2024"], None),
    ],
)
def test_parse_published(value: object, expected: datetime | None) -> None:
    """Publication times come out in UTC; naive means UTC; garbage means None."""
    assert parse_published(value) == expected


def test_make_article_full() -> None:
    """A full SPEC article is normalised field by field."""
    art = make_article(
        {
            "id": "  abc-1 ",
            "title": "<b>STAR</b> Market &amp; IPOs",
            "summary": "<p>Short.</p>",
            "content": "<p>Long <em>body</em>.</p>",
            "url": "https://News.example.com/a?utm_campaign=x",
            "published": "2024-03-01T12:00:00+08:00",
            "source": "publisher",
        },
        "inbox",
    )
    assert art.id == "abc-1"
    assert art.title == "STAR Market & IPOs"
    assert art.summary == "Short."
    assert art.body == "Long body."
    assert art.url == "https://news.example.com/a"
    assert art.published == datetime(2024, 3, 1, 4, tzinfo=UTC)
    assert art.source == "inbox"


@pytest.mark.parametrize("key", ["body", "content", "text"])
def test_make_article_body_keys(key: str) -> None:
    """The body may be given as body, content or text."""
    assert make_article({key: "words here"}, "s").body == "words here"


def test_make_article_id_falls_back_to_url_then_hash() -> None:
    """Without id the canonical URL identifies; without either, a stable hash."""
    by_url = make_article({"title": "t", "url": "https://x.example/a?utm_source=q#f"}, "s")
    assert by_url.id == "https://x.example/a"
    one = make_article({"title": "Hello  World", "body": "Body"}, "s")
    two = make_article({"title": "hello world", "body": "body "}, "other")
    three = make_article({"title": "hello world", "body": "different"}, "s")
    assert one.id == two.id
    assert one.id.startswith("sha256:") and len(one.id) == 7 + 32
    assert one.id != three.id


def test_make_article_source_fallback() -> None:
    """The mapping's source is used only when the caller gives none."""
    assert make_article({"title": "t", "source": "Reuters"}, "").source == "Reuters"
    assert make_article({"title": "t", "source": "Reuters"}, "feed").source == "feed"


def test_make_article_summary_equal_to_body_dropped() -> None:
    """A summary that repeats the body is not kept twice."""
    art = make_article({"summary": "<p>same</p>", "body": "same"}, "s")
    assert (art.summary, art.body) == ("", "same")


def test_make_article_title_is_one_line() -> None:
    """A title never keeps line breaks."""
    assert make_article({"title": "a\n  b<br>c"}, "s").title == "a b c"
