"""`watchlist run`: the daemon, or with --once a single poll of every source."""

from __future__ import annotations

import argparse
import logging
import sys

from watchlist.cli import add_config_argument, config_path
from watchlist.daemon import logs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``, ``--once`` and ``--log-level``."""
    add_config_argument(parser)
    parser.add_argument(
        "--once", action="store_true", help="poll every source once, deliver, and exit"
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default=None,
        help="override logging.level from the config",
    )


def run(args: argparse.Namespace) -> int:
    """Start the daemon; its exit code is ours."""
    from watchlist.daemon.main import main

    logs.setup_logging(args.log_level or "info")
    try:
        return main(config_path(args), once=args.once, log_level=args.log_level)
    except OSError as exc:  # a port in use, a folder it may not write: one line, not a traceback
        logging.getLogger("watchlist.daemon").debug("start failed", exc_info=True)
        print(f"watchlist run: {logs.mask(str(exc))}", file=sys.stderr)
        return 1
