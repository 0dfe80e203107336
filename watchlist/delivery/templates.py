"""Alert text: the snippet around a hit, and the sandboxed Jinja2 templates for title and body.

Tokens: ``rule``, ``title``, ``url``, ``summary``, ``snippet`` (the hit in context,
highlighted for the format), ``source``, ``published``, ``score``, ``hits``,
``also_in`` (other sources that carried the same story). A user template that
fails to compile or render is reported and the built-in default is used instead,
so a template mistake never loses an alert.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from watchlist.models import AlertView, Article, Match, Snippet, Templates

FORMATS: tuple[str, ...] = ("text", "markdown", "html")

DEFAULT_TITLE = "[{{ rule }}] {{ title }}"
DEFAULT_BODY: dict[str, str] = {
    "text": (
        "{{ snippet }}\n{{ url }}\n{{ source }}{% if published %}, {{ published }}{% endif %}"
        "{% if also_in %} (also in {{ also_in|join(', ') }}){% endif %}"
    ),
    "markdown": (
        "{{ snippet }}\n\n[{{ title }}]({{ url }}) - {{ source }}"
        "{% if published %}, {{ published }}{% endif %}"
        "{% if also_in %} (also in {{ also_in|join(', ') }}){% endif %}"
    ),
    "html": (
        '<p>{{ snippet }}</p>\n<p><a href="{{ url }}">{{ title }}</a> - {{ source }}'
        "{% if published %}, {{ published }}{% endif %}"
        "{% if also_in %} (also in {{ also_in|join(', ') }}){% endif %}</p>"
    ),
}
SEPARATOR: dict[str, str] = {"text": "\n\n", "markdown": "\n\n---\n\n", "html": "\n<hr>\n"}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send, and any template errors met on the way (in words)."""

    title: str
    body: str
    errors: tuple[str, ...] = ()


def view_of(article: Article, match: Match) -> AlertView:
    """The template view of one fresh match (what ``scan --notify`` sends)."""
    from watchlist.match.snippet import make_snippet  # the matcher loads only when needed

    return AlertView(
        rule=match.rule,
        title=article.title or article.id,
        url=article.url,
        summary=article.summary,
        snippet=make_snippet(article, match.hits),
        source=article.source,
        published=article.published.isoformat() if article.published else "",
        score=match.score,
        hits=tuple(asdict(h) for h in match.hits),
    )


def _md_escape(text: str) -> str:
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_[]<>#|" else ch)
    return "".join(out)


def snippet_for(snippet: Snippet, fmt: str) -> str | Markup:
    """The snippet highlighted for ``fmt``: «hit» in text, **hit** in Markdown, <mark> in HTML."""
    if fmt == "html":
        return Markup("{}<mark>{}</mark>{}").format(snippet.before, snippet.hit, snippet.after)
    if fmt == "markdown":
        hit = f"**{_md_escape(snippet.hit)}**" if snippet.hit else ""
        return f"{_md_escape(snippet.before)}{hit}{_md_escape(snippet.after)}"
    hit = f"«{snippet.hit}»" if snippet.hit else ""
    return f"{snippet.before}{hit}{snippet.after}"


@lru_cache(maxsize=8)
def _env(fmt: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=fmt == "html", undefined=StrictUndefined, keep_trailing_newline=False
    )


@lru_cache(maxsize=256)
def _compile(source: str, fmt: str) -> Template:
    return _env(fmt).from_string(source)


def _context(view: AlertView, fmt: str) -> dict[str, Any]:
    return {
        "rule": view.rule,
        "title": view.title,
        "url": view.url,
        "summary": view.summary,
        "snippet": snippet_for(view.snippet, fmt),
        "source": view.source,
        "published": view.published,
        "score": round(view.score, 1),
        "hits": [dict(h) for h in view.hits],
        "also_in": list(view.also_in),
    }


def _render_one(
    source: str | None, default: str, ctx: dict[str, Any], fmt: str, what: str, errors: list[str]
) -> str:
    if source is not None:
        try:
            return _compile(source, fmt).render(ctx).strip()
        except TemplateError as exc:
            errors.append(
                f"templates.{what}: {exc.__class__.__name__}: {exc}; "
                "fix the template in config.yaml - the built-in default was used"
            )
        except Exception as exc:  # a sandbox violation or a bad filter argument
            errors.append(
                f"templates.{what}: {exc}; fix the template in config.yaml - "
                "the built-in default was used"
            )
    return _compile(default, fmt).render(ctx).strip()


def render(view: AlertView, templates: Templates, fmt: str = "text") -> Rendered:
    """Title and body for one alert in ``fmt``; a broken user template falls back to the default."""
    fmt = fmt if fmt in FORMATS else "text"
    ctx = _context(view, fmt)
    errors: list[str] = []
    title = _render_one(
        templates.title, DEFAULT_TITLE, _context(view, "text"), "text", "title", errors
    )
    body = _render_one(templates.body, DEFAULT_BODY[fmt], ctx, fmt, "body", errors)
    return Rendered(title=" ".join(title.split()), body=body, errors=tuple(errors))


def render_many(
    views: Sequence[AlertView],
    templates: Templates,
    fmt: str = "text",
    *,
    heading: str = "",
    more: Sequence[str] = (),
) -> Rendered:
    """One message for several alerts (digest, cooldown, rate-limit fold).

    ``more`` are one-line titles of further alerts summarised as "and K more".
    """
    fmt = fmt if fmt in FORMATS else "text"
    if len(views) == 1 and not more and not heading:
        return render(views[0], templates, fmt)
    parts = [render(v, templates, fmt) for v in views]
    errors = tuple(dict.fromkeys(e for p in parts for e in p.errors))
    total = len(views) + len(more)
    rules = sorted({v.rule for v in views})
    title = heading or f"[{', '.join(rules)}] {total} matches"
    chunks = [_item(p, fmt) for p in parts]
    if more:
        chunks.append(_more(more, fmt))
    return Rendered(title=title, body=SEPARATOR[fmt].join(chunks), errors=errors)


def _item(part: Rendered, fmt: str) -> str:
    if fmt == "html":
        return f"<h3>{escape(part.title)}</h3>\n{part.body}"
    if fmt == "markdown":
        return f"**{_md_escape(part.title)}**\n\n{part.body}"
    return f"{part.title}\n{part.body}"


def _more(titles: Sequence[str], fmt: str) -> str:
    head = f"and {len(titles)} more"
    if fmt == "html":
        items = "".join(f"<li>{escape(t)}</li>" for t in titles)
        return f"<p>{head}:</p>\n<ul>{items}</ul>"
    bullet = "- " if fmt == "markdown" else "  - "
    lines = [f"{bullet}{_md_escape(t) if fmt == 'markdown' else t}" for t in titles]
    return f"{head}:\n" + "\n".join(lines)


# ------------------------------------------------------------------ validation (for check)

TOKENS: tuple[str, ...] = (
    "rule",
    "title",
    "url",
    "summary",
    "snippet",
    "source",
    "published",
    "score",
    "hits",
    "also_in",
)
_SAMPLE = AlertView(
    rule="sample-rule",
    title="Sample headline",
    url="https://example.com/news/sample",
    summary="A sample summary.",
    snippet=Snippet(before="Text before ", hit="the hit", after=" and after."),
    source="sample-source",
    published="2024-01-02T03:04:05+00:00",
    score=95.0,
    hits=(
        {
            "group": "keywords",
            "entry": "IPO",
            "term": "IPO",
            "text": "IPO",
            "field": "title",
            "start": 0,
            "end": 3,
            "score": 100.0,
        },
    ),
    also_in=("other-source",),
)
_UNDEFINED = re.compile(r"'([^']+)' is undefined")


def template_problem(source: str, what: str) -> str | None:
    """None when template ``what`` (title or body) renders a sample alert in the sandbox, in
    every format it may be used in; else the first problem in words, with a did-you-mean
    hint for an unknown name. Syntax is assumed checked already."""
    formats = ("text",) if what == "title" else FORMATS
    for fmt in formats:
        try:
            _compile(source, fmt).render(_context(_SAMPLE, fmt))
        except Exception as exc:  # an undefined name, a sandbox violation, a bad filter use
            message = str(exc) or exc.__class__.__name__
            m = _UNDEFINED.fullmatch(message)
            close = difflib.get_close_matches(m.group(1), TOKENS, n=1) if m else []
            hint = f"; did you mean '{close[0]}'?" if close else ""
            if m and not close:
                hint = f"; the names are {', '.join(TOKENS)}"
            return f"{message}{hint}"
    return None
