"""`watchlist mutes [--all] [--json]`: the mutes in force (with --all, ended ones too)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.commands.mute import describe_mute
from watchlist.store import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[--all] [--json] [-c FILE]``."""
    add_config_argument(parser)
    parser.add_argument("--all", action="store_true", help="also mutes expired or removed")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    """Print the mutes."""
    config = load_config_or_report(args)
    if config is None:
        return 1
    now = datetime.now(UTC)
    store = open_store(config.state)
    try:
        mutes = store.mutes(now, everything=args.all)
        silenced = store.muted_counts([m.id for m in mutes])
    finally:
        store.close()
    for m in mutes:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": m.id,
                        "rule": m.rule,
                        "story": m.story,
                        "until": m.until.isoformat(),
                        "comment": m.comment,
                        "created": m.created.isoformat(),
                        "removed": m.removed.isoformat() if m.removed else None,
                        "active": m.active(now),
                        "silenced": silenced.get(m.id, 0),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"{describe_mute(m, now)} ({silenced.get(m.id, 0)} matches silenced)")
    if not mutes and not args.json:
        print("no mutes in force" + ("" if args.all else " (--all shows ended ones)"))
    return 0
