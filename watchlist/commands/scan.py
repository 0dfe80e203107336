"""`watchlist scan`: match articles from files, URLs or stdin and print the matches.

Touches no state. With ``--notify`` it also sends each match to its rule's
channels, as the daemon would (but without the outbox: a failure is reported,
not retried).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from watchlist.cli import add_config_argument, config_path
from watchlist.models import Article, Config, Match, Rule


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


PROGRESS_MIN_BYTES = 1024 * 1024  # inputs smaller than this show no progress bar


def _stream(
    inputs: Sequence[str], errors: list[str], on_bytes: Callable[[int], None]
) -> Iterator[Article]:
    """Every input's articles, read lazily (JSON Lines of any size line by line); one line
    per input that could not be read (or stopped at a bad line) goes to ``errors``."""
    from watchlist.sources import make_client
    from watchlist.sources.parse import SourceError
    from watchlist.sources.stream import stream_input

    with make_client(max_connections=4) as client:
        for item in inputs:
            try:
                yield from stream_input(item, client, on_bytes=on_bytes)
            except SourceError as exc:  # its message names the input (a URL in its safe form)
                errors.append(str(exc))
            except OSError as exc:
                errors.append(f"{item}: {exc.strerror or exc}")


def _total(inputs: Sequence[str]) -> int | None:
    from watchlist.sources.stream import input_size

    sizes = [input_size(i) for i in inputs]
    return None if None in sizes else sum(s or 0 for s in sizes)


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
    from watchlist.commands.progress import progress_bar

    errors: list[str] = []
    matcher = build_matcher(rules)
    failed = False
    found: list[tuple[Article, Match]] = []  # kept for --notify only
    read = matches = 0
    total = _total(args.inputs)
    show = total is not None and total >= PROGRESS_MIN_BYTES
    with progress_bar("scan", total, bytes_=True, enabled=show) as update:
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            update(done)

        for article in _stream(args.inputs, errors, on_bytes):
            read += 1
            for match in matcher.match(article):
                matches += 1
                if args.notify:
                    found.append((article, match))
                if args.json:
                    print(json.dumps(match_to_json(article, match), ensure_ascii=False))
                else:
                    print(format_match(article, match))
    for problem in errors:
        print(f"watchlist scan: {problem}", file=sys.stderr)
    if not args.json:
        print(f"{matches} matches in {read} articles", file=sys.stderr)
    if args.notify and config is not None:
        from watchlist.delivery.worker import send_now

        rules_by_name = {r.name: r for r in rules}
        for article, match in found:
            for ok, words, channel in send_now(config, rules_by_name[match.rule], article, match):
                print(f"{match.rule} -> {channel}: {words}", file=sys.stderr)
                failed = failed or not ok
    return 1 if (errors or failed) else 0
