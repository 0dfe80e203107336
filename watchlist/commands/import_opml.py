"""`watchlist import-opml FILE`: add the feeds of an OPML export as rss sources to config.yaml.

The OPML is read with listparser. New sources are inserted as text at the end of the
``sources:`` list (or a new one), so the file's comments and layout stay as they are;
a feed whose URL is already a source is skipped. The result is written atomically, and
only when it still parses; the daemon picks the sources up on its next reload.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watchlist.cli import add_config_argument, config_path
from watchlist.config.errors import ConfigErrors, display_path
from watchlist.config.yamlsafe import YMap, YSeq, parse_yaml

MAX_BYTES = 10 * 1024 * 1024
_SOURCES = re.compile(r"^sources:[ \t]*(#.*)?$")
_TOP = re.compile(r"^[^\s#]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-c FILE``, ``--every``, ``--dry-run`` and the OPML file."""
    add_config_argument(parser)
    parser.add_argument("--every", default="15m", help="poll interval of each new source")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the sources instead of writing them"
    )
    parser.add_argument("opml", type=Path, metavar="FILE", help="the OPML file")


def read_opml(data: bytes) -> list[tuple[str, str]]:
    """(title, url) of every feed in the OPML, in order; ValueError when it has none."""
    import listparser

    result: Any = listparser.parse(data)
    feeds = [(str(f.get("title") or ""), str(f.get("url") or "")) for f in result.feeds]
    feeds = [(t, u) for t, u in feeds if u.startswith(("http://", "https://"))]
    if not feeds:
        problem = result.get("bozo_exception")
        why = f" ({problem})" if result.bozo and problem else ""
        raise ValueError(f"no feeds (outlines with an http(s) xmlUrl) found{why}")
    return feeds


def _slug(title: str, url: str) -> str:
    text = title or urlsplit(url).netloc
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "feed"


def _existing(doc: Any) -> tuple[set[str], set[str]]:
    names: set[str] = set()
    urls: set[str] = set()
    sources = doc.get("sources") if isinstance(doc, YMap) else None
    for item in sources if isinstance(sources, YSeq) else ():
        if isinstance(item, YMap):
            names.add(str(item.get("name", "")))
            urls.add(str(item.get("url", "")).rstrip("/"))
    return names, urls


def new_sources(
    feeds: list[tuple[str, str]], names: set[str], urls: set[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, url) of the feeds to add, names unique; and the URLs skipped as present."""
    added: list[tuple[str, str]] = []
    skipped: list[str] = []
    taken = set(names)
    for title, url in feeds:
        if url.rstrip("/") in urls:
            skipped.append(url)
            continue
        urls.add(url.rstrip("/"))
        base = name = _slug(title, url)
        n = 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        added.append((name, url))
    return added, skipped


def insert_sources(text: str, items: list[tuple[str, str]], every: str) -> str:
    """``text`` (config.yaml) with the items appended to its block ``sources:`` list."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = next((i for i, ln in enumerate(lines) if ln.startswith("sources:")), None)
    if at is not None and not _SOURCES.match(lines[at].rstrip("\n")):
        if lines[at].split("#")[0].strip() != "sources: []":
            raise ValueError("sources: is written inline; write it as a block list first")
        lines[at] = "sources:\n"
    if at is None:
        lines += ["\n", "sources:\n"]
        at = len(lines) - 1
    end = next((j for j in range(at + 1, len(lines)) if _TOP.match(lines[j])), len(lines))
    while end > at + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # blank lines and comments before the next key stay with it
    block = lines[at + 1 : end]
    indent = next((m.group(1) for ln in block if (m := re.match(r"^(\s*)- ", ln))), "  ")
    new = []
    for name, url in items:
        new += [
            f"{indent}- name: {json.dumps(name)}\n",
            f"{indent}  type: rss\n",
            f"{indent}  url: {json.dumps(url)}\n",
            f"{indent}  every: {json.dumps(every)}\n",
        ]
    return "".join(lines[:end] + new + lines[end:])


def run(args: argparse.Namespace) -> int:
    """Add the OPML's feeds; exit 1 when the OPML or config cannot be read or written."""
    path = config_path(args)
    try:
        data = args.opml.read_bytes()[: MAX_BYTES + 1]
        if len(data) > MAX_BYTES:
            raise ValueError("larger than 10 MB")
        feeds = read_opml(data)
    except (OSError, ValueError) as exc:
        print(f"watchlist import-opml: {display_path(args.opml)}: {exc}", file=sys.stderr)
        return 1
    try:
        text = path.read_text(encoding="utf-8")
        doc = parse_yaml(text, str(path))
    except OSError:
        print(
            f"watchlist import-opml: {display_path(path)}: no config file; write one with"
            " `watchlist init`, or pass -c FILE",
            file=sys.stderr,
        )
        return 1
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    added, skipped = new_sources(feeds, *_existing(doc))
    if not added:
        print(f"{display_path(path)}: all {len(feeds)} feeds are sources already; nothing added")
        return 0
    try:
        updated = insert_sources(text, added, args.every)
        parse_yaml(updated, str(path))
    except (ValueError, ConfigErrors) as exc:
        print(f"watchlist import-opml: {display_path(path)}: {exc}", file=sys.stderr)
        return 1
    if args.dry_run:
        sys.stdout.write(updated)
        return 0
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(updated)
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)
    names = ", ".join(n for n, _ in added)
    already = f" ({len(skipped)} already there)" if skipped else ""
    print(
        f"{display_path(path)}: added {len(added)} source{'s' if len(added) != 1 else ''}"
        f"{already}: {names}; `watchlist check` validates them"
    )
    return 0
