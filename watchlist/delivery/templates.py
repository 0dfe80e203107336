"""Alert text: the snippet around a hit, and the sandboxed Jinja2 templates for title and body.

Tokens: ``rule``, ``description`` (the rule's), ``title``, ``url``, ``summary``,
``snippet`` (the hit in context, highlighted for the format; empty when it would only
repeat the title), ``source``, ``published`` (in the config's ``timezone:``),
``published_iso``, ``score``, ``hits``, ``groups`` (hits by group, each entry and the
text it matched), ``matched`` (the same in one line), ``article`` (the article's id),
``also_in`` (other sources that carried the same story). The defaults show the rule
and its description, the snippet, what matched, source and time, and the link only
when the article has one; the title only in the message's title. A user template that
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

from watchlist.delivery.content import hit_groups, local_time, matched_line
from watchlist.models import AlertView, Article, Match, Snippet, Templates

FORMATS: tuple[str, ...] = ("text", "markdown", "html")

DEFAULT_TITLE = "[{{ rule }}] {{ title }}"
_SEEN = (
    "{{ source }}{% if published %}, {{ published }}{% endif %}"
    "{% if also_in %} (also in {{ also_in|join(', ') }}){% endif %}"
)
DEFAULT_BODY: dict[str, str] = {
    "text": (
        "Rule {{ rule }}{% if description %}: {{ description }}{% endif %}\n"
        "{% if snippet %}{{ snippet }}\n{% endif %}"
        "{% if matched %}Matched: {{ matched }}\n{% endif %}" + _SEEN + "\n"
        "{% if url %}{{ url }}{% endif %}"
    ),
    "markdown": (
        "Rule **{{ rule }}**{% if description %}: {{ description }}{% endif %}\n\n"
        "{% if snippet %}{{ snippet }}\n\n{% endif %}"
        "{% if matched %}Matched: {{ matched }}\n\n{% endif %}" + _SEEN + "\n\n"
        "{% if url %}<{{ url }}>{% endif %}"
    ),
    "html": (
        "<p>Rule <b>{{ rule }}</b>{% if description %}: {{ description }}{% endif %}</p>\n"
        "{% if snippet %}<p>{{ snippet }}</p>\n{% endif %}"
        "{% if matched %}<p>Matched: {{ matched }}</p>\n{% endif %}<p>" + _SEEN + "</p>\n"
        '{% if url %}<p><a href="{{ url }}">{{ url }}</a></p>{% endif %}'
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
        article_id=article.id,
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


def _repeats_title(snippet: Snippet, title: str) -> bool:
    text = " ".join((snippet.before + snippet.hit + snippet.after).split()).strip(" …")
    return not text or text.casefold() in " ".join(title.split()).casefold()


def _context(view: AlertView, fmt: str, tz: str = "UTC") -> dict[str, Any]:
    groups = hit_groups(view.hits)
    matched = matched_line(groups)
    return {
        "rule": view.rule,
        "description": view.description,
        "title": view.title,
        "url": view.url,
        "summary": view.summary,
        "snippet": ""
        if _repeats_title(view.snippet, view.title)
        else snippet_for(view.snippet, fmt),
        "source": view.source,
        "published": local_time(view.published, tz),
        "published_iso": view.published,
        "score": round(view.score, 1),
        "hits": [dict(h) for h in view.hits],
        "groups": groups,
        "matched": _md_escape(matched) if fmt == "markdown" else matched,
        "article": view.article_id,
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


def render(view: AlertView, templates: Templates, fmt: str = "text", tz: str = "UTC") -> Rendered:
    """Title and body for one alert in ``fmt``, times in zone ``tz``; a broken user template
    falls back to the default."""
    fmt = fmt if fmt in FORMATS else "text"
    ctx = _context(view, fmt, tz)
    errors: list[str] = []
    title = _render_one(
        templates.title, DEFAULT_TITLE, _context(view, "text", tz), "text", "title", errors
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
    tz: str = "UTC",
) -> Rendered:
    """One message for several alerts (digest, cooldown, rate-limit fold).

    ``more`` are one-line titles of further alerts summarised as "and K more".
    """
    fmt = fmt if fmt in FORMATS else "text"
    if len(views) == 1 and not more and not heading:
        return render(views[0], templates, fmt, tz)
    parts = [render(v, templates, fmt, tz) for v in views]
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
    "description",
    "title",
    "url",
    "summary",
    "snippet",
    "source",
    "published",
    "published_iso",
    "score",
    "hits",
    "groups",
    "matched",
    "article",
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
    article_id="sample-article",
    description="A sample rule",
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
