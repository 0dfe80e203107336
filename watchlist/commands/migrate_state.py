"""`watchlist migrate-state --to postgresql://...`: copy the SQLite state into PostgreSQL.

Reads config's ``state:`` (an SQLite file; ``--from FILE`` names another), creates
or migrates the schema in the target database, and copies every table in one
transaction (``watchlist.store.migrate``). The daemon must be stopped while it
runs, so nothing is recorded in the file after the copy began. Afterwards set
``state:`` in config.yaml to the URL (a ``${VAR}`` for the password) and start the
daemons. Exit 0 done, 1 refused (daemon running, target not empty, no such
file), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from watchlist.cli import add_config_argument, load_config_or_report
from watchlist.config.envvars import substitute


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``, ``--to URL`` (required), ``--from FILE``."""
    add_config_argument(parser)
    parser.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user:${PGPASSWORD}@host/db (${VAR} is read from the environment)",
    )
    parser.add_argument(
        "--from", dest="source", metavar="FILE", type=Path, default=None,
        help="the SQLite state file (default: state: of the config)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Copy the state; print rows per table."""
    from watchlist.commands.statusview import running_pid
    from watchlist.daemon.logs import add_secrets
    from watchlist.store import display_state, is_postgres, open_store
    from watchlist.store.migrate import MigrateError, copy_state

    secrets: list[str] = []
    target, problems = substitute(args.to, os.environ, secrets)
    if problems:
        print(f"watchlist migrate-state: --to: {'; '.join(problems)}", file=sys.stderr)
        return 2
    if not is_postgres(target):
        print("watchlist migrate-state: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    if args.source is not None:
        source = str(args.source.resolve())
    else:
        config = load_config_or_report(args)
        if config is None:
            return 1
        source = config.state
        add_secrets(config.secrets)
    if is_postgres(source):
        print(f"watchlist migrate-state: {display_state(source)} is already PostgreSQL",
              file=sys.stderr)  # fmt: skip
        return 1
    if not Path(source).exists():
        print(f"watchlist migrate-state: {source}: no such state file", file=sys.stderr)
        return 1
    pid = running_pid(source)
    if pid is not None:
        print(
            f"watchlist migrate-state: {source}: a daemon (PID {pid}) is running on it; "
            "stop it first so nothing is recorded after the copy",
            file=sys.stderr,
        )
        return 1
    src = open_store(source)
    try:
        try:
            dst = open_store(target)
        except ConnectionError as exc:
            print(f"watchlist migrate-state: {exc}", file=sys.stderr)
            return 1
        try:
            copied = copy_state(src, dst, progress=lambda t, n: print(f"  {t}: {n} rows"))
        except MigrateError as exc:
            print(f"watchlist migrate-state: {exc}", file=sys.stderr)
            return 1
        finally:
            dst.close()
    finally:
        src.close()
    total = sum(copied.values())
    print(
        f"copied {total} rows in {len(copied)} tables from {source} to {display_state(target)}; "
        "now set state: in config.yaml to that URL (password as ${VAR}) and start the daemons"
    )
    return 0
