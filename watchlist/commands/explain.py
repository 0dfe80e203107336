"""`watchlist explain RULE INPUT`: why one rule does or does not match each article of INPUT.

Exit 0 whether or not the rule matched (it is an explanation), 1 when the config
or INPUT cannot be read, 2 for an unknown rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchlist.cli import add_config_argument, config_path, load_config_or_report

if TYPE_CHECKING:
    from watchlist.models import Rule


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c``, ``--rules``, ``--article``, ``--json``, RULE and INPUT."""
    add_config_argument(parser)
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="PATH",
        help="rules file, folder or glob (instead of the config's), as for scan",
    )
    parser.add_argument(
        "--article", metavar="ID", help="explain only the article with this id (or URL)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per article")
    parser.add_argument("rule", metavar="RULE", help="the rule's name")
    parser.add_argument("input", metavar="INPUT", help="file, URL, or - for stdin")


def _json(data: dict[str, Any]) -> dict[str, Any]:
    """The explanation with the article's id under ``article``, the key every command uses."""
    if "article_id" in data:
        data = {"article": data.pop("article_id"), **data}
    return data


def _rules(args: argparse.Namespace) -> tuple[Rule, ...] | None:
    """The rules of ``--rules`` (channels from the config when there is one), else the
    config's; None after printing the errors."""
    from watchlist.config.errors import ConfigErrors
    from watchlist.config.loader import load_rules

    if args.rules is None:
        config = load_config_or_report(args)
        return None if config is None else config.rules
    channels = None
    if args.config is not None or config_path(args).exists():
        config = load_config_or_report(args, unset_ok=True, with_rules=False)
        if config is None:
            return None
        channels = [c.name for c in config.channels]
    try:
        return load_rules([args.rules], channels=channels)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Print the explanation for every article of INPUT."""
    from watchlist.config.errors import did_you_mean
    from watchlist.match.explain import explain
    from watchlist.sources import read_inputs
    from watchlist.sources.parse import SourceError

    rules = _rules(args)
    if rules is None:
        return 1
    try:
        rule = next(r for r in rules if r.name == args.rule)
    except StopIteration:
        names = [r.name for r in rules]
        hint = did_you_mean(args.rule, names)
        print(f"watchlist explain: no rule named {args.rule!r}{hint}", file=sys.stderr)
        return 2
    try:
        articles = read_inputs([args.input])
    except SourceError as exc:  # its message names the input (a URL in its safe form)
        print(f"watchlist explain: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"watchlist explain: {args.input}: {exc}", file=sys.stderr)
        return 1
    if not articles:
        print(f"watchlist explain: {args.input}: no articles found", file=sys.stderr)
        return 1
    if args.article is not None:
        picked = [a for a in articles if args.article in (a.id, a.url)]
        if not picked:
            ids = ", ".join(a.id for a in articles[:5]) + (", ..." if len(articles) > 5 else "")
            print(
                f"watchlist explain: {args.input}: no article {args.article!r}; its ids: {ids}",
                file=sys.stderr,
            )
            return 1
        articles = picked
    for n, article in enumerate(articles):
        result = explain(rule, article)
        if args.json:
            print(json.dumps(_json(result.to_dict()), ensure_ascii=False))
        else:
            if n:
                print()
            print(result.format())
    return 0
