"""`watchlist backtest`: what rules would have alerted for, over the archived articles.

Runs the rules in force (or those at ``--rules PATH``) over the articles the state
archived in the last ``--since`` (default 7d) and prints, per rule, the count and
then each article (time, title, hits), newest first. ``--diff`` runs both the rules
in force and those at PATH and prints what PATH adds (+) and drops (-), rule by rule:
the review step before a change goes live. When PATH is one file and the rules in
force come from several, only the rules in that file are compared; a folder or glob
stands for the whole rule set, so a rule it lacks shows as dropped. Nothing is
recorded and nothing is sent. A progress bar shows on a terminal (standard error).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchlist.cli import add_config_argument
from watchlist.commands.progress import progress_bar
from watchlist.commands.scan import match_to_json
from watchlist.models import Article, Config, Rule

if TYPE_CHECKING:  # the matcher and the store load only when a backtest runs
    from watchlist.match.backtest import ArticleMatch, BacktestDiff, BacktestResult
    from watchlist.store import Store

DEFAULT_SINCE = "7d"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c``, ``--rules``, ``--since``, ``--diff``, ``--json``."""
    add_config_argument(parser)
    parser.add_argument(
        "--rules", metavar="PATH", type=Path, help="rule file, folder or glob to try instead"
    )
    parser.add_argument(
        "--since",
        metavar="AGE",
        default=DEFAULT_SINCE,
        help="how far back: a duration (7d, 12h) or a UTC date (2026-11-24); default 7d",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print what the rules at --rules add and drop against the rules in force",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per match and line")


def parse_since(text: str, now: datetime) -> datetime:
    """``7d`` -> ``now`` minus 7 days; an ISO date or time (UTC unless it says) as given."""
    from watchlist.config.durations import parse_duration

    try:
        return now - parse_duration(text)
    except ValueError as exc:
        problem = str(exc)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text}: {problem}, or give a date like 2026-11-24") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def when(article: Article) -> str:
    """The article's time as printed: ``2026-11-30 08:12 UTC`` (``time unknown`` without)."""
    if article.published is None:
        return "time unknown"
    return article.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_article(am: ArticleMatch, mark: str = " ") -> str:
    """One article a rule matched: time and title, then one line per hit."""
    art = am.article
    lines = [f" {mark} {when(art)}  {art.title or art.id}"]
    for h in am.match.hits:
        where = f"{h.field} [{h.start}:{h.end}]"
        lines.append(f"      {h.group:<9} {h.entry:<28} {h.text!r} in {where} {h.score:.1f}")
    return "\n".join(lines)


def to_json(am: ArticleMatch, **extra: Any) -> str:
    """``scan --json``'s object plus source and published, and ``extra`` (``change``)."""
    art = am.article
    obj = {
        **extra,
        **match_to_json(art, am.match),
        "source": art.source,
        "published": art.published.astimezone(UTC).isoformat() if art.published else None,
    }
    return json.dumps(obj, ensure_ascii=False)


def print_result(result: BacktestResult, as_json: bool) -> None:
    """Per rule: the count, then each article."""
    for r in result.rules:
        if as_json:
            for am in r.matches:
                print(to_json(am))
            continue
        print(f"{r.rule}: {len(r.matches)} would have alerted")
        for am in r.matches:
            print(format_article(am))


def print_diff(d: BacktestDiff, as_json: bool) -> None:
    """Per changed rule: what is added (+) and dropped (-)."""
    for r in d.changed:
        if as_json:
            for am in r.added:
                print(to_json(am, change="added"))
            for am in r.dropped:
                print(to_json(am, change="dropped"))
            continue
        state = " (new rule)" if not r.in_old else " (not at PATH)" if not r.in_new else ""
        print(f"{r.rule}{state}: +{len(r.added)} -{len(r.dropped)} ({r.kept} unchanged)")
        for am in r.added:
            print(format_article(am, "+"))
        for am in r.dropped:
            print(format_article(am, "-"))


def _run(
    store: Store, rules: tuple[Rule, ...], since: datetime, label: str, total: int
) -> BacktestResult:
    from watchlist.match.backtest import backtest

    with progress_bar(label, total) as update:
        articles: Iterator[Article] = store.archived_articles(since)
        return backtest(rules, articles, progress=update)


def _rules(n: int) -> str:
    return "1 rule" if n == 1 else f"{n} rules"


def _compared(config: Config, path: Path, new: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rules in force to compare with ``new``: all of them, unless PATH is one file
    and the rules in force come from several (then only those ``new`` names)."""
    if path.is_file() and len(config.rule_files) > 1:
        names = {r.name for r in new}
        return tuple(r for r in config.rules if r.name in names)
    return config.rules


def run(args: argparse.Namespace) -> int:
    """Backtest; exit 0, 1 when config, rules or state cannot be read, 2 for a usage error."""
    from watchlist.commands.rulesets import rules_at
    from watchlist.config.errors import ConfigErrors, display_path
    from watchlist.match.backtest import diff
    from watchlist.store import open_store

    if args.diff and args.rules is None:
        print("watchlist backtest: --diff needs --rules PATH (the rules to try)", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        print(f"watchlist backtest: {exc}", file=sys.stderr)
        return 2
    from watchlist.cli import load_config_or_report

    config = load_config_or_report(args)
    if config is None:
        return 1
    try:
        rules = rules_at([args.rules], config) if args.rules is not None else config.rules
    except ConfigErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return 1
    if not Path(config.state).exists():
        print(
            f"watchlist backtest: no state file at {display_path(config.state)} yet; the "
            "archive fills as the daemon runs (watchlist run)",
            file=sys.stderr,
        )
        return 1
    if config.archive is None:
        print(
            "watchlist backtest: archive: off in the config, so no article text is being "
            "kept; set archive: 30d to backtest",
            file=sys.stderr,
        )
    store = open_store(config.state)
    try:
        total = store.archive_count(since)
        if args.diff:
            old = _run(store, _compared(config, args.rules, rules), since, "rules in force", total)
            new = _run(store, rules, since, "rules at PATH", total)
            d = diff(old, new)
            print_diff(d, args.json)
            added = sum(len(r.added) for r in d.rules)
            dropped = sum(len(r.dropped) for r in d.rules)
            tail = f"+{added} -{dropped} in {len(d.changed)} of {_rules(len(d.rules))}"
        else:
            result = _run(store, rules, since, "backtest", total)
            print_result(result, args.json)
            tail = f"{result.total} would have alerted, {_rules(len(result.rules))}"
    finally:
        store.close()
    if not args.json:
        start = since.strftime("%Y-%m-%d %H:%M UTC")
        print(f"backtest: {total} archived articles since {start}: {tail}", file=sys.stderr)
    return 0
