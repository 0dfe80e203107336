"""What an alert says: rule and description, hits by group, local time, the link, JSON payloads."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from pathlib import Path

from localserver import LocalServer, Route
from test_deliver import (
    _Inbox,
    smtp,  # noqa: F401  (a fixture)
)
from test_faults_driver import T0, article, config

from watchlist.delivery.templates import AlertView, Snippet, render, render_many
from watchlist.delivery.worker import deliver_due
from watchlist.models import Hit, Match, Rule, Templates
from watchlist.store.sqlite import Store

HITS = (
    {"group": "topics", "entry": "nuclear fusion", "text": "fusion power", "field": "body"},
    {"group": "companies", "entry": "Acme", "text": "Acme Corp", "field": "body"},
    {"group": "companies", "entry": "Acme", "text": "ACME CORP", "field": "title"},
)
VIEW = AlertView(
    rule="fusion-ipos",
    title="Acme Corp plans fusion power IPO",
    url="https://news.example/1",
    snippet=Snippet("", "Acme Corp", " plans fusion power IPO"),
    source="wire",
    published="2026-03-02T12:00:00+00:00",
    hits=HITS,
    article_id="a1",
    description="Fusion start-ups going public",
)


def test_default_body_says_rule_description_hits_source_local_time_and_link() -> None:
    """The text body names the rule and description, each group's matched text, local time."""
    out = render(VIEW, Templates(), "text", "Asia/Shanghai")
    assert "Rule fusion-ipos: Fusion start-ups going public" in out.body
    assert 'topics "fusion power" (nuclear fusion)' in out.body
    assert 'companies "Acme Corp" (Acme)' in out.body
    assert out.body.count('"Acme Corp"') == 1  # the same text in two cases is one match
    assert "wire, 2026-03-02 20:00 CST" in out.body
    assert out.body.rstrip().endswith("https://news.example/1")


def test_title_appears_once() -> None:
    """The title is the message title; a snippet that only repeats it is left out of the body."""
    for fmt in ("text", "markdown", "html"):
        out = render(VIEW, Templates(), fmt)
        assert out.title == "[fusion-ipos] Acme Corp plans fusion power IPO"
        assert "plans fusion power IPO" not in out.body, fmt


def test_no_url_no_link() -> None:
    """An article without a URL gets no empty link in any format."""
    bare = AlertView(rule="r", title="t", snippet=Snippet("a ", "b", " c"), source="s")
    for fmt in ("text", "markdown", "html"):
        body = render(bare, Templates(), fmt).body
        assert "href" not in body and "<>" not in body and "()" not in body, fmt
    assert 'href="https://news.example/1"' in render(VIEW, Templates(), "html").body


def test_digest_items_carry_the_hits() -> None:
    """A folded message shows what matched for each alert."""
    out = render_many([VIEW, VIEW], Templates(), "text")
    assert out.body.count('companies "Acme Corp" (Acme)') == 2


def test_email_text_part_has_the_link(tmp_path: Path, smtp: tuple[int, _Inbox]) -> None:  # noqa: F811
    """An html email's plain-text part carries the article's URL."""
    port, inbox = smtp
    url = f"mailto://127.0.0.1:{port}?from=bot@example.com&to=me@example.com&format=html"
    cfg = config({"mail": (url,)}, fmt="html")
    store = Store(tmp_path / "s.db")
    a = article(1)
    start = a.body.index("Acme")
    hit = Hit("companies", "Acme", "Acme", "Acme", "body", start, start + 4, 100.0)
    store.record([a], [Match("acme", a.id, (hit,))], cfg, T0)
    deliver_due(store, cfg, T0)
    store.close()
    (mail,) = inbox.messages
    msg = email.message_from_bytes(mail.content)
    plain = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
    assert plain, "no text part"
    assert "https://news.example/1" in plain[0].get_payload(decode=True).decode()


def test_json_channel_carries_the_alert(tmp_path: Path, http_server: LocalServer) -> None:
    """A json:// channel's payload holds the alert: rule, article, title, url, published, hits."""
    http_server.routes["/hook"] = Route(200)
    rules = (Rule(name="acme", description="Acme news", notify=("hook",)),)
    cfg = config({"hook": (f"json://127.0.0.1:{http_server.port}/hook",)}, rules=rules)
    store = Store(tmp_path / "s.db")
    a = article(1, published=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    start = a.body.index("Acme")
    hit = Hit("companies", "Acme", "Acme", "Acme", "body", start, start + 4, 100.0)
    store.record([a], [Match("acme", a.id, (hit,))], cfg, T0)
    deliver_due(store, cfg, T0)
    store.close()
    (post,) = http_server.posts("/hook")
    payload = post.json()
    assert "Acme" in payload["message"]  # Apprise's own fields stay
    alert = payload["alert"]
    assert alert["rule"] == "acme" and alert["description"] == "Acme news"
    assert alert["article"] == a.id and alert["title"] == a.title and alert["url"] == a.url
    assert alert["published"].startswith("2026-03-02T11:00") and alert["source"] == "wire"
    assert alert["hits"][0]["group"] == "companies" and alert["hits"][0]["text"] == "Acme"
