"""`watchlist check`: validate config.yaml and every rule file, print every error, exit 1 if any.

Every rule's ``examples`` are run too: one that goes the wrong way is an error at the
example's ``path:line:column``.
"""

from __future__ import annotations

import argparse
import sys

from watchlist.cli import add_config_argument, config_path
from watchlist.config.errors import ConfigErrors, display_path
from watchlist.config.loader import load_config
from watchlist.delivery import CONFIG_CHECKS
from watchlist.models import Config

HELP = "validate config and rules; print every error; exit 1 if any"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``."""
    add_config_argument(parser)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(config: Config) -> str:
    """One line: ``config.yaml: OK — 2 rules from 1 file, 1 source, 2 channels``."""
    enabled = sum(1 for r in config.rules if r.enabled)
    rules = _plural(len(config.rules), "rule")
    if enabled != len(config.rules):
        rules += f" ({enabled} enabled)"
    files = _plural(len(config.rule_files), "file")
    sources = _plural(len(config.sources), "source")
    channels = _plural(len(config.channels), "channel")
    return f"{display_path(config.path)}: OK — {rules} from {files}, {sources}, {channels}"


def run(args: argparse.Namespace) -> int:
    """Load everything; print each error on stderr (exit 1) or a summary on stdout (exit 0)."""
    try:
        config = load_config(config_path(args), check_paths=True, checks=CONFIG_CHECKS)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        count = _plural(len(exc.errors), "error")
        print(f"watchlist check: {count}", file=sys.stderr)
        return 1
    from watchlist.match.examples import run_examples

    failures = run_examples(config.rules)
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"watchlist check: {_plural(len(failures), 'error')}", file=sys.stderr)
        return 1
    print(summary(config))
    for line in ambiguity_notes(config):
        print(line)
    return 0


MAX_NOTES = 20


def ambiguity_notes(config: Config) -> list[str]:
    """SPEC rule 6's notes: every ambiguous entry of the rules (they do not fail the check)."""
    from watchlist.match.evidence import ambiguity_note, ambiguous_terms

    found = ambiguous_terms(config.rules)
    out = [
        f"{display_path(rule.origin) if rule.origin else rule.name}: note: rule {rule.name!r}, "
        f"{group}: {ambiguity_note(entry, term)}"
        for rule, group, entry, term in found[:MAX_NOTES]
    ]
    if len(found) > MAX_NOTES:
        out.append(f"note: {len(found) - MAX_NOTES} more ambiguous names not listed")
    return out
