"""`watchlist mute RULE [--story ID] [--for 2h] --comment TEXT`: silence a rule or one story.

A muted match is still recorded (the web page and ``status`` show it as muted), but
never sent; unmuting does not resend it. ``mutes`` and ``unmute`` share the helpers here.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.config.durations import parse_duration
from watchlist.config.errors import did_you_mean
from watchlist.models import Mute
from watchlist.store import open_store
from watchlist.store.mutes import MuteError

DEFAULT_FOR = "1h"  # as amtool's silences


def describe_mute(mute: Mute, now: datetime) -> str:
    """``#3 rule R (story of alert #12) until 2026-12-02 10:00 UTC: comment``."""
    what = f"rule {mute.rule}" + (f" (story of alert #{mute.story})" if mute.story else "")
    if mute.removed is not None:
        state = f"removed {mute.removed:%Y-%m-%d %H:%M} UTC"
    elif mute.until <= now:
        state = f"expired {mute.until:%Y-%m-%d %H:%M} UTC"
    else:
        state = f"until {mute.until:%Y-%m-%d %H:%M} UTC"
    return f"#{mute.id} {what} {state}: {mute.comment}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``RULE [--story ID] [--for DURATION] --comment TEXT [-c FILE]``."""
    add_config_argument(parser)
    parser.add_argument("rule", metavar="RULE", help="the rule's name")
    parser.add_argument(
        "--story", type=int, metavar="ID", help="mute only the story of this alert (its id)"
    )
    parser.add_argument(
        "--for",
        dest="duration",
        default=DEFAULT_FOR,
        metavar="DURATION",
        help=f"how long, such as 30m, 2h or 2d (default {DEFAULT_FOR})",
    )
    parser.add_argument("--comment", default="", metavar="TEXT", help="why (required)")


def run(args: argparse.Namespace) -> int:
    """Add the mute; exit 2 on a usage error (unknown rule, bad duration, no comment)."""
    try:
        length = parse_duration(args.duration)
    except ValueError as exc:
        print(f"watchlist mute: --for {args.duration}: {exc}", file=sys.stderr)
        return 2
    if not args.comment.strip():
        print(
            "watchlist mute: --comment TEXT is required: say why, so whoever sees the mute"
            " knows whether it can end",
            file=sys.stderr,
        )
        return 2
    config = load_config_or_report(args)
    if config is None:
        return 1
    names = [r.name for r in config.rules]
    if args.rule not in names:
        hint = did_you_mean(args.rule, names) or "; `watchlist check` lists the rules"
        print(f"watchlist mute: no rule {args.rule!r}{hint}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    store = open_store(config.state)
    try:
        mute = store.add_mute(args.rule, now + length, args.comment, now, story=args.story)
    except MuteError as exc:
        print(f"watchlist mute: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"muted: {describe_mute(mute, now)}")
    print(
        "matches are recorded and shown as muted, never sent; "
        f"`watchlist unmute {mute.id}` ends it early (old matches are not resent)"
    )
    return 0
