"""`watchlist scan`: match articles from files, URLs or stdin and print the matches.

Touches no state. With ``--notify`` it also sends each match to its rule's
channels, as the daemon would (but without the outbox: a failure is reported,
not retried).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from watchlist.cli import add_config_argument, config_path
from watchlist.models import Article, Config, Match, Rule

HELP = "match articles from files, URLs or - and print the matches (touches no state)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c``, ``--rules``, ``--json``, ``--notify`` and the inputs."""
    add_config_argument(parser)
    parser.add_argument(
        "--rules",
        metavar="PATH",
        type=Path,
        help="rules file, folder or glob (instead of the config's)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per match and line")
    parser.add_argument(
        "--notify", action="store_true", help="also send each match to its channels"
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="file, URL, or - for stdin")


def match_to_json(article: Article, match: Match) -> dict[str, Any]:
    """SPEC's ``scan --json`` object for one (article, rule) match."""
    return {
        "article": article.id,
        "rule": match.rule,
        "title": article.title,
        "url": article.url,
        "score": round(match.score, 2),
        "hits": [{**asdict(h), "score": round(h.score, 2)} for h in match.hits],
    }


def format_match(article: Article, match: Match) -> str:
    """A few human lines for one match: rule, title, URL, then one line per hit."""
    lines = [f"{match.rule}  {match.score:.1f}  {article.title or article.id}"]
    if article.url:
        lines.append(f"  {article.url}")
    for h in match.hits:
        where = f"{h.field} [{h.start}:{h.end}]"
        lines.append(f"  {h.group:<9} {h.entry:<28} {h.text!r} in {where} {h.score:.1f}")
    return "\n".join(lines)


def _load(args: argparse.Namespace) -> tuple[Config | None, tuple[Rule, ...]]:
    from watchlist.config.loader import load_config, load_rules
    from watchlist.delivery import CONFIG_CHECKS

    path = config_path(args)
    config = (
        load_config(path, checks=CONFIG_CHECKS)
        if (args.config is not None or path.exists())
        else None
    )
    if args.rules is not None:
        channels = [c.name for c in config.channels] if config else None
        return config, load_rules([args.rules], channels=channels)
    if config is None:
        raise FileNotFoundError(
            f"{path}: no config file; pass -c FILE or --rules PATH (or write one: `watchlist init`)"
        )
    return config, config.rules


def _read(inputs: Sequence[str]) -> tuple[list[Article], list[str]]:
    from watchlist.sources import read_inputs
    from watchlist.sources.parse import SourceError

    articles: list[Article] = []
    errors: list[str] = []  # one line per input that could not be read
    for item in inputs:
        try:
            articles.extend(read_inputs([item]))
        except SourceError as exc:  # its message names the input (a URL in its safe form)
            errors.append(str(exc))
        except OSError as exc:
            errors.append(f"{item}: {exc.strerror or exc}")
    return articles, errors


def run(args: argparse.Namespace) -> int:
    """Print every (article, rule) match; exit 1 if an input or a send failed."""
    from watchlist.config.errors import ConfigErrors
    from watchlist.match import build_matcher

    try:
        config, rules = _load(args)
    except ConfigErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"watchlist scan: {exc}", file=sys.stderr)
        return 2
    if args.notify and config is None:
        print("watchlist scan: --notify needs a config with channels (-c FILE)", file=sys.stderr)
        return 2
    articles, errors = _read(args.inputs)
    for problem in errors:
        print(f"watchlist scan: {problem}", file=sys.stderr)
    matcher = build_matcher(rules)
    failed = False
    found: list[tuple[Article, Match]] = [(a, m) for a in articles for m in matcher.match(a)]
    for article, match in found:
        if args.json:
            print(json.dumps(match_to_json(article, match), ensure_ascii=False))
        else:
            print(format_match(article, match))
    if not args.json:
        print(f"{len(found)} matches in {len(articles)} articles", file=sys.stderr)
    if args.notify and config is not None:
        from watchlist.delivery.worker import send_now

        rules_by_name = {r.name: r for r in rules}
        for article, match in found:
            for ok, words, channel in send_now(config, rules_by_name[match.rule], article, match):
                print(f"{match.rule} -> {channel}: {words}", file=sys.stderr)
                failed = failed or not ok
    return 1 if (errors or failed) else 0
