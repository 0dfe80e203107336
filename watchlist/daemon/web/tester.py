"""The rule tester: one rule's YAML, edited in a text area, run over recent articles.

It parses the text with the rule loader (``config.rules.rule_from_text``: safe YAML,
the same checks and messages, positions in the text area's own lines), matches it
and the rule in force of the same name over the articles of the last N days, and
shows what the edited rule would alert (hits highlighted) and the difference:
added, dropped, kept. Nothing is written: not the rule file, not the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from watchlist.config.checker import Checker
from watchlist.config.errors import ConfigErrors
from watchlist.config.rules import read_settings, rule_from_text
from watchlist.config.yamlsafe import YMap, parse_yaml
from watchlist.daemon.web import WebContext, render
from watchlist.daemon.web.highlight import highlight, rule_yaml
from watchlist.match.backtest import backtest, diff
from watchlist.match.examples import run_examples
from watchlist.match.snippet import make_snippet
from watchlist.models import Article, Config, Match, Rule

LABEL = "rule"  # errors read "rule:line:column: ..." and are shown as "line:column"
MAX_DAYS = 90
SHOWN = 100  # articles listed per kind


@dataclass
class Outcome:
    """What the edited rule did over the articles, against the rule in force."""

    scanned: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "dropped": 0, "kept": 0})


def config_defaults(config: Config) -> dict[str, Any]:
    """config.yaml's ``defaults:`` as rule settings (what every rule file rule inherits)."""
    try:
        doc = parse_yaml(Path(config.path).read_bytes(), config.path, errors=[])
    except (OSError, ConfigErrors):
        return {}
    section = doc.get("defaults") if isinstance(doc, YMap) else None
    if not isinstance(section, YMap):
        return {}
    return read_settings(section, Checker(config.path, []), None)


def parse_rule(text: str, config: Config) -> tuple[Rule | None, list[tuple[int, int, str]]]:
    """The rule in ``text``, or the errors as (line, column, message) in the text's lines."""
    try:
        rule = rule_from_text(
            text,
            LABEL,
            [Path(f) for f in config.rule_files],
            config_defaults(config),
            [c.name for c in config.channels] or None,
        )
    except ConfigErrors as exc:
        return None, [(e.line, e.column, e.message) for e in exc.errors]
    return rule, []


def _view(article: Article, match: Match) -> dict[str, Any]:
    spans = [(h.start, h.end) for h in match.hits if h.field == "title"]
    snippet = make_snippet(article, match.hits)
    return {
        "article": article,
        "title": highlight(article.title, spans),
        "snippet": Markup("…")
        + highlight(
            snippet.before + snippet.hit + snippet.after,
            [(len(snippet.before), len(snippet.before) + len(snippet.hit))],
        )
        if snippet.hit
        else "",
        "hits": ", ".join(sorted({f"{h.entry} ({h.field})" for h in match.hits})),
    }


def run_rule(new: Rule, old: Rule | None, articles: Iterable[Article]) -> Outcome:
    """Backtest ``new`` and ``old`` over ``articles`` (``match.backtest``): what ``new`` adds,
    drops and keeps."""
    seen: list[Article] = []
    after = backtest([new], _kept(articles, seen))
    before = backtest([old] if old is not None else [], seen)
    change = diff(before, after).get(new.name)
    out = Outcome(scanned=after.articles)
    if change is None:
        return out
    added = {m.key for m in change.added}
    out.counts = {"added": len(change.added), "dropped": len(change.dropped), "kept": change.kept}
    out.added = [_view(m.article, m.match) for m in change.added[:SHOWN]]
    out.dropped = [_view(m.article, m.match) for m in change.dropped[:SHOWN]]
    result = after.get(new.name)
    kept = [m for m in (result.matches if result else ()) if m.key not in added]
    out.kept = [_view(m.article, m.match) for m in kept[:SHOWN]]
    return out


def _kept(articles: Iterable[Article], into: list[Article]) -> Iterator[Article]:
    """``articles``, each also appended to ``into`` (the archive is walked once)."""
    for a in articles:
        into.append(a)
        yield a


def example_failures(rule: Rule) -> list[str]:
    """The edited rule's own examples that go the wrong way, in ``check``'s words."""
    return [f.message for f in run_examples([rule])]


def alerted_articles(ctx: WebContext, since: datetime) -> list[Article]:
    """Without an archive: the articles that raised alerts since ``since`` (title, summary)."""
    return [
        Article(
            id=r["article_id"],
            title=r["title"],
            summary=r["summary"],
            url=r["url"],
            source=r["source"],
        )
        for r in ctx.store.alerted_articles(since)
    ]


def routes(
    ctx: WebContext,
) -> list[tuple[str, Callable[[Request, dict[str, str]], Response], list[str]]]:
    """The tester's page: GET shows the form (prefilled from ``?rule=``), POST runs it."""

    def tester(request: Request, form: dict[str, str]) -> Response:
        config = ctx.config()
        names = [r.name for r in config.rules]
        chosen = form.get("rule") or request.query_params.get("rule", "") or (names[:1] or [""])[0]
        text = form.get("text", "")
        if not text and chosen in names:
            text = rule_yaml(config.rule(chosen).origin)
        days_text = form.get("days", "7")
        days = min(MAX_DAYS, max(1, int(days_text))) if days_text.isdigit() else 7
        values: dict[str, Any] = {
            "names": names,
            "chosen": chosen,
            "text": text,
            "days": days,
            "errors": [],
            "outcome": None,
            "archived": ctx.articles is not None or config.archive is not None,
            "examples": [],
            "old": None,
        }
        if request.method == "POST":
            rule, errors = parse_rule(text, config)
            values["errors"] = errors
            if rule is not None:
                since = ctx.now() - timedelta(days=days)
                if ctx.articles is not None:
                    source: Iterable[Article] = ctx.articles(since)
                elif config.archive is not None:
                    source = ctx.store.archived_articles(since)
                else:
                    source = alerted_articles(ctx, since)
                values["examples"] = example_failures(rule)
                old = next((r for r in config.rules if r.name == rule.name), None)
                values["old"] = old.name if old else None
                values["outcome"] = run_rule(rule, old, source)
        return render(ctx, request, "tester.html", 400 if values["errors"] else 200, **values)

    return [("/tester", tester, ["GET", "POST"])]
