"""Rule sets for ``test`` and ``backtest``: the rules in force, or those at a PATH read as
the config would read them (its ``defaults:`` and channel names), so a rule at PATH
and the same rule in force behave the same."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from watchlist.cli import config_path
from watchlist.models import Config, Rule


def optional_config(args: argparse.Namespace) -> Config | None:
    """The config named by ``-c``, or the default one if it exists, else None.

    Raises ``ConfigErrors`` when the config exists but has errors.
    """
    from watchlist.config.loader import load_config
    from watchlist.delivery import CONFIG_CHECKS

    path = config_path(args)
    if getattr(args, "config", None) is None and not path.exists():
        return None
    return load_config(path, checks=CONFIG_CHECKS)


def rules_at(paths: Sequence[Path], config: Config | None) -> tuple[Rule, ...]:
    """The rules in files, folders or globs ``paths``, with ``config``'s defaults and channels.

    Raises ``ConfigErrors`` listing every error in them.
    """
    from watchlist.config.loader import load_rules

    return load_rules(
        list(paths),
        defaults=dict(config.rule_defaults) if config else None,
        channels=[c.name for c in config.channels] if config else None,
    )
