"""`watchlist check`: validate config.yaml and every rule file, print every error, exit 1 if any.

Every rule's ``examples`` are run too: one that goes the wrong way is an error at the
example's ``path:line:column``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from watchlist.cli import add_config_argument, config_path
from watchlist.config.errors import ConfigError, ConfigErrors, display_path
from watchlist.config.loader import load_config, load_rules
from watchlist.delivery import CONFIG_CHECKS
from watchlist.models import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``, ``--json`` and optional rule files to check alone."""
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="RULES",
        help="rule files to check (with the config's channels and watchlists); default: all",
    )


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
    """Load everything; print each error on stderr (exit 1) or a summary on stdout (exit 0).

    With RULES, only those files' errors (and config.yaml's) count; with ``--json``, one
    object ``{"ok", "errors": [{"path", "line", "column", "message"}], "summary"}``."""
    files = tuple(f.resolve() for f in args.files)
    if missing := [f for f in args.files if not f.is_file()]:
        print(f"watchlist check: {display_path(missing[0])}: no such rule file", file=sys.stderr)
        return 2
    path = config_path(args)
    errors: list[ConfigError] = []
    config: Config | None = None
    try:
        if files and args.config is None and not path.exists():
            rules = load_rules(list(files))  # no config: channel names go unchecked
            config = Config(path=str(path), rules=rules, rule_files=tuple(map(str, files)))
        else:
            config = load_config(path, check_paths=True, checks=CONFIG_CHECKS, extra_rules=files)
    except ConfigErrors as exc:
        errors = list(exc.errors)
    if files:
        wanted = {str(f) for f in files} | {str(path)}
        errors = [e for e in errors if str(Path(e.path).resolve()) in wanted]
        if not errors and config is None:  # errors only elsewhere: read these files alone
            try:
                alone = load_rules(list(files))
            except ConfigErrors:  # they use a watchlist from another file
                alone = ()
            config = Config(path=str(path), rules=alone, rule_files=tuple(map(str, files)))
    if args.json:
        print(json.dumps(_as_json(config, errors, files), ensure_ascii=False))
        return 1 if errors else 0
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        print(f"watchlist check: {_plural(len(errors), 'error')}", file=sys.stderr)
        return 1
    assert config is not None
    from watchlist.match.examples import run_examples

    failures = run_examples(config.rules)
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"watchlist check: {_plural(len(failures), 'error')}", file=sys.stderr)
        return 1
    print(_files_summary(config, files) if files else summary(config))
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


def _files_summary(config: Config, files: tuple[Path, ...]) -> str:
    wanted = {str(f) for f in files}
    n = sum(1 for r in config.rules if r.origin.rsplit(":", 1)[0] in wanted)
    shown = ", ".join(display_path(f) for f in files)
    return f"{shown}: OK — {_plural(n, 'rule')}"


def _as_json(
    config: Config | None, errors: list[ConfigError], files: tuple[Path, ...]
) -> dict[str, Any]:
    return {
        "ok": not errors,
        "errors": [
            {"path": e.path, "line": e.line, "column": e.column, "message": e.message}
            for e in errors
        ],
        "summary": None
        if errors or config is None
        else (_files_summary(config, files) if files else summary(config)),
    }
