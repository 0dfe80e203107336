"""`watchlist explain RULE INPUT`: why one rule does or does not match each article of INPUT.

Exit 0 whether or not the rule matched (it is an explanation), 1 when the config
or INPUT cannot be read, 2 for an unknown rule.
"""

from __future__ import annotations

import argparse
import json
import sys

from watchlist.cli import add_config_argument, load_config_or_report

HELP = "explain, entry by entry, why a rule does or does not match an article"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c``, ``--json``, RULE and INPUT."""
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per article")
    parser.add_argument("rule", metavar="RULE", help="the rule's name")
    parser.add_argument("input", metavar="INPUT", help="file, URL, or - for stdin")


def run(args: argparse.Namespace) -> int:
    """Print the explanation for every article of INPUT."""
    from watchlist.config.errors import did_you_mean
    from watchlist.match.explain import explain
    from watchlist.sources import read_inputs
    from watchlist.sources.parse import SourceError

    config = load_config_or_report(args)
    if config is None:
        return 1
    try:
        rule = config.rule(args.rule)
    except KeyError:
        names = [r.name for r in config.rules]
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
    for n, article in enumerate(articles):
        result = explain(rule, article)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            if n:
                print()
            print(result.format())
    return 0
