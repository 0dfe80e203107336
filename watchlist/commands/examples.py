"""`watchlist test [RULES...]`: run the rules' ``examples`` alone, like ``promtool test rules``.

Without RULES it tests the rules in force (the config's ``rules:``); RULES are rule
files, folders or globs, read with the config's defaults when there is a config.
Each failure is printed as ``path:line:column: example N of rule R should match but
did not: <reason>``, then one summary line. Exit 0 when every example passes, 1 when
one fails or a rule file has errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from watchlist.cli import add_config_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c`` and the rule files or folders."""
    add_config_argument(parser)
    parser.add_argument(
        "rules",
        nargs="*",
        metavar="RULES",
        type=Path,
        help="rule files, folders or globs (default: the config's rules)",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(examples: int, rules: int, failed: int) -> str:
    """``12 examples in 5 rules: 11 passed, 1 failed``."""
    return (
        f"{_plural(examples, 'example')} in {_plural(rules, 'rule')}: "
        f"{examples - failed} passed, {failed} failed"
    )


def run(args: argparse.Namespace) -> int:
    """Run every example; print failures and the summary; exit 1 on a failure."""
    from watchlist.commands.rulesets import optional_config, rules_at
    from watchlist.config.errors import ConfigErrors
    from watchlist.match.examples import count_examples, run_examples

    try:
        config = optional_config(args)
        if args.rules:
            rules = rules_at(args.rules, config)
        elif config is None:
            print(
                "watchlist test: no config.yaml here; pass -c FILE or name rule files "
                "(watchlist test rules/)",
                file=sys.stderr,
            )
            return 2
        else:
            rules = config.rules
    except ConfigErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return 1
    failures = run_examples(rules)
    for failure in failures:
        print(failure)
    with_examples = [r for r in rules if r.examples]
    print(summary(count_examples(rules), len(with_examples), len(failures)))
    if not with_examples:
        print(
            "watchlist test: no rule has examples; add examples: {match: [...], no_match: [...]} "
            "to a rule",
            file=sys.stderr,
        )
    return 1 if failures else 0
