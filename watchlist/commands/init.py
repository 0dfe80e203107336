"""`watchlist init [DIR]`: write a starter config.yaml, a rules folder and an inbox.

The starter ships inside the package (``watchlist/starter/``), so it is there after
``pip install``; it runs as written (a folder source, the console channel) and passes
``watchlist check``. Existing files are never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from watchlist.config.errors import display_path

FILES: tuple[str, ...] = ("config.yaml", "rules/example.yaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[DIR]`` and ``--force``."""
    parser.add_argument(
        "folder", nargs="?", type=Path, default=Path("."), metavar="DIR", help="default: here"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    """Write the starter files; exit 1 (writing nothing) when one exists and no --force."""
    folder: Path = args.folder
    targets = [folder / name for name in FILES]
    taken = [t for t in targets if t.exists()]
    if taken and not args.force:
        shown = ", ".join(display_path(t) for t in taken)
        verb = "exists" if len(taken) == 1 else "exist"
        print(
            f"watchlist init: {shown} already {verb}; nothing written"
            " (edit it, pick another folder, or pass --force to overwrite)",
            file=sys.stderr,
        )
        return 1
    starter = resources.files("watchlist") / "starter"
    try:
        for name, target in zip(FILES, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((starter / name).read_bytes())
        (folder / "inbox").mkdir(exist_ok=True)
    except OSError as exc:
        print(f"watchlist init: {exc.filename or folder}: {exc.strerror}", file=sys.stderr)
        return 1
    cfg = display_path(folder / "config.yaml")
    print(f"wrote {cfg}, {display_path(folder / 'rules')}/example.yaml and inbox/")
    print(f"next: watchlist check -c {cfg}   then: watchlist run -c {cfg}")
    return 0
