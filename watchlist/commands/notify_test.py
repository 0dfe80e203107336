"""`watchlist notify-test CHANNEL`: send a test message to one channel and say what happened."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.config.errors import did_you_mean


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE`` and the channel name."""
    add_config_argument(parser)
    parser.add_argument("channel", metavar="CHANNEL", help="a name under channels: in config")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when delivered, 1 when it failed or the config is bad, 2 for an unknown channel."""
    from watchlist.delivery.send import preferred_format, privacy_url, send  # Apprise: only here
    from watchlist.delivery.worker import mask

    config = load_config_or_report(args, unset_ok=True, with_rules=False)
    if config is None:
        return 1
    names = [c.name for c in config.channels]
    try:
        channel = config.channel(args.channel)
    except KeyError:
        hint = did_you_mean(args.channel, names)
        known = ", ".join(names) if names else "none"
        print(
            f"watchlist notify-test: unknown channel {args.channel!r}{hint};"
            f" channels in {config.path}: {known}",
            file=sys.stderr,
        )
        return 2
    if lacking := [v for v in config.unset_vars if any(f"${{{v}" in u for u in channel.urls)]:
        print(
            f"watchlist notify-test: channel {channel.name} needs {', '.join(lacking)}, not set in"
            " this shell; run it with the daemon's environment, e.g."
            " `set -a; . /etc/watchlist/secrets; set +a`",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    fmt = channel.format or preferred_format(channel.urls)
    title = f"watchlist test: {channel.name}"
    body = (
        f"This is a test message from `watchlist notify-test` for channel {channel.name},"
        f" sent {now:%Y-%m-%d %H:%M:%S} UTC. If you can read this, alerts will arrive here."
    )
    result = send(channel.urls, title, body, body_format=fmt, timeout=config.delivery.timeout)
    targets = ", ".join(privacy_url(u) for u in channel.urls)
    words = mask(result.words, config.secrets)
    stream = sys.stdout if result.ok else sys.stderr
    print(f"{channel.name} ({mask(targets, config.secrets)}): {words}", file=stream)
    return 0 if result.ok else 1
