"""Alert templates: defaults per format, user overrides, sandboxing, fallbacks, snippets."""

from __future__ import annotations

import pytest
from test_faults_driver import article, match

from watchlist.delivery.templates import AlertView, Snippet, render, render_many
from watchlist.match.snippet import make_snippet
from watchlist.models import Article, Hit, Templates

VIEW = AlertView(
    rule="acme",
    title="Acme <lists> shares",
    url="https://news.example/1",
    summary="s",
    snippet=Snippet("before the ", "Acme*Corp", " after"),
    source="wire",
    published="2026-03-02 12:00 UTC",
    score=97.26,
    hits=({"entry": "Acme", "text": "Acme"},),
    also_in=("reuters", "ap"),
)


@pytest.mark.parametrize(
    ("fmt", "snippet", "link"),
    [
        ("text", "before the «Acme*Corp» after", "https://news.example/1"),
        ("markdown", "before the **Acme\\*Corp** after", "<https://news.example/1>"),
        ("html", "before the <mark>Acme*Corp</mark> after", '">https://news.example/1</a>'),
    ],
)
def test_default_templates_per_format(fmt: str, snippet: str, link: str) -> None:
    """Each format has a default body with the highlighted snippet and the link."""
    out = render(VIEW, Templates(), fmt)
    assert out.title == "[acme] Acme <lists> shares"
    assert snippet in out.body
    assert link in out.body
    assert "also in reuters, ap" in out.body
    assert out.errors == ()


def test_user_templates_see_every_token() -> None:
    """A user template sees rule, title, url, summary, snippet, source, published, score, hits."""
    t = Templates(
        title="{{ rule }}|{{ title }}",
        body="{{ url }}|{{ summary }}|{{ snippet }}|{{ source }}|{{ published }}|{{ score }}|"
        "{{ hits|length }}|{{ hits[0].entry }}",
    )
    out = render(VIEW, t, "text")
    assert out.title == "acme|Acme <lists> shares"
    assert out.body == (
        "https://news.example/1|s|before the «Acme*Corp» after|wire|2026-03-02 12:00 UTC|"
        "97.3|1|Acme"
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{{ nope }}", "'nope' is undefined"),
        ("{% if %}", "TemplateSyntaxError"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "templates.body"),
        ("{{ title|nosuchfilter }}", "nosuchfilter"),
    ],
)
def test_broken_template_falls_back_and_says_why(body: str, words: str) -> None:
    """A broken or unsafe user template is reported and the default body is used."""
    out = render(VIEW, Templates(body=body), "text")
    assert "«Acme*Corp»" in out.body
    assert out.errors and words in out.errors[0]
    assert "built-in default was used" in out.errors[0]


def test_html_autoescapes_user_template() -> None:
    """In HTML, article text is escaped even in a user template."""
    out = render(VIEW, Templates(body="<b>{{ title }}</b>"), "html")
    assert out.body == "<b>Acme &lt;lists&gt; shares</b>"


def test_render_many_folds_alerts_and_more() -> None:
    """Several alerts become one message; extra titles become 'and K more'."""
    second = AlertView(rule="acme", title="Second", snippet=Snippet(hit="x"))
    out = render_many([VIEW, second], Templates(), "text", more=["[acme] Third", "[acme] Fourth"])
    assert out.title == "[acme] 4 matches"
    assert "Acme <lists> shares" in out.body and "Second" in out.body
    assert "and 2 more:" in out.body and "[acme] Fourth" in out.body


def test_render_many_of_one_is_render() -> None:
    """A message of one alert looks exactly like a single alert."""
    assert render_many([VIEW], Templates(), "markdown") == render(VIEW, Templates(), "markdown")


def test_snippet_context_and_ellipsis() -> None:
    """The snippet shows the hit with up to 80 characters around it, ellipsed when cut."""
    body = "x" * 200 + " Acme Corp " + "y" * 200
    a = Article(id="1", body=body)
    start = body.index("Acme")
    hit = Hit("companies", "Acme", "Acme", "Acme", "body", start, start + 4, 100.0)
    s = make_snippet(a, [hit])
    assert s.hit == "Acme"
    assert s.before.startswith("…") and s.after.endswith("…")
    assert len(s.before) == 81 and s.after.startswith(" Corp")


def test_snippet_prefers_title_hit() -> None:
    """A hit in the title is shown before one in the body."""
    a = article(1)
    m = match(a)
    title_hit = Hit("companies", "Acme", "Acme", "Acme", "title", 0, 4, 90.0)
    assert make_snippet(a, [*m.hits, title_hit]).after.startswith(" story number 1")
