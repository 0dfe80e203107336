"""`watchlist unmute ID`: end a mute now; the matches it silenced are not resent."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.store import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ID [-c FILE]``."""
    add_config_argument(parser)
    parser.add_argument("id", type=int, metavar="ID", help="the mute's id shown by `mutes`")


def run(args: argparse.Namespace) -> int:
    """End the mute; exit 1 when there is no such mute in force."""
    config = load_config_or_report(args)
    if config is None:
        return 1
    now = datetime.now(UTC)
    store = open_store(config.state)
    try:
        ok = store.unmute(args.id, now)
        silenced = store.muted_counts([args.id]).get(args.id, 0)
    finally:
        store.close()
    if not ok:
        print(
            f"watchlist unmute: no mute #{args.id} in force (see `watchlist mutes --all`)",
            file=sys.stderr,
        )
        return 1
    print(
        f"unmuted #{args.id}: new matches are sent again; the {silenced} it silenced stay"
        " recorded as muted and are not resent"
    )
    return 0
