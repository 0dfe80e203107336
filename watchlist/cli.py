# PYTHON_ARGCOMPLETE_OK
"""The ``watchlist`` command line: parses arguments and hands off to watchlist.commands.*.

Each subcommand lives in its own module under ``watchlist/commands/`` with
``add_arguments(parser)`` and ``run(args) -> int``; its line of help is in ``COMMANDS``,
and only the module of the subcommand given is imported.
Exit codes: 0 success, 1 a check or delivery failed, 2 usage error. ``-c FILE`` may
come before or after the subcommand; ``--version`` / ``-V`` imports no command; shell
completion comes from argcomplete (``eval "$(register-python-argcomplete watchlist)"``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from watchlist import __version__

if TYPE_CHECKING:
    from watchlist.models import Config

# subcommand name -> (module under watchlist.commands, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the daemon (with --once: poll every source once, deliver, and exit)"),
    "check": ("check", "validate config and rules; print every error; exit 1 if any"),
    "scan": (
        "scan",
        "match articles from files, URLs or - and print the matches (touches no state)",
    ),
    "explain": (
        "explain",
        "explain, entry by entry, why a rule does or does not match an article",
    ),
    "notify-test": (
        "notify_test",
        "send a test message to one channel and report Apprise's result",
    ),
    "status": ("status", "sources, outbox, recent alerts and last reload (a table, or --json)"),
    "outbox": ("outbox", "list deliveries not yet made and why; retry or drop one"),
    "test": (
        "examples",
        "run the rules' examples; print each failure with its reason; exit 1 if any fails",
    ),
    "backtest": (
        "backtest",
        "run rules over the archived articles and print what would have alerted (sends nothing)",
    ),
    "mute": (
        "mute",
        "silence a rule (or one story for it) for a while: matches are recorded, not sent",
    ),
    "mutes": (
        "mutes",
        "list the mutes in force: rule or story, until when, why, matches silenced",
    ),
    "unmute": ("unmute", "end a mute now (matches it silenced stay recorded and are not resent)"),
    "init": (
        "init",
        "write a starter config.yaml, rules/ and inbox/ (to a folder, default: here)",
    ),
    "import-opml": (
        "import_opml",
        "add the feeds of an OPML file (from a feed reader) as rss sources to config.yaml",
    ),
    "migrate-state": (
        "migrate_state",
        "copy the SQLite state (seen, alerts, outbox, sources, ...) into a PostgreSQL database",
    ),
}


def default_config_path() -> Path:
    """``./config.yaml`` if it exists, else the user's config folder's ``watchlist/config.yaml``."""
    here = Path("config.yaml")
    if here.exists():
        return here.resolve()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "watchlist" / "config.yaml"
    return user if user.exists() else here.resolve()


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The shared ``-c FILE`` option."""
    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        type=Path,
        default=None,
        help="config file (default: ./config.yaml, then ~/.config/watchlist/config.yaml)",
    )


def config_path(args: argparse.Namespace) -> Path:
    """The config file the user named, or the default one."""
    given: Path | None = getattr(args, "config", None)
    return given.resolve() if given is not None else default_config_path()


def load_config_or_report(
    args: argparse.Namespace, *, unset_ok: bool = False, with_rules: bool = True
) -> Config | None:
    """The config named by ``-c`` (or the default); on errors print each on stderr, None.

    Admin commands pass ``unset_ok`` (an unset ``${VAR}`` stays as written) and
    ``with_rules=False`` (config.yaml alone: a broken rule file is not their business)."""
    from watchlist.config.errors import ConfigErrors
    from watchlist.config.loader import load_config
    from watchlist.delivery import CONFIG_CHECKS

    try:
        return load_config(
            config_path(args), checks=CONFIG_CHECKS, unset_ok=unset_ok, with_rules=with_rules
        )
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return None


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"watchlist.commands.{name}")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, in full only the one ``argv`` names.

    The others get their line of help and nothing more, so ``watchlist check`` imports
    the check command alone (each command module loads what it needs). With no ``argv``
    (or under shell completion) every subcommand is built in full.
    """
    parser = argparse.ArgumentParser(
        prog="watchlist", description="Watch the news: YAML rules, fuzzy matching, alerts."
    )
    parser.add_argument("-V", "--version", action="version", version=f"watchlist {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        dest="top_config",
        metavar="FILE",
        type=Path,
        default=None,
        help="config file, for any subcommand (also accepted after it)",
    )
    chosen = _chosen(argv)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (modname, help_line) in COMMANDS.items():
        p = sub.add_parser(name, help=help_line, description=help_line)
        if chosen is None or chosen == name:
            mod = _module(modname)
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def _chosen(argv: Sequence[str] | None) -> str | None:
    """The subcommand ``argv`` names (None: all of them are to be built)."""
    if argv is None or "_ARGCOMPLETE" in os.environ:
        return None
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-c", "--config"):
            skip = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):  # cheap: no command module (nor Apprise) loads
        print(f"watchlist {__version__}")
        return 0

    from watchlist.daemon.termsafe import make_output_safe

    make_output_safe()  # control characters from articles are shown, never obeyed
    parser = build_parser(argv)
    _autocomplete(parser)
    args = parser.parse_args(argv)
    top = getattr(args, "top_config", None)
    if top is not None and getattr(args, "config", None) is None and hasattr(args, "config"):
        args.config = top
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    if problem := _config_option_problem(args):
        print(f"watchlist {args.command}: {problem}", file=sys.stderr)
        return 2
    from watchlist.models import StateError

    try:
        code: int = args._run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except StateError as exc:  # a damaged or unwritable state file: one line, what to do
        print(f"watchlist {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 1
    return code


def _autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request (argcomplete), when it is one."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:  # pragma: no cover - a dependency, but completion is optional
        return
    argcomplete.autocomplete(parser)


def _config_option_problem(args: argparse.Namespace) -> str:
    """Why the file named by ``-c`` cannot be a config (a usage error), or ``""``."""
    from watchlist.config.errors import display_path

    given: Path | None = getattr(args, "config", None)
    if given is None:
        return ""
    shown = display_path(given)
    if given.is_dir():
        return f"-c {shown}: is a folder; name the config file in it, such as {shown}/config.yaml"
    if not given.exists():
        return f"-c {shown}: no such file; check the path (without -c, ./config.yaml is used)"
    return ""


def _silence_stdout() -> None:
    """Point standard output at devnull, so the reader that went away (``| head``) costs no
    traceback at exit (the recipe in Python's signal docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (captured)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
