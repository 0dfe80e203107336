"""`watchlist explain`: not built yet."""

from __future__ import annotations

import argparse
import sys

HELP = "not built yet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments yet."""


def run(args: argparse.Namespace) -> int:
    """Say it is not built."""
    print("watchlist: this command is not built yet", file=sys.stderr)
    return 2
